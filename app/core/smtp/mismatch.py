"""Telling a mode mismatch from a silent server, at once.

A plaintext or STARTTLS client on an implicit-TLS port hears nothing: the server waits for a
ClientHello while the client waits for a greeting. Waiting out the greeting timeout and then
guessing ("probably SSL/TLS") is slow and sometimes wrong. Instead, when no byte has arrived
after a short grace, ``speaks_tls`` tries a TLS handshake on a *second* connection to the same
address and port, while the first keeps waiting for the greeting. A completed handshake proves
the port speaks implicit TLS; a failed one means the server is just silent.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable

from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

GREETING_GRACE = 0.3  # seconds of silence before the TLS probe starts (a healthy server greets in milliseconds)


def grace_for(greeting_timeout: float) -> float:
    """The silence after which the probe starts: 0.3 s, or a third of a short greeting timeout."""
    return min(GREETING_GRACE, greeting_timeout / 3)


def _probe_context() -> ssl.SSLContext:
    # any certificate: the question is only "does this port speak TLS"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def speaks_tls(open_socket: Callable[[], Awaitable[socket.socket]], server_name: str, timeout: float) -> bool:
    """True when a TLS handshake completes on a fresh connection within ``timeout`` seconds; never raises."""
    loop = asyncio.get_running_loop()
    transport = None

    async def attempt() -> None:
        nonlocal transport
        sock = await open_socket()
        try:
            transport, _ = await loop.create_connection(
                asyncio.Protocol,
                sock=sock,
                ssl=_probe_context(),
                server_hostname=server_name or None,
                ssl_handshake_timeout=max(timeout, 0.01),
            )
        except BaseException:
            sock.close()
            raise

    try:
        await _wait_for(attempt(), max(timeout, 0.01))
        return True
    except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError) as exc:
        log.debug("TLS probe failed: %s", exc)
        return False
    except Exception as exc:  # a proxy failure (DiagnosedError) or anything else: no proof of TLS
        log.debug("TLS probe failed: %r", exc)
        return False
    finally:
        if transport is not None:
            transport.abort()


__all__ = ["GREETING_GRACE", "grace_for", "speaks_tls"]
