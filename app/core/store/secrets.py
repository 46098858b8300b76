"""The one place that touches the OS password store (via ``keyring``).

Layout in the store: service ``"MailSetup"``, username = the profile name, for the
SMTP password (or OAuth2 token); service ``"MailSetup proxy"``, username = the
profile name, for a proxy password. Nothing else is ever stored there, and no
secret is ever written anywhere else.

Only an allowlist of known-secure backends is used (``SECURE_BACKENDS``): the Secret
Service (GNOME Keyring, KWallet 5.97+, KeePassXC; directly or via libsecret), KWallet,
the macOS Keychain and the Windows Credential Locker. Anything else that keyring's
configuration or detection picks (its ``fail``/``null`` backends, the plaintext or
encrypted-file stores of ``keyrings.alt``/``keyrings.cryptfile``, any unknown plug-in) is
rejected with a ``SecretStoreError`` that says why and what to install. There is never a
silent plaintext fallback: when ``keyring`` picks its ChainerBackend, only its best
allowlisted member is used. (A backend *instance* handed to ``SecretStore`` by code is the
program's own choice, e.g. a test double; it is refused only when it is a known insecure one.)

Like Maestral's credential storage, each profile records the class of the backend that
stored its secrets (``Profile.secret_backend_id``); ``SecretStore.for_backend_id`` opens that
one again, so a secret is looked for where it was put, and a store that is gone is reported
(kind ``MOVED``) instead of the password silently reading as "not stored".

Single lane: all keyring calls of the process run one at a time (``_LANE``), whichever
``SecretStore`` object they come from, because Secret Service clients are not safe to use
from several threads at once and an unlock prompt must not be raised twice.

Every keyring call is blocking I/O (D-Bus, XPC, Win32) and may show an unlock
prompt. Callers run ``SecretStore`` methods off the GUI thread (a QThread /
worker / ``asyncio.to_thread``). Each call is additionally bounded by
``timeout`` seconds (default ``DEFAULT_TIMEOUT`` = 10 s): it runs in a daemon
worker thread, and a store that never answers (a hung Secret Service, an
unanswered prompt) becomes ``SecretStoreError(kind=TIMEOUT)`` instead of a hang.
The stuck worker thread is abandoned (daemon, so it never blocks exit).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.core.model import QT_TRANSLATE_NOOP
from app.core.store.secret_errors import (
    SAVE_WITHOUT,
    SecretErrorKind,
    SecretStoreError,
    insecure_error,
    install_hint,
    no_backend_error,
    t,
    translate_error,
)
from app.core.store.secret_errors import moved_error as _moved_error

log = logging.getLogger(__name__)

SERVICE = "MailSetup"
PROXY_SERVICE = "MailSetup proxy"
OAUTH_SERVICE = "MailSetup OAuth"  # the OAuth grant (app.core.oauth writes it; deleting a profile removes it)
OWNED_SERVICES = (SERVICE, PROXY_SERVICE, OAUTH_SERVICE)  # every entry a profile can own
DEFAULT_TIMEOUT = 10.0

T = TypeVar("T")


# -- backend classification ---------------------------------------------------------------------

# The allowlist: backend classes (module.qualname) that keep secrets in a protected system store.
SECURE_BACKENDS = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)
# Module prefixes of backends that do not keep secrets at all, or keep them in a file.
_NO_STORE_PREFIXES = ("keyring.backends.fail", "keyring.backends.null")
_INSECURE_PREFIXES = ("keyrings.alt.", "keyrings.cryptfile")
_LANE = threading.Lock()  # one keyring call at a time in this process (see the module docstring)

# marked for translation: the GUI shows them in its language (context "Secrets"), the CLI in English
_DISPLAY_NAMES = {
    "keyring.backends.SecretService": QT_TRANSLATE_NOOP("Secrets", "Secret Service (GNOME Keyring or compatible)"),
    "keyring.backends.libsecret": QT_TRANSLATE_NOOP(
        "Secrets", "Secret Service via libsecret (GNOME Keyring or compatible)"
    ),
    "keyring.backends.kwallet": QT_TRANSLATE_NOOP("Secrets", "KDE Wallet"),
    "keyring.backends.macOS": QT_TRANSLATE_NOOP("Secrets", "macOS Keychain"),
    "keyring.backends.Windows": QT_TRANSLATE_NOOP("Secrets", "Windows Credential Locker"),
}


def _qualname(backend: Any) -> str:
    cls = backend if isinstance(backend, type) else type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _display_for_module(module: str) -> str | None:
    for prefix, name in _DISPLAY_NAMES.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def _display_for_id(backend_id: str) -> str:
    return _display_for_module(backend_id.rpartition(".")[0]) or backend_id


def backend_display_name(backend: Any) -> str:
    """A user-facing name for a keyring backend ("macOS Keychain", ...)."""
    module = (backend if isinstance(backend, type) else type(backend)).__module__
    return _display_for_module(module) or str(getattr(backend, "name", None) or _qualname(backend))


def is_secure_backend(backend: Any) -> bool:
    """True only for the allowlisted system stores (SECURE_BACKENDS)."""
    return _qualname(backend) in SECURE_BACKENDS


def _known_insecure(backend: Any) -> bool:
    return _qualname(backend).startswith(_NO_STORE_PREFIXES + _INSECURE_PREFIXES)


# -- backend resolution -------------------------------------------------------------------------


def _resolve_default_backend() -> Any:
    """The backend keyring would pick (env var, keyringrc.cfg, then the best viable one), secured.

    Unlike ``keyring.get_keyring()`` this is not cached process-wide, so a change of
    ``PYTHON_KEYRING_BACKEND`` is honoured, and a ChainerBackend is reduced to its best secure member.
    """
    import keyring.backend
    import keyring.core
    from keyring.backends import chainer, fail

    try:
        chosen = keyring.core.load_env() or keyring.core.load_config()
    except (RuntimeError, ImportError, AttributeError, ValueError, OSError) as exc:
        name = os.environ.get("PYTHON_KEYRING_BACKEND", "the configured keyring backend")
        raise SecretStoreError(
            SecretErrorKind.INIT_FAILED,
            t(QT_TRANSLATE_NOOP("Secrets", "Password store could not be started")),
            t(
                QT_TRANSLATE_NOOP("Secrets", "The password store {name} could not be started: {reason}. "),
                name=name,
                reason=exc,
            )
            + install_hint(),
        ) from None
    if chosen is None:
        # get_all_keyring() is cached for the process; forget it so a password store started after
        # MailSetup (or a changed D-Bus session) is found on the next attempt.
        try:
            keyring.backend.get_all_keyring.reset()
        except (AttributeError, KeyError):  # no cache yet (or another keyring version)
            pass
        viable = list(keyring.backend.get_all_keyring())
        chosen = max(viable, default=fail.Keyring(), key=keyring.backend.by_priority)
    if isinstance(chosen, chainer.ChainerBackend):
        members = [b for b in chosen.backends if is_secure_backend(b)]
        if not members:
            insecure = [b for b in chosen.backends if not _qualname(b).startswith(_NO_STORE_PREFIXES)]
            raise insecure_error(_qualname(insecure[0])) if insecure else no_backend_error()
        chosen = max(members, key=keyring.backend.by_priority)
    return chosen


def _check_backend(backend: Any, *, explicit: bool = False) -> Any:
    name = _qualname(backend)
    if name.startswith(_NO_STORE_PREFIXES):
        raise no_backend_error()
    if _known_insecure(backend) or not (explicit or is_secure_backend(backend)):
        raise insecure_error(_qualname(backend))
    return backend


@dataclass(frozen=True)
class BackendInfo:
    """Which password store is in use: ``name`` for the UI, ``qualname`` for logs and bug reports."""

    name: str
    qualname: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "qualname": self.qualname}


class SecretStore:
    """get/set/delete the secret of a profile in the OS password store, each call bounded by ``timeout``.

    ``backend`` overrides the detected keyring backend (an instance); by default the backend
    is resolved on first use exactly like ``keyring`` does, but insecure stores are rejected.
    All methods block: call them off the GUI thread.
    """

    def __init__(self, backend: Any | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self._backend = backend
        self._explicit = backend is not None
        self.timeout = float(timeout)
        self._lock = threading.Lock()

    @classmethod
    def for_backend_id(cls, backend_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> SecretStore:
        """The store of the allowlisted backend class ``backend_id`` (as Maestral reopens the keyring
        it recorded); SecretStoreError(MOVED) when that store cannot be opened here."""
        if backend_id not in SECURE_BACKENDS:
            raise moved_error(backend_id, None)
        store = cls(timeout=timeout)

        def load() -> Any:
            import keyring.core

            return keyring.core.load_keyring(backend_id)

        try:
            backend = store._bounded("open", load)
            if getattr(type(backend), "viable", True) is False:
                raise RuntimeError("not available")
        except (SecretStoreError, RuntimeError) as exc:
            log.info("recorded password store %s cannot be opened: %s", backend_id, exc)
            raise moved_error(backend_id, None) from None
        store._backend = backend
        return store

    # -- public API -------------------------------------------------------------------------------
    def backend(self) -> Any:
        """The secure backend in use (resolving it on first call); raises SecretStoreError."""
        with self._lock:
            if self._backend is None:
                self._backend = self._bounded("open", _resolve_default_backend)
            backend = self._backend
        return _check_backend(backend, explicit=self._explicit)

    def info(self) -> BackendInfo:
        """Name of the backend for the UI ("macOS Keychain", ...); raises SecretStoreError."""
        backend = self.backend()
        return BackendInfo(name=backend_display_name(backend), qualname=_qualname(backend))

    def backend_name(self) -> str:
        """Shorthand for ``info().name``."""
        return self.info().name

    def get(self, profile: str, *, service: str = SERVICE) -> str | None:
        """The stored secret of ``profile``, or None when there is none."""
        backend = self.backend()
        return self._bounded("read", backend.get_password, service, _key(profile))

    def set(self, profile: str, secret: str, *, service: str = SERVICE) -> BackendInfo:
        """Store (or replace) the secret of ``profile``; returns the backend it went to."""
        if not isinstance(secret, str) or not secret:
            raise ValueError("secret must be a non-empty string")
        backend = self.backend()
        self._bounded("write", backend.set_password, service, _key(profile), secret, secret=secret)
        return BackendInfo(name=backend_display_name(backend), qualname=_qualname(backend))

    def delete(self, profile: str, *, service: str = SERVICE) -> bool:
        """Remove the secret of ``profile``; False when none was stored."""
        from keyring.errors import PasswordDeleteError

        backend = self.backend()

        def _delete() -> bool:
            try:
                backend.delete_password(service, _key(profile))
            except PasswordDeleteError:
                return False
            return True

        return self._bounded("delete", _delete)

    # -- internals --------------------------------------------------------------------------------
    def _bounded(self, what: str, fn: Callable[..., T], *args: Any, secret: str | None = None) -> T:
        """Run ``fn(*args)`` in a daemon thread; translate its errors; give up after ``timeout``."""
        box: dict[str, Any] = {}
        done = threading.Event()

        abandoned = threading.Event()

        def run() -> None:
            try:
                with _LANE:
                    if abandoned.is_set():  # the caller gave up while this waited: do nothing late
                        raise TimeoutError("abandoned")
                    box["value"] = fn(*args)
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=run, name=f"mailsetup-keyring-{what}", daemon=True)
        worker.start()
        if not done.wait(self.timeout):
            abandoned.set()
            log.warning("password store did not answer a %s request within %.1f s", what, self.timeout)
            raise SecretStoreError(
                SecretErrorKind.TIMEOUT,
                t(QT_TRANSLATE_NOOP("Secrets", "Password store does not respond")),
                t(
                    QT_TRANSLATE_NOOP(
                        "Secrets",
                        "The system password store did not answer within {seconds:g} seconds. It may be waiting for an "
                        "unlock window that is hidden or cannot be shown, or the service is stuck. Unlock or restart "
                        "it (on Linux: gnome-keyring-daemon or KWallet) and try again. ",
                    ),
                    seconds=self.timeout,
                )
                + SAVE_WITHOUT,
            )
        if "error" in box:
            raise translate_error(box["error"], what, secret) from None
        return box.get("value")  # type: ignore[return-value]


def moved_error(backend_id: str, current: str | None) -> SecretStoreError:
    """The secret was stored in the backend class ``backend_id``, which cannot be opened now."""
    return _moved_error(_display_for_id(backend_id), current)


def _key(profile: str) -> str:
    if not isinstance(profile, str) or not profile:
        raise ValueError("profile name must be a non-empty string")
    return profile
