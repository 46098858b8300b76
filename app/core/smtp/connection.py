"""A small asyncio SMTP transport: reply reading with limits, commands, STARTTLS upgrade, transcript.

Built on ``loop.create_connection`` + ``loop.start_tls`` (works on Python 3.10, where
``StreamWriter.start_tls`` does not exist) so the check controls every wait: the caller passes a
timeout to each read, and line-length / line-count limits turn a misbehaving server into a
``SmtpProtocolError`` instead of a hang or unbounded memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import Callable

from app.core.diagnosis import Code, DiagnosedError, diagnose
from app.core.model import Reply, TranscriptLine, describe_char
from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

MAX_LINE = 2048  # bytes per reply line, CRLF included (RFC 5321 says 512; we are lenient)
MAX_REPLY_LINES = 200  # lines per multi-line reply
MASK = "****"
DATA_CHUNK = 64 * 1024  # bytes written per flow-controlled step of DATA

_LINE_RE = re.compile(rb"^([2-5][0-9][0-9])([ -]|$)(.*)$", re.S)


class SmtpProtocolError(Exception):
    """The peer broke the protocol: not SMTP, an over-long line or reply, or a closed connection.

    ``kind`` is one of "garbage", "line_too_long", "too_many_lines", "closed".
    """

    def __init__(self, kind: str, detail: str = "", received: bool = False, reply: str | None = None):
        self.kind = kind
        self.detail = detail
        self.reply = reply  # the offending text, when it is worth showing
        self.received = received  # whether any byte of the current reply had arrived
        super().__init__(f"{kind}: {detail}" if detail else kind)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.received = 0
        self.closed = False
        self.error: BaseException | None = None
        self.transport: asyncio.BaseTransport | None = None
        self._waiter: asyncio.Future | None = None
        self._writable: asyncio.Future | None = None  # set while the transport's write buffer is full

    # flow control: the transport calls these when its buffer passes the high / low water mark
    def pause_writing(self) -> None:
        if self._writable is None or self._writable.done():
            self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    async def drain(self) -> None:
        """Return when the transport takes more data (at once unless it paused writing)."""
        if self._writable is not None and not self._writable.done():
            await self._writable
        if self.closed:
            raise SmtpProtocolError("closed", "the server closed the connection during the upload")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.received += len(data)
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        self.resume_writing()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class SmtpConnection:
    """An open SMTP connection; every read takes an explicit timeout handled by the caller."""

    def __init__(
        self, transport: asyncio.Transport, protocol: _Protocol, on_transcript: Callable[[TranscriptLine], None]
    ):
        self._transport = transport
        self._raw_transport = transport
        self._proto = protocol
        self._emit = on_transcript
        self.tls = False
        self.peer: tuple | None = transport.get_extra_info("peername")
        self.local: tuple | None = transport.get_extra_info("sockname")

    @classmethod
    async def from_socket(cls, sock: socket.socket, on_transcript: Callable[[TranscriptLine], None]) -> SmtpConnection:
        """Wrap a connected socket (from our own connect or from a proxy)."""
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        transport, proto = await loop.create_connection(_Protocol, sock=sock)
        return cls(transport, proto, on_transcript)

    # -- TLS -------------------------------------------------------------------------------
    async def start_tls(self, context: ssl.SSLContext, server_hostname: str | None, timeout: float) -> bytes:
        """Upgrade to TLS (implicit TLS right after connect, or after a 220 to STARTTLS).

        Returns the plaintext bytes that were buffered (and discarded) before the handshake.
        """
        discarded = bytes(self._proto.buffer)
        if self._proto.buffer:
            # RFC 3207: anything the server sent before the handshake must be discarded; a
            # plaintext server that already greeted us is a mode mismatch the handshake will show.
            log.debug("discarding %d plaintext bytes before TLS", len(self._proto.buffer))
            self._proto.buffer.clear()
        loop = asyncio.get_running_loop()
        new = await loop.start_tls(
            self._transport,
            self._proto,
            context,
            server_hostname=server_hostname,
            ssl_handshake_timeout=max(timeout, 0.01),
        )
        if new is None:  # pragma: no cover - only when the transport is closing
            raise SmtpProtocolError("closed", "the connection closed during the TLS handshake")
        self._transport = new
        self.tls = True
        return discarded

    @property
    def ssl_object(self) -> ssl.SSLObject | None:
        return self._transport.get_extra_info("ssl_object") if self.tls else None

    @property
    def bytes_received(self) -> int:
        """Bytes received on this connection so far (decrypted bytes after TLS)."""
        return self._proto.received

    def peek(self, n: int = 16) -> bytes:
        """The first ``n`` buffered, not yet read bytes."""
        return bytes(self._proto.buffer[:n])

    @property
    def pending_bytes(self) -> int:
        return len(self._proto.buffer)

    # -- reading ---------------------------------------------------------------------------
    async def _read_line(self, got_any: bool) -> bytes:
        proto = self._proto
        while True:
            idx = proto.buffer.find(b"\n")
            if idx >= 0:
                if idx + 1 > MAX_LINE:
                    raise SmtpProtocolError("line_too_long", f"a reply line longer than {MAX_LINE} bytes", True)
                line = bytes(proto.buffer[: idx + 1])
                del proto.buffer[: idx + 1]
                return line
            if len(proto.buffer) > MAX_LINE:
                raise SmtpProtocolError("line_too_long", f"a reply line longer than {MAX_LINE} bytes", True)
            if proto.closed:
                raise SmtpProtocolError("closed", "the server closed the connection", got_any or bool(proto.buffer))
            await proto.wait()

    async def read_reply(self) -> Reply:
        """Read one (possibly multi-line) reply. No timeout here: wrap it in one."""
        code = None
        lines: list[str] = []
        while True:
            raw = await self._read_line(bool(lines))
            line = raw.rstrip(b"\r\n")
            m = _LINE_RE.match(line)
            if not m or (code is not None and int(m.group(1)) != code):
                shown = line[:80].decode("utf-8", "replace")
                self._emit(TranscriptLine("S", shown))
                raise SmtpProtocolError("garbage", f"not an SMTP reply: {shown!r}", True, reply=shown)
            code = int(m.group(1))
            text = m.group(3).decode("utf-8", "replace")
            lines.append(text)
            self._emit(TranscriptLine("S", line.decode("utf-8", "replace")))
            if len(lines) > MAX_REPLY_LINES:
                raise SmtpProtocolError("too_many_lines", f"a reply with more than {MAX_REPLY_LINES} lines", True)
            if m.group(2) != b"-":
                return Reply(code, tuple(lines))

    async def read_line(self) -> bytes:
        """One raw line (CRLF included) under the same length limit: for the line protocols that are not
        SMTP (IMAP, POP3 in app.core.incoming), which parse their own replies. No timeout here: wrap it in one."""
        return await self._read_line(False)

    async def read_exact(self, n: int) -> bytes:
        """Exactly ``n`` bytes (an IMAP literal); the caller bounds ``n`` and the time."""
        proto = self._proto
        while len(proto.buffer) < n:
            if proto.closed:
                raise SmtpProtocolError("closed", "the server closed the connection", True)
            await proto.wait()
        data = bytes(proto.buffer[:n])
        del proto.buffer[:n]
        return data

    def send_raw(self, payload: bytes, *, shown: str) -> None:
        """Send one short line of bytes as they are (an IMAP literal, a POP3 PASS with a UTF-8 password) ending
        in CRLF; the transcript shows ``shown``. No CR, LF or NUL may hide inside it."""
        body = payload[:-2] if payload.endswith(b"\r\n") else payload
        if any(c in body for c in (b"\r", b"\n", b"\0")):
            raise DiagnosedError(
                diagnose(Code.INVALID_INPUT, "", field="command", message="a line break or NUL inside a command")
            )
        if self._proto.closed:
            raise SmtpProtocolError("closed", "the server closed the connection")
        self._emit(TranscriptLine("C", shown))
        self._transport.write(payload)

    def has_partial_reply(self) -> bool:
        """Whether some bytes of a reply are buffered (a server that started answering)."""
        return bool(self._proto.buffer)

    # -- writing ---------------------------------------------------------------------------
    def send_line(self, line: str, *, shown: str | None = None) -> None:
        """Send ``line`` + CRLF; the transcript shows ``shown`` instead when given (secrets)."""
        bad = next((c for c in line if ord(c) < 0x20 or ord(c) == 0x7F), None)
        if bad is not None:
            # Command injection guard (as aiosmtplib does): no argument may smuggle a control
            # character, not only CR/LF, whatever checked (or forgot to check) it before.
            raise DiagnosedError(
                diagnose(
                    Code.INVALID_INPUT,
                    "",
                    field="command",
                    message=f"an SMTP command must not contain {describe_char(bad)}",
                )
            )
        if self._proto.closed:
            raise SmtpProtocolError("closed", "the server closed the connection")
        self._emit(TranscriptLine("C", line if shown is None else shown))
        self._transport.write(line.encode("utf-8") + b"\r\n")

    async def send_data(self, payload: bytes, *, summary: str, stall_timeout: float, chunk: int = DATA_CHUNK) -> None:
        """Send raw bytes (the DATA body) with flow control; the transcript gets one summary line.

        The payload goes out in chunks, each written only when the transport has room (asyncio's
        pause_writing / resume_writing), so a large message on a slow link never sits in memory
        twice and the time it takes is known. A peer that takes nothing for ``stall_timeout``
        seconds is an ``upload_stalled`` protocol error, not a reply timeout.
        """
        if self._proto.closed:
            raise SmtpProtocolError("closed", "the server closed the connection")
        self._emit(TranscriptLine("C", summary))
        view = memoryview(payload)
        for start in range(0, len(view), chunk):
            try:
                await _wait_for(self._proto.drain(), max(stall_timeout, 0.01))
            except asyncio.TimeoutError:
                raise SmtpProtocolError(
                    "upload_stalled", f"the server took no data for {stall_timeout:.3g} s after {start} bytes"
                ) from None
            self._transport.write(view[start : start + chunk])
        try:
            await _wait_for(self._proto.drain(), max(stall_timeout, 0.01))
        except asyncio.TimeoutError:
            raise SmtpProtocolError(
                "upload_stalled", f"the server took no data for {stall_timeout:.3g} s at the end of the message"
            ) from None

    async def command(self, line: str, *, shown: str | None = None) -> Reply:
        """Send a command and read its reply (wrap in a timeout)."""
        self.send_line(line, shown=shown)
        return await self.read_reply()

    # -- closing ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close at once (abort): used after failures, on cancellation and after QUIT."""
        for t in (self._transport, self._raw_transport):
            try:
                t.abort()
            except Exception:  # pragma: no cover - already closed
                pass

    @property
    def is_closed(self) -> bool:
        return self._proto.closed
