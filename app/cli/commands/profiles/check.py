"""``mailsetup profiles check NAME``: check a saved account again, with its stored password."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from dataclasses import dataclass
from typing import Any

from app.cli.commands.profiles import check_all
from app.cli.commands.profiles.common import (
    check_extras,
    fail,
    is_oauth,
    profile_fail,
    provider_by_id,
    run_engine_check,
    secret_fail,
)
from app.cli.exits import Exit
from app.cli.options import UsageError, add_output_options, read_password
from app.cli.output import Reporter
from app.core.diagnosis import DiagnosedError
from app.core.store import PROXY_SERVICE, AccountStore, Profile, ProfileStoreError, SecretStoreError

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


def _missing_secret(args: argparse.Namespace, loaded: Any, *, password_given: bool) -> int | None:
    """The failure for a stored password or proxy password that is gone, or None."""
    p = loaded.profile
    where = p.secret_backend or "the password store"
    if not password_given and loaded.password_missing:
        return fail(
            args,
            "secret_missing",
            "Stored password not found",
            f"The password of '{p.name}' is no longer in {where}. "
            "Pass it with --password-stdin or --password-env, or add the profile again.",
        )
    if PROXY_SERVICE in loaded.missing:
        return fail(
            args,
            "secret_missing",
            "Stored proxy password not found",
            f"The proxy password of '{p.name}' is no longer in {where}. "
            "Add the profile again with --proxy-password-stdin or --proxy-password-env.",
        )
    return None


@dataclass
class PreparedCheck:
    """A saved account ready to check: its settings, secret and provider (and the sandbox it names, running)."""

    profile: Profile
    settings: Any
    password: str | None
    provider: Any
    sandbox: Any = None

    @property
    def oauth(self) -> bool:
        return is_oauth(self.profile)

    def close(self) -> None:
        """Stop the sandbox this check started, if any."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


def prepare_profile_check(args: argparse.Namespace, name: str, command: str = "profiles check") -> PreparedCheck | int:
    """Load the account ``name`` with its password (or a fresh OAuth token) for a check.

    The one path of ``profiles check`` and ``report PROFILE``. Returns the exit code (after printing
    why) when it cannot be checked. The caller closes the result (a sandbox profile starts its server).
    """
    accounts = AccountStore()
    try:
        p = accounts.require(name)
        given = read_password(args)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    except UsageError as exc:
        return fail(args, "usage", "", f"mailsetup {command}: {exc}", Exit.USAGE)
    try:
        loaded = accounts.load(p.name)
    except SecretStoreError as exc:
        return secret_fail(args, exc, profile=p.name)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    password = given if given is not None else loaded.password
    missing = _missing_secret(args, loaded, password_given=given is not None)
    if missing is not None:
        return missing
    password_or_exit = _password(args, p, loaded.settings, password, command)
    if isinstance(password_or_exit, int):
        return password_or_exit
    prepared = PreparedCheck(p, loaded.settings, password_or_exit, _provider_or_none(p.provider_id))
    return _with_sandbox(args, prepared)


def _password(
    args: argparse.Namespace, p: Profile, settings: Any, password: str | None, command: str
) -> str | int | None:
    """The password (or OAuth bearer token) to check with, None when none is needed, or an exit code."""
    if password is None and is_oauth(p):
        from app.cli.commands.oauth import bearer_for

        try:
            password = bearer_for(p.name)  # a fresh access token from the sign-in in the keyring
        except UsageError as exc:
            return fail(args, "usage", "", f"mailsetup {command}: {exc}", Exit.USAGE)
        except SecretStoreError as exc:
            return secret_fail(args, exc, profile=p.name)
        except DiagnosedError as exc:
            reporter = Reporter(json_mode=bool(args.json), verbosity=int(getattr(args, "verbose", 0) or 0))
            return reporter.finish(False, exc.diagnosis, settings, 0, profile=p.name)
    if password is None and settings.username:
        if sys.stdin is not None and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {settings.username} ({p.name}): ") or None
        if password is None:
            return fail(
                args,
                "usage",
                "",
                f"mailsetup {command}: '{p.name}' has no stored password; pass --password-stdin or --password-env",
                Exit.USAGE,
            )
    return password


def _provider_or_none(provider_id: str | None) -> Any:
    try:
        return provider_by_id(provider_id)
    except UsageError:
        return None


def _with_sandbox(args: argparse.Namespace, prepared: PreparedCheck) -> PreparedCheck | int:
    if not prepared.profile.sandbox:
        return prepared
    # the profile names the sandbox, not its port: start it for this check
    prepared.sandbox, prepared.settings = _start_sandbox(prepared.settings)
    if prepared.sandbox is None:
        return fail(args, "sandbox_failed", "Sandbox", "The local sandbox server could not start.")
    return prepared


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


def _start_sandbox(settings: Any) -> tuple[Any, Any]:
    """(running SandboxServer, settings pointed at it), or (None, settings) when it cannot start."""
    from app.core.sandbox import SandboxServer
    from app.core.store import sandbox_settings

    server = SandboxServer()
    try:
        info = server.start()
    except OSError as exc:
        log.warning("the sandbox could not start: %s", exc)
        return None, settings
    return server, sandbox_settings(settings, info)
