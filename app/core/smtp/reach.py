"""Reaching the server: resolve, connect (Happy Eyeballs over every address, or through the proxy), and the
greeting, with the mode-mismatch probe (a TLS handshake on the same port when the greeting does not come).

``ReachStages`` is a mixin of ``SmtpSession`` (session.py); the IMAP/POP3 sessions reuse it unchanged.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.core import net
from app.core.diagnosis import DiagnosedError, Diagnosis, stages
from app.core.diagnosis import classify as rc
from app.core.diagnosis import mismatch as modes
from app.core.model import QT_TRANSLATE_NOOP, LogLevel, Security, SmtpSettings, Text, TranscriptLine, log_text
from app.core.smtp import mismatch
from app.core.smtp.connection import SmtpConnection

T = TypeVar("T")


class ReachStages:
    """Resolve, connect and greeting of SmtpSession (what it uses of the session is declared for the type checker)."""

    settings: SmtpSettings
    conn: SmtpConnection | None
    addresses: list[tuple]
    address_used: tuple | None
    greeting_from: float
    loop: asyncio.AbstractEventLoop

    if TYPE_CHECKING:

        def info(self, text: Text, level: LogLevel = LogLevel.INFO) -> None: ...
        def remaining(self) -> float: ...
        def _transcript(self, line: TranscriptLine) -> None: ...
        async def timed(self, aw: Awaitable[T], timeout: float, on_timeout: Callable[[float], Diagnosis]) -> T: ...

    async def _resolve(self) -> str:
        s = self.settings
        host = s.host.strip("[]")
        try:
            infos = await self.timed(
                net.getaddrinfo(host, s.port),  # a daemon thread: a hung resolver never holds the process
                s.timeouts.connect,
                lambda secs: stages.dns_timeout(s, secs),
            )
        except socket.gaierror as exc:
            raise DiagnosedError(rc.dns_failed(s, exc)) from None
        seen = set()
        for family, type_, proto, _canon, sockaddr in infos:
            key = (family, sockaddr[0])
            if key not in seen:
                seen.add(key)
                self.addresses.append((family, type_, proto, sockaddr))
        if not self.addresses:
            raise DiagnosedError(stages.no_addresses(s))
        shown = ", ".join(a[3][0] for a in self.addresses)
        self.info(
            log_text(QT_TRANSLATE_NOOP("Log", "{host} resolves to {addresses}."), host=s.host, addresses=shown),
            LogLevel.DETAIL,
        )
        return shown

    async def _connect(self) -> str:
        s = self.settings
        if s.proxy:
            from app.core.net import open_via_proxy

            timeout = min(s.timeouts.connect, self.remaining())
            sock = await self.timed(
                open_via_proxy(s.proxy, s.host, s.port, timeout),
                s.timeouts.connect,
                lambda secs: stages.proxy_timeout(s, secs, _redacted_proxy(s.proxy)),
            )
            self.conn = await SmtpConnection.from_socket(sock, self._transcript)
            self.info(
                log_text(
                    QT_TRANSLATE_NOOP("Log", "Connected to {host}:{port} through the proxy."), host=s.host, port=s.port
                ),
                LogLevel.DETAIL,
            )
            return f"{s.host}:{s.port} via proxy"
        sock, address = await self._connect_direct(quiet=False)
        self.conn = await SmtpConnection.from_socket(sock, self._transcript)
        return address

    async def _connect_direct(self, quiet: bool) -> tuple[socket.socket, str]:
        """Happy Eyeballs over the resolved addresses (``quiet``: a probe, to the address already used)."""
        s = self.settings
        addresses = [self.address_used] if quiet and self.address_used else self.addresses
        limit = min(s.timeouts.connect, self.remaining())
        if limit <= 0:
            raise DiagnosedError(rc.connect_timeout(s, s.host, 0.0))
        try:
            sock, address, attempts = await net.race(addresses, limit)
        except net.ConnectFailed as failed:
            if not quiet:
                for a in failed.attempts:
                    why: Any = getattr(a.error, "strerror", None) or a.error
                    if a.error == "timeout":
                        why = log_text(QT_TRANSLATE_NOOP("Log", "no answer"))
                    self.info(
                        log_text(
                            QT_TRANSLATE_NOOP("Log", "Connecting to {address} failed: {reason}."),
                            address=a.address,
                            reason=why,
                        ),
                        LogLevel.DETAIL,
                    )
            raise DiagnosedError(rc.connect_failure(s, failed.attempts, limit)) from None
        self.address_used = address
        shown = net.show(address[3])
        if not quiet:
            for a in attempts:
                if a.error is not None:
                    self.info(
                        log_text(
                            QT_TRANSLATE_NOOP("Log", "{address} did not answer first ({error}); another address did."),
                            address=a.address,
                            error=a.error,
                        ),
                        LogLevel.DETAIL,
                    )
            self.info(log_text(QT_TRANSLATE_NOOP("Log", "Connected to {address}."), address=shown), LogLevel.DETAIL)
        return sock, shown

    # greeting / EHLO ----------------------------------------------------------------------------
    async def _greeting(self) -> str:
        s = self.settings
        conn = self.conn
        assert conn is not None
        before = conn.bytes_received
        self.greeting_from = time.monotonic()
        probe_failed = False

        def on_timeout(secs: float) -> Diagnosis:
            started = conn.bytes_received > before
            if probe_failed and not started:
                return modes.silent_server(s, s.timeouts.greeting)
            return rc.greeting_timeout(s, secs, started=started)

        read = asyncio.ensure_future(conn.read_reply())
        try:
            if s.security is not Security.SSL:
                probe_failed = await self._mismatch_probe(read, before)
            reply = await self.timed(read, s.timeouts.greeting - self._greeting_waited(), on_timeout)
        finally:
            read.cancel()
        if reply.code != 220:
            raise DiagnosedError(rc.greeting_refused(s, reply))
        return reply.message[:120]

    def _greeting_waited(self) -> float:
        """Seconds since the greeting wait began."""
        return time.monotonic() - self.greeting_from

    async def _mismatch_probe(self, read: asyncio.Future, before: int) -> bool:
        """Silence after a short grace: race a TLS handshake on the same port against the greeting.

        Raises DiagnosedError(implicit_tls) when the handshake completes first; returns True when it
        failed (the server is silent, not TLS), False when the greeting (or its first byte) came first.
        """
        s = self.settings
        conn = self.conn
        assert conn is not None
        grace = min(mismatch.grace_for(s.timeouts.greeting), self.remaining())
        await asyncio.wait({read}, timeout=max(grace - self._greeting_waited(), 0))
        if read.done() or conn.bytes_received > before:
            return False
        left = min(s.timeouts.greeting - self._greeting_waited(), self.remaining())
        self.info(
            log_text(QT_TRANSLATE_NOOP("Log", "No greeting yet: checking whether the port expects SSL/TLS.")),
            LogLevel.DETAIL,
        )
        # the probe ends a little before the greeting wait, so a silent non-TLS port is named as such
        probe = asyncio.ensure_future(mismatch.speaks_tls(self._fresh_socket, s.host.strip("[]"), left * 0.9))
        try:
            await asyncio.wait({read, probe}, timeout=max(left, 0), return_when=asyncio.FIRST_COMPLETED)
            if not read.done() and conn.bytes_received == before and probe.done() and probe.result():
                raise DiagnosedError(modes.implicit_tls_port(s, self._greeting_waited()))
            return probe.done() and not probe.result()
        finally:
            probe.cancel()

    async def _fresh_socket(self) -> socket.socket:
        """A second connection to the address (or through the proxy) the session uses."""
        s = self.settings
        limit = max(min(s.timeouts.connect, self.remaining()), 0.01)
        if s.proxy:
            from app.core.net import open_via_proxy

            return await open_via_proxy(s.proxy, s.host, s.port, limit)
        sock, _ = await self._connect_direct(quiet=True)
        return sock


def _redacted_proxy(url: str | None) -> str:
    try:
        from app.core.net import parse_proxy_url

        return parse_proxy_url(url or "").redacted()
    except Exception:  # never show a URL that may hold a password
        return "(proxy)"
