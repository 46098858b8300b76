"""The ``[oauth]`` table of a provider file, and the organisation's preset client ids.

Kept apart from the loader's other fields so that a provider file can add OAuth sign-in without code:
endpoints, scopes per protocol, PKCE, the loopback redirect style, the SASL mechanisms and a guide (ru, en)
for registering one's own client id. No client id is shipped with MailSetup; an organisation can preset
its ids in ``oauth_clients.toml`` next to the user's provider files (see :func:`load_client_presets`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.core.catalog import checker as _checker
from app.core.catalog import sections as _sections
from app.core.catalog.loader import user_providers_dir as _user_providers_dir
from app.core.catalog.model import ClientSecretUse, OAuthSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from app.core.catalog.checker import Checker

PROTOCOLS = ("smtp", "imap", "pop3")
SASL_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
CLIENTS_FILE = "oauth_clients.toml"
_SCOPE_RE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 §3.3 scope-token
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9._~:@+/=-]{1,200}$")
# A Microsoft tenant: common / organizations / consumers, a GUID or a verified domain name.
_TENANT_RE = re.compile(
    r"^(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$"
)
_PARAM_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")

_KEYS = {
    "authorization_endpoint", "token_endpoint", "device_endpoint", "revocation_endpoint", "admin_consent_url",
    "default_tenant", "scopes", "extra_scopes", "pkce", "redirect", "redirect_any_port", "sasl", "client_secret",
    "auth_params", "registration", "guide",
}  # fmt: skip


def parse_oauth(c: Checker, data: Mapping[str, Any], links: Mapping[str, str]) -> OAuthSpec | None:
    """The provider's ``[oauth]`` table as an OAuthSpec (None when absent or broken; problems go to ``c``)."""
    raw = c.get(data, "oauth", dict, "oauth")
    if raw is None:
        return None
    sub = _checker.Checker(c.file)  # paths below are relative to [oauth]; prefixed when merged
    spec = _parse(sub, raw, links)
    for e in sub.errors:
        c.err(f"oauth.{e.field}" if e.field else "oauth", e.message)
    return spec if not sub.errors else None


def _parse(c: Checker, raw: Mapping[str, Any], links: Mapping[str, str]) -> OAuthSpec | None:
    for key in raw:
        if key not in _KEYS:
            c.err(key, "unknown field (typo?)")
    allowed = {"tenant"}
    auth = _endpoint(c, raw, "authorization_endpoint", allowed, required=True)
    token = _endpoint(c, raw, "token_endpoint", allowed, required=True)
    device = _endpoint(c, raw, "device_endpoint", allowed)
    revoke = _endpoint(c, raw, "revocation_endpoint", allowed)
    consent = _endpoint(c, raw, "admin_consent_url", {"tenant", "client_id"})
    tenant = c.text(raw, "default_tenant", "default_tenant")
    if tenant is not None and not valid_tenant(tenant):
        c.err("default_tenant", f"{tenant!r} is not a tenant (common, organizations, consumers, a GUID or a domain)")
    uses_tenant = any("{tenant}" in (u or "") for u in (auth, token, device, revoke))
    if uses_tenant and tenant is None and "default_tenant" not in raw:
        c.err("default_tenant", "is required when an endpoint holds {tenant}")

    scopes = _scopes(c, raw)
    extra = tuple(_scope_list(c, raw, "extra_scopes", "extra_scopes"))
    pkce = c.get(raw, "pkce", bool, "pkce")
    redirect, any_port = _redirect(c, raw)
    sasl = _sasl(c, raw)
    secret = c.choice(raw, "client_secret", ClientSecretUse, ClientSecretUse.NONE)
    params: dict[str, str] = {}
    for k, v in (c.get(raw, "auth_params", dict, "auth_params") or {}).items():
        if not _PARAM_RE.match(k) or not isinstance(v, str) or not v or any(ch.isspace() for ch in v):
            c.err(f"auth_params.{k}", "must be a parameter name with a non-empty value without spaces")
        elif k in _RESERVED_PARAMS:
            c.err(f"auth_params.{k}", "is set by MailSetup itself")
        else:
            params[k] = v
    registration = c.url(raw["registration"], "registration", links) if "registration" in raw else None
    guide = _sections._guides(c, raw, links, required=True)
    if c.errors or auth is None or token is None:
        return None
    return OAuthSpec(
        authorization_endpoint=auth,
        token_endpoint=token,
        scopes=scopes,
        extra_scopes=extra,
        device_endpoint=device,
        revocation_endpoint=revoke,
        admin_consent_url=consent,
        default_tenant=tenant,
        pkce=True if pkce is None else pkce,
        redirect_uri=redirect,
        redirect_any_port=any_port,
        sasl=sasl,
        client_secret=secret,
        auth_params=params,
        registration_url=registration,
        guide=guide,
    )


_RESERVED_PARAMS = {
    "client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method",
}  # fmt: skip


def _endpoint(c: Checker, raw: Mapping[str, Any], key: str, allowed: set[str], *, required: bool = False) -> str | None:
    value = c.text(raw, key, key, required=required)
    if value is None:
        return None
    for name in _PLACEHOLDER_RE.findall(value):
        if name not in allowed:
            c.err(key, f"unknown placeholder {{{name}}} (allowed: {', '.join(sorted(allowed))})")
            return None
    probe = _PLACEHOLDER_RE.sub("x", value)
    if not c.check_https(probe, key):
        return None
    return value


def _scope_list(c: Checker, table: Mapping[str, Any], key: str, path: str) -> list[str]:
    out: list[str] = []
    for i, s in enumerate(c.str_list(table, key, path)):
        if not _SCOPE_RE.match(s):
            c.err(f"{path}[{i}]", f"{s!r} is not an OAuth scope (no spaces, quotes or backslashes)")
        elif s not in out:
            out.append(s)
    return out


def _scopes(c: Checker, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    table = c.get(raw, "scopes", dict, "scopes", required=True)
    out: dict[str, tuple[str, ...]] = {}
    for proto in table or {}:
        if proto not in PROTOCOLS:
            c.err(f"scopes.{proto}", f"must be one of {', '.join(PROTOCOLS)}")
            continue
        scopes = _scope_list(c, table, proto, f"scopes.{proto}")
        if scopes:
            out[proto] = tuple(scopes)
        elif f"scopes.{proto}" not in {e.field.split("[")[0] for e in c.errors}:
            c.err(f"scopes.{proto}", "needs at least one scope")
    if table is not None and "smtp" not in out and not any(e.field.startswith("scopes") for e in c.errors):
        c.err("scopes.smtp", "is required (MailSetup checks sending)")
    return out


def _redirect(c: Checker, raw: Mapping[str, Any]) -> tuple[str, bool]:
    any_port = c.get(raw, "redirect_any_port", bool, "redirect_any_port")
    any_port = True if any_port is None else any_port
    value = c.text(raw, "redirect", "redirect", required=True)
    if value is None:
        return "http://127.0.0.1/", any_port
    parts = urlsplit(value)
    host = (parts.netloc.rsplit(":", 1)[0] if parts.port is not None else parts.netloc) if _port_ok(parts) else ""
    if parts.scheme != "http" or host.lower() not in LOOPBACK_HOSTS or parts.query or parts.fragment:
        c.err("redirect", f"must be a loopback http URL such as http://localhost/ or http://127.0.0.1/, got {value!r}")
    elif any_port and parts.port is not None:
        c.err("redirect", "carries no port when redirect_any_port is true (the port is picked at sign-in)")
    elif not any_port and parts.port is None:
        c.err("redirect", "needs the registered port when redirect_any_port is false")
    return value, any_port


def _port_ok(parts: Any) -> bool:
    try:
        return parts.port is None or 1 <= parts.port <= 65535
    except ValueError:
        return False


def _sasl(c: Checker, raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = c.str_list(raw, "sasl", "sasl") if "sasl" in raw else ["XOAUTH2"]
    out: list[str] = []
    for i, name in enumerate(names):
        if name.upper() not in SASL_MECHANISMS:
            c.err(f"sasl[{i}]", f"must be one of {', '.join(SASL_MECHANISMS)}")
        elif name.upper() not in out:
            out.append(name.upper())
    if "sasl" in raw and not names:
        c.err("sasl", "needs at least one mechanism")
    return tuple(out)


def valid_tenant(value: str) -> bool:
    return bool(_TENANT_RE.match(value))


def valid_client_id(value: str) -> bool:
    return bool(_CLIENT_ID_RE.match(value))


def oauth_to_dict(spec: OAuthSpec) -> dict[str, Any]:
    """JSON-ready description of a provider's OAuth sign-in (no client id: there is none shipped)."""
    return {
        "authorization_endpoint": spec.authorization_endpoint,
        "token_endpoint": spec.token_endpoint,
        "device_endpoint": spec.device_endpoint,
        "revocation_endpoint": spec.revocation_endpoint,
        "admin_consent_url": spec.admin_consent_url,
        "default_tenant": spec.default_tenant,
        "scopes": {k: list(v) for k, v in spec.scopes.items()},
        "extra_scopes": list(spec.extra_scopes),
        "pkce": spec.pkce,
        "redirect": spec.redirect_uri,
        "redirect_any_port": spec.redirect_any_port,
        "sasl": list(spec.sasl),
        "client_secret": spec.client_secret.value,
        "registration": spec.registration_url,
    }


# --- preset client ids of an organisation ---------------------------------------------------------


@dataclass(frozen=True)
class ClientPreset:
    """An organisation's own registration for one provider (never a secret: ids and tenants are public)."""

    provider_id: str
    client_id: str
    tenant: str | None = None


@dataclass
class ClientPresets:
    presets: dict[str, ClientPreset] = field(default_factory=dict)
    errors: list[_checker.CatalogueError] = field(default_factory=list)

    def get(self, provider_id: str) -> ClientPreset | None:
        return self.presets.get(provider_id)


def default_clients_file() -> Path:
    """``<user config dir>/mailsetup/oauth_clients.toml``, next to the user's ``providers`` folder."""
    return _user_providers_dir().parent / CLIENTS_FILE


def load_client_presets(path: Path | None = None) -> ClientPresets:
    """Read the organisation's client ids: one table per provider id with ``client_id`` (and ``tenant``).

    A missing file is no error. A ``client_secret`` key is refused: secrets never live in a plain file.
    """
    file = Path(path) if path is not None else default_clients_file()
    out = ClientPresets()
    if not file.is_file():
        return out
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        out.errors.append(_checker.CatalogueError(file.name, "", f"cannot be read: {exc}", str(file)))
        return out
    c = _checker.Checker(file)
    for pid, table in data.items():
        if not isinstance(table, dict):
            c.err(pid, "must be a table with client_id (and tenant)")
            continue
        for key in table:
            if key == "client_secret":
                c.err(
                    f"{pid}.{key}", "secrets are not kept in files; MailSetup asks for it and keeps it in the keyring"
                )
            elif key not in ("client_id", "tenant"):
                c.err(f"{pid}.{key}", "unknown field (typo?)")
        cid = c.text(table, "client_id", f"{pid}.client_id", required=True)
        if cid is not None and not valid_client_id(cid):
            c.err(f"{pid}.client_id", "is not a client id (letters, digits and . _ ~ : @ + / = - only)")
            cid = None
        tenant = c.text(table, "tenant", f"{pid}.tenant")
        if tenant is not None and not valid_tenant(tenant):
            c.err(f"{pid}.tenant", f"{tenant!r} is not a tenant (common, organizations, consumers, a GUID or a domain)")
            tenant = None
        if cid is not None and not any(e.field.startswith(f"{pid}.") for e in c.errors):
            out.presets[pid] = ClientPreset(pid, cid, tenant)
    out.errors.extend(c.errors)
    return out
