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
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from app.core.diagnosis import DiagnosedError, detection

log = logging.getLogger(__name__)

# scheme -> (python-socks proxy type name, resolve the target's name at the proxy)
_SCHEMES = {
    "socks4": ("SOCKS4", False),
    "socks4a": ("SOCKS4", True),
    "socks5": ("SOCKS5", False),
    "socks5h": ("SOCKS5", True),
    "http": ("HTTP", True),
}
_DEFAULT_PORTS = {"socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080, "http": 8080}

SUPPORTED_SCHEMES = tuple(_SCHEMES)


class ProxyUrlError(ValueError):
    """The proxy URL cannot be used; the message never contains the password."""


@dataclass(frozen=True)
class ProxyConfig:
    """A parsed proxy URL. ``repr``/``str`` hide the password."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def remote_dns(self) -> bool:
        """Whether the proxy (not this machine) resolves the mail server's name."""
        return _SCHEMES[self.scheme][1]

    @property
    def proxy_type(self) -> str:
        """python-socks ProxyType name: SOCKS4, SOCKS5 or HTTP."""
        return _SCHEMES[self.scheme][0]

    def redacted(self) -> str:
        """``scheme://user:***@host:port`` (or without credentials): safe for logs and messages."""
        cred = ""
        if self.username is not None or self.password is not None:
            cred = f"{self.username or ''}{':***' if self.password else ''}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{cred}{host}:{self.port}"

    def __str__(self) -> str:
        return self.redacted()


def parse_proxy_url(url: str) -> ProxyConfig:
    """Parse ``socks5://[user:pass@]host:port`` (also socks5h, socks4, socks4a, http).

    Raises ProxyUrlError (a ValueError) with a message that never contains the password.
    """
    text = (url or "").strip()
    if not text:
        raise ProxyUrlError("The proxy address is empty.")
    if "://" not in text:
        raise ProxyUrlError(
            "The proxy address needs a scheme, e.g. socks5://host:1080 or http://host:3128 "
            f"(supported: {', '.join(SUPPORTED_SCHEMES)})."
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ProxyUrlError("The proxy address is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        hint = " (a TLS connection to the proxy is not supported; use http://)" if scheme == "https" else ""
        raise ProxyUrlError(f"Unsupported proxy type '{scheme}'{hint}; use one of: {', '.join(SUPPORTED_SCHEMES)}.")
    host = parts.hostname or ""
    if not host:
        raise ProxyUrlError("The proxy address has no host name.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxyUrlError("The proxy address must be just scheme://[user:password@]host:port, without a path.")
    try:
        port = parts.port
    except ValueError:
        raise ProxyUrlError("The proxy port must be a whole number from 1 to 65535.") from None
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise ProxyUrlError("The proxy port must be a whole number from 1 to 65535.")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if scheme == "http" and username and ":" in username:
        raise ProxyUrlError("An HTTP proxy login must not contain ':'.")
    if scheme.startswith("socks5") and (len((username or "").encode()) > 255 or len((password or "").encode()) > 255):
        raise ProxyUrlError("A SOCKS5 login and password can be at most 255 bytes each.")
    return ProxyConfig(scheme=scheme, host=host, port=port, username=username or None, password=password or None)


def _scrub(text: str, cfg: ProxyConfig | None) -> str:
    if cfg is not None and cfg.password:
        text = text.replace(cfg.password, "***")
    return text


def _fail(variant: str, cfg: ProxyConfig | None, reason: str, target: str = "") -> DiagnosedError:
    reason = _scrub(reason, cfg)
    return DiagnosedError(
        detection.proxy_failed(
            variant, reason, cfg.redacted() if cfg else "", cfg.host if cfg else "", cfg.port if cfg else 0, target
        )
    )


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


# --------------------------------------------------------------------------- HTTP CONNECT
# Done here rather than by python-socks: its HTTP connector reads the proxy's answer with one
# recv() and drops whatever came with it. SMTP servers speak first, so the greeting often
# arrives right behind "200 Connection established" and would be lost. We read the header
# byte by byte and leave everything after it in the socket for the SMTP client.
_MAX_HEADER = 16384


def _connect_request(cfg: ProxyConfig, host: str, port: int) -> bytes:
    import base64

    where = f"[{host}]" if ":" in host else host
    lines = [f"CONNECT {where}:{port} HTTP/1.1", f"Host: {where}:{port}", "User-Agent: MailSetup"]
    if cfg.username is not None or cfg.password is not None:
        token = base64.b64encode(f"{cfg.username or ''}:{cfg.password or ''}".encode()).decode("ascii")
        lines.append(f"Proxy-Authorization: Basic {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _check_connect_reply(header: bytes, cfg: ProxyConfig, target: str) -> None:
    """Raise DiagnosedError unless ``header`` is a 2xx answer to CONNECT."""
    status_line = header.split(b"\r\n", 1)[0].decode("latin-1").strip()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        shown = status_line[:80] or "(nothing)"
        raise _fail("protocol", cfg, f"the answer is not from an HTTP proxy: {shown!r}", target)
    code = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    if 200 <= code < 300:
        return
    if code == 407:
        why = "the proxy rejected the login" if cfg.username else "the proxy requires a login"
        raise _fail("auth_failed", cfg, f"{why} (HTTP 407)", target)
    if code in (403, 405):
        raise _fail(
            "target_unreachable",
            cfg,
            f"the proxy does not allow a connection to {target} (HTTP {code} {reason})".rstrip(),
            target,
        )
    raise _fail(
        "target_unreachable", cfg, f"the proxy could not connect to {target} (HTTP {code} {reason})".rstrip(), target
    )


def _header_done(buf: bytearray, cfg: ProxyConfig, target: str) -> bool:
    if buf.endswith(b"\r\n\r\n") or buf.endswith(b"\n\n"):
        return True
    if len(buf) > _MAX_HEADER:
        raise _fail("protocol", cfg, "the proxy's answer header is too long", target)
    return False


def _proxy_unreachable(exc: OSError, cfg: ProxyConfig, target: str) -> DiagnosedError:
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(exc, socket.gaierror):
        return _fail("refused", cfg, f"the proxy name {cfg.host} cannot be resolved", target)
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return _fail("refused", cfg, f"the proxy {where} refused the connection (nothing listens there)", target)
    return _fail("refused", cfg, f"cannot connect to the proxy {where}: {exc.strerror or exc}", target)


async def _http_connect(cfg: ProxyConfig, host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    target = f"{host}:{port}"
    try:
        infos = await loop.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _proxy_unreachable(exc, cfg, target) from None
    last: OSError | None = None
    sock: socket.socket | None = None
    for family, type_, proto, _canon, addr in infos:
        candidate = socket.socket(family, type_, proto)
        candidate.setblocking(False)
        try:
            await loop.sock_connect(candidate, addr)
        except OSError as exc:
            candidate.close()
            last = exc
            continue
        except BaseException:
            candidate.close()
            raise
        sock = candidate
        break
    if sock is None:
        raise _proxy_unreachable(last or OSError("no address"), cfg, target) from None
    try:
        await loop.sock_sendall(sock, _connect_request(cfg, host, port))
        header = bytearray()
        while not _header_done(header, cfg, target):
            byte = await loop.sock_recv(sock, 1)
            if not byte:
                if not header:
                    raise _fail("protocol", cfg, "the proxy closed the connection without an answer", target)
                break
            header += byte
        _check_connect_reply(bytes(header), cfg, target)
    except BaseException:
        sock.close()
        raise
    return sock


def _http_connect_sync(cfg: ProxyConfig, host: str, port: int, timeout: float) -> socket.socket:
    target = f"{host}:{port}"
    try:
        sock = socket.create_connection((cfg.host, cfg.port), timeout=timeout)
    except TimeoutError:
        raise _fail(
            "timeout", cfg, f"no answer from the proxy {cfg.host}:{cfg.port} within {timeout:g} s", target
        ) from None
    except OSError as exc:
        raise _proxy_unreachable(exc, cfg, target) from None
    try:
        sock.sendall(_connect_request(cfg, host, port))
        header = bytearray()
        while not _header_done(header, cfg, target):
            byte = sock.recv(1)
            if not byte:
                if not header:
                    raise _fail("protocol", cfg, "the proxy closed the connection without an answer", target)
                break
            header += byte
        _check_connect_reply(bytes(header), cfg, target)
    except TimeoutError:
        sock.close()
        raise _fail(
            "timeout", cfg, f"no answer from the proxy {cfg.host}:{cfg.port} within {timeout:g} s", target
        ) from None
    except OSError as exc:
        sock.close()
        raise _fail("refused", cfg, f"the connection to the proxy failed: {exc.strerror or exc}", target) from None
    except BaseException:
        sock.close()
        raise
    return sock


# --------------------------------------------------------------------------- entry points
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
        connecting = _http_connect(cfg, host, port)
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
        sock = await asyncio.wait_for(connecting, timeout)
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
        sock = _http_connect_sync(cfg, host, port, timeout)
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
