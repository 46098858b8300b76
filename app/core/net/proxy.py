"""Reaching an SMTP server through a SOCKS4/4a/5 or HTTP CONNECT proxy.

``parse_proxy_url`` turns the user's proxy URL into a ProxyConfig whose text
forms never show the password; ``open_via_proxy`` returns a connected,
non-blocking socket the engine hands to ``loop.create_connection(sock=...)``. SOCKS goes
through python-socks; HTTP CONNECT is done here so that bytes the server sends right behind
the proxy's answer (SMTP servers greet first) stay in the socket.
Every proxy failure becomes ``DiagnosedError(Code.PROXY_FAILED)`` with a
variant and the proxy's own reason, never the proxy password.

Variants of ``proxy_failed``: ``invalid_url``, ``refused`` (the proxy itself
cannot be reached), ``auth_failed``, ``target_unreachable`` (the proxy cannot
or will not reach the mail server), ``timeout``, ``protocol`` (the other side
does not speak the proxy protocol named in the URL).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from app.core.diagnosis import DiagnosedError
from app.core.model import wait_for as _wait_for
from app.core.net.http_connect import http_connect, http_connect_sync
from app.core.net.proxy_config import ProxyConfig, ProxyUrlError, parse_proxy_url
from app.core.net.proxy_config import fail as _fail

log = logging.getLogger(__name__)

# SOCKS5 reply codes (RFC 1928) and SOCKS4 ones that mean "the proxy could not reach the target"
_SOCKS5_TARGET = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06}
_SOCKS5_REASON = {
    0x01: "the proxy reported a general failure",
    0x02: "the proxy's rules do not allow this connection",
    0x03: "the proxy reports the network is unreachable",
    0x04: "the proxy cannot reach the mail server (host unreachable)",
    0x05: "the mail server refused the proxy's connection",
    0x06: "the proxy's connection to the mail server timed out",
    0x07: "the proxy does not support the CONNECT command",
    0x08: "the proxy does not support this address type",
}


def _classify(exc: BaseException, cfg: ProxyConfig, target: str, timeout: float) -> DiagnosedError:
    from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError

    where = f"{cfg.host}:{cfg.port}"
    if isinstance(exc, (ProxyTimeoutError, asyncio.TimeoutError)):
        return _fail("timeout", cfg, f"no answer from the proxy {where} within {timeout:g} s", target)
    if isinstance(exc, ProxyConnectionError):
        cause = exc.__cause__
        if isinstance(cause, socket.gaierror):
            reason = f"the proxy name {cfg.host} cannot be resolved"
        elif exc.errno == errno.ECONNREFUSED or isinstance(cause, ConnectionRefusedError):
            reason = f"the proxy {where} refused the connection (nothing listens there)"
        else:
            reason = f"cannot connect to the proxy {where}: {getattr(cause, 'strerror', None) or exc}"
        return _fail("refused", cfg, reason, target)
    if isinstance(exc, ProxyError):
        code = getattr(exc, "error_code", None)
        msg = str(exc)
        low = msg.lower()
        if cfg.scheme == "http":
            if code == 407:
                why = "the proxy rejected the login" if cfg.username else "the proxy requires a login"
                return _fail("auth_failed", cfg, f"{why} (HTTP 407)", target)
            if code in (403, 405):
                return _fail(
                    "target_unreachable",
                    cfg,
                    f"the proxy does not allow a connection to {target} (HTTP {code})",
                    target,
                )
            if code is not None:
                return _fail(
                    "target_unreachable", cfg, f"the proxy could not connect to {target} (HTTP {code})", target
                )
            return _fail("protocol", cfg, f"the answer is not from an HTTP proxy: {msg}", target)
        if "authentication" in low and ("failure" in low or "no acceptable" in low):
            why = "the proxy rejected the login" if cfg.username else "the proxy requires a login"
            return _fail("auth_failed", cfg, why, target)
        if "no acceptable authentication" in low:
            return _fail("auth_failed", cfg, "the proxy requires a login", target)
        if cfg.scheme.startswith("socks5") and code is not None:
            reason = _SOCKS5_REASON.get(code, f"the proxy answered with error code {code:#04x}")
            variant = "target_unreachable" if code in _SOCKS5_TARGET else "protocol"
            return _fail(variant, cfg, f"{reason} ({target})", target)
        if cfg.scheme.startswith("socks4") and code is not None:
            if code in (0x5C, 0x5D):
                return _fail("auth_failed", cfg, "the proxy did not accept the user id", target)
            return _fail(
                "target_unreachable", cfg, f"the proxy rejected or could not make the connection to {target}", target
            )
        return _fail("protocol", cfg, f"the answer is not from a {cfg.scheme} proxy: {msg}", target)
    if isinstance(exc, OSError):
        return _fail("refused", cfg, f"connection to the proxy {where} failed: {exc.strerror or exc}", target)
    return _fail("protocol", cfg, f"the proxy conversation failed: {type(exc).__name__}", target)


async def open_via_proxy(proxy_url: str, host: str, port: int, timeout: float) -> socket.socket:
    """Connect to ``host:port`` through the proxy; return a connected non-blocking socket.

    Raises DiagnosedError(Code.PROXY_FAILED) on any proxy problem. Cancellation closes the socket.
    """
    from python_socks import ProxyType
    from python_socks.async_.asyncio import Proxy

    target = f"{host}:{port}"
    try:
        cfg = parse_proxy_url(proxy_url)
    except ProxyUrlError as exc:
        raise _fail("invalid_url", None, str(exc), target) from None
    log.debug("connecting to %s via proxy %s", target, cfg.redacted())
    if cfg.scheme == "http":
        connecting = http_connect(cfg, host, port)
    else:
        proxy = Proxy(
            ProxyType[cfg.proxy_type],
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=cfg.password,
            rdns=cfg.remote_dns,
        )
        connecting = proxy.connect(dest_host=host, dest_port=port, timeout=timeout)
    try:
        sock = await _wait_for(connecting, timeout)
    except asyncio.CancelledError:
        raise
    except DiagnosedError as err:
        log.debug("proxy %s failed: %s", cfg.redacted(), err.diagnosis.params.get("reason"))
        raise
    except Exception as exc:
        failure = _classify(exc, cfg, target, timeout)
        log.debug("proxy %s failed: %s", cfg.redacted(), failure.diagnosis.params.get("reason"))
        raise failure from None
    sock.setblocking(False)
    return sock


def connect_via_proxy_sync(proxy_url: str, host: str, port: int, timeout: float) -> socket.socket:
    """Blocking twin of ``open_via_proxy`` (for the stdlib second client); returns a blocking socket
    with ``timeout`` set. Raises DiagnosedError(Code.PROXY_FAILED) like the async version."""
    from python_socks import ProxyType
    from python_socks.sync import Proxy

    target = f"{host}:{port}"
    try:
        cfg = parse_proxy_url(proxy_url)
    except ProxyUrlError as exc:
        raise _fail("invalid_url", None, str(exc), target) from None
    if cfg.scheme == "http":
        sock = http_connect_sync(cfg, host, port, timeout)
        sock.settimeout(timeout)
        return sock
    proxy = Proxy(
        ProxyType[cfg.proxy_type], cfg.host, cfg.port, username=cfg.username, password=cfg.password, rdns=cfg.remote_dns
    )
    try:
        sock = proxy.connect(dest_host=host, dest_port=port, timeout=timeout)
    except Exception as exc:
        raise _classify(exc, cfg, target, timeout) from None
    sock.settimeout(timeout)
    return sock
