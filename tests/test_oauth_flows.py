"""OAuth 2.0 sign-in against a real authorization server on loopback, then XOAUTH2 against aiosmtpd.

The test plays the browser with an HTTP client (tests.fixtures.oauth_server.browse). Hostile cases end
with an exact diagnosis code within a bounded time.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core.diagnosis import Code, DiagnosedError
from app.core.model import AuthMechanism
from app.core.oauth import (
    MAX_RESPONSE,
    OAuthClient,
    OAuthInputError,
    refresh,
    revoke,
    sign_in_browser,
    sign_in_device,
)
from app.core.smtp import run_check
from tests.fixtures.oauth_server import USER, browse

CLIENT_ID = "00001111-aaaa-2222-bbbb-3333cccc4444"


def _client(server, **changes) -> OAuthClient:
    server.register(CLIENT_ID)
    spec = server.spec(**changes.pop("spec", {}))
    return OAuthClient("testid", "Test ID", spec, changes.pop("client_id", CLIENT_ID), **changes)


class Browser:
    """open_browser callback: runs the test browser as a task and keeps its final response."""

    def __init__(self, **options):
        self.options = options
        self.task: asyncio.Task | None = None
        self.urls: list[str] = []

    def __call__(self, url: str) -> None:
        self.urls.append(url)
        self.task = asyncio.get_running_loop().create_task(browse(url, **self.options))

    async def response(self):
        assert self.task is not None
        return await self.task


async def _expect(code: Code, coro, variant: str | None = None):
    with pytest.raises(DiagnosedError) as info:
        await coro
    d = info.value.diagnosis
    assert d.code is code, d.to_dict()
    if variant is not None:
        assert d.variant == variant, d.to_dict()
    return d


async def test_browser_sign_in_then_xoauth2_check(oauth_server, xoauth2_smtp):
    client = _client(oauth_server, tenant="contoso.example")
    browser = Browser()
    tokens = await sign_in_browser(client, browser, timeout=10)
    page = await browser.response()
    assert page.status_code == 200 and "You can close this tab" in page.text
    url = browser.urls[0]
    assert "/contoso.example/authorize" in url and "code_challenge_method=S256" in url and "state=" in url
    assert "offline_access" in url and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
    assert tokens.access_token.startswith("at-") and tokens.refresh_token.startswith("rt-")
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)

    smtp, handler = xoauth2_smtp(oauth_server)
    events = []
    result = await run_check(
        smtp.settings(username=USER, auth=AuthMechanism.XOAUTH2), tokens.access_token, on_event=events.append
    )
    assert result.ok and result.auth_mechanism == "XOAUTH2" and result.auth_verified
    assert handler.seen_users == [USER]
    assert tokens.access_token not in repr(events)  # masked in the transcript


async def test_denied_consent(oauth_server):
    d = await _expect(Code.OAUTH_DENIED, sign_in_browser(_client(oauth_server), Browser(allow=False), timeout=10))
    assert "declined" in d.params["description"] and any(a.kind == "oauth_sign_in" for a in d.actions)


async def test_forged_state_is_refused(oauth_server):
    browser = Browser(state="forged-by-someone-else")
    await _expect(Code.OAUTH_STATE_MISMATCH, sign_in_browser(_client(oauth_server), browser, timeout=10))
    page = await browser.response()
    assert page.status_code == 400 and "Sign-in failed" in page.text
    assert not oauth_server.access  # no token was ever issued


async def test_pkce_verifier_mismatch_is_refused_by_the_server(oauth_server, monkeypatch):
    import authlib.oauth2.client as authlib_client

    monkeypatch.setattr(authlib_client, "create_s256_code_challenge", lambda verifier: "x" * 43)
    d = await _expect(Code.OAUTH_SIGN_IN_AGAIN, sign_in_browser(_client(oauth_server), Browser(), timeout=10))
    assert d.params["description"] == "PKCE verification failed" and not oauth_server.access


async def test_missing_pkce_is_refused_by_the_server(oauth_server):
    client = _client(oauth_server, spec={"pkce": False})
    d = await _expect(Code.OAUTH_ENDPOINT_FAILED, sign_in_browser(client, Browser(), timeout=10))
    assert d.params["error"] == "invalid_request" and d.params["description"] == "PKCE required"


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/", "http://localhost:{port}/elsewhere"])
async def test_redirect_to_another_port_or_host_times_out_bounded(oauth_server, target):
    from tests.fixtures.smtp_servers import free_port

    oauth_server.redirect_override = target.format(port=free_port())
    browser = Browser()
    started = time.monotonic()
    d = await _expect(Code.OAUTH_TIMED_OUT, sign_in_browser(_client(oauth_server), browser, timeout=0.8))
    assert time.monotonic() - started < 6 and d.params["seconds"] == "0.8"
    with pytest.raises(Exception):  # noqa: B017 - nothing listens there: the browser fails to connect
        await browser.response()


async def test_fixed_redirect_port_registered_exactly(oauth_server):
    from tests.fixtures.smtp_servers import free_port

    port = free_port()
    oauth_server.register(CLIENT_ID, redirect=f"http://127.0.0.1:{port}/")
    spec = oauth_server.spec(redirect_uri=f"http://127.0.0.1:{port}/", redirect_any_port=False)
    client = OAuthClient("testid", "Test ID", spec, CLIENT_ID)
    tokens = await sign_in_browser(client, Browser(), timeout=10)
    assert oauth_server.valid(tokens.access_token, USER)


async def test_token_endpoint_timeout_is_bounded(oauth_server):
    client = _client(oauth_server)
    oauth_server.token_mode = "slow"
    started = time.monotonic()
    d = await _expect(Code.OAUTH_ENDPOINT_FAILED, refresh(client, "rt-x", timeout=0.5), "timeout")
    assert time.monotonic() - started < 6 and d.params["seconds"] == "0.5"  # the server would wait 30 s


async def test_huge_token_answer_is_cut(oauth_server):
    oauth_server.token_mode = "huge"
    d = await _expect(Code.OAUTH_ENDPOINT_FAILED, refresh(_client(oauth_server), "rt-x", timeout=5), "bad_response")
    assert d.params["description"] == f"the answer is larger than {MAX_RESPONSE // 1024} KiB"


async def test_garbage_token_answer(oauth_server):
    oauth_server.token_mode = "garbage"
    d = await _expect(Code.OAUTH_ENDPOINT_FAILED, refresh(_client(oauth_server), "rt-x", timeout=5), "bad_response")
    assert "JSON" in d.params["description"]


async def test_token_endpoint_down(oauth_server):
    from tests.fixtures.smtp_servers import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    client = _client(oauth_server, spec={"token_endpoint": dead + "/token"})
    d = await _expect(Code.OAUTH_ENDPOINT_FAILED, refresh(client, "rt-x", timeout=5), "unreachable")
    assert "ConnectError" in d.params["description"]


@pytest.mark.parametrize(
    ("error", "description", "code", "variant"),
    [
        ("invalid_grant", "AADSTS65001: The user or administrator has not consented", Code.OAUTH_CONSENT_REQUIRED, ""),
        ("invalid_request", "AADSTS90094: The grant requires admin permission", Code.OAUTH_CONSENT_REQUIRED, ""),
        ("invalid_request", "AADSTS50011: The redirect URI does not match", Code.OAUTH_REDIRECT_MISMATCH, ""),
        ("unauthorized_client", "AADSTS7000112: Application is disabled.", Code.OAUTH_CLIENT_REJECTED, "disabled"),
        (
            "invalid_grant",
            "AADSTS700082: The refresh token has expired due to inactivity",
            Code.OAUTH_SIGN_IN_AGAIN,
            "",
        ),
        ("invalid_scope", "The scope is not valid", Code.OAUTH_SCOPE_INVALID, ""),
        ("invalid_client", "", Code.OAUTH_CLIENT_REJECTED, ""),
        ("server_error", "\x1b[31mboom\r\nInjected: header", Code.OAUTH_ENDPOINT_FAILED, ""),
    ],
)
async def test_token_endpoint_errors_map_to_the_table(oauth_server, error, description, code, variant):
    oauth_server.token_mode = "error"
    oauth_server.token_error = (error, description)
    client = _client(oauth_server, tenant="contoso.example")
    d = await _expect(code, refresh(client, "rt-x", timeout=5), variant)
    assert "\x1b" not in d.params["description"] and "\r" not in d.params["description"]
    title, explanation, fixes = d.render()
    assert title and explanation and "{" not in title + explanation + "".join(fixes)
    if code is Code.OAUTH_CONSENT_REQUIRED:
        urls = [a.params["url"] for a in d.actions if a.kind == "open_url"]
        assert urls == [f"{oauth_server.url}/contoso.example/adminconsent?client_id={CLIENT_ID}"]


async def test_refresh_after_expiry_and_revocation(oauth_server):
    client = _client(oauth_server)
    tokens = await sign_in_browser(client, Browser(), timeout=10)
    oauth_server.expire_access_tokens()
    assert not oauth_server.valid(tokens.access_token, USER)
    fresh = await refresh(client, tokens.refresh_token, timeout=5)
    assert oauth_server.valid(fresh.access_token, USER)
    assert fresh.refresh_token != tokens.refresh_token  # rotated
    d = await _expect(Code.OAUTH_SIGN_IN_AGAIN, refresh(client, tokens.refresh_token, timeout=5))
    assert "revoked" in d.params["description"]
    assert await revoke(client, fresh.refresh_token, timeout=5)
    await _expect(Code.OAUTH_SIGN_IN_AGAIN, refresh(client, fresh.refresh_token, timeout=5))


async def test_device_code_flow(oauth_server, xoauth2_smtp):
    client = _client(oauth_server)
    shown = []

    def on_code(code):
        shown.append(code)
        asyncio.get_running_loop().run_in_executor(None, oauth_server.approve, code.user_code)

    tokens = await sign_in_device(client, on_code, timeout=10, min_interval=0.02)
    assert shown[0].verification_uri == f"{oauth_server.url}/device" and len(shown[0].user_code) == 8
    smtp, _ = xoauth2_smtp(oauth_server)
    result = await run_check(smtp.settings(username=USER, auth=AuthMechanism.XOAUTH2), tokens.access_token)
    assert result.ok


async def test_device_code_declined_and_expired(oauth_server):
    client = _client(oauth_server)

    def decline(code):
        asyncio.get_running_loop().run_in_executor(None, lambda: oauth_server.approve(code.user_code, allow=False))

    await _expect(Code.OAUTH_DENIED, sign_in_device(client, decline, timeout=10, min_interval=0.02))
    started = time.monotonic()
    d = await _expect(
        Code.OAUTH_TIMED_OUT, sign_in_device(client, lambda code: None, timeout=1.5, min_interval=0.02), "device_code"
    )
    assert d.params["verification_uri"].endswith("/device") and time.monotonic() - started < 6


async def test_xoauth2_refusals_are_diagnosed(oauth_server, xoauth2_smtp):
    smtp, _ = xoauth2_smtp(oauth_server)
    result = await run_check(smtp.settings(username=USER, auth=AuthMechanism.XOAUTH2), "at-not-issued")
    d = result.diagnosis
    assert (d.code, d.variant) == (Code.AUTH_FAILED, "oauth_token_rejected")
    assert '"status": "401"' in d.server_reply and "at-not-issued" not in repr(result)
    ms, _ = xoauth2_smtp(
        oauth_server,
        refusal="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
    )
    result = await run_check(ms.settings(username=USER, auth=AuthMechanism.XOAUTH2), "at-not-issued")
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.AUTH_FAILED, "ms_smtp_auth_disabled")


def test_client_input_is_validated(oauth_server):
    from app.core.catalog import ClientSecretUse

    with pytest.raises(OAuthInputError, match="client id"):
        _client(oauth_server, client_id="bad id").validated()
    with pytest.raises(OAuthInputError, match="tenant"):
        _client(oauth_server, tenant="../../evil").validated()
    with pytest.raises(OAuthInputError, match="client secret"):
        _client(oauth_server, spec={"client_secret": ClientSecretUse.REQUIRED}).validated()
    with pytest.raises(OAuthInputError, match="no client secret"):
        _client(oauth_server, client_secret="s3cret").validated()
    with pytest.raises(OAuthInputError, match="https"):
        _client(oauth_server, spec={"token_endpoint": "http://evil.example/token"}).validated()
    with pytest.raises(OAuthInputError, match="logs in with XOAUTH2"):
        _client(oauth_server, spec={"sasl": ("OAUTHBEARER",)}).validated()
    with pytest.raises(OAuthInputError, match="pop3"):
        _client(oauth_server, protocols=("pop3",)).validated()
    assert "s3cret" not in repr(OAuthClient("p", "P", oauth_server.spec(), CLIENT_ID, client_secret="s3cret"))


async def test_no_token_in_logs_or_errors(oauth_server, xoauth2_smtp, caplog):
    import logging

    caplog.set_level(logging.DEBUG)  # httpx, httpcore, authlib, asyncio and ours, at their most verbose
    client = _client(oauth_server)
    tokens = await sign_in_browser(client, Browser(), timeout=10)
    fresh = await refresh(client, tokens.refresh_token, timeout=5)
    smtp, _ = xoauth2_smtp(oauth_server)
    result = await run_check(smtp.settings(username=USER, auth=AuthMechanism.XOAUTH2), fresh.access_token)
    assert result.ok
    oauth_server.token_mode = "error"
    oauth_server.token_error = ("invalid_grant", "AADSTS70000: revoked")
    with pytest.raises(DiagnosedError) as info:
        await refresh(client, fresh.refresh_token, timeout=5)
    assert caplog.records  # the loggers did run
    seen = caplog.text + repr(info.value.diagnosis.to_dict()) + str(info.value)
    for secret in (tokens.access_token, tokens.refresh_token, fresh.access_token, fresh.refresh_token):
        assert secret not in seen


async def test_loopback_listener_against_hostile_requests():
    from app.core.oauth import LoopbackReceiver

    async def raw(port: int, data: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        try:
            return await asyncio.wait_for(reader.read(), 6)
        finally:
            writer.close()

    async with LoopbackReceiver("http://127.0.0.1/") as receiver:
        uri = await receiver.start()
        receiver.expected_state = "s1"
        port = receiver.port
        assert uri == f"http://127.0.0.1:{port}/"
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", port)  # holds a connection
        assert await raw(port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n") == b""  # dropped, no answer
        assert (await raw(port, b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n")).startswith(b"HTTP/1.1 404")
        assert (await raw(port, b"POST /?code=x&state=s1 HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 400")
        headers = b"".join(b"X-%d: y\r\n" % i for i in range(100))
        assert (await raw(port, b"GET /?code=x&state=s1 HTTP/1.1\r\n" + headers + b"\r\n")).startswith(b"HTTP/1.1 431")
        wait = asyncio.ensure_future(receiver.wait())
        assert not wait.done()  # none of that was an answer
        answer = await raw(port, b"GET /?code=abc&state=s1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 200") and b"Signed in" in answer
        redirect = await asyncio.wait_for(wait, 2)
        assert (redirect.code, redirect.state) == ("abc", "s1")
        silent_writer.close()
        del silent_reader
    with pytest.raises(OSError):  # closed with the flow: nothing listens any more
        await asyncio.open_connection("127.0.0.1", port)
