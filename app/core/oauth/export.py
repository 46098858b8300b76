"""Exports of an OAuth profile: what the target program supports, never the refresh token unless asked.

Nodemailer has OAuth2 built in (``auth.type = "OAuth2"`` with clientId and refreshToken; it refreshes at
``accessUrl``); JSON carries the OAuth facts. The other formats log in with a password only, so they get a
clear note instead of a configuration that cannot work. The SMTP part comes from the one exporter
(``app.core.store.render_export``); only its ``auth`` is replaced here.
"""

from __future__ import annotations

import json
from typing import Any

from app.core.catalog import Catalogue
from app.core.oauth.grants import OAuthAccount, account_of, client_for
from app.core.store import ExportError, Profile, js_str, render_export

REFRESH_ENV = "SMTP_OAUTH_REFRESH_TOKEN"
SECRET_ENV = "SMTP_OAUTH_CLIENT_SECRET"
OAUTH_FORMATS = ("nodemailer", "json")


def render_oauth_export(
    profile: Profile,
    fmt: str,
    *,
    refresh_token: str | None = None,
    catalogue: Catalogue | None = None,
) -> str:
    """The export ``fmt`` of an OAuth profile; ``refresh_token`` is written only when given (asked for)."""
    account = account_of(profile)
    if account is None:
        raise ExportError(f"'{profile.name}' does not sign in with OAuth")
    client = client_for(account, catalogue)
    if fmt not in OAUTH_FORMATS:
        raise ExportError(
            f"'{profile.name}' signs in with OAuth 2.0 ({client.provider_name}), and the {fmt} export can only "
            f"give a password, which {client.provider_name} does not take here. Export as "
            f"{' or '.join(OAUTH_FORMATS)}, or give that program its own OAuth 2.0 sign-in."
        )
    if fmt == "json":
        return _json(profile, account, client, refresh_token)
    return _nodemailer(profile, account, client, refresh_token)


def _nodemailer(profile: Profile, account: OAuthAccount, client: Any, refresh_token: str | None) -> str:
    text = render_export(profile, "nodemailer")
    token = js_str(refresh_token) if refresh_token else f"process.env.{REFRESH_ENV}"
    fields = [
        'type: "OAuth2"',
        f"user: {js_str(profile.settings.username)}",
        f"clientId: {js_str(account.client_id)}",
    ]
    if client.spec.client_secret.value != "none":
        fields.append(f"clientSecret: process.env.{SECRET_ENV}")
    fields += [f"refreshToken: {token}", f"accessUrl: {js_str(client.token_endpoint)}"]
    auth = "  auth: { " + ", ".join(fields) + " }, // OAuth 2.0: nodemailer refreshes the access token itself"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  auth: {"):
            lines[i] = auth
            break
    else:
        lines.insert(next(i for i, ln in enumerate(lines) if ln.startswith("  secure:")) + 1, auth)
    return "\n".join(lines) + "\n"


def _json(profile: Profile, account: OAuthAccount, client: Any, refresh_token: str | None) -> str:
    data = json.loads(render_export(profile, "json"))
    data.update(password=None, password_env=None, auth="xoauth2")
    data["oauth"] = {
        "provider": account.provider_id,
        "client_id": account.client_id,
        "tenant": account.tenant,
        "token_endpoint": client.token_endpoint,
        "scopes": list(client.spec.scopes_for(account.protocols)),
        "refresh_token": refresh_token,
        "refresh_token_env": None if refresh_token else REFRESH_ENV,
        "client_secret_env": SECRET_ENV if client.spec.client_secret.value != "none" else None,
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
