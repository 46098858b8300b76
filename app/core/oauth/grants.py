"""Where a sign-in is kept: the client id in the profile, the grant (refresh token) in the keyring only.

Profile: ``"oauth": {"provider": id, "client_id": ..., "tenant": ..., "protocols": [...]}`` — public
values. Keyring: service ``"MailSetup OAuth"``, username = the profile name, a small JSON object with the
refresh token (and a Google-style client secret when the registration has one). Nothing of it is ever
written to a file, a log, a transcript or an export.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.catalog import Catalogue, Provider, default_catalogue, valid_client_id, valid_tenant
from app.core.diagnosis import Code, DiagnosedError
from app.core.model import AuthMechanism, Security, SmtpSettings, TlsOptions
from app.core.oauth.client import HTTP_TIMEOUT, OAuthClient, OAuthInputError, not_signed_in
from app.core.oauth.flows import refresh
from app.core.store import OAUTH_SERVICE, AccountStore, Profile, SecretStore

PROFILE_KEY = "oauth"
_PROTOCOLS = ("smtp", "imap", "pop3")


@dataclass(frozen=True)
class OAuthAccount:
    """The public half of a sign-in, kept in the profile."""

    provider_id: str
    client_id: str
    tenant: str | None = None
    protocols: tuple[str, ...] = ("smtp",)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider_id,
            "client_id": self.client_id,
            "tenant": self.tenant,
            "protocols": list(self.protocols),
        }

    @classmethod
    def from_dict(cls, data: Any) -> OAuthAccount | None:
        """The account, or None for anything malformed (a hand-edited file must not crash a check)."""
        if not isinstance(data, Mapping):
            return None
        pid, cid, tenant = data.get("provider"), data.get("client_id"), data.get("tenant")
        protocols = data.get("protocols") or ["smtp"]
        if not isinstance(pid, str) or not isinstance(cid, str) or not valid_client_id(cid):
            return None
        if tenant is not None and (not isinstance(tenant, str) or not valid_tenant(tenant)):
            return None
        if not isinstance(protocols, list) or not all(p in _PROTOCOLS for p in protocols):
            return None
        return cls(pid, cid, tenant, tuple(protocols))


def account_of(profile: Profile) -> OAuthAccount | None:
    """The OAuth sign-in a profile uses, or None for a password profile."""
    return OAuthAccount.from_dict(profile.extra.get(PROFILE_KEY))


def oauth_profile(
    name: str,
    provider: Provider,
    account: OAuthAccount,
    username: str,
    *,
    settings: SmtpSettings | None = None,
    from_addr: str = "",
    existing: Profile | None = None,
    cafile: str | None = None,
) -> Profile:
    """A profile that signs in with ``account``: XOAUTH2, the provider's first SMTP endpoint unless
    ``settings`` say otherwise (``cafile``: a private CA for its certificate), no password."""
    if settings is None:
        if not provider.smtp:
            raise OAuthInputError("provider", f"{provider.display_name()} has no SMTP server in the catalogue")
        ep = provider.smtp[0]
        tls = TlsOptions(cafile=cafile) if cafile else TlsOptions()
        settings = SmtpSettings(host=ep.host, port=ep.port, security=Security(ep.security), tls=tls)
    settings = settings.with_(username=username, auth=AuthMechanism.XOAUTH2).validate()
    extra = dict(existing.extra) if existing else {}
    extra[PROFILE_KEY] = account.to_dict()
    base = existing or Profile(name=name, settings=settings)
    return replace(
        base,
        settings=settings,
        provider_id=provider.id,
        from_addr=from_addr or base.from_addr or username,
        has_secret=False,
        extra=extra,
    )


@dataclass(frozen=True)
class Grant:
    """The secret half of a sign-in (keyring only)."""

    refresh_token: str = field(repr=False)
    client_secret: str | None = field(default=None, repr=False)

    def dumps(self) -> str:
        data = {"v": 1, "refresh_token": self.refresh_token}
        if self.client_secret:
            data["client_secret"] = self.client_secret
        return json.dumps(data)

    @classmethod
    def loads(cls, text: str | None) -> Grant | None:
        try:
            data = json.loads(text or "")
        except ValueError:
            return None
        token = data.get("refresh_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            return None
        secret = data.get("client_secret")
        return cls(token, secret if isinstance(secret, str) and secret else None)


def save_grant(secrets: SecretStore, profile: str, grant: Grant) -> str:
    """Store the grant of ``profile``; returns the keyring's display name. Raises SecretStoreError."""
    return secrets.set(profile, grant.dumps(), service=OAUTH_SERVICE).name


def load_grant(secrets: SecretStore, profile: str) -> Grant | None:
    return Grant.loads(secrets.get(profile, service=OAUTH_SERVICE))


def delete_grant(secrets: SecretStore, profile: str) -> bool:
    return secrets.delete(profile, service=OAUTH_SERVICE)


def save_oauth_account(
    profile: Profile, grant: Grant, *, accounts: AccountStore | None = None, replace_existing: bool = True
) -> Profile:
    """Save (or replace) an OAuth account: the grant to the keyring first, then the profile through the one
    AccountStore (which drops a replaced account's password). When the profile cannot be written, the
    previous grant is put back (or the new one removed). Raises SecretStoreError / ProfileStoreError (kind
    EXISTS when the name is taken and ``replace_existing`` is False: the wizard asks first; ``mailsetup
    oauth login NAME`` signs an account in again, which is a replace by design)."""
    accounts = accounts or AccountStore()
    if not replace_existing:
        accounts.refuse_taken(profile.name)  # before the grant of the account of that name is touched
    secrets = accounts.secrets
    before = secrets.get(profile.name, service=OAUTH_SERVICE)
    save_grant(secrets, profile.name, grant)
    try:
        return accounts.save(profile, replace_existing=replace_existing).profile
    except BaseException:
        try:
            if before is None:
                secrets.delete(profile.name, service=OAUTH_SERVICE)
            else:
                secrets.set(profile.name, before, service=OAUTH_SERVICE)
        except Exception:  # the original failure is the one to report
            pass
        raise


def client_for(
    account: OAuthAccount, catalogue: Catalogue | None = None, client_secret: str | None = None
) -> OAuthClient:
    """The OAuthClient of a stored account (OAuthInputError when its provider no longer offers OAuth)."""
    provider = (catalogue or default_catalogue()).by_id(account.provider_id)
    if provider is None or provider.oauth is None:
        raise OAuthInputError("provider", f"the provider {account.provider_id!r} offers no OAuth sign-in")
    return OAuthClient(
        provider.id,
        provider.display_name(),
        provider.oauth,
        account.client_id,
        account.tenant,
        client_secret,
        account.protocols,
    )


async def access_token(
    profile: Profile,
    *,
    secrets: SecretStore | None = None,
    catalogue: Catalogue | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> str:
    """A fresh access token for ``profile`` (refreshed before every check and send); a rotated refresh
    token replaces the stored one. Raises DiagnosedError (not signed in, sign in again, endpoint down),
    OAuthInputError or SecretStoreError."""
    account = account_of(profile)
    if account is None:
        raise not_signed_in(profile.name)
    secrets = secrets or SecretStore()
    grant = await asyncio.to_thread(load_grant, secrets, profile.name)
    if grant is None:
        raise not_signed_in(profile.name)
    client = client_for(account, catalogue, grant.client_secret)
    try:
        tokens = await refresh(client, grant.refresh_token, timeout=timeout)
    except DiagnosedError as exc:
        if exc.diagnosis.code is Code.OAUTH_SIGN_IN_AGAIN:
            params = dict(exc.diagnosis.params, profile=profile.name)
            raise DiagnosedError(replace(exc.diagnosis, params=params)) from None
        raise
    if tokens.refresh_token and tokens.refresh_token != grant.refresh_token:
        await asyncio.to_thread(save_grant, secrets, profile.name, replace(grant, refresh_token=tokens.refresh_token))
    return tokens.access_token
