"""Connection options shared by ``check``, ``send``, ``detect`` and ``profiles add``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from app.core.model import (
    DEFAULT_PORTS,
    AuthMechanism,
    Security,
    SettingsError,
    SmtpSettings,
    Timeouts,
    TlsMinimum,
    TlsOptions,
    normalize_fingerprint,
)


class UsageError(Exception):
    """Bad command-line input; the CLI prints it and exits 2."""


def add_connection_options(p: argparse.ArgumentParser, *, host_required: bool = True) -> None:
    """Add --host/--port/--security/... (the options of ``check``) to ``p``."""
    g = p.add_argument_group("connection")
    g.add_argument("--host", required=host_required, help="SMTP server name or IP address")
    g.add_argument("--port", type=int, help="port (default: 465 for ssl, 587 for starttls, 25 for none)")
    g.add_argument(
        "--security",
        choices=["ssl", "starttls", "none", "auto"],
        default=None,
        help="ssl = implicit TLS, starttls, none, or auto to find it",
    )
    g.add_argument("--user", default="", help="login name (often the full address)")
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--auth", choices=[m.value for m in AuthMechanism], default="auto", help="login mechanism")
    g.add_argument("--cafile", help="extra CA certificates (PEM) to trust")
    g.add_argument("--tls-min", choices=[m.value for m in TlsMinimum], default="1.2", help="lowest TLS version")
    g.add_argument("--insecure", action="store_true", help="do not verify the server certificate (not recommended)")
    g.add_argument("--pin-sha256", metavar="HEX", help="trust exactly the certificate with this SHA-256 fingerprint")
    g.add_argument("--allow-plain", action="store_true", help="allow sending the password without encryption")
    g.add_argument("--timeout", type=float, metavar="S", help="overall deadline in seconds (default 45)")
    g.add_argument("--connect-timeout", type=float, metavar="S", help="TCP connect timeout (default 10)")
    g.add_argument("--greeting-timeout", type=float, metavar="S", help="wait this long for the greeting (default 5)")
    g.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's name)")
    g.add_argument("--proxy", metavar="URL", help="socks5://[user@]host:port, socks4://, socks4a:// or http://")
    add_proxy_password_options(g)
    g.add_argument("--provider", metavar="ID", help="provider id from 'mailsetup providers' (better error advice)")
    add_output_options(p)


def add_proxy_password_options(g: Any) -> None:
    """--proxy-password-env / --proxy-password-stdin: the proxy password through a secret channel only."""
    pp = g.add_mutually_exclusive_group()
    pp.add_argument(
        "--proxy-password-env", metavar="VAR", help="read the proxy password from this environment variable"
    )
    pp.add_argument(
        "--proxy-password-stdin",
        action="store_true",
        help="read the proxy password from stdin (the line after the password when --password-stdin is also given)",
    )


def add_output_options(p: argparse.ArgumentParser) -> None:
    """--json and -v/-vv."""
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="one JSON object per event per line, result last")
    o.add_argument("-v", "--verbose", action="count", default=0, help="-v details, -vv protocol transcript")


def settings_from_args(
    args: argparse.Namespace, *, security: Security | None = None, port: int | None = None
) -> SmtpSettings:
    """Build validated SmtpSettings from parsed options; raises UsageError with a clear message."""
    sec_value = security.value if security else (args.security or "starttls")
    if sec_value == "auto":
        raise UsageError("--security auto needs autodetect; it is handled before settings are built")
    sec = Security(sec_value)
    chosen_port = port if port is not None else (args.port if args.port is not None else DEFAULT_PORTS[sec])
    base = Timeouts()
    total = args.timeout if args.timeout is not None else base.total
    timeouts = Timeouts(
        connect=min(args.connect_timeout or base.connect, total),
        greeting=min(args.greeting_timeout or base.greeting, total),
        command=min(base.command, total),
        total=total,
    )
    if args.cafile and not os.path.isfile(args.cafile):
        raise UsageError(f"--cafile: no such file: {args.cafile}")
    settings = SmtpSettings(
        host=(args.host or "").strip(),
        port=chosen_port,
        security=sec,
        username=args.user or "",
        auth=AuthMechanism(args.auth),
        timeouts=timeouts,
        tls=TlsOptions(
            verify=not args.insecure,
            minimum=TlsMinimum(args.tls_min),
            cafile=args.cafile or None,
            pinned_sha256=normalize_fingerprint(args.pin_sha256) if args.pin_sha256 else None,
        ),
        ehlo_name=args.ehlo_name or None,
        proxy=_proxy_with_password(args),
        allow_plain_auth=bool(args.allow_plain),
    )
    try:
        return settings.validate()
    except SettingsError as exc:
        raise UsageError(
            "; ".join(f"--{e.field.replace('_', '-').split('.')[-1]}: {e.message}" for e in exc.errors)
        ) from None


def _stdin_secret(args: argparse.Namespace, which: str) -> str:
    """Line ``which`` ("password" or "proxy") of stdin; read once, password first, never echoed."""
    cache = getattr(args, "_stdin_secrets", None)
    if cache is None:
        cache = {}
        wanted = [
            w
            for w, flag in (("password", "password_stdin"), ("proxy", "proxy_password_stdin"))
            if getattr(args, flag, False)
        ]
        for w in wanted:
            cache[w] = _read_secret_line(w)
        args._stdin_secrets = cache
    return cache[which]


def _read_secret_line(which: str) -> str:
    option = "--password-stdin" if which == "password" else "--proxy-password-stdin"
    if sys.stdin is not None and sys.stdin.isatty():  # typed at a terminal: no echo
        label = "Password" if which == "password" else "Proxy password"
        try:
            value = getpass.getpass(f"{label}: ")
        except (EOFError, KeyboardInterrupt):
            raise UsageError(f"{option}: no password was typed") from None
        if not value:
            raise UsageError(f"{option}: the password is empty")
        return value
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise UsageError(f"{option}: nothing was given on standard input")
    return line.rstrip("\r\n")


def _proxy_with_password(args: argparse.Namespace) -> str | None:
    """--proxy with the password from --proxy-password-env/-stdin put in (the store splits it out again)."""
    proxy = getattr(args, "proxy", None) or None
    secret: str | None = None
    if getattr(args, "proxy_password_env", None):
        secret = os.environ.get(args.proxy_password_env)
        if secret is None:
            raise UsageError(f"--proxy-password-env: the environment variable {args.proxy_password_env} is not set")
    elif getattr(args, "proxy_password_stdin", False):
        secret = _stdin_secret(args, "proxy")
    if secret is None:
        return proxy
    if not proxy:
        raise UsageError("a proxy password was given but no --proxy")
    from app.core.store import join_proxy_secret, split_proxy_secret

    clean, in_url = split_proxy_secret(proxy)
    if in_url is not None:
        raise UsageError("--proxy already contains a password; give it only once")
    if "@" not in (clean or "").split("//", 1)[-1]:
        raise UsageError("a proxy password needs a proxy user name: --proxy socks5://USER@host:port")
    return join_proxy_secret(clean, secret)


def read_password(args: argparse.Namespace) -> str | None:
    """The password from --password-env or --password-stdin, or None. Never echoed anywhere.

    --password-stdin at a terminal prompts without echo (getpass); from a pipe it reads one line.
    """
    if getattr(args, "password_env", None):
        value = os.environ.get(args.password_env)
        if value is None:
            raise UsageError(f"--password-env: the environment variable {args.password_env} is not set")
        return value
    if getattr(args, "password_stdin", False):
        return _stdin_secret(args, "password")
    return None
