"""``mailsetup profiles check NAME``: check a saved account again, with its stored password."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from typing import Any

from app.cli.commands.profiles import check_all
from app.cli.commands.profiles.common import (
    check_extras,
    fail,
    profile_fail,
    run_engine_check,
    secret_fail,
)
from app.cli.exits import Exit
from app.cli.options import UsageError, add_output_options, read_password
from app.cli.output import Reporter
from app.core.fleet import SavedCheck, SavedProblem, prepare_saved
from app.core.store import AccountStore, Profile, ProfileStoreError, SecretStoreError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a saved account again (or every one: --all), with its stored password",
        description="Check a saved account with its stored password; --all checks every saved account at once, "
        "one result line each, then a summary (exit 0 only if all passed).",
    )
    p.add_argument("name", metavar="NAME", nargs="?", help="the saved account (or --all)")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument(
        "--password-env", metavar="VAR", help="use this environment variable instead of the stored password"
    )
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead")
    add_output_options(p)
    check_all.add_options(p)
    p.set_defaults(func=cmd_check)


# the CLI's own words for a problem the core decided: the flags that would help here
_CLI_HINTS = {
    "secret_missing": "Pass it with --password-stdin or --password-env, or add the profile again.",
}


def _render_problem(args: argparse.Namespace, problem: SavedProblem, name: str, settings: Any) -> int:
    """Print why the saved account cannot be checked; the exit code."""
    if problem.diagnosis is not None:  # a failed OAuth refresh: a diagnosis like any check's
        reporter = Reporter(json_mode=bool(args.json), verbosity=int(getattr(args, "verbose", 0) or 0))
        return reporter.finish(False, problem.diagnosis, settings, 0, profile=name)
    if isinstance(problem.error, SecretStoreError):
        return secret_fail(args, problem.error, profile=name)
    if isinstance(problem.error, ProfileStoreError):
        return profile_fail(args, problem.error)
    why = str(problem.why) if problem.why else ""
    hint = _CLI_HINTS.get(problem.code, " ".join(str(f) for f in problem.fix))
    return fail(args, problem.code, str(problem.title or ""), " ".join(x for x in (why, hint) if x))


def prepare_profile_check(args: argparse.Namespace, name: str, command: str = "profiles check") -> SavedCheck | int:
    """Load the account ``name`` with its password (or a fresh OAuth token) for a check.

    The one path of ``profiles check`` and ``report PROFILE`` (and, in core, of ``--all``): app.core.fleet's
    prepare_saved decides; this adds --password-stdin/--password-env and a prompt at a terminal. Returns the
    exit code (after printing why) when it cannot be checked. The caller closes the result.
    """
    accounts = AccountStore()
    try:
        p = accounts.require(name)
        given = read_password(args)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    except UsageError as exc:
        return fail(args, "usage", "", f"mailsetup {command}: {exc}", Exit.USAGE)
    prepared = asyncio.run(prepare_saved(accounts, p.name, password=given))
    if isinstance(prepared, SavedProblem) and prepared.code == "secret_not_stored":
        typed = _ask_password(p)
        if typed is None:
            return fail(
                args,
                "usage",
                "",
                f"mailsetup {command}: '{p.name}' has no stored password; pass --password-stdin or --password-env",
                Exit.USAGE,
            )
        prepared = asyncio.run(prepare_saved(accounts, p.name, password=typed))
    if isinstance(prepared, SavedProblem):
        return _render_problem(args, prepared, p.name, p.settings)
    return prepared


def _ask_password(p: Profile) -> str | None:
    """The password typed at a terminal (never echoed), or None where there is no terminal."""
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    return getpass.getpass(f"Password for {p.settings.username} ({p.name}): ") or None


def cmd_check(args: argparse.Namespace) -> int:
    problem = check_all.bulk_usage_problem(args)
    if problem is not None:
        return fail(args, "usage", "", f"mailsetup profiles check: {problem}", Exit.USAGE)
    if args.all:
        return check_all.cmd_check_all(args)
    prepared = prepare_profile_check(args, args.name)
    if isinstance(prepared, int):
        return prepared
    p, settings, password, provider = prepared.profile, prepared.settings, prepared.password, prepared.provider
    try:
        reporter, result = run_engine_check(args, settings, password, provider)
    finally:
        prepared.close()
    ok, diagnosis, extras = result.ok, result.diagnosis, check_extras(result)
    if p.incoming is not None and not prepared.oauth:  # the incoming side too, with the same login
        from app.cli.commands.incoming import check_saved_incoming

        ok, diagnosis = check_saved_incoming(reporter, p.incoming, settings, password, provider, ok, diagnosis, extras)
    return reporter.finish(ok, diagnosis, result.settings, result.elapsed_ms, **extras, profile=p.name)
