"""Proxy URL parsing and real connections through local SOCKS5 / HTTP CONNECT proxies."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from app.core.diagnosis.model import Code, DiagnosedError
from app.core.net.proxy import ProxyUrlError, open_via_proxy, parse_proxy_url
from tests.fixtures.network import PROXY_PASSWORD, net_free_port

SECRET = "T0p-s3cret-proxy"


@pytest.fixture
async def greeter():
    """A real TCP server that greets like SMTP and echoes one line back."""
    port = net_free_port()

    async def handle(reader, writer):
        writer.write(b"220 target ready\r\n")
        await writer.drain()
        line = await reader.readline()
        writer.write(b"250 got " + line)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    yield port
    server.close()
    await server.wait_closed()


@pytest.fixture
def mute_listener():
    """A listening socket that accepts connections (kernel backlog) but never says anything."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


def _no_secret(err: DiagnosedError, secret: str) -> None:
    assert secret not in str(err)
    assert secret not in repr(err.diagnosis)
    assert secret not in json.dumps(err.diagnosis.to_dict(), default=str)


# ---------------------------------------------------------------- parsing
@pytest.mark.parametrize(
    "url, scheme, port, remote_dns",
    [
        ("socks5://127.0.0.1:1080", "socks5", 1080, False),
        ("socks5h://proxy.example:9050", "socks5h", 9050, True),
        ("SOCKS4://h:1", "socks4", 1, False),
        ("socks4a://h", "socks4a", 1080, True),
        ("http://h:3128", "http", 3128, True),
        ("http://[::1]:8080", "http", 8080, True),
    ],
)
def test_parse_schemes(url, scheme, port, remote_dns):
    cfg = parse_proxy_url(url)
    assert (cfg.scheme, cfg.port, cfg.remote_dns) == (scheme, port, remote_dns)
    assert cfg.username is None and cfg.password is None


def test_parse_credentials_hidden_from_text():
    cfg = parse_proxy_url(f"socks5://bob:{SECRET.replace('-', '%2D')}@10.0.0.1:1080")
    assert cfg.username == "bob" and cfg.password == SECRET
    for text in (str(cfg), repr(cfg), cfg.redacted(), f"{cfg}"):
        assert SECRET not in text
    assert str(cfg) == "socks5://bob:***@10.0.0.1:1080"


@pytest.mark.parametrize(
    "url, words",
    [
        ("", "empty"),
        ("127.0.0.1:1080", "scheme"),
        ("https://u:{s}@h:1", "not supported"),
        ("ftp://u:{s}@h:1", "Unsupported"),
        ("socks5://u:{s}@h:notaport", "port"),
        ("socks5://u:{s}@h:70000", "port"),
        ("socks5://u:{s}@:1080", "host"),
        ("socks5://u:{s}@h:1080/path", "path"),
    ],
)
def test_parse_errors_are_clear_and_secret_free(url, words):
    with pytest.raises(ProxyUrlError) as info:
        parse_proxy_url(url.format(s=SECRET))
    assert isinstance(info.value, ValueError)
    assert words in str(info.value)
    assert SECRET not in str(info.value)


# ---------------------------------------------------------------- connecting
async def _talk(sock: socket.socket) -> tuple[bytes, bytes]:
    assert sock.getblocking() is False
    reader, writer = await asyncio.open_connection(sock=sock)
    greeting = await asyncio.wait_for(reader.readline(), 2)
    writer.write(b"EHLO me\r\n")
    reply = await asyncio.wait_for(reader.readline(), 2)
    writer.close()
    return greeting, reply


async def test_socks5_connects_and_relays(socks5_proxy, greeter):
    sock = await open_via_proxy(socks5_proxy.url, "127.0.0.1", greeter, 2)
    assert await _talk(sock) == (b"220 target ready\r\n", b"250 got EHLO me\r\n")
    assert socks5_proxy.targets == [("127.0.0.1", greeter)]


async def test_socks5h_sends_name_to_proxy(socks5_proxy, greeter):
    sock = await open_via_proxy(socks5_proxy.url.replace("socks5", "socks5h"), "localhost", greeter, 2)
    greeting, _ = await _talk(sock)
    assert greeting.startswith(b"220")
    assert socks5_proxy.targets == [("localhost", greeter)]


async def test_socks5_with_auth(socks5_auth_proxy, greeter):
    sock = await open_via_proxy(socks5_auth_proxy.url, "127.0.0.1", greeter, 2)
    greeting, _ = await _talk(sock)
    assert greeting == b"220 target ready\r\n"
    assert socks5_auth_proxy.auth_failures == 0


async def test_socks5_wrong_password_is_auth_failed_without_secret(socks5_auth_proxy, greeter):
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(socks5_auth_proxy.url_with("proxyuser", SECRET), "127.0.0.1", greeter, 2)
    d = info.value.diagnosis
    assert (d.code, d.variant) == (Code.PROXY_FAILED, "auth_failed")
    assert "rejected the login" in d.params["reason"]
    assert socks5_auth_proxy.auth_failures == 1
    _no_secret(info.value, SECRET)


async def test_socks5_login_missing(socks5_auth_proxy, greeter):
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(socks5_auth_proxy.url_without_auth, "127.0.0.1", greeter, 2)
    assert info.value.diagnosis.variant == "auth_failed"
    assert "requires a login" in info.value.diagnosis.params["reason"]


async def test_http_connect(http_proxy, greeter):
    sock = await open_via_proxy(http_proxy.url, "127.0.0.1", greeter, 2)
    assert (await _talk(sock))[0] == b"220 target ready\r\n"
    assert http_proxy.targets == [("127.0.0.1", greeter)]


async def test_http_auth_ok_and_failure(http_auth_proxy, greeter):
    sock = await open_via_proxy(http_auth_proxy.url, "127.0.0.1", greeter, 2)
    assert (await _talk(sock))[0].startswith(b"220")
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(http_auth_proxy.url_with("proxyuser", SECRET), "127.0.0.1", greeter, 2)
    d = info.value.diagnosis
    assert (d.code, d.variant) == (Code.PROXY_FAILED, "auth_failed")
    assert "407" in d.params["reason"]
    _no_secret(info.value, SECRET)
    _no_secret(info.value, PROXY_PASSWORD)


async def test_proxy_not_listening_is_refused(closed_port):
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(f"socks5://u:{SECRET}@127.0.0.1:{closed_port}", "127.0.0.1", 25, 2)
    d = info.value.diagnosis
    assert (d.code, d.variant) == (Code.PROXY_FAILED, "refused")
    assert "refused" in d.params["reason"]
    assert d.params["proxy"] == f"socks5://u:***@127.0.0.1:{closed_port}"
    _no_secret(info.value, SECRET)


@pytest.mark.parametrize("fixture", ["socks5_proxy", "http_proxy"])
async def test_target_unreachable_through_proxy(fixture, request, closed_port):
    proxy = request.getfixturevalue(fixture)
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(proxy.url, "127.0.0.1", closed_port, 2)
    d = info.value.diagnosis
    assert (d.code, d.variant) == (Code.PROXY_FAILED, "target_unreachable")
    assert f"127.0.0.1:{closed_port}" in d.params["reason"] or "502" in d.params["reason"]


async def test_silent_proxy_times_out_promptly(mute_listener):
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(f"socks5://127.0.0.1:{mute_listener}", "127.0.0.1", 25, 0.3)
    assert info.value.diagnosis.variant == "timeout"
    assert loop.time() - start < 1.5


async def test_not_a_proxy_is_protocol_error(greeter):
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(f"http://127.0.0.1:{greeter}", "127.0.0.1", 25, 1)
    assert info.value.diagnosis.variant == "protocol"


async def test_invalid_url_is_proxy_failed():
    with pytest.raises(DiagnosedError) as info:
        await open_via_proxy(f"gopher://u:{SECRET}@h:1", "127.0.0.1", 25, 1)
    assert (info.value.diagnosis.code, info.value.diagnosis.variant) == (Code.PROXY_FAILED, "invalid_url")
    _no_secret(info.value, SECRET)


async def test_sync_twin_for_the_second_client(socks5_auth_proxy, greeter):
    from app.core.net.proxy import connect_via_proxy_sync

    sock = await asyncio.to_thread(connect_via_proxy_sync, socks5_auth_proxy.url, "127.0.0.1", greeter, 2)
    try:
        assert (await asyncio.to_thread(sock.recv, 100)).startswith(b"220")
    finally:
        sock.close()
    with pytest.raises(DiagnosedError) as info:
        await asyncio.to_thread(
            connect_via_proxy_sync, socks5_auth_proxy.url_with("proxyuser", SECRET), "127.0.0.1", greeter, 2
        )
    assert info.value.diagnosis.variant == "auth_failed"
    _no_secret(info.value, SECRET)


@pytest.fixture
async def eager_http_proxy(greeter):
    """An HTTP CONNECT proxy that sends its 200 answer and the server's greeting in one write
    (legal, and common when the server greets before the proxy answers)."""
    port = net_free_port()

    async def handle(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        tr, tw = await asyncio.open_connection("127.0.0.1", greeter)
        greeting = await tr.readline()
        writer.write(b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n" + greeting)
        await writer.drain()

        async def pipe(r, w):
            while data := await r.read(4096):
                w.write(data)
                await w.drain()
            w.close()

        await asyncio.gather(pipe(reader, tw), pipe(tr, writer), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    server.close()


async def test_http_proxy_keeps_the_greeting_that_came_with_its_answer(eager_http_proxy, greeter):
    sock = await open_via_proxy(eager_http_proxy, "127.0.0.1", greeter, 2)
    assert await _talk(sock) == (b"220 target ready\r\n", b"250 got EHLO me\r\n")
    from app.core.net.proxy import connect_via_proxy_sync

    s = await asyncio.to_thread(connect_via_proxy_sync, eager_http_proxy, "127.0.0.1", greeter, 2)
    try:
        assert (await asyncio.to_thread(s.recv, 100)) == b"220 target ready\r\n"
    finally:
        s.close()
