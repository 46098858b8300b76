"""Signing in an OAuth account that arrived in a rollout bundle (``profiles import-bundle --sign-in``).

The bundle carries the public half of the sign-in only (provider, client id, tenant, login). Here the user
signs in (browser or device code) for that profile; the result is the access token to check the account
with and the one way to save it (grant to the keyring first, then the profile: ``save_oauth_account``).
Nothing is saved here: the import checks first and saves only what passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.core.oauth.client import OAuthInputError
from app.core.oauth.flows import sign_in_browser, sign_in_device
from app.core.oauth.grants import Grant, account_of, client_for, save_oauth_account
from app.core.store import AccountStore, Profile


@dataclass
class SignedIn:
    """A completed sign-in for ``profile``: ``secret`` is the access token; ``save`` keeps the account."""

    profile: Profile
    secret: str = field(repr=False)
    grant: Grant = field(repr=False)

    def save(self, accounts: AccountStore) -> Profile:
        return save_oauth_account(self.profile, self.grant, accounts=accounts)


async def sign_in_profile(
    profile: Profile,
    *,
    open_browser: Callable[[str], Any] | None = None,
    on_code: Callable[[Any], Any] | None = None,
    timeout: float = 300.0,
) -> SignedIn:
    """Sign in for an OAuth ``profile`` (device code when ``on_code`` is given, else the browser).

    Raises OAuthInputError for a profile that cannot sign in here (no OAuth account, a provider that needs
    the client secret, which a bundle never carries), DiagnosedError for a sign-in that failed."""
    account = account_of(profile)
    if account is None:
        raise OAuthInputError("profile", f"'{profile.name}' is not an OAuth profile")
    client = client_for(account).validated()
    if on_code is not None:
        tokens = await sign_in_device(client, on_code, timeout=timeout)
    else:
        if open_browser is None:
            raise OAuthInputError("browser", "no way to open the sign-in page was given")
        tokens = await sign_in_browser(client, open_browser, timeout=timeout, login_hint=profile.settings.username)
    if not tokens.refresh_token:
        raise OAuthInputError("refresh_token", "the provider issued no refresh token (offline access)")
    return SignedIn(profile, tokens.access_token, Grant(tokens.refresh_token, client.client_secret))
