"""Saved accounts ("profiles"): everything about an account except its secrets.

File: ``<user_config_dir("mailsetup")>/profiles.json``, human-readable JSON::

    {"schema": 1, "profiles": {"<name>": {<Profile.to_dict()>}, ...}}

Writes are atomic (``app.core.store.files.atomic_write``), so a crash or a full disk never
leaves a half-written file, and every read-modify-write holds an inter-process lock
(``filelock``, ``.profiles.json.lock`` beside the file; ``ProfileStore.transaction()``), so
parallel processes never lose each other's profiles. A file that is not valid JSON (or not
our structure) is moved aside to ``profiles.json.corrupt-<UTC timestamp>`` and reported with
``ProfileStoreError``; it is never overwritten or silently dropped. A single unreadable entry
(``app.core.store.entries.check_entry``) is reported by ``ProfileStore.problems()`` as
``profiles.json: profile "x": settings: ...``, skipped, and kept in the file byte for byte;
the file is not rewritten until the user changes something.

Passwords live only in the OS password store (``app.core.store.secrets``); a proxy URL is
saved without its password (``has_proxy_secret`` says one is in the password store).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn

from app.core.model import IncomingServer, SettingsError, SmtpSettings
from app.core.store.entries import DeepValues, check_entry, dump_document, parse_document
from app.core.store.files import atomic_write
from app.core.store.proxy_url import split_proxy_secret

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "profiles.json"
MAX_NAME_LENGTH = 80
LOCK_TIMEOUT = 30.0  # seconds to wait for another process that is saving


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


class ProfileStore:
    """The saved accounts in one JSON file (default: ``default_profiles_path()``).

    Every call re-reads the file, so several windows/processes see each other's changes; every
    change is a read-modify-write under the inter-process lock. Callers that must do more inside
    the same lock (the account store writes secrets first) wrap it in ``transaction()``.
    Methods raise ProfileStoreError with a message fit to show the user.
    """

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else default_profiles_path()
        self._problems: dict[str, str] = {}
        self._deep: DeepValues | None = None
        self._lock: Any = None
        self._guard = threading.Lock()

    # -- locking ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the inter-process lock of the file (re-entrant in this thread)."""
        from filelock import FileLock, Timeout

        with self._guard:
            if self._lock is None:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise self._write_error(exc) from None
                self._lock = FileLock(str(self.path.with_name(f".{self.path.name}.lock")), timeout=LOCK_TIMEOUT)
        try:
            self._lock.acquire()
        except Timeout:
            raise ProfileStoreError(
                ProfileErrorKind.BUSY,
                f"Another MailSetup window or command has been saving accounts for {LOCK_TIMEOUT:g} seconds; "
                "nothing was changed. Close it or try again.",
                path=self.path,
            ) from None
        except OSError as exc:
            raise self._write_error(exc) from None
        try:
            yield
        finally:
            self._lock.release()

    # -- reading ----------------------------------------------------------------------------------
    def _load_raw(self) -> dict[str, Any]:
        """{name: raw dict} from the file; {} when there is none. Moves a corrupt file aside."""
        self._deep = None
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
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
            doc, self._deep = parse_document(text)
        except ValueError as exc:
            lineno = getattr(exc, "lineno", None)
            where = f" (line {lineno}, column {exc.colno}: {exc.msg})" if lineno else f" ({exc})"  # type: ignore[attr-defined]
            self._move_aside("it is not valid JSON" + where)
        if not isinstance(doc, dict) or not isinstance(doc.get("profiles", {}), dict):
            self._move_aside("it does not have the expected structure")
        schema = doc.get("schema", SCHEMA_VERSION)
        if not isinstance(schema, int) or isinstance(schema, bool):
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

    def _entry(self, key: Any, raw: Any) -> Profile:
        """One checked entry; ProfileStoreError(INVALID) with ``profiles.json: profile "x": ...``."""
        try:
            name = normalize_name(key)
            problems = check_entry(raw, self._deep)
            if problems:
                raise ProfileStoreError(ProfileErrorKind.INVALID, "; ".join(problems))
            return replace(Profile.from_dict(raw), name=name)
        except ProfileStoreError as exc:
            message = f'{self.path.name}: profile "{key}": {exc.message}'
        except Exception as exc:  # a value no check foresaw: report it, never a traceback
            message = f'{self.path.name}: profile "{key}": {type(exc).__name__}: {exc}'
        raise ProfileStoreError(ProfileErrorKind.INVALID, message, path=self.path)

    def _parsed(self) -> dict[str, Profile]:
        out: dict[str, Profile] = {}
        self._problems = {}
        for key, raw in self._load_raw().items():
            try:
                profile = self._entry(key, raw)
            except ProfileStoreError as exc:
                self._problems[str(key)] = exc.message
                log.warning("%s", exc.message)
                continue
            out[profile.name] = profile
        return out

    def list(self) -> list[Profile]:
        """All readable profiles, sorted by name (unreadable ones: see problems())."""
        return sorted(self._parsed().values(), key=lambda p: (p.name.casefold(), p.name))

    def problems(self) -> dict[str, str]:
        """Entries skipped by the last list()/get(): name -> ``profiles.json: profile "x": why``."""
        return dict(self._problems)

    def get(self, name: str) -> Profile | None:
        """The profile called ``name`` or None."""
        return self._parsed().get(normalize_name(name))

    def require(self, name: str) -> Profile:
        """Like get() but raises ProfileStoreError(kind=NOT_FOUND) with a helpful message."""
        profile = self.get(name)
        if profile is None:
            key = normalize_name(name)
            if key in self._problems:
                raise ProfileStoreError(
                    ProfileErrorKind.INVALID,
                    f"The saved profile '{key}' cannot be used: {self._problems[key]}",
                    path=self.path,
                )
            raise ProfileStoreError(
                ProfileErrorKind.NOT_FOUND,
                f"There is no saved profile called '{key}'. See 'mailsetup profiles list'.",
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
        with self.transaction():
            raw = self._load_raw()
            existing = raw.get(name)
            if existing is not None and not overwrite:
                raise ProfileStoreError(
                    ProfileErrorKind.EXISTS, f"A profile called '{name}' already exists.", path=self.path
                )
            old_created = existing.get("created_at") if isinstance(existing, dict) else ""
            created = profile.created_at or (old_created if isinstance(old_created, str) else "") or _now()
            saved = replace(profile, name=name, created_at=created, updated_at=_now())
            raw[name] = saved.to_dict()
            self._write(raw)
        return saved

    def delete(self, name: str) -> bool:
        """Remove the profile ``name``; False when there was none. (The caller removes its secret.)"""
        key = normalize_name(name)
        with self.transaction():
            raw = self._load_raw()
            if key not in raw:
                return False
            del raw[key]
            self._write(raw)
        return True

    def rename(self, old: str, new: str) -> Profile:
        """Rename a profile (the caller moves its secret in the password store)."""
        old_key, new_key = normalize_name(old), normalize_name(new)
        with self.transaction():
            raw = self._load_raw()
            if old_key not in raw:
                raise ProfileStoreError(ProfileErrorKind.NOT_FOUND, f"There is no saved profile called '{old_key}'.")
            if new_key in raw and new_key != old_key:
                raise ProfileStoreError(ProfileErrorKind.EXISTS, f"A profile called '{new_key}' already exists.")
            profile = replace(self._entry(old_key, raw.pop(old_key)), name=new_key, updated_at=_now())
            raw[new_key] = profile.to_dict()
            self._write(raw)
        return profile

    def _write(self, raw: dict[str, Any]) -> None:
        doc = {"schema": SCHEMA_VERSION, "profiles": dict(sorted(raw.items(), key=lambda kv: str(kv[0]).casefold()))}
        try:
            atomic_write(self.path, dump_document(doc, self._deep), mode=0o600)
        except (OSError, ValueError, RecursionError) as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: BaseException) -> ProfileStoreError:
        reason = getattr(exc, "strerror", None) or exc
        return ProfileStoreError(
            ProfileErrorKind.WRITE_FAILED,
            f"Could not save the accounts to {self.path}: {reason}. Nothing was changed; check "
            "that the folder exists, is writable and the disk is not full.",
            path=self.path,
        )
