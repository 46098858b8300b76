"""One OAuth 2.0 client registration (the admin's own) and bounded calls to the provider's endpoints.

The protocol work (PKCE S256, the authorization URL, token requests, client authentication, refresh) is
authlib's ``AsyncOAuth2Client`` over httpx. What is ours: every call is bounded in time and in answer
size (a transport that stops reading after ``MAX_RESPONSE`` bytes), and every failure becomes a
Diagnosis from the one table. Tokens never appear in an exception, a log line or a Diagnosis.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import authlib.deprecate  # noqa: F401 - installs an "always" filter on import; ours below must follow it

from app.core.catalog import ClientSecretUse, OAuthSpec, valid_client_id, valid_tenant
from app.core.diagnosis import Code, DiagnosedError, Diagnosis
from app.core.diagnosis import oauth as od
from app.core.model import wait_for as _wait_for
from app.core.oauth.http import httpx

with warnings.catch_warnings():
    # authlib 1.9 prefers the "httpx2" distribution and warns when it falls back to httpx, which it supports.
    warnings.simplefilter("ignore")
    from authlib.integrations.base_client.errors import OAuthError as AuthlibOAuthError
    from authlib.integrations.httpx_client import AsyncOAuth2Client

MAX_RESPONSE = 64 * 1024  # a token answer is a few KiB; anything bigger is not one
HTTP_TIMEOUT = 20.0
LOOPBACK = ("127.0.0.1", "::1", "localhost")

T = TypeVar("T")


class OAuthInputError(ValueError):
    """A client id, tenant or secret that cannot be used; the message says which and why (never the value
    of a secret)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint issued. Never printed: ``repr`` hides both tokens."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None  # time.time() seconds
    scope: str = ""


@dataclass(frozen=True)
class OAuthClient:
    """The admin's registration with one provider: client id (+ tenant, + a non-confidential secret where
    the provider wants one) and the protocols to ask access for."""

    provider_id: str
    provider_name: str
    spec: OAuthSpec
    client_id: str
    tenant: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    protocols: tuple[str, ...] = ("smtp",)

    def validated(self) -> OAuthClient:
        """This client, or OAuthInputError naming the bad field."""
        cid = (self.client_id or "").strip()
        if not cid:
            raise OAuthInputError("client_id", f"{self.provider_name} needs the client id of your own app registration")
        if not valid_client_id(cid):
            raise OAuthInputError("client_id", "is not a client id (letters, digits and . _ ~ : @ + / = - only)")
        tenant = (self.tenant or "").strip() or None
        if tenant is not None and not valid_tenant(tenant):
            raise OAuthInputError("tenant", "is not a tenant (common, organizations, consumers, a GUID or a domain)")
        if tenant is not None and not self.spec.needs_tenant:
            raise OAuthInputError("tenant", f"{self.provider_name} has no tenants")
        secret = self.client_secret or None
        if secret is not None and (len(secret) > 512 or any(ord(ch) < 33 or ord(ch) == 127 for ch in secret)):
            raise OAuthInputError("client_secret", "must be at most 512 visible characters without spaces")
        if secret is None and self.spec.client_secret is ClientSecretUse.REQUIRED:
            raise OAuthInputError(
                "client_secret", f"{self.provider_name} wants the client secret of the app registration"
            )
        if secret is not None and self.spec.client_secret is ClientSecretUse.NONE:
            raise OAuthInputError("client_secret", f"{self.provider_name} takes no client secret from a desktop app")
        if "XOAUTH2" not in self.spec.sasl:  # OAUTHBEARER alone is not implemented by the SMTP engine yet
            raise OAuthInputError(
                "sasl", f"{self.provider_name} offers {', '.join(self.spec.sasl)}; MailSetup logs in with XOAUTH2"
            )
        unknown = [p for p in self.protocols if p not in self.spec.scopes]
        if unknown or not self.protocols:
            offered = ", ".join(self.spec.scopes)
            raise OAuthInputError(
                "protocols", f"{self.provider_name} offers OAuth for {offered}, not {', '.join(unknown)}"
            )
        for url in (self.spec.authorization_endpoint, self.spec.token_endpoint, self.spec.device_endpoint):
            if url:
                _check_endpoint(url)
        return OAuthClient(self.provider_id, self.provider_name, self.spec, cid, tenant, secret, self.protocols)

    # -- endpoints -------------------------------------------------------------------------------------
    def fill(self, template: str) -> str:
        tenant = self.tenant or self.spec.default_tenant or "common"
        return template.replace("{tenant}", quote(tenant, safe="")).replace(
            "{client_id}", quote(self.client_id, safe="")
        )

    @property
    def authorization_endpoint(self) -> str:
        return self.fill(self.spec.authorization_endpoint)

    @property
    def token_endpoint(self) -> str:
        return self.fill(self.spec.token_endpoint)

    @property
    def device_endpoint(self) -> str | None:
        return self.fill(self.spec.device_endpoint) if self.spec.device_endpoint else None

    @property
    def consent_url(self) -> str | None:
        return self.fill(self.spec.admin_consent_url) if self.spec.admin_consent_url else None

    @property
    def scope(self) -> str:
        return " ".join(self.spec.scopes_for(self.protocols))

    # -- calls -----------------------------------------------------------------------------------------
    def session(self, redirect_uri: str | None = None, timeout: float = HTTP_TIMEOUT) -> AsyncOAuth2Client:
        """An authlib client for one flow; the caller closes it (``async with``)."""
        loopback = urlsplit(self.token_endpoint).hostname in LOOPBACK
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method="client_secret_post" if self.client_secret else "none",
            scope=self.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256" if self.spec.pkce else None,
            timeout=httpx.Timeout(timeout),
            transport=_BoundedTransport(),
            trust_env=not loopback,  # a system proxy applies to the provider, never to a loopback server
            follow_redirects=False,
        )

    def error(self, exc: BaseException, endpoint: str, seconds: float, redirect_uri: str = "") -> Diagnosis:
        """The Diagnosis for a failed call to ``endpoint``."""
        if isinstance(exc, AuthlibOAuthError):
            return od.token_error(
                exc.error or "",
                exc.description or "",
                provider=self.provider_name,
                client_id=self.client_id,
                consent_url=self.consent_url,
                redirect_uri=redirect_uri,
                scopes=self.scope,
                endpoint=endpoint,
            )
        if isinstance(exc, (asyncio.TimeoutError, httpx.TimeoutException)):
            return od.endpoint_failure("timeout", endpoint, seconds=seconds)
        if isinstance(exc, ResponseTooLarge):
            return od.endpoint_failure(
                "bad_response", endpoint, f"the answer is larger than {MAX_RESPONSE // 1024} KiB"
            )
        if isinstance(exc, httpx.HTTPStatusError):
            return od.endpoint_failure("bad_response", endpoint, f"HTTP {exc.response.status_code}")
        if isinstance(exc, httpx.TransportError):
            return od.endpoint_failure("unreachable", endpoint, type(exc).__name__ + (f": {exc}" if str(exc) else ""))
        return od.endpoint_failure("bad_response", endpoint, str(exc) or type(exc).__name__)

    async def call(self, what: Callable[[], Awaitable[T]], endpoint: str, deadline: float, redirect_uri: str = "") -> T:
        """Run one request, bounded by ``deadline`` (time.monotonic()); failures raise DiagnosedError."""
        seconds = max(deadline - time.monotonic(), 0.0)
        try:
            return await _wait_for(what(), seconds)
        except (
            AuthlibOAuthError,
            asyncio.TimeoutError,
            httpx.HTTPError,
            ResponseTooLarge,
            ValueError,
            KeyError,
        ) as exc:
            raise DiagnosedError(self.error(exc, endpoint, round(seconds, 1), redirect_uri)) from None


def tokens_from(answer: Any, endpoint: str, previous_refresh: str | None = None) -> Tokens:
    """Check a token answer: a bearer access token (and maybe a refresh token); else DiagnosedError."""
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
        raise DiagnosedError(od.endpoint_failure("bad_response", endpoint, "no access_token in the answer"))
    token_type = str(answer.get("token_type") or "bearer")
    if token_type.lower() != "bearer":
        raise DiagnosedError(od.endpoint_failure("bad_response", endpoint, f"token type {od.clean(token_type, 40)}"))
    access = answer["access_token"]
    if len(access) > 16384 or any(ord(ch) < 33 or ord(ch) > 126 for ch in access):
        raise DiagnosedError(od.endpoint_failure("bad_response", endpoint, "the access token is not a bearer token"))
    refresh = answer.get("refresh_token")
    refresh = refresh if isinstance(refresh, str) and refresh else previous_refresh
    expires_in = answer.get("expires_in")
    try:
        expires_at = time.time() + float(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        expires_at = None
    return Tokens(access, refresh, expires_at, str(answer.get("scope") or ""))


def _check_endpoint(url: str) -> None:
    """https only; plain http is allowed for a loopback server (tests, a local identity proxy)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return
    raise OAuthInputError("endpoint", f"{url!r} is not an https URL")


def not_signed_in(profile: str) -> DiagnosedError:
    return DiagnosedError(od.flow_failure(Code.OAUTH_NOT_SIGNED_IN, profile=profile))


# -- bounded HTTP answers ----------------------------------------------------------------------------------


class ResponseTooLarge(Exception):
    pass


class _LimitedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, limit: int):
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(f"more than {self._limit} bytes")
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _BoundedTransport(httpx.AsyncHTTPTransport):
    """Stops reading an answer after MAX_RESPONSE bytes (httpx alone would read any size into memory)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_RESPONSE:
            await response.aclose()
            raise ResponseTooLarge(f"Content-Length {length}")
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_LimitedStream(stream, MAX_RESPONSE),
            extensions=response.extensions,
        )
