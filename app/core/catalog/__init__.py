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
    Endpoint,
    ErrorHint,
    PasswordKind,
    Provider,
    ProviderKind,
    UsernameRule,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Endpoint",
    "ErrorHint",
    "PasswordKind",
    "Provider",
    "ProviderKind",
    "UsernameRule",
    "default_catalogue",
    "load_catalogue",
    "match_error_hint",
    "provider_to_dict",
    "user_providers_dir",
]
