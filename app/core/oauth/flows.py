"""The sign-in flows: browser (authorization code + PKCE, loopback redirect), device code (RFC 8628), refresh.

Each flow is one coroutine with one deadline: cancelling its task stops it at once (the loopback listener
closes with it), and a flow never outlives its result.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.diagnosis import Code, DiagnosedError
from app.core.diagnosis import oauth as od
from app.core.model import wait_for as _wait_for
from app.core.oauth.client import (
    HTTP_TIMEOUT,
    AuthlibOAuthError,
    OAuthClient,
    OAuthInputError,
    ResponseTooLarge,
    Tokens,
    tokens_from,
)
from app.core.oauth.http import httpx
from app.core.oauth.loopback import LoopbackReceiver

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
BROWSER_TIMEOUT = 300.0  # the user has five minutes to finish in the browser
DEVICE_TIMEOUT = 900.0  # Microsoft gives 15 minutes for a device code
SLOW_DOWN_STEP = 5.0  # RFC 8628 §3.5


def _token_generator() -> Callable[[int], str]:
    from authlib.common.security import generate_token

    return generate_token


@dataclass(frozen=True)
class DeviceCode:
    """What the user needs to finish a device-code sign-in on another device."""

    user_code: str
    verification_uri: str
    expires_in: float
    interval: float
    verification_uri_complete: str | None = None


async def sign_in_browser(
    client: OAuthClient,
    open_browser: Callable[[str], Any],
    *,
    timeout: float = BROWSER_TIMEOUT,
    http_timeout: float = HTTP_TIMEOUT,
    login_hint: str | None = None,
) -> Tokens:
    """Open the authorization page with ``open_browser(url)``; wait for the loopback redirect; check the
    state; exchange the code (with the PKCE verifier) for tokens. Raises DiagnosedError or OAuthInputError."""
    client = client.validated()
    deadline = time.monotonic() + timeout
    receiver = LoopbackReceiver(client.spec.redirect_uri)
    try:
        redirect_uri = await receiver.start()
    except OSError as exc:
        await receiver.close()
        reason = exc.strerror or str(exc)
        raise OAuthInputError("redirect", f"cannot listen on {client.spec.redirect_uri} ({reason})") from None
    async with receiver, client.session(redirect_uri, http_timeout) as http:
        generate = _token_generator()
        verifier = generate(64) if client.spec.pkce else None
        state = generate(32)
        receiver.expected_state = state
        params = dict(client.spec.auth_params)
        if login_hint:
            params["login_hint"] = login_hint
        url, _ = http.create_authorization_url(
            client.authorization_endpoint, state=state, code_verifier=verifier, **params
        )
        open_browser(url)
        try:
            redirect = await _wait_for(receiver.wait(), max(deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            raise DiagnosedError(od.flow_failure(Code.OAUTH_TIMED_OUT, seconds=f"{timeout:g}")) from None
        if not hmac.compare_digest(redirect.state.encode(), state.encode()):
            raise DiagnosedError(od.flow_failure(Code.OAUTH_STATE_MISMATCH))
        if redirect.error or not redirect.code:
            error = AuthlibOAuthError(error=redirect.error or "invalid_request", description=redirect.description)
            raise DiagnosedError(client.error(error, client.authorization_endpoint, 0, redirect_uri))
        answer = await client.call(
            lambda: http.fetch_token(
                client.token_endpoint,
                grant_type="authorization_code",
                code=redirect.code,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
            ),
            client.token_endpoint,
            time.monotonic() + http_timeout,
            redirect_uri,
        )
    return tokens_from(answer, client.token_endpoint)


async def sign_in_device(
    client: OAuthClient,
    on_code: Callable[[DeviceCode], Any],
    *,
    timeout: float = DEVICE_TIMEOUT,
    http_timeout: float = HTTP_TIMEOUT,
    min_interval: float = 1.0,
) -> Tokens:
    """RFC 8628: get a user code, hand it to ``on_code``, poll the token endpoint at the server's interval
    (slower on ``slow_down``) until the user finishes, declines or the code expires."""
    client = client.validated()
    endpoint = client.device_endpoint
    if not endpoint:
        raise OAuthInputError("device", f"{client.provider_name} offers no device-code sign-in; use the browser")
    deadline = time.monotonic() + timeout
    async with client.session(None, http_timeout) as http:
        data = {"client_id": client.client_id, "scope": client.scope}
        answer = await client.call(
            lambda: _post_form(http, endpoint, data), endpoint, min(deadline, time.monotonic() + http_timeout)
        )
        code, device_code = _device_code(answer, endpoint)
        on_code(code)
        expires = min(deadline, time.monotonic() + code.expires_in)
        interval = max(code.interval, min_interval)
        while True:
            remaining = expires - time.monotonic()
            if remaining <= 0:
                raise DiagnosedError(
                    od.flow_failure(Code.OAUTH_TIMED_OUT, "device_code", verification_uri=code.verification_uri)
                )
            await asyncio.sleep(min(interval, remaining))
            bound = max(min(http_timeout, expires - time.monotonic()), 0.01)
            try:
                token = await _wait_for(
                    http.fetch_token(client.token_endpoint, grant_type=DEVICE_GRANT, device_code=device_code), bound
                )
            except AuthlibOAuthError as exc:
                if exc.error == "authorization_pending":
                    continue
                if exc.error == "slow_down":
                    interval += SLOW_DOWN_STEP
                    continue
                raise DiagnosedError(client.error(exc, client.token_endpoint, bound)) from None
            except (asyncio.TimeoutError, httpx.HTTPError, ResponseTooLarge, ValueError) as exc:
                if isinstance(exc, asyncio.TimeoutError) and bound < http_timeout:  # cut short by the code's expiry
                    raise DiagnosedError(
                        od.flow_failure(Code.OAUTH_TIMED_OUT, "device_code", verification_uri=code.verification_uri)
                    ) from None
                raise DiagnosedError(client.error(exc, client.token_endpoint, round(bound, 1))) from None
            return tokens_from(token, client.token_endpoint)


async def refresh(client: OAuthClient, refresh_token: str, *, timeout: float = HTTP_TIMEOUT) -> Tokens:
    """A fresh access token for a stored grant (the answer may rotate the refresh token)."""
    client = client.validated()
    async with client.session(None, timeout) as http:
        answer = await client.call(
            lambda: http.refresh_token(client.token_endpoint, refresh_token=refresh_token),
            client.token_endpoint,
            time.monotonic() + timeout,
        )
    return tokens_from(answer, client.token_endpoint, previous_refresh=refresh_token)


async def revoke(client: OAuthClient, refresh_token: str, *, timeout: float = HTTP_TIMEOUT) -> bool:
    """Ask the provider to forget a grant (RFC 7009), where it offers that; False when it could not."""
    client = client.validated()
    if not client.spec.revocation_endpoint:
        return False
    url = client.fill(client.spec.revocation_endpoint)
    async with client.session(None, timeout) as http:
        try:
            response = await _wait_for(
                http.revoke_token(url, token=refresh_token, token_type_hint="refresh_token"), timeout
            )
        except (asyncio.TimeoutError, httpx.HTTPError, ResponseTooLarge, AuthlibOAuthError):
            return False
    return bool(getattr(response, "is_success", False))


async def _post_form(http: Any, url: str, data: dict[str, str]) -> dict[str, Any]:
    """POST a form without a token; the JSON object answered (an OAuth error answer raises)."""
    response = await http.request("POST", url, data=data, withhold_token=True)
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        raise AuthlibOAuthError(error=body["error"], description=str(body.get("error_description") or ""))
    response.raise_for_status()
    if not isinstance(body, dict):
        raise ValueError("the answer is not a JSON object")
    return body


def _device_code(answer: dict[str, Any], endpoint: str) -> tuple[DeviceCode, str]:
    """Validate a device authorization answer (Google and Yandex spell it verification_url)."""
    device_code = answer.get("device_code")
    user_code = answer.get("user_code")
    uri = answer.get("verification_uri") or answer.get("verification_url")
    complete = answer.get("verification_uri_complete")
    try:
        expires_in = float(answer.get("expires_in", 600))
        interval = float(answer.get("interval", 5))
    except (TypeError, ValueError):
        expires_in = interval = -1.0
    fields_ok = all(isinstance(v, str) and 0 < len(v) <= 2048 for v in (device_code, user_code, uri))
    if not fields_ok or not 0 < expires_in <= 86400 or not 0 <= interval <= 3600:
        raise DiagnosedError(od.endpoint_failure("bad_response", endpoint, "not a device authorization answer"))
    assert isinstance(device_code, str) and isinstance(user_code, str) and isinstance(uri, str)
    if not uri.startswith("https://") and not uri.startswith("http://127.0.0.1"):
        raise DiagnosedError(od.endpoint_failure("bad_response", endpoint, "the verification address is not https"))
    code = DeviceCode(
        user_code=od.clean(user_code, 64),
        verification_uri=od.clean(uri, 2048),
        expires_in=expires_in,
        interval=interval,
        verification_uri_complete=od.clean(complete, 2048) if isinstance(complete, str) else None,
    )
    return code, device_code
