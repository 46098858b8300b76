"""TCP connect like a modern client: Happy Eyeballs (RFC 8305) over every address a name resolves to.

Attempts start one after another, ``delay`` seconds apart (250 ms), or at once when the previous
one failed, alternating address families (IPv6, IPv4, IPv6, ...) as RFC 8305 section 4 asks. The
first connected socket wins; the others are cancelled and closed. A black-holed IPv6 route costs
250 ms, not the connect timeout. Every address's failure is kept (``ConnectFailed.attempts``) so
the diagnosis can say what happened to each.

The race itself is ``asyncio.staggered.staggered_race`` (the standard library's, also behind
``loop.create_connection(happy_eyeballs_delay=...)``); we do not use create_connection because it
hides the per-address failures and returns a transport, while the engine needs the socket.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from app.core.model import wait_for as _wait_for

HAPPY_EYEBALLS_DELAY = 0.25

# (family, type, proto, sockaddr) as getaddrinfo gives them (canonname dropped)
Address = tuple[int, int, int, tuple]


@dataclass(frozen=True)
class Attempt:
    """What happened to one address: ``error`` is None for the winner, "timeout", or the OSError."""

    address: str
    error: OSError | str | None


class ConnectFailed(OSError):
    """No address answered; ``attempts`` has one entry per address tried (in order)."""

    def __init__(self, attempts: Sequence[Attempt], timed_out: bool):
        self.attempts = tuple(attempts)
        self.timed_out = timed_out
        super().__init__("; ".join(f"{a.address}: {a.error}" for a in self.attempts) or "no address to connect to")


def show(sockaddr: tuple) -> str:
    """An address as people write it: 192.0.2.1:25, [2001:db8::1]:25."""
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def interleave(addresses: Sequence[Address]) -> list[Address]:
    """Alternate address families, starting with the family of the first address (RFC 8305 section 4)."""
    if not addresses:
        return []
    first = addresses[0][0]
    a = [x for x in addresses if x[0] == first]
    b = [x for x in addresses if x[0] != first]
    out: list[Address] = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return out


async def race(
    addresses: Sequence[Address], timeout: float, *, delay: float = HAPPY_EYEBALLS_DELAY
) -> tuple[socket.socket, Address, tuple[Attempt, ...]]:
    """Connect to the first address that answers within ``timeout`` seconds in all.

    Returns (connected non-blocking socket, its address, the attempts so far). Raises ConnectFailed.
    Cancellation closes every socket it opened.
    """
    from asyncio.staggered import staggered_race

    loop = asyncio.get_running_loop()
    ordered = interleave(addresses)
    attempts: dict[int, Attempt] = {}
    won: list[socket.socket] = []

    def attempt(i: int, addr: Address):
        async def run() -> tuple[socket.socket, Address]:
            family, type_, proto, sockaddr = addr
            attempts[i] = Attempt(show(sockaddr), "timeout")  # until it ends otherwise
            sock = socket.socket(family, type_, proto)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, sockaddr)
            except OSError as exc:
                sock.close()
                attempts[i] = Attempt(show(sockaddr), exc)
                raise
            except BaseException:
                sock.close()
                raise
            if won:  # another address already won: this late one is not needed
                sock.close()
                raise OSError("not needed")
            won.append(sock)
            attempts[i] = Attempt(show(sockaddr), None)
            return sock, addr

        return run

    factories = [attempt(i, a) for i, a in enumerate(ordered)]
    timed_out = False
    winner = None
    try:
        winner, _index, _excs = await _wait_for(staggered_race(factories, delay), max(timeout, 0.001))
    except asyncio.TimeoutError:
        timed_out = True
    except BaseException:
        for s in won:
            s.close()
        raise
    report = tuple(attempts[i] for i in sorted(attempts))
    if winner is None:
        for s in won:
            s.close()
        raise ConnectFailed(report, timed_out)
    return winner[0], winner[1], report


async def getaddrinfo(host: str, port: int) -> list[tuple]:
    """``socket.getaddrinfo`` for TCP in a daemon thread of its own.

    Not ``loop.getaddrinfo``: that runs in the loop's default executor, whose threads ``asyncio.run``
    and the interpreter wait for at exit, so a resolver that hangs would keep the process alive long
    after the verdict. A daemon thread is simply abandoned when the deadline cancels the wait.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future = loop.create_future()

    def deliver(ok: bool, value: object) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            result: object = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
            ok = True
        except BaseException as exc:  # handed to the waiting coroutine
            result, ok = exc, False
        try:
            loop.call_soon_threadsafe(deliver, ok, result)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=work, name="mailsetup-dns", daemon=True).start()
    return await future


async def resolve(host: str, port: int) -> list[Address]:
    """getaddrinfo for TCP, de-duplicated, in the resolver's order."""
    infos = await getaddrinfo(host.strip("[]"), port)
    out: list[Address] = []
    seen = set()
    for family, type_, proto, _canon, sockaddr in infos:
        key = (family, sockaddr[0])
        if key not in seen:
            seen.add(key)
            out.append((family, type_, proto, sockaddr))
    return out


async def open_tcp(
    host: str, port: int, timeout: float, *, delay: float = HAPPY_EYEBALLS_DELAY
) -> tuple[socket.socket, Address, tuple[Attempt, ...]]:
    """Resolve ``host`` and race its addresses, all within ``timeout`` seconds (see ``race``)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    addresses = await _wait_for(resolve(host, port), max(timeout, 0.001))
    return await race(addresses, end - loop.time(), delay=delay)


__all__ = [
    "HAPPY_EYEBALLS_DELAY",
    "Address",
    "Attempt",
    "ConnectFailed",
    "getaddrinfo",
    "interleave",
    "open_tcp",
    "race",
    "resolve",
    "show",
]
