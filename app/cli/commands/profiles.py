"""``mailsetup profiles add|list|show|check|delete|export``: saved accounts from the command line.

Passwords go to the OS password store only (``app.core.store.secrets``); profiles.json holds
the rest (``app.core.store.profiles``). Exit codes: 0 ok, 1 failed, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from app.cli.options import UsageError, add_connection_options, add_output_options, read_password, settings_from_args
from app.cli.output import Reporter
from app.core.diagnosis import DiagnosedError
from app.core.store import (
    EXPORT_FILENAMES,
    EXPORT_FORMATS,
    OAUTH_SERVICE,
    PROXY_SERVICE,
    SERVICE,
    AccountStore,
    ExportError,
    Profile,
    ProfileErrorKind,
    ProfileStoreError,
    SecretStore,
    SecretStoreError,
    TargetError,
    export_warnings,
    normalize_name,
    render_export,
    write_export,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``profiles`` and its subcommands."""
    top = subparsers.add_parser(
        "profiles",
        help="saved accounts: add, list, show, check, rename, delete, export, export-bundle, import-bundle",
        description="Saved accounts. Passwords are kept only in the system password store, never in files.",
    )
    sub = top.add_subparsers(dest="profiles_command", metavar="ACTION")
    top.set_defaults(func=lambda args: _usage(top))

    p = sub.add_parser(
        "add",
        help="check an account and save it (password into the system password store)",
        description="Check the connection (unless --no-check), then save the account as NAME. The password is "
        "stored in the system password store (GNOME Keyring/KWallet, macOS Keychain, Windows Credential Locker).",
    )
    p.add_argument("name", metavar="NAME", help="profile name (any text, up to 80 characters)")
    add_connection_options(p)
    g = p.add_argument_group("profile")
    g.add_argument("--from", dest="from_addr", metavar="ADDR", default="", help="sender address for messages")
    g.add_argument("--from-name", metavar="N", default="", help="sender display name")
    g.add_argument("--no-check", action="store_true", help="save without checking the connection first")
    g.add_argument(
        "--save-without-password",
        action="store_true",
        help="do not store the password (e.g. no secure password store here); 'profiles check' asks for it",
    )
    g.add_argument("--replace", action="store_true", help="replace an existing profile of the same name")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", help="list saved accounts")
    add_output_options(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one saved account (never the password)")
    p.add_argument("name", metavar="NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("check", help="check a saved account again, with its stored password")
    p.add_argument("name", metavar="NAME")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument(
        "--password-env", metavar="VAR", help="use this environment variable instead of the stored password"
    )
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin instead")
    add_output_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rename", help="rename a saved account (its stored passwords move with it)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("new_name", metavar="NEW_NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_rename)

    p = sub.add_parser("delete", help="delete a saved account and its stored password")
    p.add_argument("name", metavar="NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser(
        "export",
        help="print or write settings for .env, Django, nodemailer, PHPMailer, smtplib or JSON",
        description="Export a saved account. Without --include-password the password is left out: the snippets "
        "read it from the SMTP_PASS environment variable. Files are created readable only by you.",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to produce")
    p.add_argument("--include-password", action="store_true", help="write the stored password into the export")
    p.add_argument("--output", "-o", metavar="FILE", help=f"write to FILE (mode 0600), e.g. {EXPORT_FILENAMES['env']}")
    p.set_defaults(func=cmd_export)

    from app.cli.commands.profiles_bundle import register_actions as register_bundle_actions

    register_bundle_actions(sub)  # export-bundle, import-bundle


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


# -- output helpers ------------------------------------------------------------------------------


def _json_line(data: dict[str, Any], out: TextIO | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str), file=out or sys.stdout, flush=True)


def _fail(
    args: argparse.Namespace,
    code: str,
    title: str,
    message: str,
    exit_code: int = EXIT_FAILED,
    *,
    hint: str = "",
    **extra: Any,
) -> int:
    """Report a failure that is not a connection diagnosis (keyring, profile file, usage)."""
    if getattr(args, "json", False):
        fixes = [message] + ([hint] if hint else [])
        _json_line({"event": "result", "ok": False, "code": code, "title": title, "fix": fixes, **extra})
    else:
        print(f"{title}: {message}" if title else message, file=sys.stderr, flush=True)
        if hint:
            print(hint, file=sys.stderr, flush=True)
    return exit_code


def _secret_fail(args: argparse.Namespace, exc: SecretStoreError, *, hint: str = "", **extra: Any) -> int:
    return _fail(
        args, f"secret_{exc.kind.value}", exc.title, exc.message, hint=hint, secret_error=exc.to_dict(), **extra
    )


def _profile_fail(args: argparse.Namespace, exc: ProfileStoreError, **extra: Any) -> int:
    usage = exc.kind in (ProfileErrorKind.INVALID_NAME,)
    return _fail(
        args,
        f"profile_{exc.kind.value}",
        "Profile problem",
        exc.message,
        EXIT_USAGE if usage else EXIT_FAILED,
        profile_error=exc.to_dict(),
        **extra,
    )


def _provider(provider_id: str | None) -> Any:
    if not provider_id:
        return None
    try:
        from app.core.catalog import default_catalogue
    except ImportError:  # catalogue not available in this build
        return None
    provider = default_catalogue().by_id(provider_id)
    if provider is None:
        raise UsageError(f"--provider: unknown provider id '{provider_id}'; see 'mailsetup providers'")
    return provider


def _run_check(args: argparse.Namespace, settings: Any, password: str | None, provider: Any) -> tuple[Any, Any]:
    from app.cli.output import Reporter
    from app.core.smtp import run_check

    reporter = Reporter(json_mode=bool(args.json), verbosity=int(getattr(args, "verbose", 0) or 0))
    result = asyncio.run(run_check(settings, password, on_event=reporter, provider=provider))
    return reporter, result


def _check_extras(result: Any) -> dict[str, Any]:
    return {
        "tls": result.tls,
        "auth_mechanism": result.auth_mechanism,
        "auth_verified": result.auth_verified,
    }


# -- add -----------------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    """Check, then save the profile and its secret(s) as one unit (app.core.store.AccountStore)."""
    try:
        name = normalize_name(args.name)
        if args.security == "auto":
            raise UsageError("--security auto is not supported here; run 'mailsetup detect' and pass what it found")
        settings = settings_from_args(args)
        password = read_password(args)
        provider = _provider(args.provider)
    except UsageError as exc:
        return _fail(args, "usage", "", f"mailsetup profiles add: {exc}", EXIT_USAGE)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)

    accounts = AccountStore()
    try:
        existing = accounts.get(name)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)
    if (existing is not None or name in accounts.problems()) and not args.replace:
        return _exists(args, name)

    reporter = result = None
    if not args.no_check:
        reporter, result = _run_check(args, settings, password, provider)
        if not result.ok:
            if not args.json:
                print(
                    "\nNot saved: the check failed. Fix the settings (or use --no-check to save anyway).",
                    file=sys.stderr,
                )
            return reporter.finish(
                False, result.diagnosis, result.settings, result.elapsed_ms, profile=name, saved=False
            )

    profile = Profile(
        name=name,
        settings=settings,
        from_addr=args.from_addr or "",
        from_name=args.from_name or "",
        provider_id=getattr(provider, "id", None) or (args.provider or None),
    )
    try:
        saved = accounts.save(
            profile,
            password=password,
            store_secrets=not args.save_without_password,
            replace_existing=bool(args.replace),
        ).profile
    except SecretStoreError as exc:
        hint = (
            "Not saved: the password could not be stored. Run the same command with "
            "--save-without-password to save the account without it."
        )
        return _secret_fail(args, exc, hint=hint, profile=name, saved=False)
    except ProfileStoreError as exc:
        if exc.kind is ProfileErrorKind.EXISTS:
            return _exists(args, name)
        return _profile_fail(args, exc, saved=False)

    return _report_saved(args, saved, accounts, reporter, result, typed_password=bool(password))


def _report_saved(
    args: argparse.Namespace,
    saved: Profile,
    accounts: AccountStore,
    reporter: Any,
    result: Any,
    *,
    typed_password: bool,
) -> int:
    """The result of a successful ``profiles add`` (with the check's result when there was one)."""
    extra = {
        "profile": saved.name,
        "saved": True,
        "secret_stored": saved.has_secret,
        "proxy_secret_stored": saved.has_proxy_secret,
        "secret_backend": saved.secret_backend,
        "path": str(accounts.path),
    }
    code = EXIT_OK
    if reporter is not None and result is not None:
        code = reporter.finish(True, None, result.settings, result.elapsed_ms, **_check_extras(result), **extra)
    elif args.json:
        _json_line(
            {
                "event": "result",
                "ok": True,
                "code": None,
                "title": None,
                "fix": [],
                "settings": saved.settings.summary(),
                "elapsed_ms": 0.0,
                "checked": False,
                **extra,
            }
        )
    if not args.json:
        where = f"in {saved.secret_backend}" if saved.has_secret else "not stored"
        print(f"Saved profile '{saved.name}' to {accounts.path} (password {where}).")
        if typed_password and args.save_without_password:
            print("The password was not stored; 'mailsetup profiles check' will ask for it.")
    return code


def _exists(args: argparse.Namespace, name: str) -> int:
    return _fail(
        args,
        "profile_exists",
        "Profile exists",
        f"A profile called '{name}' already exists; use --replace to overwrite it.",
        EXIT_FAILED,
    )


# -- list / show ---------------------------------------------------------------------------------


def _secret_text(p: Profile) -> str:
    if p.has_secret:
        return f"stored in {p.secret_backend or 'the system password store'}"
    return "not stored" if p.settings.username else "none needed"


def cmd_list(args: argparse.Namespace) -> int:
    store = AccountStore()
    try:
        profiles = store.list()
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)
    problems = store.problems()
    if args.json:
        _json_line(
            {
                "event": "profiles",
                "path": str(store.path),
                "profiles": [p.to_dict() for p in profiles],
                "problems": problems,
            }
        )
        return EXIT_OK
    if not profiles:
        print(f"No saved profiles (in {store.path}).")
    for p in profiles:
        s = p.settings
        print(f"{p.name}\t{s.host}:{s.port} {s.security.value}\t{s.username or '-'}\tpassword {_secret_text(p)}")
    for why in problems.values():
        print(f"warning: {why} (skipped; the entry is kept in the file)", file=sys.stderr)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    store = AccountStore()
    try:
        p = store.require(args.name)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)
    if args.json:
        _json_line({"event": "profile", **p.to_dict()})
        return EXIT_OK
    s = p.settings
    rows = [
        ("Name", p.name),
        ("Server", f"{s.host}:{s.port}"),
        (
            "Security",
            {"ssl": "implicit TLS (SSL)", "starttls": "STARTTLS", "none": "none (unencrypted)"}[s.security.value],
        ),
        ("Login", s.username or "(none)"),
        ("Password", _secret_text(p)),
        ("From", f"{p.from_name} <{p.from_addr}>" if p.from_name and p.from_addr else (p.from_addr or "(not set)")),
        ("Provider", p.provider_id or "(custom)"),
        ("Certificate check", "on" if s.tls.verify else "OFF"),
        ("Proxy", (s.proxy or "none") + (" (password stored)" if p.has_proxy_secret else "")),
        ("Created", p.created_at),
        ("Updated", p.updated_at),
    ]
    for key, value in rows:
        print(f"{key + ':':<19}{value}")
    return EXIT_OK


# -- check -----------------------------------------------------------------------------------------


def _missing_secret(args: argparse.Namespace, loaded: Any, *, password_given: bool) -> int | None:
    """The failure for a stored password or proxy password that is gone, or None."""
    p = loaded.profile
    where = p.secret_backend or "the password store"
    if not password_given and loaded.password_missing:
        return _fail(
            args,
            "secret_missing",
            "Stored password not found",
            f"The password of '{p.name}' is no longer in {where}. "
            "Pass it with --password-stdin or --password-env, or add the profile again.",
        )
    if PROXY_SERVICE in loaded.missing:
        return _fail(
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
        return _is_oauth(self.profile)

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
        return _profile_fail(args, exc)
    except UsageError as exc:
        return _fail(args, "usage", "", f"mailsetup {command}: {exc}", EXIT_USAGE)
    try:
        loaded = accounts.load(p.name)
    except SecretStoreError as exc:
        return _secret_fail(args, exc, profile=p.name)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)
    password = given if given is not None else loaded.password
    settings = loaded.settings
    missing = _missing_secret(args, loaded, password_given=given is not None)
    if missing is not None:
        return missing
    if password is None and _is_oauth(p):
        from app.cli.commands.oauth import bearer_for

        try:
            password = bearer_for(p.name)  # a fresh access token from the sign-in in the keyring
        except UsageError as exc:
            return _fail(args, "usage", "", f"mailsetup {command}: {exc}", EXIT_USAGE)
        except SecretStoreError as exc:
            return _secret_fail(args, exc, profile=p.name)
        except DiagnosedError as exc:
            reporter = Reporter(json_mode=bool(args.json), verbosity=int(getattr(args, "verbose", 0) or 0))
            return reporter.finish(False, exc.diagnosis, settings, 0, profile=p.name)
    if password is None and settings.username:
        if sys.stdin is not None and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {settings.username} ({p.name}): ") or None
        if password is None:
            return _fail(
                args,
                "usage",
                "",
                f"mailsetup {command}: '{p.name}' has no stored password; pass --password-stdin or --password-env",
                EXIT_USAGE,
            )
    return _with_sandbox(args, PreparedCheck(p, settings, password, _provider_or_none(p.provider_id)))


def _provider_or_none(provider_id: str | None) -> Any:
    try:
        return _provider(provider_id)
    except UsageError:
        return None


def _with_sandbox(args: argparse.Namespace, prepared: PreparedCheck) -> PreparedCheck | int:
    if not prepared.profile.sandbox:
        return prepared
    # the profile names the sandbox, not its port: start it for this check
    prepared.sandbox, prepared.settings = _start_sandbox(prepared.settings)
    if prepared.sandbox is None:
        return _fail(args, "sandbox_failed", "Sandbox", "The local sandbox server could not start.")
    return prepared


def cmd_check(args: argparse.Namespace) -> int:
    prepared = prepare_profile_check(args, args.name)
    if isinstance(prepared, int):
        return prepared
    p, settings, password, provider = prepared.profile, prepared.settings, prepared.password, prepared.provider
    try:
        reporter, result = _run_check(args, settings, password, provider)
    finally:
        prepared.close()
    ok, diagnosis, extras = result.ok, result.diagnosis, _check_extras(result)
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


def _is_oauth(p: Profile) -> bool:
    from app.core.oauth import account_of

    return account_of(p) is not None


# -- delete ----------------------------------------------------------------------------------------


def cmd_rename(args: argparse.Namespace) -> int:
    """Rename an account as one unit: its secrets move to the new name in the password store."""
    try:
        renamed = AccountStore().rename(args.name, args.new_name)
    except ProfileStoreError as exc:
        if exc.kind is ProfileErrorKind.EXISTS:
            return _fail(args, "profile_exists", "Profile exists", exc.message, EXIT_FAILED)
        return _profile_fail(args, exc, renamed=False)
    except SecretStoreError as exc:
        return _secret_fail(args, exc, profile=args.name, renamed=False)
    if args.json:
        _json_line({"event": "result", "ok": True, "code": None, "profile": renamed.name, "renamed": True})
    else:
        print(f"Renamed profile '{normalize_name(args.name)}' to '{renamed.name}'.")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace) -> int:
    accounts = AccountStore()
    try:
        result = accounts.delete(args.name)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc, deleted=False)
    except SecretStoreError as exc:
        if not args.json:
            print(
                f"Profile '{args.name}' was NOT deleted, because its password could not be removed from the "
                "password store. Unlock or start the password store and try again.",
                file=sys.stderr,
            )
        return _secret_fail(args, exc, profile=args.name, deleted=False)
    p, removed, backend = result.profile, result.removed, result.backend or result.profile.secret_backend
    if args.json:
        _json_line(
            {
                "event": "result",
                "ok": True,
                "code": None,
                "profile": p.name,
                "deleted": True,
                "secret_removed": SERVICE in removed,
                "proxy_secret_removed": PROXY_SERVICE in removed,
                "oauth_removed": OAUTH_SERVICE in removed,
                "secret_backend": backend,
            }
        )
    else:
        if SERVICE in removed:
            how = f"and removed its password from {backend}"
        elif p.has_secret:
            how = f"(its password was already gone from {backend})"
        else:
            how = "(no password was stored)"
        print(f"Deleted profile '{p.name}' {how}.")
    return EXIT_OK


# -- export ----------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    accounts = AccountStore()
    try:
        p = accounts.require(args.name)
    except ProfileStoreError as exc:
        return _profile_fail(args, exc)
    if _is_oauth(p):
        return _export_oauth(args, p)
    password: str | None = None
    if args.include_password:
        if not p.has_secret:
            return _fail(
                args,
                "secret_missing",
                "No stored password",
                f"'{p.name}' has no stored password to include; export without --include-password.",
            )
        try:
            password = accounts.load(p.name).password
        except SecretStoreError as exc:
            return _secret_fail(args, exc, profile=p.name)
        if password is None:
            return _fail(
                args,
                "secret_missing",
                "Stored password not found",
                f"The password of '{p.name}' is no longer in {p.secret_backend or 'the password store'}.",
            )
    try:
        text = render_export(p, args.format, password=password)
    except ExportError as exc:
        return _fail(args, "export_failed", "Cannot export", str(exc))
    for warning in export_warnings(p, args.format, password=password):
        print(f"note: {warning}", file=sys.stderr)
    if not args.output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        path = write_export(args.output, text)
    except TargetError as exc:
        return _fail(args, "export_target", "Cannot write the export", exc.message)
    except OSError as exc:
        return _fail(args, "export_failed", "Cannot write the export", f"{args.output}: {exc.strerror or exc}")
    note = " It contains the password: keep it out of version control." if password else ""
    print(f"Wrote {path} (readable only by you).{note}", file=sys.stderr)
    return EXIT_OK


def _export_oauth(args: argparse.Namespace, p: Profile) -> int:
    """An OAuth profile: nodemailer (OAuth2) or JSON; the refresh token only with --include-password."""
    from app.core.oauth import OAuthInputError, load_grant, render_oauth_export

    token: str | None = None
    try:
        if args.include_password:
            grant = load_grant(SecretStore(), p.name)
            if grant is None:
                return _fail(
                    args, "secret_missing", "No stored sign-in", f"'{p.name}' has no OAuth sign-in to include."
                )
            token = grant.refresh_token
        text = render_oauth_export(p, args.format, refresh_token=token)
    except SecretStoreError as exc:
        return _secret_fail(args, exc, profile=p.name)
    except (ExportError, OAuthInputError) as exc:
        return _fail(args, "export_failed", "Cannot export", str(exc))
    if not args.output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    try:
        path = write_export(args.output, text)
    except TargetError as exc:
        return _fail(args, "export_target", "Cannot write the export", exc.message)
    except OSError as exc:
        return _fail(args, "export_failed", "Cannot write the export", f"{args.output}: {exc.strerror or exc}")
    note = " It contains the refresh token: keep it out of version control." if token else ""
    print(f"Wrote {path} (readable only by you).{note}", file=sys.stderr)
    return EXIT_OK
