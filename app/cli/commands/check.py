"""``mailsetup check`` and ``mailsetup send``: the staged check and a test send from the command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any

from app.cli.commands import incoming
from app.cli.commands.oauth import add_profile_option, bearer_for, profile_username
from app.cli.exits import Exit, usage_error
from app.cli.options import UsageError, connection_parents, read_password, settings_from_args
from app.cli.output import Reporter
from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError
from app.core.model import Security
from app.core.store import SecretStoreError

log = logging.getLogger(__name__)

# MessageError.field -> the option that holds it
MESSAGE_OPTIONS = {
    "from": "--from",
    "from_name": "--from-name",
    "to": "--to",
    "cc": "--cc",
    "bcc": "--bcc",
    "subject": "--subject",
    "attachments": "--attach",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``check`` and ``send`` subcommands."""
    check = subparsers.add_parser(
        "check",
        parents=connection_parents(),
        help="check connection, encryption and login to an SMTP server",
        description="Connect to an SMTP server stage by stage (DNS, TCP, TLS, greeting, EHLO, STARTTLS, AUTH) "
        "and explain any failure. Exit 0 = OK, 1 = the check failed, 2 = bad usage.",
    )
    add_profile_option(check)
    incoming.add_protocol_option(check)
    check.set_defaults(func=cmd_check)

    send = subparsers.add_parser(
        "send",
        parents=connection_parents(),
        help="send a test message",
        description="Connect like 'check', then send a test message and report the server's answer. "
        "Exit 0 = sent, 1 = the server or network refused, 2 = bad usage.",
    )
    add_profile_option(send)
    m = send.add_argument_group("message")
    m.add_argument("--from", dest="from_addr", required=True, metavar="ADDR", help="sender address")
    m.add_argument("--from-name", default="", metavar="N", help="sender display name")
    m.add_argument("--to", required=True, metavar="LIST", help="recipients, separated by ',' or ';'")
    m.add_argument("--cc", default="", metavar="LIST", help="copy recipients")
    m.add_argument("--bcc", default="", metavar="LIST", help="hidden recipients (not shown in the message)")
    m.add_argument("--subject", required=True, metavar="S")
    body = m.add_mutually_exclusive_group(required=True)
    body.add_argument("--body", metavar="TEXT", help="message text")
    body.add_argument("--body-file", metavar="F", help="read the message text from a file (UTF-8)")
    m.add_argument("--html", action="store_true", help="the body is HTML")
    m.add_argument("--attach", action="append", default=[], metavar="PATH", help="attach a file (repeatable)")
    incoming.add_delivery_options(send)
    send.set_defaults(func=cmd_send)


def provider_from_args(args: argparse.Namespace) -> Provider | None:
    """The catalogue entry named by --provider, or None; UsageError for an unknown id."""
    provider_id = getattr(args, "provider", None)
    if not provider_id:
        return None
    try:
        from app.core.catalog import load_catalogue
    except ImportError as exc:
        raise UsageError(f"--provider: the provider catalogue is not available ({exc})") from None
    catalogue = load_catalogue()
    provider = catalogue.by_id(provider_id)
    if provider is None:
        ids = ", ".join(sorted(p.id for p in catalogue.providers))
        raise UsageError(f"--provider: unknown provider '{provider_id}'; valid ids: {ids}")
    return provider


def _use_profile(args: argparse.Namespace) -> None:
    """``--profile NAME``: the login defaults to the profile's, and the mechanism to XOAUTH2."""
    if not getattr(args, "profile", None):
        return
    if args.security == "auto":
        raise UsageError("--profile does not work with --security auto; choose ssl or starttls")
    if args.password_env or args.password_stdin:
        raise UsageError("--profile logs in with the stored OAuth sign-in: give no password")
    if args.auth == "auto":
        args.auth = "xoauth2"
    if args.auth != "xoauth2":
        raise UsageError("--profile needs --auth xoauth2")
    args.user = args.user or profile_username(args.profile)


def credentials(args: argparse.Namespace, username: str) -> str | None:
    """The password for ``username`` (or the OAuth token of --profile, or None without a login).

    UsageError when only one of login and password is given."""
    if getattr(args, "profile", None):
        return bearer_for(args.profile)  # refreshed now: an access token lives about an hour
    password = read_password(args)
    if username and password is None:
        raise UsageError("--user needs a password: use --password-env VAR or --password-stdin")
    if password is not None and not username:
        raise UsageError("a password was given without --user")
    return password


def sign_in_failed(reporter: Reporter, exc: Exception, settings: Any) -> int:
    """The stored OAuth sign-in could not give a token: the diagnosis (or the keyring's problem)."""
    if isinstance(exc, DiagnosedError):
        return reporter.finish(False, exc.diagnosis, settings, 0)
    print(f"{getattr(exc, 'title', 'Password store')}: {getattr(exc, 'message', exc)}", file=sys.stderr)
    return Exit.FAILED


def connection_settings(args: argparse.Namespace) -> tuple[Any, Provider | None]:
    """(settings, provider) from the connection options: the one path of ``check`` and ``report``; the
    password then comes from ``credentials``. Raises UsageError naming the option."""
    _use_profile(args)
    return settings_from_args(args), provider_from_args(args)


def run_verdict(settings: Any, password: str | None, provider: Provider | None, on_event: Any) -> Any:
    """The one bounded pipeline run (engine, then a second client and the alternatives): its Verdict."""
    from app.core.detect import run_pipeline

    return asyncio.run(run_pipeline(settings, password, on_event=on_event, provider=provider))


def verdict_extras(verdict: Any) -> dict[str, Any]:
    """What a check's result line carries beside ok/diagnosis/settings (rendered as it is, never re-decided)."""
    extra: dict[str, Any] = {
        "tls": verdict.tls,
        "capabilities": list(verdict.capabilities),
        "auth_mechanism": verdict.auth_mechanism,
        "auth_verified": verdict.auth_verified,
    }
    if verdict.by == "second_client":
        extra["verified_by"] = "second client"
    if verdict.notes:
        extra["notes"] = list(verdict.notes)
        extra["second_opinion"] = verdict.second_opinion.to_dict() if verdict.second_opinion else None
    if verdict.working_alternative is not None:
        extra["alternative"] = verdict.working_alternative.summary()
    return extra


def prepare_connection(args: argparse.Namespace, command: str) -> tuple[Reporter, Any, str | None, Any] | int:
    """(reporter, settings, password, provider) from the connection options, or the exit code after saying
    what is wrong (a usage error, or a sign-in that failed before any check)."""
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    settings = None
    try:
        settings, provider = connection_settings(args)
        password = credentials(args, settings.username)
    except UsageError as exc:
        return usage_error(command, str(exc))
    except (DiagnosedError, SecretStoreError) as exc:
        return sign_in_failed(reporter, exc, settings)
    return reporter, settings, password, provider


def cmd_check(args: argparse.Namespace) -> int:
    """Run ``mailsetup check``."""
    if getattr(args, "protocol", "smtp") != "smtp":
        return incoming.cmd_check_incoming(args, provider_from_args, credentials)
    if args.security == "auto" and not getattr(args, "profile", None):
        from app.cli.commands.detect import check_auto

        return check_auto(args)
    ready = prepare_connection(args, "check")
    if isinstance(ready, int):
        return ready
    reporter, settings, password, provider = ready
    # one pipeline, one deadline (--timeout): the engine, then (for a non-definitive failure) a second
    # client and the alternatives; the verdict is rendered as it is, never re-decided here
    verdict = run_verdict(settings, password, provider, reporter)
    return reporter.finish(verdict.ok, verdict.diagnosis, settings, verdict.elapsed_ms, **verdict_extras(verdict))


def read_body(args: argparse.Namespace) -> str:
    """--body, or the UTF-8 text of --body-file; UsageError naming the option otherwise."""
    if not args.body_file:
        return args.body
    try:
        with open(args.body_file, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError:
        raise UsageError(f"--body-file: {args.body_file} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"--body-file: cannot read {args.body_file}: {exc.strerror or exc}") from None


def message_spec(args: argparse.Namespace) -> Any:
    """The MessageSpec of the message options (checked when the message is built)."""
    from app.core.smtp import MessageSpec

    body = read_body(args)
    return MessageSpec(
        from_addr=args.from_addr,
        from_name=args.from_name,
        to=args.to,
        cc=args.cc,
        bcc=args.bcc,
        subject=args.subject,
        text=None if args.html else body,
        html=body if args.html else None,
        attachments=tuple(args.attach),
    )


def cmd_send(args: argparse.Namespace) -> int:
    """Run ``mailsetup send``."""
    from app.core.smtp import MessageError, build_message, send_message

    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    settings = None
    try:
        _use_profile(args)
        message = build_message(message_spec(args))
        # with --security auto: validated like a normal send, autodetect then finds the mode that works
        auto = {"security": Security.SSL, "port": args.port or 465} if args.security == "auto" else {}
        settings = settings_from_args(args, **auto)
        provider = provider_from_args(args)
        password = credentials(args, settings.username)
        imap = incoming.delivery_settings(args, settings, provider) if args.confirm_delivery else None
    except UsageError as exc:
        return usage_error("send", str(exc))
    except MessageError as exc:
        flag = "--body-file" if exc.field == "body" and args.body_file else MESSAGE_OPTIONS.get(exc.field, "--body")
        return usage_error("send", f"{flag}: {exc.message}")
    except (DiagnosedError, SecretStoreError) as exc:
        return sign_in_failed(reporter, exc, settings)
    if args.security == "auto":
        from app.cli.commands.detect import detect_settings

        found = detect_settings(args, settings, password, provider, reporter)
        if not found.ok:
            return reporter.finish(False, found.diagnosis, found.settings, found.elapsed_ms)
        settings = found.settings
    token = None
    if imap is not None:
        from app.core.incoming import mark_message, new_token

        token = new_token()
        mark_message(message, token)
    result = asyncio.run(send_message(settings, password, message, on_event=reporter, provider=provider))
    extra: dict[str, Any] = {}
    ok, diagnosis = result.ok, result.diagnosis
    if result.ok and imap is not None and token is not None:
        proof = incoming.confirm(args, reporter, imap, password, token, time.monotonic(), provider)
        if reporter.json_mode:
            extra["delivery"] = proof.to_dict()
        else:
            print(incoming.delivery_line(proof.to_dict()))
        ok, diagnosis = proof.found and not proof.in_spam, proof.diagnosis
    return _finish_send(reporter, settings, result, ok, diagnosis, extra)


def _finish_send(reporter: Reporter, settings: Any, result: Any, ok: bool, diagnosis: Any, extra: dict) -> int:
    return reporter.finish(
        ok,
        diagnosis,
        settings,
        result.elapsed_ms,
        queue_id=result.queue_id,
        **({"server_reply": result.server_reply} if result.ok else {}),
        accepted=list(result.accepted),
        refused=dict(result.refused),
        delivered=result.delivered,
        tls=result.tls,
        **extra,
    )
