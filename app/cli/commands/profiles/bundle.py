"""``mailsetup profiles export-bundle NAMES… --output FILE`` and ``mailsetup profiles import-bundle FILE``.

The bundle (what travels, how it is read and refused) and the import's decisions (taken names, OAuth
sign-in, check then save) are app.core.store.bundle; this module asks for the secrets, runs the check
through the one pipeline (app.core.detect.run_pipeline) and prints one line per entry.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any, TextIO

from app import __version__
from app.cli.commands.profiles.common import fail, profile_fail
from app.cli.exits import Exit
from app.cli.options import add_output_options
from app.cli.output import json_line, terminal_safe
from app.core.model import secret_problem
from app.core.store import (
    AccountStore,
    BundleEntry,
    BundleError,
    ImportOutcome,
    ImportStatus,
    Profile,
    ProfileStoreError,
    TargetError,
    import_bundle,
    read_bundle,
    sign_in_command,
    write_bundle,
)


def register_actions(sub: argparse._SubParsersAction) -> None:
    """Add ``export-bundle`` and ``import-bundle`` to the ``profiles`` subcommands."""
    p = sub.add_parser(
        "export-bundle",
        help="write saved accounts' settings (never a password) to a bundle for another machine",
        description="Write the settings of the named profiles to a JSON bundle. No password, token, client "
        "secret, proxy or local CA path is written; 'profiles import-bundle' asks for each secret and checks.",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="profiles to export")
    p.add_argument("--output", "-o", required=True, metavar="FILE", help="the bundle file to write (mode 0600)")
    add_output_options(p)
    p.set_defaults(func=cmd_export_bundle)

    p = sub.add_parser(
        "import-bundle",
        help="check and save the accounts of a bundle, asking for each password",
        description="Read a bundle from 'profiles export-bundle', ask for each account's password (typed at a "
        "terminal, or one line per account with --passwords-stdin), check each account and save the ones that "
        "pass. OAuth accounts sign in with --sign-in (browser, or --device for a code on another device); "
        "without it the command to sign in is printed instead.",
    )
    p.add_argument("file", metavar="FILE", help="the bundle file")
    p.add_argument("--replace", action="store_true", help="replace saved profiles of the same names")
    p.add_argument("--save-failed", action="store_true", help="also save accounts whose check failed")
    p.add_argument(
        "--passwords-stdin",
        action="store_true",
        help="read the passwords from stdin, one line per account that needs one, in bundle order "
        "(an empty line skips that account)",
    )
    p.add_argument(
        "--sign-in", action="store_true", help="sign OAuth accounts in now (then check them and save what passes)"
    )
    p.add_argument("--device", action="store_true", help="with --sign-in: a code to enter on another device")
    p.add_argument("--no-browser", action="store_true", help="with --sign-in: print the sign-in address only")
    p.add_argument(
        "--sign-in-timeout", type=float, default=300.0, metavar="S", help="how long to wait for each sign-in"
    )
    add_output_options(p)
    p.set_defaults(func=cmd_import_bundle)


def _say(args: argparse.Namespace, text: str, data: dict[str, Any], out: TextIO | None = None) -> None:
    if args.json:
        print(json_line(data), file=out or sys.stdout, flush=True)
    else:
        print(terminal_safe(text), file=out or sys.stdout, flush=True)


def _refuse(args: argparse.Namespace, code: str, message: str, exit_code: int = Exit.FAILED) -> int:
    return fail(args, code, "", message, exit_code)


# -- export --------------------------------------------------------------------------------------


def cmd_export_bundle(args: argparse.Namespace) -> int:
    accounts = AccountStore()
    try:
        profiles = [accounts.require(n) for n in args.names]
        path = write_bundle(args.output, profiles, app_version=__version__)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    except BundleError as exc:
        return _refuse(args, "bundle_refused", f"Not written: {exc.message}")
    except TargetError as exc:
        return _refuse(args, "bundle_target", f"Not written: {exc}", Exit.USAGE)
    except OSError as exc:
        return _refuse(args, "bundle_write_failed", f"Could not write {args.output}: {exc.strerror or exc}")
    names = [p.name for p in profiles]
    _say(
        args,
        f"Wrote {len(names)} profile(s) to {path} (settings only; no password, token or proxy).",
        {"event": "result", "ok": True, "path": str(path), "profiles": names},
    )
    return Exit.OK


# -- import --------------------------------------------------------------------------------------


class _Secrets:
    """Each entry's password: typed at a terminal (no echo), or one line of stdin per entry."""

    def __init__(self, from_stdin: bool):
        self.from_stdin = from_stdin
        self.problems: list[str] = []

    def __call__(self, entry: BundleEntry) -> str | None:
        user = entry.profile.settings.username if entry.profile else ""
        if self.from_stdin:
            line = sys.stdin.readline() if sys.stdin is not None else ""
            value = line.rstrip("\r\n") or None
        elif sys.stdin is not None and sys.stdin.isatty():
            try:
                value = getpass.getpass(f"Password for {user} ({entry.name}): ") or None
            except EOFError:
                value = None
        else:
            value = None
        if value is not None and secret_problem(value) is not None:
            self.problems.append(entry.name)
            return None
        return value


async def _check(profile: Profile, secret: str | None) -> tuple[bool, Any]:
    """The one bounded pipeline every check runs (engine, second opinion, alternatives)."""
    from app.core.catalog import default_catalogue
    from app.core.detect import run_pipeline

    provider = default_catalogue().by_id(profile.provider_id) if profile.provider_id else None
    verdict = await run_pipeline(profile.settings, secret, provider=provider)
    return verdict.ok, verdict.diagnosis


def _sign_in_for(args: argparse.Namespace) -> Any:
    """The import's sign-in for an OAuth entry (--sign-in): the completed sign-in, or why it did not complete."""
    from app.cli.commands.oauth import announce_device, browser_opener
    from app.core.diagnosis import DiagnosedError
    from app.core.oauth import OAuthInputError, sign_in_profile

    async def sign_in(entry: BundleEntry) -> Any:
        assert entry.profile is not None
        if not args.json:
            print(f"Signing in '{entry.name}' ({entry.profile.settings.username})…", file=sys.stderr, flush=True)
        try:
            return await sign_in_profile(
                entry.profile,
                open_browser=browser_opener(bool(args.no_browser)),
                on_code=announce_device if args.device else None,
                timeout=args.sign_in_timeout,
            )
        except OAuthInputError as exc:
            return f"{exc}; sign in with: {sign_in_command(entry.name, entry.oauth or {})}"
        except DiagnosedError as exc:
            return exc.diagnosis.title

    return sign_in


_TEXT = {
    ImportStatus.SAVED: "checked and saved",
    ImportStatus.SAVED_FAILED_CHECK: "saved although the check failed (--save-failed)",
    ImportStatus.CHECK_FAILED: "not saved: the check failed (--save-failed keeps it anyway)",
    ImportStatus.EXISTS: "not imported: a profile of that name exists (--replace overwrites it)",
    ImportStatus.INVALID: "not imported: the entry is not valid",
    ImportStatus.NO_SECRET: "not imported: no password was given (type it, or use --passwords-stdin)",
    ImportStatus.NEEDS_SIGN_IN: "not imported: an OAuth account signs in (--sign-in) or with",
    ImportStatus.SIGN_IN_FAILED: "not imported: the sign-in did not complete",
    ImportStatus.STORE_FAILED: "not saved",
}


def _report(args: argparse.Namespace, outcome: ImportOutcome) -> None:
    mark = "✓" if outcome.status is ImportStatus.SAVED else ("!" if outcome.saved else "✗")
    line = f"{mark} {outcome.name}: {_TEXT[outcome.status]}"
    if outcome.message and outcome.status not in (ImportStatus.CHECK_FAILED, ImportStatus.EXISTS):
        line += f" {outcome.message}" if outcome.status is ImportStatus.NEEDS_SIGN_IN else f": {outcome.message}"
    if outcome.diagnosis is not None:
        title, _explanation, fixes = outcome.diagnosis.render()
        line += f"\n    {title}" + "".join(f"\n    - {fix}" for fix in fixes[:2])
    data = {
        "event": "entry",
        "profile": outcome.name,
        "status": outcome.status.value,
        "saved": outcome.saved,
        "replaced": outcome.replaced,
        "message": outcome.message,
        "diagnosis": outcome.diagnosis.to_dict() if outcome.diagnosis is not None else None,
    }
    _say(args, line, data)


def cmd_import_bundle(args: argparse.Namespace) -> int:
    try:
        entries = read_bundle(args.file)
    except BundleError as exc:
        return _refuse(args, "bundle_refused", f"Nothing imported: {exc.message}", Exit.USAGE)
    except OSError as exc:
        return _refuse(args, "bundle_unreadable", f"Cannot read {args.file}: {exc.strerror or exc}", Exit.USAGE)
    needing = [e.name for e in entries if e.profile is not None and e.needs_password]
    if needing and not args.json and not args.passwords_stdin:
        print("Accounts that need a password: " + ", ".join(needing), file=sys.stderr)
    secrets = _Secrets(bool(args.passwords_stdin))
    try:
        outcomes = asyncio.run(
            import_bundle(
                entries,
                AccountStore(),
                secret_for=secrets,
                check=_check,
                replace_existing=bool(args.replace),
                save_failed=bool(args.save_failed),
                on_outcome=lambda o: _report(args, o),
                sign_in=_sign_in_for(args) if args.sign_in else None,
            )
        )
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    saved = sum(1 for o in outcomes if o.saved)
    if secrets.problems and not args.json:
        print("Refused passwords (control characters): " + ", ".join(secrets.problems), file=sys.stderr)
    _say(
        args,
        f"{saved} of {len(outcomes)} account(s) saved.",
        {"event": "summary", "saved": saved, "not_saved": len(outcomes) - saved, "total": len(outcomes)},
    )
    return Exit.OK if outcomes and saved == len(outcomes) else Exit.FAILED
