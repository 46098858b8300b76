"""``mailsetup profiles add``: check an account, then save it (the password into the system password store)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.commands.profiles.common import (
    check_extras,
    fail,
    json_line,
    profile_fail,
    provider_by_id,
    run_engine_check,
    secret_fail,
)
from app.cli.exits import Exit
from app.cli.options import UsageError, add_connection_options, read_password, settings_from_args
from app.core.store import AccountStore, Profile, ProfileErrorKind, ProfileStoreError, SecretStoreError, normalize_name


def register(sub: argparse._SubParsersAction) -> None:
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


def cmd_add(args: argparse.Namespace) -> int:
    """Check, then save the profile and its secret(s) as one unit (app.core.store.AccountStore)."""
    try:
        name = normalize_name(args.name)
        if args.security == "auto":
            raise UsageError("--security auto is not supported here; run 'mailsetup detect' and pass what it found")
        settings = settings_from_args(args)
        password = read_password(args)
        provider = provider_by_id(args.provider)
    except UsageError as exc:
        return fail(args, "usage", "", f"mailsetup profiles add: {exc}", Exit.USAGE)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)

    accounts = AccountStore()
    try:
        existing = accounts.get(name)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    if (existing is not None or name in accounts.problems()) and not args.replace:
        return _exists(args, name)

    reporter = result = None
    if not args.no_check:
        reporter, result = run_engine_check(args, settings, password, provider)
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
    return _save(args, accounts, profile, password, reporter, result)


def _save(
    args: argparse.Namespace, accounts: AccountStore, profile: Profile, password: str | None, reporter: Any, result: Any
) -> int:
    """Save the checked profile and its secret(s) as one unit, then report."""
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
        return secret_fail(args, exc, hint=hint, profile=profile.name, saved=False)
    except ProfileStoreError as exc:
        if exc.kind is ProfileErrorKind.EXISTS:
            return _exists(args, profile.name)
        return profile_fail(args, exc, saved=False)
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
    code = Exit.OK
    if reporter is not None and result is not None:
        code = reporter.finish(True, None, result.settings, result.elapsed_ms, **check_extras(result), **extra)
    elif args.json:
        json_line(
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
    return fail(
        args,
        "profile_exists",
        "Profile exists",
        f"A profile called '{name}' already exists; use --replace to overwrite it.",
        Exit.FAILED,
    )
