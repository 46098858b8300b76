"""HTTP CONNECT through a proxy.

Done here rather than by python-socks: its HTTP connector reads the proxy's answer with one recv() and drops
whatever came with it. SMTP servers speak first, so the greeting often arrives right behind "200 Connection
established" and would be lost. We read the header byte by byte and leave everything after it in the socket
for the SMTP client.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

from app.core.diagnosis import DiagnosedError
from app.core.net.proxy_config import ProxyConfig, fail

log = logging.getLogger(__name__)

_MAX_HEADER = 16384  # bytes of a proxy's CONNECT answer header


def connect_request(cfg: ProxyConfig, host: str, port: int) -> bytes:
    import base64

    where = f"[{host}]" if ":" in host else host
    lines = [f"CONNECT {where}:{port} HTTP/1.1", f"Host: {where}:{port}", "User-Agent: MailSetup"]
    if cfg.username is not None or cfg.password is not None:
        token = base64.b64encode(f"{cfg.username or ''}:{cfg.password or ''}".encode()).decode("ascii")
        lines.append(f"Proxy-Authorization: Basic {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def check_connect_reply(header: bytes, cfg: ProxyConfig, target: str) -> None:
    """Raise DiagnosedError unless ``header`` is a 2xx answer to CONNECT."""
    status_line = header.split(b"\r\n", 1)[0].decode("latin-1").strip()
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        shown = status_line[:80] or "(nothing)"
        raise fail("protocol", cfg, f"the answer is not from an HTTP proxy: {shown!r}", target)
    code = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    if 200 <= code < 300:
        return
    if code == 407:
        why = "the proxy rejected the login" if cfg.username else "the proxy requires a login"
        raise fail("auth_failed", cfg, f"{why} (HTTP 407)", target)
    if code in (403, 405):
        raise fail(
            "target_unreachable",
            cfg,
            f"the proxy does not allow a connection to {target} (HTTP {code} {reason})".rstrip(),
            target,
        )
    raise fail(
        "target_unreachable", cfg, f"the proxy could not connect to {target} (HTTP {code} {reason})".rstrip(), target
    )


def header_done(buf: bytearray, cfg: ProxyConfig, target: str) -> bool:
    if buf.endswith(b"\r\n\r\n") or buf.endswith(b"\n\n"):
        return True
    if len(buf) > _MAX_HEADER:
        raise fail("protocol", cfg, "the proxy's answer header is too long", target)
    return False


def proxy_unreachable(exc: OSError, cfg: ProxyConfig, target: str) -> DiagnosedError:
    where = f"{cfg.host}:{cfg.port}"
    if isinstance(exc, socket.gaierror):
        return fail("refused", cfg, f"the proxy name {cfg.host} cannot be resolved", target)
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return fail("refused", cfg, f"the proxy {where} refused the connection (nothing listens there)", target)
    return fail("refused", cfg, f"cannot connect to the proxy {where}: {exc.strerror or exc}", target)


async def http_connect(cfg: ProxyConfig, host: str, port: int) -> socket.socket:
    loop = asyncio.get_running_loop()
    target = f"{host}:{port}"
    try:
        infos = await loop.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise proxy_unreachable(exc, cfg, target) from None
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
        raise proxy_unreachable(last or OSError("no address"), cfg, target) from None
    try:
        await loop.sock_sendall(sock, connect_request(cfg, host, port))
        header = bytearray()
        while not header_done(header, cfg, target):
            byte = await loop.sock_recv(sock, 1)
            if not byte:
                if not header:
                    raise fail("protocol", cfg, "the proxy closed the connection without an answer", target)
                break
            header += byte
        check_connect_reply(bytes(header), cfg, target)
    except BaseException:
        sock.close()
        raise
    return sock


def http_connect_sync(cfg: ProxyConfig, host: str, port: int, timeout: float) -> socket.socket:
    target = f"{host}:{port}"
    try:
        sock = socket.create_connection((cfg.host, cfg.port), timeout=timeout)
    except TimeoutError:
        raise fail(
            "timeout", cfg, f"no answer from the proxy {cfg.host}:{cfg.port} within {timeout:g} s", target
        ) from None
    except OSError as exc:
        raise proxy_unreachable(exc, cfg, target) from None
    try:
        sock.sendall(connect_request(cfg, host, port))
        header = bytearray()
        while not header_done(header, cfg, target):
            byte = sock.recv(1)
            if not byte:
                if not header:
                    raise fail("protocol", cfg, "the proxy closed the connection without an answer", target)
                break
            header += byte
        check_connect_reply(bytes(header), cfg, target)
    except TimeoutError:
        sock.close()
        raise fail(
            "timeout", cfg, f"no answer from the proxy {cfg.host}:{cfg.port} within {timeout:g} s", target
        ) from None
    except OSError as exc:
        sock.close()
        raise fail("refused", cfg, f"the connection to the proxy failed: {exc.strerror or exc}", target) from None
    except BaseException:
        sock.close()
        raise
    return sock


# --------------------------------------------------------------------------- entry points
