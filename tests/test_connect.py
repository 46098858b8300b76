"""Happy Eyeballs (RFC 8305): a dead first address costs the 250 ms stagger, not the connect timeout."""

from __future__ import annotations

import asyncio
import socket

import pytest

from app.core.net import ConnectFailed, interleave, race


def _addr(sock: socket.socket):
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, sock.getsockname())


@pytest.fixture
def black_hole():
    """A loopback address whose SYNs go unanswered: a listener with a full backlog (nobody accepts)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue; later SYNs are dropped
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(s)
    yield listener
    for s in fillers:
        s.close()
    listener.close()


def test_interleave_alternates_families():
    v6 = [(socket.AF_INET6, 1, 6, (f"::{i}", 25, 0, 0)) for i in (1, 2)]
    v4 = [(socket.AF_INET, 1, 6, (f"192.0.2.{i}", 25)) for i in (1, 2, 3)]
    got = [a[3][0] for a in interleave(v6 + v4)]
    assert got == ["::1", "192.0.2.1", "::2", "192.0.2.2", "192.0.2.3"]


async def test_dead_first_address_costs_the_stagger_not_the_timeout(black_hole):
    live = socket.socket()
    live.bind(("127.0.0.1", 0))
    live.listen(8)
    where = live.getsockname()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        sock, addr, attempts = await race([_addr(black_hole), _addr(live)], timeout=5.0)
        took = loop.time() - t0
        sock.close()
    finally:
        live.close()
    assert addr[3] == where
    assert took < 2.5  # generous; the first address alone would have taken the whole 5 s
    assert [a.error for a in attempts][-1] is None
    assert attempts[0].error == "timeout"


async def test_every_failure_is_kept():
    a, b = socket.socket(), socket.socket()
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    addrs = [_addr(a), _addr(b)]
    a.close()
    b.close()  # nothing listens: both refused
    with pytest.raises(ConnectFailed) as info:
        await race(addrs, timeout=2.0)
    assert len(info.value.attempts) == 2
    assert all(isinstance(x.error, ConnectionRefusedError) for x in info.value.attempts)
    assert not info.value.timed_out


async def test_a_name_with_a_dead_first_address_checks_fine(smtp_server, monkeypatch):
    """dual.test resolves to a black-holed 127.0.0.2 first, then the live server on 127.0.0.1."""
    from app.core.model import LogLine, Timeouts
    from app.core.smtp import run_check

    srv = smtp_server("smtp")
    hole = socket.socket()
    hole.bind(("127.0.0.2", srv.port))
    hole.listen(0)
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.2", srv.port))
        except BlockingIOError:
            pass
        fillers.append(s)
    real = socket.getaddrinfo

    def fake(host, port, *args, **kw):
        if host == "dual.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port))
                for ip in ("127.0.0.2", "127.0.0.1")
            ]
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    events = []
    settings = srv.settings(host="dual.test", username="").with_(
        timeouts=Timeouts(connect=5.0, greeting=2.0, command=2.0, total=10.0)
    )
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    try:
        result = await run_check(settings, None, on_event=events.append)
    finally:
        for s in fillers:
            s.close()
        hole.close()
    assert result.ok, result.diagnosis
    assert loop.time() - t0 < 3.0  # generous; the dead address alone would cost the 5 s connect timeout
    logged = [e.text for e in events if isinstance(e, LogLine)]
    assert any("127.0.0.2" in t and "did not answer first" in t for t in logged)
