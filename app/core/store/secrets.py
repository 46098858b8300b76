"""The one place that touches the OS password store (via ``keyring``).

Layout in the store: service ``"MailSetup"``, username = the profile name, for the
SMTP password (or OAuth2 token); service ``"MailSetup proxy"``, username = the
profile name, for a proxy password. Nothing else is ever stored there, and no
secret is ever written anywhere else.

Only secure backends are used: the Secret Service (GNOME Keyring, KWallet 5.97+,
KeePassXC), KWallet, the macOS Keychain and the Windows Credential Locker (and
other third-party backends that are not known to be insecure). ``keyring``'s
``fail`` and ``null`` backends and the plaintext / encrypted-file backends of
``keyrings.alt`` (and ``keyrings.cryptfile``) are rejected with a
``SecretStoreError`` that says why and what to install. There is never a silent
plaintext fallback: when ``keyring`` picks its ChainerBackend, the insecure
members are dropped and only the best secure one is used.

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
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from app.core.model import QT_TRANSLATE_NOOP, Text

log = logging.getLogger(__name__)

SERVICE = "MailSetup"
PROXY_SERVICE = "MailSetup proxy"
DEFAULT_TIMEOUT = 10.0
CONTEXT = "Secrets"

T = TypeVar("T")


class SecretErrorKind(str, Enum):
    """Why the password store could not be used (stable; part of the CLI's JSON)."""

    NO_BACKEND = "no_backend"  # no password store at all (keyring's fail/null backend)
    INSECURE_BACKEND = "insecure_backend"  # only a plaintext/encrypted-file store is configured
    LOCKED = "locked"  # the store is locked and unlocking failed or the prompt was dismissed
    INIT_FAILED = "init_failed"  # a store is configured but could not be started / reached
    TIMEOUT = "timeout"  # the store did not answer in time
    BACKEND_ERROR = "backend_error"  # any other error reported by the store


def _t(template: str, **params: Any) -> Text:
    return Text.of(CONTEXT, template, **params)


class SecretStoreError(Exception):
    """The one error type of this module: ``kind``, a short ``title`` and a full ``message``.

    ``title`` and ``message`` are English; ``render(translate)`` gives them in the UI language
    (templates translated first, values filled after).
    """

    def __init__(self, kind: SecretErrorKind, title: Text | str, message: Text | str):
        self.kind = SecretErrorKind(kind)
        self._title = title if isinstance(title, Text) else Text((("", title, {}),))
        self._message = message if isinstance(message, Text) else Text((("", message, {}),))
        super().__init__(f"{self.title}: {self.message}")

    @property
    def title(self) -> str:
        return self._title.render()

    @property
    def message(self) -> str:
        return self._message.render()

    def render(self, translate: Callable[[str, str], str] | None = None) -> tuple[str, str]:
        """(title, message) with ``translate(context, template)`` applied to every template."""
        return self._title.render(translate), self._message.render(translate)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind.value, "title": self.title, "message": self.message}


# -- backend classification ---------------------------------------------------------------------

# Module prefixes of backends that keep secrets in a file (plaintext or with a weak/own scheme),
# or do not keep them at all.
_NO_STORE_PREFIXES = ("keyring.backends.fail", "keyring.backends.null")
_INSECURE_PREFIXES = ("keyrings.alt.file", "keyrings.alt.pyfs", "keyrings.alt.Windows", "keyrings.cryptfile")

_DISPLAY_NAMES = {
    "keyring.backends.SecretService": "Secret Service (GNOME Keyring or compatible)",
    "keyring.backends.libsecret": "Secret Service via libsecret (GNOME Keyring or compatible)",
    "keyring.backends.kwallet": "KDE Wallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
}


def _qualname(backend: Any) -> str:
    cls = backend if isinstance(backend, type) else type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_display_name(backend: Any) -> str:
    """A user-facing name for a keyring backend ("macOS Keychain", ...)."""
    module = (backend if isinstance(backend, type) else type(backend)).__module__
    for prefix, name in _DISPLAY_NAMES.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return str(getattr(backend, "name", None) or _qualname(backend))


def is_secure_backend(backend: Any) -> bool:
    """False for keyring's fail/null backends and file-based stores; True otherwise."""
    name = _qualname(backend)
    return not name.startswith(_NO_STORE_PREFIXES + _INSECURE_PREFIXES)


def _install_hint() -> Text:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return _t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "Install and start a Secret Service password store: GNOME Keyring (package 'gnome-keyring') "
                "or KDE Wallet (package 'kwalletmanager'), or enable KeePassXC's Secret Service integration, "
                "and run MailSetup inside your desktop session.",
            )
        )
    if sys.platform == "darwin":
        return _t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "The macOS Keychain should always be available; log in to a normal user session and try again.",
            )
        )
    if sys.platform == "win32":
        return _t(
            QT_TRANSLATE_NOOP(
                "Secrets", "The Windows Credential Locker should always be available; log in to a normal user session."
            )
        )
    return _t(QT_TRANSLATE_NOOP("Secrets", "Install a password store supported by the Python 'keyring' package."))


_SAVE_WITHOUT = _t(
    QT_TRANSLATE_NOOP(
        "Secrets",
        "You can save the account without the password; MailSetup will then ask for it each time it tests the account.",
    )
)


def _no_backend_error() -> SecretStoreError:
    return SecretStoreError(
        SecretErrorKind.NO_BACKEND,
        _t(QT_TRANSLATE_NOOP("Secrets", "No password store available")),
        _t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "MailSetup keeps passwords only in the system password store, and none was found on this computer. ",
            )
        )
        + _install_hint()
        + " "
        + _SAVE_WITHOUT,
    )


def _insecure_error(backend: Any) -> SecretStoreError:
    return SecretStoreError(
        SecretErrorKind.INSECURE_BACKEND,
        _t(QT_TRANSLATE_NOOP("Secrets", "Password store is not secure")),
        _t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "The configured password store ({name}) keeps passwords in a file on disk, not in a protected "
                "system store, so MailSetup will not use it. ",
            ),
            name=_qualname(backend),
        )
        + _install_hint()
        + " "
        + _SAVE_WITHOUT,
    )


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
            _t(QT_TRANSLATE_NOOP("Secrets", "Password store could not be started")),
            _t(
                QT_TRANSLATE_NOOP("Secrets", "The password store {name} could not be started: {reason}. "),
                name=name,
                reason=exc,
            )
            + _install_hint(),
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
            raise _insecure_error(insecure[0]) if insecure else _no_backend_error()
        chosen = max(members, key=keyring.backend.by_priority)
    return chosen


def _check_backend(backend: Any) -> Any:
    name = _qualname(backend)
    if name.startswith(_NO_STORE_PREFIXES):
        raise _no_backend_error()
    if not is_secure_backend(backend):
        raise _insecure_error(backend)
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
        self.timeout = float(timeout)
        self._lock = threading.Lock()

    # -- public API -------------------------------------------------------------------------------
    def backend(self) -> Any:
        """The secure backend in use (resolving it on first call); raises SecretStoreError."""
        with self._lock:
            if self._backend is None:
                self._backend = self._bounded("open", _resolve_default_backend)
            backend = self._backend
        return _check_backend(backend)

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

        def run() -> None:
            try:
                box["value"] = fn(*args)
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        worker = threading.Thread(target=run, name=f"mailsetup-keyring-{what}", daemon=True)
        worker.start()
        if not done.wait(self.timeout):
            log.warning("password store did not answer a %s request within %.1f s", what, self.timeout)
            raise SecretStoreError(
                SecretErrorKind.TIMEOUT,
                _t(QT_TRANSLATE_NOOP("Secrets", "Password store does not respond")),
                _t(
                    QT_TRANSLATE_NOOP(
                        "Secrets",
                        "The system password store did not answer within {seconds:g} seconds. It may be waiting for an "
                        "unlock window that is hidden or cannot be shown, or the service is stuck. Unlock or restart "
                        "it (on Linux: gnome-keyring-daemon or KWallet) and try again. ",
                    ),
                    seconds=self.timeout,
                )
                + _SAVE_WITHOUT,
            )
        if "error" in box:
            raise _translate(box["error"], what, secret) from None
        return box.get("value")  # type: ignore[return-value]


def _key(profile: str) -> str:
    if not isinstance(profile, str) or not profile:
        raise ValueError("profile name must be a non-empty string")
    return profile


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


# What was being done when the store failed, as it reads in "while {what} the password".
_OPERATIONS = {
    "open": _t(QT_TRANSLATE_NOOP("Secrets", "opening the store for")),
    "read": _t(QT_TRANSLATE_NOOP("Secrets", "reading")),
    "write": _t(QT_TRANSLATE_NOOP("Secrets", "saving")),
    "delete": _t(QT_TRANSLATE_NOOP("Secrets", "deleting")),
}


def _translate(exc: BaseException, what: str, secret: str | None) -> BaseException:
    """Map a backend exception to SecretStoreError (never leaking the secret)."""
    from keyring import errors

    if isinstance(exc, SecretStoreError):
        return exc
    reason = _scrub(str(exc) or type(exc).__name__, secret)
    log.info("password store %s failed: %s: %s", what, type(exc).__name__, reason)
    if isinstance(exc, errors.NoKeyringError):
        return _no_backend_error()
    if isinstance(exc, errors.KeyringLocked):
        return SecretStoreError(
            SecretErrorKind.LOCKED,
            _t(QT_TRANSLATE_NOOP("Secrets", "Password store is locked")),
            _t(
                QT_TRANSLATE_NOOP(
                    "Secrets",
                    "The system password store is locked and was not unlocked (the unlock window was closed or could "
                    "not be shown). Unlock it (for example by logging in to your desktop, or in Passwords and Keys / "
                    "KWallet Manager / Keychain Access) and try again. ",
                )
            )
            + _SAVE_WITHOUT,
        )
    if isinstance(exc, errors.InitError):
        return SecretStoreError(
            SecretErrorKind.INIT_FAILED,
            _t(QT_TRANSLATE_NOOP("Secrets", "Password store could not be started")),
            _t(QT_TRANSLATE_NOOP("Secrets", "The system password store could not be opened: {reason}. "), reason=reason)
            + _install_hint(),
        )
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return exc
    return SecretStoreError(
        SecretErrorKind.BACKEND_ERROR,
        _t(QT_TRANSLATE_NOOP("Secrets", "Password store error")),
        _t(
            QT_TRANSLATE_NOOP(
                "Secrets", "The system password store reported an error while {what} the password: {reason}."
            ),
            what=_OPERATIONS.get(what, what),
            reason=reason,
        ),
    )
