"""Saved accounts ("profiles"): everything about an account except its secrets.

File: ``<user_config_dir("mailsetup")>/profiles.json``, human-readable JSON::

    {"schema": 1, "profiles": {"<name>": {<Profile.to_dict()>}, ...}}

Writes are atomic (temp file in the same folder, fsync, ``os.replace``, fsync of the
folder), so a crash or a full disk never leaves a half-written file. A file that is
not valid JSON (or not our structure) is moved aside to
``profiles.json.corrupt-<UTC timestamp>`` and reported with ``ProfileStoreError``;
it is never overwritten or silently dropped. A single unreadable entry is kept in
the file untouched and reported by ``ProfileStore.problems()``.

Passwords live only in the OS password store (``app.core.store.secrets``); a proxy URL is
saved without its password (``has_proxy_secret`` says one is in the password store).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from app.core.model import SettingsError, SmtpSettings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "profiles.json"
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


def default_profiles_path() -> Path:
    """``profiles.json`` in the per-user config folder (honours XDG_CONFIG_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mailsetup", appauthor=False)) / FILE_NAME


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


def split_proxy_secret(proxy: str | None) -> tuple[str | None, str | None]:
    """``socks5://user:pw@h:1`` -> (``socks5://user@h:1``, ``pw``); URLs without a password unchanged."""
    if not proxy:
        return proxy or None, None
    parts = urlsplit(proxy)
    if parts.password is None:
        return proxy, None
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (quote(unquote(user), safe="") + "@" if user else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), unquote(parts.password)


def join_proxy_secret(proxy: str | None, password: str | None) -> str | None:
    """Inverse of split_proxy_secret: put ``password`` back into the proxy URL for connecting."""
    if not proxy or not password:
        return proxy
    parts = urlsplit(proxy)
    user = quote(unquote(parts.username or ""), safe="")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _now() -> str:
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
    has_proxy_secret: bool = False
    created_at: str = ""  # ISO 8601 UTC, set by ProfileStore.save
    updated_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown keys from newer versions, kept as-is

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
                "secret_backend": self.secret_backend if self.has_secret else None,
                "has_proxy_secret": self.has_proxy_secret,
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        """Inverse of to_dict. Raises ProfileStoreError(kind=INVALID) naming the problem."""
        if not isinstance(data, Mapping):
            raise ProfileStoreError(ProfileErrorKind.INVALID, "A saved profile is not a JSON object.")
        try:
            settings = SmtpSettings.from_dict(data.get("settings") or {})
        except SettingsError as exc:
            raise ProfileStoreError(ProfileErrorKind.INVALID, str(exc)) from None
        known = set(cls.__dataclass_fields__) - {"extra"}
        return cls(
            name=normalize_name(str(data.get("name", ""))),
            settings=settings,
            from_addr=str(data.get("from_addr") or ""),
            from_name=str(data.get("from_name") or ""),
            provider_id=(str(data["provider_id"]) if data.get("provider_id") else None),
            has_secret=bool(data.get("has_secret", False)),
            secret_backend=(str(data["secret_backend"]) if data.get("secret_backend") else None),
            has_proxy_secret=bool(data.get("has_proxy_secret", False)),
            created_at=str(data.get("created_at") or ""),
            updated_at=str(data.get("updated_at") or ""),
            extra={k: v for k, v in data.items() if k not in known},
        )


class ProfileStore:
    """The saved accounts in one JSON file (default: ``default_profiles_path()``).

    Every call re-reads the file, so several windows/processes see each other's changes.
    Methods raise ProfileStoreError with a message fit to show the user.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_profiles_path()
        self._problems: dict[str, str] = {}

    # -- reading ----------------------------------------------------------------------------------
    def _load_raw(self) -> dict[str, Any]:
        """{name: raw dict} from the file; {} when there is none. Moves a corrupt file aside."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except NotADirectoryError:
            return {}
        except UnicodeDecodeError as exc:
            self._move_aside(f"it is not UTF-8 text ({exc.reason})")
        except OSError as exc:
            raise ProfileStoreError(
                ProfileErrorKind.READ_FAILED,
                f"Could not read the saved accounts from {self.path}: {exc.strerror or exc}.",
                path=self.path,
            ) from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            self._move_aside(f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
        if not isinstance(doc, dict) or not isinstance(doc.get("profiles", {}), dict):
            self._move_aside("it does not have the expected structure")
        schema = doc.get("schema", SCHEMA_VERSION)
        if not isinstance(schema, int):
            self._move_aside(f"its schema version {schema!r} is not a number")
        if schema > SCHEMA_VERSION:
            raise ProfileStoreError(
                ProfileErrorKind.TOO_NEW,
                f"The saved accounts in {self.path} were written by a newer version of MailSetup "
                f"(format {schema}, this version reads {SCHEMA_VERSION}). Update MailSetup; "
                "the file was left unchanged.",
                path=self.path,
            )
        return dict(doc.get("profiles") or {})

    def _move_aside(self, why: str) -> NoReturn:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            raise ProfileStoreError(
                ProfileErrorKind.CORRUPT,
                f"The saved accounts file {self.path} cannot be read because {why}, and it could not be moved "
                f"aside ({exc.strerror or exc}). Fix or remove it by hand; it was not changed.",
                path=self.path,
            ) from None
        log.warning("profiles file %s is corrupt (%s); moved to %s", self.path, why, target)
        raise ProfileStoreError(
            ProfileErrorKind.CORRUPT,
            f"The saved accounts file could not be read because {why}. It was kept as {target} so nothing is "
            "lost; MailSetup starts with an empty list. You can repair that file and rename it back to "
            f"{self.path.name}.",
            path=self.path,
            moved_to=target,
        )

    def _parsed(self) -> dict[str, Profile]:
        out: dict[str, Profile] = {}
        self._problems = {}
        for key, raw in self._load_raw().items():
            try:
                out[normalize_name(key)] = replace(Profile.from_dict(raw), name=normalize_name(key))
            except ProfileStoreError as exc:
                self._problems[str(key)] = exc.message
                log.warning("saved profile %r cannot be used: %s", key, exc.message)
        return out

    def list(self) -> list[Profile]:
        """All readable profiles, sorted by name (unreadable ones: see problems())."""
        return sorted(self._parsed().values(), key=lambda p: (p.name.casefold(), p.name))

    def problems(self) -> dict[str, str]:
        """Entries skipped by the last list()/get(): name -> why (they stay in the file untouched)."""
        return dict(self._problems)

    def get(self, name: str) -> Profile | None:
        """The profile called ``name`` or None."""
        return self._parsed().get(normalize_name(name))

    def require(self, name: str) -> Profile:
        """Like get() but raises ProfileStoreError(kind=NOT_FOUND) with a helpful message."""
        profile = self.get(name)
        if profile is None:
            if name in self._problems:
                raise ProfileStoreError(
                    ProfileErrorKind.INVALID, f"The saved profile '{name}' cannot be used: {self._problems[name]}"
                )
            raise ProfileStoreError(
                ProfileErrorKind.NOT_FOUND,
                f"There is no saved profile called '{name}'. See 'mailsetup profiles list'.",
                path=self.path,
            )
        return profile

    # -- writing ----------------------------------------------------------------------------------
    def save(self, profile: Profile, *, overwrite: bool = True) -> Profile:
        """Add or replace ``profile``; returns it with name normalized and timestamps set."""
        name = normalize_name(profile.name)
        try:
            profile.settings.validate()
        except SettingsError as exc:
            raise ProfileStoreError(ProfileErrorKind.INVALID, f"The profile '{name}' is not valid: {exc}") from None
        raw = self._load_raw()
        existing = raw.get(name)
        if existing is not None and not overwrite:
            raise ProfileStoreError(
                ProfileErrorKind.EXISTS, f"A profile called '{name}' already exists.", path=self.path
            )
        created = profile.created_at or (existing.get("created_at") if isinstance(existing, dict) else "") or _now()
        saved = replace(profile, name=name, created_at=created, updated_at=_now())
        raw[name] = saved.to_dict()
        self._write(raw)
        return saved

    def delete(self, name: str) -> bool:
        """Remove the profile ``name``; False when there was none. (The caller removes its secret.)"""
        key = normalize_name(name)
        raw = self._load_raw()
        if key not in raw:
            return False
        del raw[key]
        self._write(raw)
        return True

    def rename(self, old: str, new: str) -> Profile:
        """Rename a profile (the caller moves its secret in the password store)."""
        old_key, new_key = normalize_name(old), normalize_name(new)
        raw = self._load_raw()
        if old_key not in raw:
            raise ProfileStoreError(ProfileErrorKind.NOT_FOUND, f"There is no saved profile called '{old_key}'.")
        if new_key in raw and new_key != old_key:
            raise ProfileStoreError(ProfileErrorKind.EXISTS, f"A profile called '{new_key}' already exists.")
        profile = replace(Profile.from_dict(raw.pop(old_key)), name=new_key, updated_at=_now())
        raw[new_key] = profile.to_dict()
        self._write(raw)
        return profile

    def _write(self, raw: dict[str, Any]) -> None:
        doc = {"schema": SCHEMA_VERSION, "profiles": dict(sorted(raw.items(), key=lambda kv: kv[0].casefold()))}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        folder = self.path.parent
        tmp_name: str | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, self.path)
            tmp_name = None
            _fsync_dir(folder)
        except OSError as exc:
            raise ProfileStoreError(
                ProfileErrorKind.WRITE_FAILED,
                f"Could not save the accounts to {self.path}: {exc.strerror or exc}. Nothing was changed; check "
                "that the folder exists, is writable and the disk is not full.",
                path=self.path,
            ) from None
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
