"""The provider catalogue: the data model and the loader of resources/providers/*.toml.

Names are imported from their submodule on first use (app.core.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.lazy import lazy_exports

if TYPE_CHECKING:
    from app.core.catalog.cache import CatalogueSource, default_source
    from app.core.catalog.checker import CatalogueError
    from app.core.catalog.listing import ProviderEntry, entries_of
    from app.core.catalog.loader import (
        Catalogue,
        default_catalogue,
        load_catalogue,
        match_error_hint,
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
    from app.core.catalog.serialize import provider_to_dict

# where each public name lives: imported on first use (app.core.lazy)
_SOURCES = {
    "cache": ("CatalogueSource", "default_source"),
    "checker": ("CatalogueError",),
    "listing": ("ProviderEntry", "entries_of"),
    "loader": (
        "Catalogue",
        "default_catalogue",
        "load_catalogue",
        "match_error_hint",
        "user_providers_dir",
    ),
    "model": (
        "ClientSecretUse",
        "Endpoint",
        "ErrorHint",
        "OAuthSpec",
        "PasswordKind",
        "Provider",
        "ProviderKind",
        "Sending",
        "UsernameRule",
    ),
    "oauth": (
        "ClientPreset",
        "ClientPresets",
        "default_clients_file",
        "load_client_presets",
        "oauth_to_dict",
        "valid_client_id",
        "valid_tenant",
    ),
    "serialize": ("provider_to_dict",),
}
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueSource",
    "ClientPreset",
    "ClientPresets",
    "ClientSecretUse",
    "Endpoint",
    "ErrorHint",
    "OAuthSpec",
    "PasswordKind",
    "Provider",
    "ProviderEntry",
    "ProviderKind",
    "Sending",
    "UsernameRule",
    "default_catalogue",
    "default_clients_file",
    "default_source",
    "entries_of",
    "load_catalogue",
    "load_client_presets",
    "match_error_hint",
    "oauth_to_dict",
    "provider_to_dict",
    "user_providers_dir",
    "valid_client_id",
    "valid_tenant",
]
