"""The incoming side on the command line: ``check --protocol imap|pop3`` and ``send --confirm-delivery``.

Same options, JSON lines and exit codes as the SMTP check; the verdicts come from app.core.incoming.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from app.cli.exits import usage_error
from app.cli.options import UsageError, settings_from_args
from app.cli.output import Reporter
from app.core.catalog import Provider
from app.core.model import IncomingProtocol, Security, SmtpSettings, incoming_port

DEFAULT_DELIVERY_TIMEOUT = 60.0


def add_protocol_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--protocol",
        choices=["smtp", "imap", "pop3"],
        default="smtp",
        help="which server to check: smtp (default), imap or pop3 (ports default to 993/143 or 995/110)",
    )


def add_delivery_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("proof of delivery")
    g.add_argument(
        "--confirm-delivery",
        action="store_true",
        help="after the send, log in over IMAP and find the message (Inbox or Spam) with its SPF/DKIM/DMARC verdicts",
    )
    g.add_argument("--imap-host", metavar="H", help="IMAP server (default: the provider's, else --host)")
    g.add_argument("--imap-port", type=int, metavar="P", help="IMAP port (default: 993 for ssl, 143 for starttls)")
    g.add_argument("--imap-security", choices=["ssl", "starttls", "none"], help="IMAP security (default: ssl)")
    g.add_argument("--imap-user", metavar="U", help="IMAP login (default: --user); the password is the same")
    g.add_argument(
        "--delivery-timeout",
        type=float,
        default=DEFAULT_DELIVERY_TIMEOUT,
        metavar="S",
        help=f"how long to wait for the message (default {DEFAULT_DELIVERY_TIMEOUT:g} s, at most 600)",
    )
    g.add_argument("--delete-after", action="store_true", help="delete the test message once found (default: keep it)")


def incoming_settings(args: argparse.Namespace, protocol: IncomingProtocol) -> SmtpSettings:
    """Settings for ``check --protocol imap|pop3``: the usual port of the protocol when none is given."""
    if args.security == "auto":
        raise UsageError("--security auto is for SMTP; for IMAP/POP3 choose ssl, starttls or none")
    sec = Security(args.security or "ssl")
    port = args.port if args.port is not None else incoming_port(protocol, sec)
    return settings_from_args(args, security=sec, port=port)


def cmd_check_incoming(args: argparse.Namespace, provider_from_args: Any, credentials: Any) -> int:
    """``mailsetup check --protocol imap|pop3``."""
    from app.core.incoming import run_incoming_check

    protocol = IncomingProtocol(args.protocol)
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    try:
        if getattr(args, "profile", None):
            raise UsageError("--profile checks SMTP with the stored sign-in; IMAP/POP3 take --user and a password")
        settings = incoming_settings(args, protocol)
        provider = provider_from_args(args)
        password = credentials(args, settings.username)
    except UsageError as exc:
        return usage_error("check", str(exc))
    result = asyncio.run(run_incoming_check(protocol, settings, password, on_event=reporter, provider=provider))
    return reporter.finish(
        result.ok,
        result.diagnosis,
        settings,
        result.elapsed_ms,
        protocol=protocol.value,
        tls=result.tls,
        capabilities=list(result.capabilities),
        auth_mechanism=result.auth_mechanism,
        auth_verified=result.auth_verified,
    )


def delivery_settings(args: argparse.Namespace, smtp: SmtpSettings, provider: Provider | None) -> SmtpSettings:
    """The IMAP endpoint for --confirm-delivery: the options, else the provider's first IMAP endpoint, else
    the SMTP host with the usual IMAP port; the login and TLS policy follow the SMTP side."""
    if not 0 < args.delivery_timeout <= 600:
        raise UsageError("--delivery-timeout: give seconds from 0 to 600")
    endpoint = provider.imap[0] if provider is not None and provider.imap else None
    sec = Security(args.imap_security or (endpoint.security if endpoint else "ssl"))
    host = args.imap_host or (endpoint.host if endpoint else smtp.host)
    if args.imap_port is not None:
        port = args.imap_port
    elif endpoint is not None and not args.imap_security and endpoint.port:
        port = endpoint.port
    else:
        port = incoming_port(IncomingProtocol.IMAP, sec)
    settings = smtp.with_(host=host, port=port, security=sec, username=args.imap_user or smtp.username)
    errors = settings.errors()
    if errors:
        raise UsageError("; ".join(f"--imap-{e.field.replace('_', '-')}: {e.message}" for e in errors))
    if not settings.username:
        raise UsageError("--confirm-delivery needs a login: --user (or --imap-user) and a password")
    return settings


def confirm(
    args: argparse.Namespace,
    reporter: Reporter,
    imap: SmtpSettings,
    password: str | None,
    token: str,
    sent_at: float,
    provider: Provider | None,
) -> Any:
    """Run the round trip (a DeliveryResult; its to_dict() is the ``delivery`` object of the result line)."""
    from app.core.incoming import confirm_delivery

    result = asyncio.run(
        confirm_delivery(
            imap,
            password,
            token,
            timeout=args.delivery_timeout,
            sent_at=sent_at,
            delete=args.delete_after,
            on_event=reporter,
            provider=provider,
        )
    )
    return result


def delivery_line(delivery: dict[str, Any]) -> str:
    """The human line: "Arrived in INBOX after 2.1 s" / "Landed in Junk after …" / "Not arrived: …"."""
    if delivery.get("found"):
        verb = "Landed in" if delivery.get("in_spam") else "Arrived in"
        ar = delivery.get("authentication_results") or {}
        verdicts = ", ".join(f"{k.upper()} {ar.get(k) or '-'}" for k in ("spf", "dkim", "dmarc")) if ar else ""
        return f"{verb} {delivery['folder']} after {delivery['seconds']:.1f} s" + (f" ({verdicts})" if verdicts else "")
    diag = delivery.get("diagnosis") or {}
    return f"Not arrived: {diag.get('title', '')}"


def check_saved_incoming(
    reporter: Reporter,
    server: Any,
    smtp: SmtpSettings,
    password: str | None,
    provider: Any,
    ok: bool,
    diagnosis: Any,
    extras: dict[str, Any],
) -> tuple[bool, Any]:
    """``profiles check NAME``: the saved incoming server, with the SMTP side's login and TLS policy.

    Adds ``incoming`` to ``extras``; the returned (ok, diagnosis) fail when the incoming side fails."""
    result = run_saved_incoming(server, smtp, password, provider, reporter)
    return merge_incoming(reporter, result, ok, diagnosis, extras)


def run_saved_incoming(server: Any, smtp: SmtpSettings, password: str | None, provider: Any, on_event: Any) -> Any:
    """The IncomingResult of a saved incoming server, checked with the SMTP side's login and TLS policy."""
    from app.core.incoming import run_incoming_check

    settings = server.settings_from(smtp)
    return asyncio.run(run_incoming_check(server.protocol, settings, password, on_event=on_event, provider=provider))


def merge_incoming(
    reporter: Reporter, result: Any, ok: bool, diagnosis: Any, extras: dict[str, Any]
) -> tuple[bool, Any]:
    """Add the incoming result to ``extras``; (ok, diagnosis) fail when the incoming side failed."""
    settings = result.settings
    if reporter.json_mode:
        extras["incoming"] = result.to_dict()
    else:
        state = "OK" if result.ok else (result.diagnosis.title if result.diagnosis else "failed")
        extras["incoming"] = (
            f"{result.protocol.name} {settings.host}:{settings.port} ({settings.security.value}): {state}"
        )
    if ok and not result.ok:
        return False, result.diagnosis
    return ok, diagnosis
