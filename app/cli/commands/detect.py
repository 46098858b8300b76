"""``mailsetup detect``: find working SMTP settings for an address; ``check --security auto`` helper."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from app.cli.exits import usage_error
from app.cli.options import (
    UsageError,
    check_proxy,
    login_parent,
    output_parent,
    proxy_from_args,
    proxy_parent,
    read_password,
    settings_from_args,
    timeout_parent,
    timeouts_from_args,
    tls_from_args,
    tls_parent,
)
from app.core.model import AddressError, Security

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` subcommand."""
    p = subparsers.add_parser(
        "detect",
        parents=[login_parent(), tls_parent(), timeout_parent(), proxy_parent(), output_parent()],
        help="find the right server, port and encryption for an address",
        description=(
            "Find working SMTP settings: the provider by domain or MX records, SRV records or the usual "
            "server names, then every candidate port probed in parallel (implicit TLS preferred over "
            "STARTTLS). With a password the login is verified on the winner. Exit 0 only when a "
            "working setting was found."
        ),
    )
    p.add_argument("email", nargs="?", help="the mailbox address, e.g. user@example.com")
    g = p.add_argument_group("detection")
    g.add_argument("--host", help="skip discovery and probe this server")
    g.add_argument(
        "--ports",
        default="465,587,25,2525",
        metavar="LIST",
        help="ports to probe, comma-separated (default 465,587,25,2525)",
    )
    g.add_argument(
        "--strict", action="store_true", help="wait for every better-ranked port even when a worse one already answered"
    )
    g.add_argument(
        "--no-autoconfig",
        action="store_true",
        help="do not ask the autoconfig sources (the domain's config, Mozilla's ISPDB, Exchange Autodiscover)",
    )
    g.add_argument(
        "--trust-autoconfig",
        action="store_true",
        help="send the password even when the settings come from an untrusted source (plain HTTP, another domain)",
    )
    p.set_defaults(func=run_detect)


def parse_ports(text: str) -> tuple[int, ...]:
    """``"465, 587"`` -> (465, 587); raises UsageError naming the bad item."""
    out: list[int] = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise UsageError(f"--ports: '{item}' is not a port number from 1 to 65535")
        if int(item) not in out:
            out.append(int(item))
    if not out:
        raise UsageError("--ports: give at least one port")
    return tuple(out)


def _report(reporter, result) -> int:
    if reporter.json_mode:
        return reporter.finish(
            result.ok,
            result.diagnosis,
            result.settings,
            result.elapsed_ms,
            provider=result.provider,
            username=result.settings.username if result.settings else None,
            auth_verified=result.auth_verified,
            probes=result.probes,
            reasons=result.reasons,
            warnings=result.warnings,
            discovery=result.discovery,
        )
    if result.reasons:
        reporter.line("")
        for r in result.reasons:
            reporter.line(f"  · {r}")
    for w in result.warnings:
        reporter.line(f"  ! {w}")
    if result.diagnosis is not None and any(a.kind == "allow_plain" for a in result.diagnosis.actions):
        reporter.line(
            "  ! Only an unencrypted server answered. Add --allow-plain to accept it "
            "(the password would travel in clear text)."
        )
    extra = {"provider": result.provider, "login": result.settings.username if result.settings else None}
    if result.settings is not None and result.ok:
        extra["login verified"] = "yes" if result.auth_verified else "not checked (no password given)"
    return reporter.finish(
        result.ok,
        result.diagnosis,
        result.settings,
        result.elapsed_ms,
        **{k.replace(" ", "_"): v for k, v in extra.items()},
    )


def run_detect(args: argparse.Namespace) -> int:
    """Entry point of ``mailsetup detect``."""
    from app.cli.output import Reporter
    from app.core.detect import detect

    try:
        if not args.email and not args.host:
            raise UsageError("give an e-mail address or --host")
        ports = parse_ports(args.ports)
        timeouts = timeouts_from_args(args)
        tls = tls_from_args(args)
        proxy = proxy_from_args(args)
        check_proxy(proxy)
        if args.email:
            from app.core.detect import split_email

            split_email(args.email)  # the one address parser: a clear usage error, not a failed detection
        password = read_password(args)
        if password and not (args.user or args.email):
            raise UsageError("--user is needed with a password when no address is given")
    except UsageError as exc:
        return usage_error("detect", str(exc))
    except AddressError as exc:
        return usage_error("detect", f"EMAIL: {exc}")
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    result = asyncio.run(
        detect(
            args.email,
            password=password,
            username=args.user,
            host=args.host,
            ports=ports,
            allow_plain=args.allow_plain,
            timeouts=timeouts,
            tls=tls,
            proxy=proxy,
            on_event=reporter,
            strict=args.strict,
            autoconfig=not args.no_autoconfig,
            trust_source=args.trust_autoconfig,
        )
    )
    return _report(reporter, result)


def check_auto(args: argparse.Namespace) -> int:
    """``mailsetup check --security auto``: find the mode on --port (or the standard ports), verify the login."""
    from app.cli.commands.check import credentials, provider_from_args
    from app.cli.output import Reporter

    try:
        # validates host, timeouts and TLS options the same way a normal check does
        settings = settings_from_args(args, security=Security.SSL, port=args.port or 465)
        password = credentials(args, settings.username)
        provider = provider_from_args(args)
    except UsageError as exc:
        return usage_error("check", str(exc))
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    return _report(reporter, detect_settings(args, settings, password, provider, reporter))


def detect_settings(args: argparse.Namespace, settings: Any, password: str | None, provider: Any, on_event: Any) -> Any:
    """detect_mode on --port (or the standard ports) with the options of ``settings``; its result."""
    from app.core.detect import detect_mode

    return asyncio.run(
        detect_mode(
            settings.host,
            args.port,
            password=password,
            username=settings.username,
            allow_plain=settings.allow_plain_auth,
            timeouts=settings.timeouts,
            tls=settings.tls,
            proxy=settings.proxy,
            provider=provider,
            on_event=on_event,
            ehlo_name=settings.ehlo_name,
            auth=settings.auth,
        )
    )
