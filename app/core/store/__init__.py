"""What is kept: accounts (profile + secrets as one unit), the keyring wrapper, profiles, exports, atomic files."""

from __future__ import annotations

from app.core.store.accounts import AccountStore, DeleteResult, LoadedAccount, SaveResult, sandbox_settings
from app.core.store.export import (
    EXPORT_FILENAMES,
    EXPORT_FORMATS,
    export_warnings,
    render_export,
    write_export,
)
from app.core.store.files import TargetError, atomic_write, check_target
from app.core.store.profiles import (
    MAX_NAME_LENGTH,
    SCHEMA_VERSION,
    Profile,
    ProfileErrorKind,
    ProfileStore,
    ProfileStoreError,
    default_profiles_path,
    normalize_name,
)
from app.core.store.proxy_url import join_proxy_secret, split_proxy_secret
from app.core.store.quoting import ExportError, dotenv_quote, js_str, php_str, py_str
from app.core.store.secrets import (
    OAUTH_SERVICE,
    OWNED_SERVICES,
    PROXY_SERVICE,
    SECURE_BACKENDS,
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
    "OAUTH_SERVICE",
    "OWNED_SERVICES",
    "PROXY_SERVICE",
    "SCHEMA_VERSION",
    "SECURE_BACKENDS",
    "SERVICE",
    "AccountStore",
    "DeleteResult",
    "ExportError",
    "LoadedAccount",
    "Profile",
    "ProfileErrorKind",
    "ProfileStore",
    "ProfileStoreError",
    "SaveResult",
    "SecretErrorKind",
    "SecretStore",
    "SecretStoreError",
    "TargetError",
    "atomic_write",
    "backend_display_name",
    "check_target",
    "default_profiles_path",
    "dotenv_quote",
    "export_warnings",
    "is_secure_backend",
    "join_proxy_secret",
    "js_str",
    "normalize_name",
    "php_str",
    "py_str",
    "render_export",
    "sandbox_settings",
    "split_proxy_secret",
    "write_export",
]
