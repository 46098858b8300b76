"""``mailsetup detect``: find working SMTP settings for an address; ``check --security auto`` helper."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from app.cli.options import UsageError, add_output_options, read_password, settings_from_args
from app.core.model import Security, Timeouts, TlsMinimum, TlsOptions, normalize_fingerprint

log = logging.getLogger(__name__)

EXIT_USAGE = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` subcommand."""
    p = subparsers.add_parser(
        "detect",
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
    g.add_argument("--user", help="login name (default: what the provider expects, usually the address)")
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--cafile", help="extra CA certificates (PEM) to trust")
    g.add_argument("--insecure", action="store_true", help="do not verify certificates (not recommended)")
    g.add_argument("--tls-min", choices=[m.value for m in TlsMinimum], default="1.2", help="lowest TLS version")
    g.add_argument(
        "--allow-plain",
        action="store_true",
        help="also accept servers without encryption (the password then travels in clear text)",
    )
    g.add_argument("--timeout", type=float, metavar="S", help="deadline of the login check in seconds (default 45)")
    g.add_argument(
        "--greeting-timeout",
        type=float,
        metavar="S",
        help="how long each probe waits for a server to answer (default 5)",
    )
    g.add_argument("--proxy", metavar="URL", help="socks5://[user:pass@]host:port, socks4://, socks4a:// or http://")
    g.add_argument(
        "--strict", action="store_true", help="wait for every better-ranked port even when a worse one already answered"
    )
    add_output_options(p)
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


def _timeouts(args: argparse.Namespace) -> Timeouts:
    base = Timeouts()
    for name in ("timeout", "greeting_timeout"):
        v = getattr(args, name, None)
        if v is not None and not 0 < v <= 600:
            raise UsageError(f"--{name.replace('_', '-')}: must be between 0 and 600 seconds")
    total = args.timeout if args.timeout is not None else base.total
    greeting = min(args.greeting_timeout if args.greeting_timeout is not None else base.greeting, total)
    connect = min(getattr(args, "connect_timeout", None) or base.connect, total)
    return Timeouts(connect=connect, greeting=greeting, command=min(base.command, total), total=total)


def _tls(args: argparse.Namespace) -> TlsOptions:
    if args.cafile and not os.path.isfile(args.cafile):
        raise UsageError(f"--cafile: no such file: {args.cafile}")
    pin = getattr(args, "pin_sha256", None)
    return TlsOptions(
        verify=not args.insecure,
        minimum=TlsMinimum(args.tls_min),
        cafile=args.cafile or None,
        pinned_sha256=normalize_fingerprint(pin) if pin else None,
    )


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
    out = reporter.out
    if result.reasons:
        print("", file=out)
        for r in result.reasons:
            print(f"  · {r}", file=out)
    for w in result.warnings:
        print(f"  ! {w}", file=out)
    if result.diagnosis is not None and any(a.kind == "allow_plain" for a in result.diagnosis.actions):
        print(
            "  ! Only an unencrypted server answered. Add --allow-plain to accept it "
            "(the password would travel in clear text).",
            file=out,
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
        timeouts = _timeouts(args)
        tls = _tls(args)
        password = read_password(args)
        if password and not (args.user or args.email):
            raise UsageError("--user is needed with a password when no address is given")
    except UsageError as exc:
        print(f"mailsetup detect: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
            proxy=args.proxy,
            on_event=reporter,
            strict=args.strict,
        )
    )
    return _report(reporter, result)


def check_auto(args: argparse.Namespace) -> int:
    """``mailsetup check --security auto``: find the mode on --port (or the standard ports), verify the login."""
    from app.cli.output import Reporter
    from app.core.detect import detect_mode

    try:
        # validates host, timeouts and TLS options the same way a normal check does
        settings = settings_from_args(args, security=Security.SSL, port=args.port or 465)
        password = read_password(args)
        if settings.username and password is None:
            raise UsageError("--user needs a password: use --password-env VAR or --password-stdin")
        if password is not None and not settings.username:
            raise UsageError("a password was given without --user")
        provider = None
        if getattr(args, "provider", None):
            from app.core.catalog import default_catalogue

            provider = default_catalogue().by_id(args.provider)
            if provider is None:
                raise UsageError(f"--provider: unknown provider '{args.provider}' (see 'mailsetup providers')")
    except UsageError as exc:
        print(f"mailsetup check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    reporter = Reporter(json_mode=args.json, verbosity=args.verbose)
    result = asyncio.run(
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
            on_event=reporter,
            ehlo_name=settings.ehlo_name,
            auth=settings.auth,
        )
    )
    return _report(reporter, result)
