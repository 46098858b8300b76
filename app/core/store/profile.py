"""One saved account ("profile"): its settings without secrets, its name rule and the store's error kinds."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from app.core.model import IncomingServer, SettingsError, SmtpSettings
from app.core.store.entries import check_entry
from app.core.store.proxy_url import split_proxy_secret

MAX_NAME_LENGTH = 80


class ProfileErrorKind(str, Enum):
    """Why a profile operation failed (stable; part of the CLI's JSON)."""

    INVALID_NAME = "invalid_name"
    NOT_FOUND = "not_found"
    EXISTS = "exists"
    CORRUPT = "corrupt"  # the file was unreadable and has been moved aside
    TOO_NEW = "too_new"  # written by a newer MailSetup; left alone
    READ_FAILED = "read_failed"
    WRITE_FAILED = "write_failed"
    INVALID = "invalid"  # the profile itself is not valid
    BUSY = "busy"  # another process held the lock for LOCK_TIMEOUT seconds


class ProfileStoreError(Exception):
    """A profile could not be read, written or found; ``message`` says why and what to do."""

    def __init__(self, kind: ProfileErrorKind, message: str, *, path: Path | None = None, moved_to: Path | None = None):
        self.kind = ProfileErrorKind(kind)
        self.message = message
        self.path = path
        self.moved_to = moved_to
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "path": str(self.path) if self.path else None,
            "moved_to": str(self.moved_to) if self.moved_to else None,
        }


def normalize_name(name: str) -> str:
    """Validate a profile name and return its canonical form (NFC, surrounding spaces removed).

    Any printable Unicode is allowed (quotes, slashes, emoji, Cyrillic ...); control characters,
    line/paragraph separators, empty names and names over MAX_NAME_LENGTH characters are not.
    Raises ProfileStoreError(kind=INVALID_NAME).
    """
    if not isinstance(name, str):
        raise ProfileStoreError(ProfileErrorKind.INVALID_NAME, "The profile name must be text.")
    value = unicodedata.normalize("NFC", name).strip()
    if not value:
        raise ProfileStoreError(ProfileErrorKind.INVALID_NAME, "The profile name is empty.")
    if len(value) > MAX_NAME_LENGTH:
        raise ProfileStoreError(
            ProfileErrorKind.INVALID_NAME,
            f"The profile name is {len(value)} characters long; use at most {MAX_NAME_LENGTH}.",
        )
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            raise ProfileStoreError(
                ProfileErrorKind.INVALID_NAME,
                f"The profile name contains an invisible control character (U+{ord(ch):04X}); "
                "use letters, digits, spaces and punctuation only.",
            )
    return value


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Profile:
    """One saved account. ``settings.proxy`` never carries a password once saved."""

    name: str
    settings: SmtpSettings
    from_addr: str = ""
    from_name: str = ""
    provider_id: str | None = None
    has_secret: bool = False  # a password/token for this profile is in the OS password store
    secret_backend: str | None = None  # display name of that store ("macOS Keychain", ...)
    secret_backend_id: str | None = None  # its class ("keyring.backends.macOS.Keyring"): where to look again
    has_proxy_secret: bool = False
    sandbox: bool = False  # the local sandbox server: host and port are filled in when it runs
    created_at: str = ""  # ISO 8601 UTC, set by ProfileStore.save
    updated_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown keys from newer versions, kept as-is
    incoming: IncomingServer | None = None  # the account's IMAP/POP3 server (login and TLS as for SMTP)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; a proxy password is stripped here so it can never reach the file."""
        settings = self.settings.to_dict()
        settings["proxy"], _ = split_proxy_secret(settings.get("proxy"))
        data = dict(self.extra)
        data.update(
            {
                "name": self.name,
                "settings": settings,
                "from_addr": self.from_addr,
                "from_name": self.from_name,
                "provider_id": self.provider_id,
                "has_secret": self.has_secret,
                "secret_backend": self.secret_backend if self.has_secret or self.has_proxy_secret else None,
                "secret_backend_id": self.secret_backend_id if self.has_secret or self.has_proxy_secret else None,
                "has_proxy_secret": self.has_proxy_secret,
                "sandbox": self.sandbox,
                "incoming": self.incoming.to_dict() if self.incoming is not None else None,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Inverse of to_dict. Raises ProfileStoreError(kind=INVALID) naming the problem."""
        problems = check_entry(data)
        if problems:
            raise ProfileStoreError(ProfileErrorKind.INVALID, "; ".join(problems))
        try:
            settings = SmtpSettings.from_dict(data.get("settings") or {})
        except (SettingsError, ValueError, TypeError, OverflowError) as exc:
            raise ProfileStoreError(ProfileErrorKind.INVALID, f"settings: {exc}") from None
        known = set(cls.__dataclass_fields__) - {"extra"}
        try:
            incoming = IncomingServer.from_dict(data["incoming"]) if data.get("incoming") else None
        except ValueError as exc:
            raise ProfileStoreError(ProfileErrorKind.INVALID, str(exc)) from None
        return cls(
            name=normalize_name(str(data.get("name", ""))),
            settings=settings,
            from_addr=str(data.get("from_addr") or ""),
            from_name=str(data.get("from_name") or ""),
            provider_id=(str(data["provider_id"]) if data.get("provider_id") else None),
            has_secret=bool(data.get("has_secret", False)),
            secret_backend=(str(data["secret_backend"]) if data.get("secret_backend") else None),
            secret_backend_id=(str(data["secret_backend_id"]) if data.get("secret_backend_id") else None),
            has_proxy_secret=bool(data.get("has_proxy_secret", False)),
            sandbox=bool(data.get("sandbox", False)),
            created_at=str(data.get("created_at") or ""),
            updated_at=str(data.get("updated_at") or ""),
            extra={k: v for k, v in data.items() if k not in known},
            incoming=incoming,
        )
