"""Options shared by ``check``, ``send``, ``detect`` and ``profiles``: each is declared once here.

Commands take them as argparse parent parsers (``parents=connection_parents()``); ``profiles``
adds the same declarations to its own parser with ``add_connection_options``. Values are checked
by argparse types (a number of seconds, a port) and by the engine's own validation
(``SmtpSettings.validate``, ``parse_proxy_url``), reported with the real option name.
"""

from __future__ import annotations

import argparse
import getpass
import math
import os
import sys
from collections.abc import Callable
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
    secret_problem,
)

MAX_SECONDS = 600.0

# SmtpSettings field (from SettingsError) -> the option the user typed
FIELD_OPTIONS = {
    "host": "--host",
    "port": "--port",
    "security": "--security",
    "auth": "--auth",
    "username": "--user",
    "ehlo_name": "--ehlo-name",
    "proxy": "--proxy",
    "timeouts.connect": "--connect-timeout",
    "timeouts.greeting": "--greeting-timeout",
    "timeouts.command": "--timeout",
    "timeouts.total": "--timeout",
    "tls.minimum": "--tls-min",
    "tls.pinned_sha256": "--pin-sha256",
    "tls.cafile": "--cafile",
}


class UsageError(Exception):
    """Bad command-line input; the CLI prints it and exits 2."""


def seconds(text: str) -> float:
    """argparse type: a finite number of seconds, more than 0 and at most 600 (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"'{text}' must be a number of seconds above 0 and at most {MAX_SECONDS:g}")
    return value


def port_number(text: str) -> int:
    """argparse type: a whole port number from 1 to 65535."""
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number from 1 to 65535")
    return int(text)


# -- the declarations (each option once) ------------------------------------------------------------


def add_server_options(p: argparse.ArgumentParser, *, host_required: bool = True) -> None:
    g = p.add_argument_group("server")
    g.add_argument("--host", required=host_required, help="SMTP server name or IP address")
    g.add_argument("--port", type=port_number, help="port (default: 465 for ssl, 587 for starttls, 25 for none)")
    g.add_argument(
        "--security",
        choices=["ssl", "starttls", "none", "auto"],
        default=None,
        help="ssl = implicit TLS, starttls, none, or auto to find it",
    )
    g.add_argument("--ehlo-name", help="name to send in EHLO (default: this machine's name)")
    g.add_argument("--provider", metavar="ID", help="provider id from 'mailsetup providers' (better error advice)")


def add_login_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("login")
    g.add_argument("--user", default=None, help="login name (often the full address)")
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    g.add_argument("--auth", choices=[m.value for m in AuthMechanism], default="auto", help="login mechanism")


def add_tls_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("encryption")
    g.add_argument("--cafile", help="extra CA certificates (PEM) to trust")
    g.add_argument("--tls-min", choices=[m.value for m in TlsMinimum], default="1.2", help="lowest TLS version")
    g.add_argument("--insecure", action="store_true", help="do not verify the server certificate (not recommended)")
    g.add_argument("--pin-sha256", metavar="HEX", help="trust exactly the certificate with this SHA-256 fingerprint")
    g.add_argument("--allow-plain", action="store_true", help="allow sending the password without encryption")


def add_timeout_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("time limits")
    g.add_argument("--timeout", type=seconds, metavar="S", help="overall deadline in seconds (default 45)")
    g.add_argument("--connect-timeout", type=seconds, metavar="S", help="TCP connect timeout (default 10)")
    g.add_argument("--greeting-timeout", type=seconds, metavar="S", help="wait this long for the greeting (default 5)")


def add_proxy_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("proxy")
    g.add_argument("--proxy", metavar="URL", help="socks5://[user@]host:port, socks4://, socks4a:// or http://")
    add_proxy_password_options(g)


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


def _parent(*builders: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    for build in builders:
        build(p)
    return p


def login_parent() -> argparse.ArgumentParser:
    return _parent(add_login_options)


def tls_parent() -> argparse.ArgumentParser:
    return _parent(add_tls_options)


def timeout_parent() -> argparse.ArgumentParser:
    return _parent(add_timeout_options)


def proxy_parent() -> argparse.ArgumentParser:
    return _parent(add_proxy_options)


def output_parent() -> argparse.ArgumentParser:
    return _parent(add_output_options)


def connection_parents(*, host_required: bool = True) -> list[argparse.ArgumentParser]:
    """The parents of ``check`` and ``send``: server, login, TLS, time limits, proxy, output."""
    server = _parent(lambda p: add_server_options(p, host_required=host_required))
    return [server, login_parent(), tls_parent(), timeout_parent(), proxy_parent(), output_parent()]


def add_connection_options(p: argparse.ArgumentParser, *, host_required: bool = True) -> None:
    """The same options as ``connection_parents``, added to an existing parser (``profiles add``)."""
    add_server_options(p, host_required=host_required)
    for build in (add_login_options, add_tls_options, add_timeout_options, add_proxy_options, add_output_options):
        build(p)


# -- from options to engine values -------------------------------------------------------------------


def timeouts_from_args(args: argparse.Namespace) -> Timeouts:
    """The Timeouts of --timeout/--connect-timeout/--greeting-timeout; none exceeds the overall deadline."""
    base = Timeouts()
    total = getattr(args, "timeout", None) or base.total
    return Timeouts(
        connect=min(getattr(args, "connect_timeout", None) or base.connect, total),
        greeting=min(getattr(args, "greeting_timeout", None) or base.greeting, total),
        command=min(base.command, total),
        total=total,
    )


def tls_from_args(args: argparse.Namespace) -> TlsOptions:
    """TlsOptions of --cafile/--insecure/--tls-min/--pin-sha256; UsageError for a missing CA file."""
    if args.cafile and not os.path.isfile(args.cafile):
        raise UsageError(f"--cafile: no such file: {args.cafile}")
    pin = getattr(args, "pin_sha256", None)
    return TlsOptions(
        verify=not args.insecure,
        minimum=TlsMinimum(args.tls_min),
        cafile=args.cafile or None,
        pinned_sha256=normalize_fingerprint(pin) if pin else None,
    )


def check_proxy(url: str | None) -> None:
    """UsageError naming --proxy when the engine cannot understand the proxy URL."""
    if not url:
        return
    from app.core.net import ProxyUrlError, parse_proxy_url

    try:
        parse_proxy_url(url)
    except ProxyUrlError as exc:
        raise UsageError(f"--proxy: {exc}") from None


def settings_from_args(
    args: argparse.Namespace, *, security: Security | None = None, port: int | None = None
) -> SmtpSettings:
    """Build validated SmtpSettings from parsed options; raises UsageError with a clear message."""
    sec_value = security.value if security else (args.security or "starttls")
    if sec_value == "auto":
        raise UsageError("--security auto needs autodetect; it is handled before settings are built")
    sec = Security(sec_value)
    chosen_port = port if port is not None else (args.port if args.port is not None else DEFAULT_PORTS[sec])
    proxy = proxy_from_args(args)
    check_proxy(proxy)
    settings = SmtpSettings(
        host=(args.host or "").strip(),
        port=chosen_port,
        security=sec,
        username=args.user or "",
        auth=AuthMechanism(args.auth),
        timeouts=timeouts_from_args(args),
        tls=tls_from_args(args),
        ehlo_name=args.ehlo_name or None,
        proxy=proxy,
        allow_plain_auth=bool(args.allow_plain),
    )
    try:
        return settings.validate()
    except SettingsError as exc:
        raise UsageError(
            "; ".join(
                f"{FIELD_OPTIONS.get(e.field, '--' + e.field.replace('_', '-'))}: {e.message}" for e in exc.errors
            )
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
    try:
        line = sys.stdin.readline() if sys.stdin is not None else ""
    except UnicodeDecodeError:
        raise UsageError(f"{option}: the password is not valid UTF-8 text") from None
    if not line:
        raise UsageError(f"{option}: nothing was given on standard input")
    return line.rstrip("\r\n")


def proxy_from_args(args: argparse.Namespace) -> str | None:
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
        return _normalized_proxy(proxy)
    if not proxy:
        raise UsageError("a proxy password was given but no --proxy")
    from app.core.store import join_proxy_secret, split_proxy_secret

    clean, in_url = split_proxy_secret(proxy)
    if in_url is not None:
        raise UsageError("--proxy already contains a password; give it only once")
    if "@" not in (clean or "").split("//", 1)[-1]:
        raise UsageError("a proxy password needs a proxy user name: --proxy socks5://USER@host:port")
    return join_proxy_secret(clean, secret)


def _normalized_proxy(proxy: str | None) -> str | None:
    """A password typed into the URL as it is (``user:se#cr/et@host``) percent-encoded, so that it parses."""
    if not proxy:
        return None
    from app.core.store import join_proxy_secret, split_proxy_secret

    clean, in_url = split_proxy_secret(proxy)
    return join_proxy_secret(clean, in_url) if in_url is not None else proxy


def read_password(args: argparse.Namespace) -> str | None:
    """The password from --password-env or --password-stdin, or None. Never echoed anywhere.

    --password-stdin at a terminal prompts without echo (getpass); from a pipe it reads one line.
    A password the server could not be sent (control characters, invalid UTF-8) is a usage error.
    """
    value: str | None = None
    source = ""
    if getattr(args, "password_env", None):
        source = "--password-env"
        value = os.environ.get(args.password_env)
        if value is None:
            raise UsageError(f"--password-env: the environment variable {args.password_env} is not set")
    elif getattr(args, "password_stdin", False):
        source = "--password-stdin"
        value = _stdin_secret(args, "password")
    if value is not None:
        problem = secret_problem(value)
        if problem is not None:
            raise UsageError(f"{source}: {problem}")
    return value
