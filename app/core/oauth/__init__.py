"""OAuth 2.0 sign-in: the admin's own client registration, the browser (PKCE + loopback) and device-code
flows, refresh, and the grant kept in the keyring only."""

from __future__ import annotations

from app.core.oauth.client import MAX_RESPONSE, OAuthClient, OAuthInputError, Tokens
from app.core.oauth.export import OAUTH_FORMATS, REFRESH_ENV, render_oauth_export
from app.core.oauth.flows import DeviceCode, refresh, revoke, sign_in_browser, sign_in_device
from app.core.oauth.grants import (
    OAUTH_SERVICE,
    Grant,
    OAuthAccount,
    access_token,
    account_of,
    client_for,
    delete_grant,
    load_grant,
    oauth_profile,
    save_grant,
    save_oauth_account,
)
from app.core.oauth.imported import SignedIn, sign_in_profile
from app.core.oauth.loopback import LoopbackReceiver, Redirect

__all__ = [
    "MAX_RESPONSE",
    "OAUTH_FORMATS",
    "OAUTH_SERVICE",
    "REFRESH_ENV",
    "DeviceCode",
    "Grant",
    "LoopbackReceiver",
    "OAuthAccount",
    "OAuthClient",
    "OAuthInputError",
    "Redirect",
    "SignedIn",
    "Tokens",
    "access_token",
    "account_of",
    "client_for",
    "delete_grant",
    "load_grant",
    "oauth_profile",
    "refresh",
    "render_oauth_export",
    "revoke",
    "save_grant",
    "save_oauth_account",
    "sign_in_browser",
    "sign_in_device",
    "sign_in_profile",
]
