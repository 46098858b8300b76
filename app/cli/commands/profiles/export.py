"""``mailsetup profiles export``: settings for .env, Django, nodemailer, PHPMailer, smtplib or JSON."""

from __future__ import annotations

import argparse
import sys

from app.cli.commands.profiles.common import fail, is_oauth, profile_fail, secret_fail
from app.cli.exits import Exit
from app.core.store import (
    EXPORT_FILENAMES,
    EXPORT_FORMATS,
    AccountStore,
    ExportError,
    Profile,
    ProfileStoreError,
    SecretStore,
    SecretStoreError,
    TargetError,
    export_warnings,
    render_export,
    write_export,
)


def register(sub: argparse._SubParsersAction) -> None:
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


def cmd_export(args: argparse.Namespace) -> int:
    accounts = AccountStore()
    try:
        p = accounts.require(args.name)
    except ProfileStoreError as exc:
        return profile_fail(args, exc)
    if is_oauth(p):
        return _export_oauth(args, p)
    password: str | None = None
    if args.include_password:
        if not p.has_secret:
            return fail(
                args,
                "secret_missing",
                "No stored password",
                f"'{p.name}' has no stored password to include; export without --include-password.",
            )
        try:
            password = accounts.load(p.name).password
        except SecretStoreError as exc:
            return secret_fail(args, exc, profile=p.name)
        if password is None:
            return fail(
                args,
                "secret_missing",
                "Stored password not found",
                f"The password of '{p.name}' is no longer in {p.secret_backend or 'the password store'}.",
            )
    try:
        text = render_export(p, args.format, password=password)
    except ExportError as exc:
        return fail(args, "export_failed", "Cannot export", str(exc))
    for warning in export_warnings(p, args.format, password=password):
        print(f"note: {warning}", file=sys.stderr)
    note = " It contains the password: keep it out of version control." if password else ""
    return _write(args, text, note)


def _export_oauth(args: argparse.Namespace, p: Profile) -> int:
    """An OAuth profile: nodemailer (OAuth2) or JSON; the refresh token only with --include-password."""
    from app.core.oauth import OAuthInputError, load_grant, render_oauth_export

    token: str | None = None
    try:
        if args.include_password:
            grant = load_grant(SecretStore(), p.name)
            if grant is None:
                return fail(args, "secret_missing", "No stored sign-in", f"'{p.name}' has no OAuth sign-in to include.")
            token = grant.refresh_token
        text = render_oauth_export(p, args.format, refresh_token=token)
    except SecretStoreError as exc:
        return secret_fail(args, exc, profile=p.name)
    except (ExportError, OAuthInputError) as exc:
        return fail(args, "export_failed", "Cannot export", str(exc))
    note = " It contains the refresh token: keep it out of version control." if token else ""
    return _write(args, text, note)


def _write(args: argparse.Namespace, text: str, note: str) -> int:
    """The export to stdout, or to --output (mode 0600) with ``note`` after the confirmation."""
    if not args.output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return Exit.OK
    try:
        path = write_export(args.output, text)
    except TargetError as exc:
        return fail(args, "export_target", "Cannot write the export", exc.message)
    except OSError as exc:
        return fail(args, "export_failed", "Cannot write the export", f"{args.output}: {exc.strerror or exc}")
    print(f"Wrote {path} (readable only by you).{note}", file=sys.stderr)
    return Exit.OK
