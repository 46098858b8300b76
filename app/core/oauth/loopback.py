"""The loopback redirect receiver of the browser sign-in (RFC 8252 §7.3).

Hand-written on asyncio streams because neither authlib nor httpx has a redirect listener, and
``http.server`` blocks a thread per request and cannot be bounded or cancelled with the flow. It reads at
most one small GET per connection (request line 8 KiB, 64 header lines, 5 s per connection), answers
with a short page that tells the user to return to MailSetup, and hands the flow ``(code, state)`` or the
authorization server's error. It listens only on loopback, and only until the flow ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

MAX_LINE = 8192
MAX_HEADERS = 64
CONNECTION_TIMEOUT = 5.0

PAGE_DONE = (
    "<!doctype html><meta charset='utf-8'><title>MailSetup</title>"
    "<h1>Вход выполнен / Signed in</h1>"
    "<p>Можно закрыть эту вкладку и вернуться в MailSetup.</p>"
    "<p>You can close this tab and return to MailSetup.</p>"
)
PAGE_FAILED = (
    "<!doctype html><meta charset='utf-8'><title>MailSetup</title>"
    "<h1>Вход не выполнен / Sign-in failed</h1>"
    "<p>Вернитесь в MailSetup: там сказано, что случилось.</p>"
    "<p>Return to MailSetup: it says what happened.</p>"
)


@dataclass(frozen=True)
class Redirect:
    """What the browser brought back: a code, or an error (``error``, ``description``); always a state."""

    state: str
    code: str = ""
    error: str = ""
    description: str = ""


class LoopbackReceiver:
    """Listen on ``http://<host>:<port><path>`` (port 0: an ephemeral one) for one authorization response."""

    def __init__(self, redirect_uri: str):
        parts = urlsplit(redirect_uri)
        self._host = parts.hostname or "127.0.0.1"
        self._display_host = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
        self._port = parts.port or 0
        self._path = parts.path or "/"
        self._servers: list[asyncio.base_events.Server] = []
        self._result: asyncio.Future[Redirect] | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.expected_state: str | None = None  # the page says "signed in" only for this state

    async def start(self) -> str:
        """Bind and return the exact redirect URI to register with the authorization request."""
        self._result = asyncio.get_running_loop().create_future()
        addresses = {"localhost": ["127.0.0.1", "::1"], "127.0.0.1": ["127.0.0.1"], "::1": ["::1"]}
        first, *others = addresses.get(self._host, ["127.0.0.1"])
        server = await asyncio.start_server(self._handle, first, self._port, limit=MAX_LINE, reuse_address=False)
        self._servers.append(server)
        self._port = server.sockets[0].getsockname()[1]
        for addr in others:  # localhost may resolve to ::1 in the browser: listen there on the same port
            with contextlib.suppress(OSError):
                self._servers.append(await asyncio.start_server(self._handle, addr, self._port, limit=MAX_LINE))
        return urlunsplit(("http", f"{self._display_host}:{self._port}", self._path, "", ""))

    @property
    def port(self) -> int:
        return self._port

    async def wait(self) -> Redirect:
        """The first authorization response on the redirect path (cancel the task to stop waiting)."""
        assert self._result is not None, "start() first"
        return await asyncio.shield(self._result)

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await _wait_for(server.wait_closed(), 1.0)
        self._servers.clear()
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def __aenter__(self) -> LoopbackReceiver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- one connection --------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            status, page = await _wait_for(self._answer(reader), CONNECTION_TIMEOUT)
            body = page.encode("utf-8")
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
                "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("ascii") + body)
            await _wait_for(writer.drain(), CONNECTION_TIMEOUT)
        except (asyncio.TimeoutError, OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # a slow, oversized or broken request: drop it, keep waiting for the real one
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[str, str]:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
        for _ in range(MAX_HEADERS):
            header = await reader.readline()
            if header in (b"\r\n", b"\n", b""):
                break
        else:
            return "431 Request Header Fields Too Large", PAGE_FAILED
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/"):
            return "400 Bad Request", PAGE_FAILED
        target = urlsplit(parts[1])
        if target.path != self._path:
            return "404 Not Found", PAGE_FAILED  # favicon.ico and the like: not the redirect
        query = {k: v[0] for k, v in parse_qs(target.query, keep_blank_values=True).items() if v}
        redirect = Redirect(
            state=query.get("state", ""),
            code=query.get("code", ""),
            error=query.get("error", ""),
            description=query.get("error_description", ""),
        )
        if self._result is not None and not self._result.done():
            self._result.set_result(redirect)
        ok = bool(redirect.code) and not redirect.error and redirect.state == self.expected_state
        return ("200 OK", PAGE_DONE) if ok else ("400 Bad Request", PAGE_FAILED)
