"""Large messages: DATA is written with flow control and the deadline moves on by the upload, so a big
attachment on a slow link is not a reply timeout; a server that stops reading is an upload stall."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from app.core.diagnosis import Code
from app.core.model import Security, SmtpSettings, Timeouts
from app.core.smtp import MessageSpec, build_message, send_message, send_spec

SIZE = 8 * 1024 * 1024  # more than the kernel buffers of a loopback connection hold


class ThrottledServer:
    """A real SMTP socket server that reads DATA slowly (``rate`` bytes/s) or stops after ``stop_after`` bytes."""

    def __init__(self, *, rate: float | None = None, stop_after: int | None = None):
        self.rate, self.stop_after = rate, stop_after
        self.received = 0
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            f = conn.makefile("rb")
            conn.sendall(b"220 throttled ESMTP\r\n")
            try:
                self._session(conn, f)
            except OSError:
                pass
            finally:
                self.done.set()

    def _session(self, conn: socket.socket, f) -> None:
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line[:4].upper()
            if cmd == b"EHLO":
                conn.sendall(b"250-throttled\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                if self._read_data(f):
                    conn.sendall(b"250 2.0.0 Ok: queued as BIG1\r\n")
                else:
                    return
            elif cmd == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")

    def _read_data(self, f) -> bool:
        tail = b""
        started = time.monotonic()
        while True:
            if self.stop_after is not None and self.received >= self.stop_after:
                self.done.wait(10)  # read nothing more until the test ends
                return False
            chunk = f.read1(64 * 1024)
            if not chunk:
                return False
            self.received += len(chunk)
            tail = (tail + chunk)[-5:]
            if tail == b"\r\n.\r\n":
                return True
            if self.rate:
                ahead = self.received / self.rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)

    def close(self) -> None:
        self.done.set()
        self.sock.close()
        self.thread.join(10)


@pytest.fixture
def big_message(tmp_path):
    att = tmp_path / "big.bin"
    att.write_bytes(b"\x5a" * SIZE)
    spec = MessageSpec(from_addr="s@example.com", to="r@example.com", subject="big", text="x", attachments=[str(att)])
    return spec


def _settings(port: int, *, command: float, total: float) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        security=Security.NONE,
        timeouts=Timeouts(connect=2.0, greeting=2.0, command=command, total=total),
    )


async def test_a_large_message_on_a_slow_link_is_delivered_past_the_overall_deadline(big_message):
    # ~11 MB on the wire at 6 MB/s: about 1.8 s of upload, more than the overall deadline of 1 s
    server = ThrottledServer(rate=6 * 1024 * 1024)
    try:
        t0 = time.monotonic()
        result = await send_spec(_settings(server.port, command=1.5, total=1.0), None, big_message)
        elapsed = time.monotonic() - t0
    finally:
        server.close()
    assert result.ok, result.diagnosis
    assert result.queue_id == "BIG1"
    assert server.received > SIZE
    assert elapsed > 1.0  # the upload really outlasted the deadline it was given


async def test_a_server_that_stops_reading_is_an_upload_stall_not_a_reply_timeout(big_message):
    server = ThrottledServer(stop_after=1024 * 1024)
    try:
        t0 = time.monotonic()
        result = await send_message(_settings(server.port, command=0.5, total=10.0), None, build_message(big_message))
        elapsed = time.monotonic() - t0
    finally:
        server.close()
    assert not result.ok
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.PROTOCOL_ERROR, "upload_stalled")
    assert "the server took no data for 0.5 s after" in result.diagnosis.params["detail"]
    assert elapsed < 8  # bounded by the stall, far inside the 10 s deadline


async def test_an_unusable_spec_is_an_invalid_input_result_naming_the_field(tmp_path):
    spec = MessageSpec(from_addr="s@example.com", to="r@example.com", attachments=[str(tmp_path / "missing")])
    result = await send_spec(_settings(1, command=1, total=1), None, spec)
    assert not result.ok
    assert result.diagnosis.code is Code.INVALID_INPUT
    assert (result.diagnosis.params["field"], result.diagnosis.params["message"]) == (
        "attachments",
        f"no such file: {tmp_path / 'missing'}",
    )
