"""A saved account made ready to check: the one path from a profile name to (settings, secret, provider).

``profiles check NAME``, ``report PROFILE``, ``profiles check --all`` and the wizard's "Check all" all
check a saved account; what a missing stored password, a gone proxy password, an OAuth sign-in or a
sandbox profile means is decided here once. A front end renders the ``SavedProblem`` in its own words
(the CLI adds the flags that would help), never re-decides it.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, replace
from typing import Any

from app.core.diagnosis import DiagnosedError, Diagnosis
from app.core.model import QT_TRANSLATE_NOOP, Text
from app.core.store import PROXY_SERVICE, AccountStore, Profile, ProfileStoreError, SecretStoreError

CONTEXT = "Fleet"


def _t(template: str, **params: Any) -> Text:
    return Text.of(CONTEXT, template, **params)


@dataclass(frozen=True)
class SavedProblem:
    """Why a saved account cannot be checked. ``code``: ``secret_missing`` (the password or the proxy password),
    ``secret_not_stored``, ``sandbox_failed``, ``secret_<kind>`` / ``profile_<kind>`` (with ``error``, the
    store's exception) or the diagnosis code of a failed OAuth refresh (with ``diagnosis``)."""

    code: str
    title: Text | None
    why: Text | str | None = None
    fix: tuple[Text | str, ...] = ()
    error: Exception | None = None
    diagnosis: Diagnosis | None = None


@dataclass
class SavedCheck:
    """A saved account ready to check: its settings, secret and provider (and the sandbox it names, running)."""

    profile: Profile
    settings: Any
    password: str | None
    provider: Any
    sandbox: Any = None

    @property
    def oauth(self) -> bool:
        from app.core.oauth import account_of

        return account_of(self.profile) is not None

    def close(self) -> None:
        """Stop the sandbox this check started, if any."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


def _load(accounts: AccountStore, name: str, password_given: bool) -> Any:
    """The LoadedAccount, or the SavedProblem why it cannot be used."""
    try:
        loaded = accounts.load(name)
    except SecretStoreError as exc:
        return SavedProblem(f"secret_{exc.kind.value}", _t(exc.title), exc.message, error=exc)
    except ProfileStoreError as exc:
        title = _t(QT_TRANSLATE_NOOP("Fleet", "Profile problem"))
        return SavedProblem(f"profile_{exc.kind.value}", title, exc.message, error=exc)
    where = loaded.profile.secret_backend or "the password store"
    if loaded.password_missing and not password_given:
        why = _t(
            QT_TRANSLATE_NOOP("Fleet", "The password of '{name}' is no longer in {where}."), name=name, where=where
        )
        fix = _t(QT_TRANSLATE_NOOP("Fleet", "Add the profile again with its password."))
        return SavedProblem("secret_missing", _t(QT_TRANSLATE_NOOP("Fleet", "Stored password not found")), why, (fix,))
    if PROXY_SERVICE in loaded.missing:
        why = _t(
            QT_TRANSLATE_NOOP("Fleet", "The proxy password of '{name}' is no longer in {where}."),
            name=name,
            where=where,
        )
        return SavedProblem("secret_missing", _t(QT_TRANSLATE_NOOP("Fleet", "Stored proxy password not found")), why)
    return loaded


_LOADING = threading.Lock()
_LOOP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _loop_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOOP_LOCKS.get(loop)
    if lock is None:
        lock = _LOOP_LOCKS[loop] = asyncio.Lock()
    return lock


def _load_one_at_a_time(accounts: AccountStore, name: str, password_given: bool) -> Any:
    # One load at a time: the keyring runs its calls one at a time anyway, and a ProfileStore keeps the
    # problems of its last read on the object, which parallel reads would mix up.
    with _LOADING:
        return _load(accounts, name, password_given)


async def _secret(profile: Profile, stored: str | None, name: str) -> str | SavedProblem | None:
    """The stored password, a fresh OAuth access token, None when none is needed, or why there is none."""
    if stored is not None:
        return stored
    from app.core.oauth import access_token, account_of

    if account_of(profile) is not None:
        try:
            return await access_token(profile)
        except DiagnosedError as exc:
            return SavedProblem(exc.diagnosis.code.value, None, diagnosis=exc.diagnosis)
        except SecretStoreError as exc:
            return SavedProblem(f"secret_{exc.kind.value}", _t(exc.title), exc.message, error=exc)
    if profile.settings.username:
        fix = _t(
            QT_TRANSLATE_NOOP(
                "Fleet",
                "'{name}' was saved without its password: check it on its own, or save it again with the password.",
            ),
            name=name,
        )
        return SavedProblem("secret_not_stored", _t(QT_TRANSLATE_NOOP("Fleet", "No stored password")), None, (fix,))
    return None


def _provider(provider_id: str | None) -> Any:
    if not provider_id:
        return None
    from app.core.catalog import default_catalogue

    return default_catalogue().by_id(provider_id)


async def prepare_saved(
    accounts: AccountStore, name: str, *, password: str | None = None, limit: float | None = None
) -> SavedCheck | SavedProblem:
    """The saved account ``name`` ready to check, or why it cannot be checked.

    ``password`` stands in for the stored one (the CLI's --password-stdin); ``limit`` caps the overall
    timeout to the time a bulk run has left. A sandbox profile starts its server: the caller closes the result.
    """
    # Keyring reads block (D-Bus, and an unlock prompt up to the store's own timeout): in a worker thread,
    # so a bulk run's other checks, its deadline and its cancellation keep running meanwhile.
    # One load at a time per event loop, queued here (cancellable) rather than in worker threads: a
    # stuck store then holds one worker, not the pool that name lookups and other jobs share.
    async with _loop_lock():
        loaded = await asyncio.to_thread(_load_one_at_a_time, accounts, name, password is not None)
    if isinstance(loaded, SavedProblem):
        return loaded
    profile = loaded.profile
    secret = await _secret(profile, password if password is not None else loaded.password, name)
    if isinstance(secret, SavedProblem):
        return secret
    settings = loaded.settings
    if limit is not None and limit < settings.timeouts.total:
        settings = settings.with_(timeouts=replace(settings.timeouts, total=max(limit, 0.01)))
    prepared = SavedCheck(profile, settings, secret, _provider(profile.provider_id))
    if profile.sandbox:  # the profile names the sandbox, not its port: start it for this check
        from app.core.sandbox import SandboxServer
        from app.core.store import sandbox_settings

        server = SandboxServer()
        try:
            prepared.settings = sandbox_settings(settings, server.start())
        except OSError:
            title = _t(QT_TRANSLATE_NOOP("Fleet", "The local sandbox server could not start."))
            return SavedProblem("sandbox_failed", title)
        prepared.sandbox = server
    return prepared
