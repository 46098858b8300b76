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
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

from app.core.model import SettingsError
from app.core.store.entries import DeepValues, check_entry, dump_document, parse_document
from app.core.store.files import atomic_write
from app.core.store.profile import (  # re-exported: the store's surface for callers of this module
    MAX_NAME_LENGTH,
    Profile,
    ProfileErrorKind,
    ProfileStoreError,
    normalize_name,
    now_utc,
)

log = logging.getLogger(__name__)

__all__ = [
    "MAX_NAME_LENGTH",
    "SCHEMA_VERSION",
    "Profile",
    "ProfileErrorKind",
    "ProfileStore",
    "ProfileStoreError",
    "default_profiles_path",
    "normalize_name",
]

SCHEMA_VERSION = 1
FILE_NAME = "profiles.json"
LOCK_TIMEOUT = 30.0  # seconds to wait for another process that is saving


def default_profiles_path() -> Path:
    """``profiles.json`` in the per-user config folder (honours XDG_CONFIG_HOME on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("mailsetup", appauthor=False)) / FILE_NAME


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
            created = profile.created_at or (old_created if isinstance(old_created, str) else "") or now_utc()
            saved = replace(profile, name=name, created_at=created, updated_at=now_utc())
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
            profile = replace(self._entry(old_key, raw.pop(old_key)), name=new_key, updated_at=now_utc())
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
