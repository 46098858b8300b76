"""The one place that saves, replaces, renames, loads and deletes a saved account, for the CLI and the wizard.

An account is a profile (``profiles.json``) plus the secrets it owns in the password store:
the login password (``SERVICE``), the proxy password (``PROXY_SERVICE``) and an OAuth grant
(``OAUTH_SERVICE``, written by ``app.core.oauth``). Each operation is one unit under the
profiles file's inter-process lock and either completes or leaves nothing behind:

- secrets are written before the profile that refers to them; when the profile cannot be
  written, the secrets are put back as they were (the old value restored, a new one removed);
- replacing is explicit (``replace=True``); the replaced account's secrets that the new one
  does not have are removed, so nothing is orphaned;
- delete removes every secret the name can own (whatever the flags say) before the profile;
  when the store refuses, nothing is deleted;
- rename copies the secrets to the new name, writes the profile, then removes the old entries.

A proxy password never reaches the file: it is split out of the proxy URL whatever characters
it contains (``split_proxy_secret``) and stored like the login password. Every method blocks on
the password store: call them off the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from app.core.model import Security, SmtpSettings
from app.core.store.profiles import (
    Profile,
    ProfileErrorKind,
    ProfileStore,
    ProfileStoreError,
    normalize_name,
)
from app.core.store.proxy_url import join_proxy_secret, split_proxy_secret
from app.core.store.secrets import (
    OAUTH_SERVICE,
    OWNED_SERVICES,
    PROXY_SERVICE,
    SERVICE,
    SecretStore,
    SecretStoreError,
    moved_error,
)

log = logging.getLogger(__name__)

__all__ = ["AccountStore", "DeleteResult", "LoadedAccount", "SaveResult", "sandbox_settings"]


@dataclass(frozen=True)
class SaveResult:
    profile: Profile
    replaced: bool
    stale_left: tuple[str, ...] = ()  # services of the replaced account that could not be removed


@dataclass(frozen=True)
class DeleteResult:
    profile: Profile
    removed: tuple[str, ...]  # services whose entry was removed
    backend: str | None = None


@dataclass(frozen=True)
class LoadedAccount:
    """A profile with its secrets: ``settings`` carries the proxy password, ready to connect."""

    profile: Profile
    password: str | None = field(default=None, repr=False)
    proxy_password: str | None = field(default=None, repr=False)
    missing: tuple[str, ...] = ()  # services the profile says are stored but were not found

    @property
    def settings(self) -> SmtpSettings:
        s = self.profile.settings
        return s.with_(proxy=join_proxy_secret(s.proxy, self.proxy_password)) if self.proxy_password else s

    @property
    def password_missing(self) -> bool:
        return SERVICE in self.missing


def sandbox_settings(settings: SmtpSettings, info: Any) -> SmtpSettings:
    """A sandbox profile's settings pointed at the running sandbox ``info`` (host, ports, CA)."""
    port = info.ssl_port if settings.security is Security.SSL else info.starttls_port
    security = settings.security if settings.security is not Security.NONE else Security.STARTTLS
    tls = replace(settings.tls, cafile=str(info.ca_file), pinned_sha256=None)
    return settings.with_(host=info.host, port=port, security=security, tls=tls)


def _owned(profile: Profile) -> set[str]:
    owned = set()
    if profile.has_secret:
        owned.add(SERVICE)
    if profile.has_proxy_secret:
        owned.add(PROXY_SERVICE)
    if "oauth" in profile.extra:
        owned.add(OAUTH_SERVICE)
    return owned


class AccountStore:
    """Saved accounts with their secrets (see the module docstring)."""

    def __init__(self, profiles: ProfileStore | None = None, secrets: SecretStore | None = None):
        self.profiles = profiles if profiles is not None else ProfileStore()
        self.secrets = secrets if secrets is not None else SecretStore()

    @property
    def path(self) -> Any:
        return self.profiles.path

    # -- reading ------------------------------------------------------------------------------------
    def list(self) -> list[Profile]:
        return self.profiles.list()

    def problems(self) -> dict[str, str]:
        return self.profiles.problems()

    def get(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def require(self, name: str) -> Profile:
        return self.profiles.require(name)

    def secrets_for(self, profile: Profile) -> SecretStore:
        """The store that holds ``profile``'s secrets: the one recorded when they were saved, if that
        differs from the current one and can still be opened; SecretStoreError(MOVED) if it cannot."""
        recorded = profile.secret_backend_id
        if not recorded or not (profile.has_secret or profile.has_proxy_secret):
            return self.secrets
        current = self.secrets.info()
        if current.qualname == recorded:
            return self.secrets
        try:
            return SecretStore.for_backend_id(recorded, timeout=self.secrets.timeout)
        except SecretStoreError:
            raise moved_error(recorded, current.name) from None

    def name_taken(self, name: str) -> bool:
        """True when a saved account (readable or not) already has this name: saving under it needs
        ``replace_existing``."""
        key = normalize_name(name)
        return self._taken(key, self.profiles.get(key))

    def refuse_taken(self, name: str) -> None:
        """Raise ProfileStoreError(EXISTS), as save() would without ``replace_existing``, when the name is
        taken: for callers that must not touch anything else first (an OAuth grant in the keyring)."""
        if self.name_taken(name):
            raise self._exists_error(normalize_name(name))

    def _taken(self, key: str, existing: Profile | None) -> bool:
        return existing is not None or key in self.profiles.problems()

    def _exists_error(self, name: str) -> ProfileStoreError:
        return ProfileStoreError(
            ProfileErrorKind.EXISTS,
            f"A profile called '{name}' already exists; replace it explicitly to overwrite it.",
            path=self.profiles.path,
        )

    def load(self, name: str) -> LoadedAccount:
        """The profile with its stored password and proxy password (missing ones listed, not raised)."""
        profile = self.profiles.require(name)
        if not (profile.has_secret or profile.has_proxy_secret):
            return LoadedAccount(profile)
        store = self.secrets_for(profile)
        password = store.get(profile.name) if profile.has_secret else None
        proxy_password = store.get(profile.name, service=PROXY_SERVICE) if profile.has_proxy_secret else None
        missing = tuple(
            s
            for s, want, got in (
                (SERVICE, profile.has_secret, password),
                (PROXY_SERVICE, profile.has_proxy_secret, proxy_password),
            )
            if want and got is None
        )
        return LoadedAccount(profile, password, proxy_password, missing)

    # -- writing ------------------------------------------------------------------------------------
    def save(
        self,
        profile: Profile,
        *,
        password: str | None = None,
        proxy_password: str | None = None,
        store_secrets: bool = True,
        replace_existing: bool = False,
        keep_secrets: bool = False,
    ) -> SaveResult:
        """Add ``profile`` (or replace the account of that name when ``replace_existing``).

        ``password``/``proxy_password`` go to the password store when ``store_secrets``; a password in
        the proxy URL is split out first. ``keep_secrets``: a replace that brings no new secret keeps
        the old account's stored ones (an edit that did not touch the password).
        Raises ProfileStoreError (EXISTS when the name is taken and not replacing) or SecretStoreError.
        """
        name = normalize_name(profile.name)
        clean_proxy, url_secret = split_proxy_secret(profile.settings.proxy)
        proxy_password = proxy_password or url_secret
        profile = replace(profile, name=name, settings=profile.settings.with_(proxy=clean_proxy))
        try:
            profile.settings.validate()
        except ValueError as exc:
            raise ProfileStoreError(ProfileErrorKind.INVALID, f"The profile '{name}' is not valid: {exc}") from None
        with self.profiles.transaction():
            existing = self.profiles.get(name)
            if self._taken(name, existing) and not replace_existing:
                raise self._exists_error(name)
            offered = {SERVICE: password, PROXY_SERVICE: proxy_password} if store_secrets else {}
            new = {k: v for k, v in offered.items() if v}
            with self._secrets_written(name, new) as info:
                kept = self._kept(existing, new) if keep_secrets and existing is not None else set()
                saved = self.profiles.save(
                    replace(
                        profile,
                        has_secret=SERVICE in new or SERVICE in kept,
                        has_proxy_secret=PROXY_SERVICE in new or PROXY_SERVICE in kept,
                        secret_backend=info[0] if new else (existing.secret_backend if kept and existing else None),
                        secret_backend_id=info[1]
                        if new
                        else (existing.secret_backend_id if kept and existing else None),
                        created_at=existing.created_at if existing else "",
                    )
                )
            stale = (_owned(existing) - _owned(saved)) if existing is not None else set()
            left = self._remove(name, stale, best_effort=True)
        return SaveResult(saved, replaced=existing is not None, stale_left=tuple(sorted(left)))

    @staticmethod
    def _kept(existing: Profile, new: dict[str, str]) -> set[str]:
        return {s for s in _owned(existing) & {SERVICE, PROXY_SERVICE} if s not in new}

    @contextmanager
    def _secrets_written(self, name: str, new: dict[str, str]) -> Iterator[tuple[str | None, str | None]]:
        """Write ``new`` secrets of ``name``; if the body fails, put back what was there before."""
        before: dict[str, str | None] = {}
        info = None
        try:
            for service, value in new.items():
                before[service] = self.secrets.get(name, service=service)
                info = self.secrets.set(name, value, service=service)
            yield (info.name, info.qualname) if info else (None, None)
        except BaseException:
            self._restore(name, before)
            raise

    def _restore(self, name: str, before: dict[str, str | None]) -> None:
        for service, old in before.items():
            try:
                if old is None:
                    self.secrets.delete(name, service=service)
                else:
                    self.secrets.set(name, old, service=service)
            except SecretStoreError as exc:
                log.warning("could not roll back the %s entry of %r: %s", service, name, exc.title)

    def _remove(self, name: str, services: Any, *, best_effort: bool, store: SecretStore | None = None) -> set[str]:
        """Delete the entries of ``name``; returns those that could not be removed (best effort) or raises."""
        left = set()
        for service in sorted(services):
            try:
                (store or self.secrets).delete(name, service=service)
            except SecretStoreError as exc:
                if not best_effort:
                    raise
                log.warning("could not remove the %s entry of %r: %s", service, name, exc.title)
                left.add(service)
        return left

    def delete(self, name: str) -> DeleteResult:
        """Delete the account: every secret the name owns first, then the profile.

        A password store that refuses raises SecretStoreError and nothing is deleted.
        """
        with self.profiles.transaction():
            profile = self.profiles.require(name)
            removed: list[str] = []
            backend = None
            try:
                store = self.secrets_for(profile)
                backend = store.info().name
                for service in OWNED_SERVICES:
                    if store.delete(profile.name, service=service):
                        removed.append(service)
            except SecretStoreError:
                if _owned(profile):
                    raise
                # nothing was stored for it: a missing password store must not keep it forever
            self.profiles.delete(profile.name)
        return DeleteResult(profile, tuple(removed), backend)

    def rename(self, old: str, new: str) -> Profile:
        """Rename an account, moving its secrets in the password store to the new name."""
        new_name = normalize_name(new)
        with self.profiles.transaction():
            profile = self.profiles.require(old)
            if new_name == profile.name:
                return profile
            if self.profiles.get(new_name) is not None or new_name in self.profiles.problems():
                raise ProfileStoreError(ProfileErrorKind.EXISTS, f"A profile called '{new_name}' already exists.")
            services = _owned(profile)
            store = self.secrets_for(profile) if services else self.secrets
            values = {s: store.get(profile.name, service=s) for s in sorted(services)}
            copied = {s: v for s, v in values.items() if v is not None}
            written: dict[str, str | None] = {}
            try:
                for service, value in copied.items():
                    written[service] = None
                    store.set(new_name, value, service=service)
                renamed = self.profiles.rename(profile.name, new_name)
            except BaseException:
                self._remove(new_name, written, best_effort=True, store=store)
                raise
            self._remove(profile.name, copied, best_effort=True, store=store)
        return renamed
