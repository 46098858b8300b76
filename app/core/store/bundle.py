"""Rollout bundles: verified profile settings moved between machines or colleagues, never a secret.

A bundle is a versioned JSON file::

    {"format": "mailsetup-profile-bundle", "version": 1, "created_at": "...", "app_version": "...",
     "profiles": [{"name": ..., "settings": {...}, "from_addr": ..., "from_name": ..., "provider_id": ...,
                   "incoming": {...} | null, "oauth": {...} | null, "needs_password": bool}, ...]}

Built by construction from an allowlist (``_SETTINGS_FIELDS``, ``_ENTRY_FIELDS``): a password, an OAuth
token or client secret and a proxy (its URL may carry a password, and a proxy belongs to one network) are
never copied, whatever a profile holds; a private CA is carried as its path only. Reading one is bounded
(MAX_BUNDLE_BYTES, MAX_BUNDLE_ENTRIES, JSON nesting as profiles.json) and refuses the whole file for a
wrong format or version, a name with a path separator or control character, or a duplicate name; each
entry is then validated as a saved profile is (``check_entry``, ``Profile.from_dict``, ``validate``).

``import_bundle`` makes the one decision of an import: a name already taken is left alone unless
``replace``; an OAuth entry is not saved but names the sign-in command; each secret is asked for
(``secret_for``), then the account is checked (``check``: the caller passes the pipeline every check
uses, app.core.detect.run_pipeline, which this layer may not import) and saved through the one
AccountStore only when the check passed, or also when it failed with ``save_failed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from app.core.diagnosis import Diagnosis
from app.core.model import SettingsError
from app.core.store.accounts import AccountStore
from app.core.store.entries import check_entry, parse_document
from app.core.store.files import atomic_write
from app.core.store.profiles import Profile, ProfileErrorKind, ProfileStoreError, normalize_name
from app.core.store.secrets import SecretStoreError

log = logging.getLogger(__name__)

BUNDLE_FORMAT = "mailsetup-profile-bundle"
BUNDLE_VERSION = 1
MAX_BUNDLE_BYTES = 1_000_000
MAX_BUNDLE_ENTRIES = 200

# what of a profile travels: everything else stays on this machine
_SETTINGS_FIELDS = ("host", "port", "security", "username", "auth", "timeouts", "ehlo_name", "allow_plain_auth")
# cafile is a path, not a secret: a CA that IT deploys at the same path on every machine keeps working
_TLS_FIELDS = ("verify", "minimum", "cafile", "pinned_sha256")
_OAUTH_FIELDS = ("provider", "client_id", "tenant", "protocols")  # the public half of a sign-in
_ENTRY_FIELDS = ("name", "settings", "from_addr", "from_name", "provider_id", "incoming", "oauth", "needs_password")
_NAME_FORBIDDEN = ("/", "\\")


class BundleError(ValueError):
    """The bundle as a whole is refused (or cannot be written); ``message`` says why in one sentence."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class BundleEntry:
    """One profile read from a bundle: ``profile`` when it is valid, else ``problem`` says why not."""

    name: str
    profile: Profile | None = None
    problem: str = ""
    oauth: dict[str, Any] | None = None  # provider, client_id, tenant, protocols of an OAuth profile
    needs_password: bool = False


# -- writing -------------------------------------------------------------------------------------


def _bundle_name(name: str) -> str:
    """A profile name fit for a bundle: a valid profile name without path separators."""
    value = normalize_name(name)
    if any(sep in value for sep in _NAME_FORBIDDEN):
        raise BundleError(f"The profile name '{value}' contains a path separator ('/' or '\\'); rename it first.")
    return value


def bundle_entry(profile: Profile) -> dict[str, Any]:
    """The allowlisted form of one profile (see the module doc); BundleError for a local-only profile."""
    if profile.sandbox:
        raise BundleError(f"'{profile.name}' is the local sandbox of this machine; it is not exported.")
    full = profile.settings.to_dict()
    settings = {k: full[k] for k in _SETTINGS_FIELDS if k in full}
    settings["tls"] = {k: full["tls"][k] for k in _TLS_FIELDS if k in full.get("tls", {})}
    raw_oauth = profile.extra.get("oauth")
    oauth = {k: raw_oauth[k] for k in _OAUTH_FIELDS if k in raw_oauth} if isinstance(raw_oauth, dict) else None
    return {
        "name": _bundle_name(profile.name),
        "settings": settings,
        "from_addr": profile.from_addr,
        "from_name": profile.from_name,
        "provider_id": profile.provider_id,
        "incoming": profile.incoming.to_dict() if profile.incoming is not None else None,
        "oauth": oauth,
        "needs_password": bool(profile.settings.username) and oauth is None,
    }


def render_bundle(profiles: Sequence[Profile], *, app_version: str = "") -> str:
    """The bundle's JSON text for ``profiles`` (BundleError for a duplicate or local-only profile)."""
    entries = [bundle_entry(p) for p in profiles]
    names = [e["name"] for e in entries]
    if len(set(names)) != len(names):
        raise BundleError("A profile is named twice; each name may appear once in a bundle.")
    if len(entries) > MAX_BUNDLE_ENTRIES:
        raise BundleError(f"A bundle holds at most {MAX_BUNDLE_ENTRIES} profiles.")
    doc = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "app_version": app_version,
        "profiles": entries,
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def write_bundle(path: str | Path, profiles: Sequence[Profile], *, app_version: str = "") -> Path:
    """Write the bundle atomically (the one atomic_write: never onto a FIFO, device or through a link)."""
    return atomic_write(path, render_bundle(profiles, app_version=app_version), mode=0o600)


# -- reading -------------------------------------------------------------------------------------


def read_bundle(path: str | Path) -> list[BundleEntry]:
    """Read and check a bundle file (at most MAX_BUNDLE_BYTES + 1 bytes are read); OSError, BundleError."""
    p = Path(path)
    if p.is_dir():
        raise BundleError(f"{p} is a folder, not a bundle file.")
    with p.open("rb") as f:
        data = f.read(MAX_BUNDLE_BYTES + 1)
    return parse_bundle(data)


def parse_bundle(data: bytes | str) -> list[BundleEntry]:
    """The entries of a bundle; BundleError when the file as a whole is refused (see the module doc)."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(f"The bundle is larger than {MAX_BUNDLE_BYTES} bytes; a real one is far smaller.")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise BundleError(f"The bundle is not UTF-8 text ({exc.reason}).") from None
    try:
        doc, deep = parse_document(text)
    except ValueError as exc:
        raise BundleError(f"The bundle is not valid JSON ({exc}).") from None
    if deep.originals:
        raise BundleError("The bundle is nested too deeply to be a profile bundle.")
    if not isinstance(doc, dict) or doc.get("format") != BUNDLE_FORMAT:
        raise BundleError("This file is not a MailSetup profile bundle (its 'format' is missing or different).")
    version = doc.get("version")
    if version != BUNDLE_VERSION or isinstance(version, bool):
        raise BundleError(
            f"The bundle has format version {version!r}; this MailSetup reads version {BUNDLE_VERSION}. "
            "Export it again with this version, or update MailSetup."
        )
    raw = doc.get("profiles")
    if not isinstance(raw, list):
        raise BundleError("The bundle has no list of profiles.")
    if len(raw) > MAX_BUNDLE_ENTRIES:
        raise BundleError(f"The bundle lists {len(raw)} profiles; at most {MAX_BUNDLE_ENTRIES} are read.")
    names = [_entry_name(i, item) for i, item in enumerate(raw)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise BundleError(f"The profile '{name}' appears twice in the bundle; nothing was imported.")
        seen.add(name)
    return [_entry(name, item) for name, item in zip(names, raw)]


def _entry_name(index: int, item: Any) -> str:
    raw_name = item.get("name") if isinstance(item, dict) else None
    if not isinstance(raw_name, str):
        raise BundleError(f"Profile {index + 1} of the bundle has no name.")
    try:
        return _bundle_name(raw_name)
    except ProfileStoreError as exc:
        shown = raw_name.encode("unicode_escape").decode("ascii")[:100]
        raise BundleError(f"The profile name '{shown}' in the bundle is refused: {exc.message}") from None


def _entry(name: str, item: dict[str, Any]) -> BundleEntry:
    """One entry, validated as a saved profile is; only allowlisted keys are read."""
    oauth_raw = item.get("oauth")
    oauth = {k: oauth_raw[k] for k in _OAUTH_FIELDS if k in oauth_raw} if isinstance(oauth_raw, dict) else None
    if oauth_raw is not None and oauth is None:
        return BundleEntry(name, problem="oauth: not a table")
    settings = item.get("settings")
    if isinstance(settings, dict):
        tls = settings.get("tls")
        settings = {k: settings[k] for k in _SETTINGS_FIELDS if k in settings}
        settings["tls"] = {k: tls[k] for k in _TLS_FIELDS if k in tls} if isinstance(tls, dict) else {}
    data: dict[str, Any] = {
        "name": name,
        "settings": settings,
        "from_addr": item.get("from_addr") or "",
        "from_name": item.get("from_name") or "",
        "provider_id": item.get("provider_id"),
        "incoming": item.get("incoming"),
    }
    if oauth is not None:
        data["oauth"] = oauth
    problems = check_entry(data)
    if problems:
        return BundleEntry(name, problem="; ".join(problems), oauth=oauth)
    try:
        profile = Profile.from_dict(data)
        profile.settings.validate()
    except ProfileStoreError as exc:
        return BundleEntry(name, problem=exc.message, oauth=oauth)
    except (SettingsError, ValueError) as exc:
        return BundleEntry(name, problem=str(exc), oauth=oauth)
    needs_password = bool(profile.settings.username) and oauth is None
    return BundleEntry(name, profile, oauth=oauth, needs_password=needs_password)


# -- importing -----------------------------------------------------------------------------------


class ImportStatus(str, Enum):
    """What became of one bundle entry (stable; part of the CLI's JSON)."""

    SAVED = "saved"  # checked and saved
    SAVED_FAILED_CHECK = "saved_failed_check"  # the check failed, saved anyway (save_failed)
    CHECK_FAILED = "check_failed"  # not saved
    EXISTS = "exists"  # the name is taken and replace was not asked for
    INVALID = "invalid"
    NO_SECRET = "no_secret"  # no password was given for it
    NEEDS_SIGN_IN = "needs_sign_in"  # an OAuth profile: the sign-in command is in ``message``
    SIGN_IN_FAILED = "sign_in_failed"  # an OAuth profile whose sign-in did not complete (why in ``message``)
    STORE_FAILED = "store_failed"  # the profile file or the password store refused the save


@dataclass(frozen=True)
class ImportOutcome:
    name: str
    status: ImportStatus
    message: str = ""
    diagnosis: Diagnosis | None = None
    profile: Profile | None = None  # as saved
    replaced: bool = False

    @property
    def saved(self) -> bool:
        return self.status in (ImportStatus.SAVED, ImportStatus.SAVED_FAILED_CHECK)


# check(profile, secret) -> (passed, diagnosis when it did not)
Checker = Callable[[Profile, str | None], Awaitable[tuple[bool, Diagnosis | None]]]


class SignIn(Protocol):
    """A completed OAuth sign-in for an entry (app.core.oauth.SignedIn): the token to check with, and how
    to save the account (grant and profile) once the check passed."""

    secret: str

    def save(self, accounts: AccountStore) -> Profile: ...


# sign_in(entry) -> the completed sign-in, or why it did not complete (the store layer knows no OAuth)
SignInFor = Callable[["BundleEntry"], Awaitable["SignIn | str"]]


def sign_in_command(name: str, oauth: dict[str, Any]) -> str:
    """The exact ``mailsetup oauth login`` command that creates this OAuth profile."""
    parts = ["mailsetup", "oauth", "login", _shell_quote(name)]
    for flag, key in (("--provider", "provider"), ("--client-id", "client_id"), ("--tenant", "tenant")):
        value = oauth.get(key)
        if isinstance(value, str) and value:
            parts += [flag, _shell_quote(value)]
    return " ".join(parts)


def _shell_quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


async def import_bundle(
    entries: Sequence[BundleEntry],
    accounts: AccountStore,
    *,
    secret_for: Callable[[BundleEntry], str | None],
    check: Checker,
    replace_existing: bool = False,
    save_failed: bool = False,
    on_outcome: Callable[[ImportOutcome], None] = lambda _o: None,
    sign_in: SignInFor | None = None,
) -> list[ImportOutcome]:
    """Import each entry in order (see the module doc); ``on_outcome`` hears each as it is decided."""
    outcomes = []
    for entry in entries:
        if entry.oauth is not None and entry.profile is not None:
            outcome = await _import_oauth(entry, accounts, sign_in, check, replace_existing, save_failed)
        else:
            outcome = await _import_one(entry, accounts, secret_for, check, replace_existing, save_failed)
        on_outcome(outcome)
        outcomes.append(outcome)
    return outcomes


def _name_taken(accounts: AccountStore, name: str, replace_existing: bool) -> ImportOutcome | None:
    """The outcome when ``name`` may not be written (taken without replace, or the file unreadable)."""
    try:
        taken = accounts.get(name) is not None or name in accounts.problems()
    except ProfileStoreError as exc:
        return ImportOutcome(name, ImportStatus.STORE_FAILED, exc.message)
    if taken and not replace_existing:
        return ImportOutcome(name, ImportStatus.EXISTS, f"A profile called '{name}' already exists.")
    return None


async def _import_oauth(
    entry: BundleEntry,
    accounts: AccountStore,
    sign_in: SignInFor | None,
    check: Checker,
    replace_existing: bool,
    save_failed: bool,
) -> ImportOutcome:
    """An OAuth entry: signed in (when the caller can sign in), checked with its token, saved if it passed."""
    assert entry.profile is not None and entry.oauth is not None
    name = entry.name
    refused = _name_taken(accounts, name, replace_existing)
    if refused is not None:
        return refused
    if sign_in is None:
        return ImportOutcome(name, ImportStatus.NEEDS_SIGN_IN, sign_in_command(name, entry.oauth))
    signed = await sign_in(entry)
    if isinstance(signed, str):
        return ImportOutcome(name, ImportStatus.SIGN_IN_FAILED, signed)
    passed, diagnosis = await check(entry.profile, signed.secret)
    if not passed and not save_failed:
        return ImportOutcome(name, ImportStatus.CHECK_FAILED, "The check failed; it was not saved.", diagnosis)
    try:
        saved = signed.save(accounts)
    except ProfileStoreError as exc:
        return ImportOutcome(name, ImportStatus.STORE_FAILED, exc.message, diagnosis)
    except SecretStoreError as exc:
        return ImportOutcome(name, ImportStatus.STORE_FAILED, f"{exc.title}: {exc.message}", diagnosis)
    status = ImportStatus.SAVED if passed else ImportStatus.SAVED_FAILED_CHECK
    return ImportOutcome(name, status, "", diagnosis, saved)


async def _import_one(
    entry: BundleEntry,
    accounts: AccountStore,
    secret_for: Callable[[BundleEntry], str | None],
    check: Checker,
    replace_existing: bool,
    save_failed: bool,
) -> ImportOutcome:
    name = entry.name
    if entry.profile is None:
        return ImportOutcome(name, ImportStatus.INVALID, entry.problem)
    refused = _name_taken(accounts, name, replace_existing)
    if refused is not None:
        return refused
    secret = secret_for(entry) if entry.needs_password else None
    if entry.needs_password and not secret:
        return ImportOutcome(name, ImportStatus.NO_SECRET, "No password was given for it.")
    passed, diagnosis = await check(entry.profile, secret)
    if not passed and not save_failed:
        return ImportOutcome(name, ImportStatus.CHECK_FAILED, "The check failed; it was not saved.", diagnosis)
    profile = replace(entry.profile, created_at="", updated_at="")
    try:
        result = accounts.save(profile, password=secret, replace_existing=replace_existing)
    except ProfileStoreError as exc:
        status = ImportStatus.EXISTS if exc.kind is ProfileErrorKind.EXISTS else ImportStatus.STORE_FAILED
        return ImportOutcome(name, status, exc.message, diagnosis)
    except SecretStoreError as exc:
        return ImportOutcome(name, ImportStatus.STORE_FAILED, f"{exc.title}: {exc.message}", diagnosis)
    status = ImportStatus.SAVED if passed else ImportStatus.SAVED_FAILED_CHECK
    return ImportOutcome(name, status, "", diagnosis, result.profile, result.replaced)
