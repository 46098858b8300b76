"""What is kept: the keyring wrapper, profiles and exports."""

from __future__ import annotations

from app.core.store.export import (
    EXPORT_FILENAMES,
    EXPORT_FORMATS,
    ExportError,
    dotenv_quote,
    js_str,
    php_str,
    py_str,
    render_export,
    write_export,
)
from app.core.store.profiles import (
    MAX_NAME_LENGTH,
    SCHEMA_VERSION,
    Profile,
    ProfileErrorKind,
    ProfileStore,
    ProfileStoreError,
    default_profiles_path,
    join_proxy_secret,
    normalize_name,
    split_proxy_secret,
)
from app.core.store.secrets import (
    PROXY_SERVICE,
    SERVICE,
    SecretErrorKind,
    SecretStore,
    SecretStoreError,
    backend_display_name,
    is_secure_backend,
)

__all__ = [
    "EXPORT_FILENAMES",
    "EXPORT_FORMATS",
    "MAX_NAME_LENGTH",
    "PROXY_SERVICE",
    "SCHEMA_VERSION",
    "SERVICE",
    "ExportError",
    "Profile",
    "ProfileErrorKind",
    "ProfileStore",
    "ProfileStoreError",
    "SecretErrorKind",
    "SecretStore",
    "SecretStoreError",
    "backend_display_name",
    "default_profiles_path",
    "dotenv_quote",
    "is_secure_backend",
    "join_proxy_secret",
    "js_str",
    "normalize_name",
    "php_str",
    "py_str",
    "render_export",
    "split_proxy_secret",
    "write_export",
]
