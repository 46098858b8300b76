"""The provider catalogue: the data model and the loader of resources/providers/*.toml."""

from __future__ import annotations

from app.core.catalog.loader import (
    Catalogue,
    CatalogueError,
    default_catalogue,
    load_catalogue,
    match_error_hint,
    provider_to_dict,
    user_providers_dir,
)
from app.core.catalog.model import (
    ClientSecretUse,
    Endpoint,
    ErrorHint,
    OAuthSpec,
    PasswordKind,
    Provider,
    ProviderKind,
    Sending,
    UsernameRule,
)
from app.core.catalog.oauth import (
    ClientPreset,
    ClientPresets,
    default_clients_file,
    load_client_presets,
    oauth_to_dict,
    valid_client_id,
    valid_tenant,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "ClientPreset",
    "ClientPresets",
    "ClientSecretUse",
    "Endpoint",
    "ErrorHint",
    "OAuthSpec",
    "PasswordKind",
    "Provider",
    "ProviderKind",
    "Sending",
    "UsernameRule",
    "default_catalogue",
    "default_clients_file",
    "load_catalogue",
    "load_client_presets",
    "match_error_hint",
    "oauth_to_dict",
    "provider_to_dict",
    "user_providers_dir",
    "valid_client_id",
    "valid_tenant",
]
