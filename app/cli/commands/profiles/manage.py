"""``mailsetup profiles list|show|rename|delete``: look at saved accounts, rename or delete them."""

from __future__ import annotations

import argparse
import sys

from app.cli.commands.profiles.common import fail, json_line, profile_fail, secret_fail
from app.cli.exits import Exit
from app.cli.options import add_output_options
from app.core.store import (
    OAUTH_SERVICE,
    PROXY_SERVICE,
    SERVICE,
    AccountStore,
    Profile,
    ProfileErrorKind,
    ProfileStoreError,
    SecretStoreError,
    normalize_name,
)


def register_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list saved accounts")
    add_output_options(p)
    p.set_defaults(func=cmd_list)


def register_show(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="show one saved account (never the password)")
    p.add_argument("name", metavar="NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_show)


def register_rename(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rename", help="rename a saved account (its stored passwords move with it)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("new_name", metavar="NEW_NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_rename)


def register_delete(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("delete", help="delete a saved account and its stored password")
    p.add_argument("name", metavar="NAME")
    add_output_options(p)
    p.set_defaults(func=cmd_delete)


# -- list / show ---------------------------------------------------------------------------------


def secret_text(p: Profile) -> str:
    if p.has_secret:
        return f"stored in {p.secret_backend or 'the system password store'}"
    return "not stored" if p.settings.username else "none needed"


def cmd_list(args: argparse.Namespace) -> int:
    store = AccountStore()
    try:
        profiles = store.list()
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    problems = store.problems()
    if args.json:
        json_line(
            {
                "event": "profiles",
                "path": str(store.path),
                "profiles": [p.to_dict() for p in profiles],
                "problems": problems,
            }
        )
        return Exit.OK
    if not profiles:
        print(f"No saved profiles (in {store.path}).")
    for p in profiles:
        s = p.settings
        print(f"{p.name}\t{s.host}:{s.port} {s.security.value}\t{s.username or '-'}\tpassword {secret_text(p)}")
    for why in problems.values():
        print(f"warning: {why} (skipped; the entry is kept in the file)", file=sys.stderr)
    return Exit.OK


def cmd_show(args: argparse.Namespace) -> int:
    store = AccountStore()
    try:
        p = store.require(args.name)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    if args.json:
        json_line({"event": "profile", **p.to_dict()})
        return Exit.OK
    s = p.settings
    rows = [
        ("Name", p.name),
        ("Server", f"{s.host}:{s.port}"),
        (
            "Security",
            {"ssl": "implicit TLS (SSL)", "starttls": "STARTTLS", "none": "none (unencrypted)"}[s.security.value],
        ),
        ("Login", s.username or "(none)"),
        ("Password", secret_text(p)),
        ("From", f"{p.from_name} <{p.from_addr}>" if p.from_name and p.from_addr else (p.from_addr or "(not set)")),
        ("Provider", p.provider_id or "(custom)"),
        ("Certificate check", "on" if s.tls.verify else "OFF"),
        ("Proxy", (s.proxy or "none") + (" (password stored)" if p.has_proxy_secret else "")),
        ("Created", p.created_at),
        ("Updated", p.updated_at),
    ]
    for key, value in rows:
        print(f"{key + ':':<19}{value}")
    return Exit.OK


# -- rename / delete -------------------------------------------------------------------------------


def cmd_rename(args: argparse.Namespace) -> int:
    """Rename an account as one unit: its secrets move to the new name in the password store."""
    try:
        renamed = AccountStore().rename(args.name, args.new_name)
    except ProfileStoreError as exc:
        if exc.kind is ProfileErrorKind.EXISTS:
            return fail(args, "profile_exists", "Profile exists", exc.message, Exit.FAILED)
        return profile_fail(args, exc, renamed=False)
    except SecretStoreError as exc:
        return secret_fail(args, exc, profile=args.name, renamed=False)
    if args.json:
        json_line({"event": "result", "ok": True, "code": None, "profile": renamed.name, "renamed": True})
    else:
        print(f"Renamed profile '{normalize_name(args.name)}' to '{renamed.name}'.")
    return Exit.OK


def cmd_delete(args: argparse.Namespace) -> int:
    accounts = AccountStore()
    try:
        result = accounts.delete(args.name)
    except ProfileStoreError as exc:
        return profile_fail(args, exc, deleted=False)
    except SecretStoreError as exc:
        if not args.json:
            print(
                f"Profile '{args.name}' was NOT deleted, because its password could not be removed from the "
                "password store. Unlock or start the password store and try again.",
                file=sys.stderr,
            )
        return secret_fail(args, exc, profile=args.name, deleted=False)
    p, removed, backend = result.profile, result.removed, result.backend or result.profile.secret_backend
    if args.json:
        json_line(
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
    return Exit.OK
