"""The errors of the password store: kinds, translatable titles and messages, and how backend exceptions map to them.

Texts are translated first and filled after (``Text``); no message ever contains a secret
(``translate_error`` scrubs the secret out of a backend's own text).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from enum import Enum
from typing import Any

from app.core.model import QT_TRANSLATE_NOOP, Text

log = logging.getLogger("app.core.store.secrets")

CONTEXT = "Secrets"


def t(template: str, **params: Any) -> Text:
    return Text.of(CONTEXT, template, **params)


class SecretErrorKind(str, Enum):
    """Why the password store could not be used (stable; part of the CLI's JSON)."""

    NO_BACKEND = "no_backend"  # no password store at all (keyring's fail/null backend)
    INSECURE_BACKEND = "insecure_backend"  # only a plaintext/encrypted-file store is configured
    LOCKED = "locked"  # the store is locked and unlocking failed or the prompt was dismissed
    INIT_FAILED = "init_failed"  # a store is configured but could not be started / reached
    TIMEOUT = "timeout"  # the store did not answer in time
    BACKEND_ERROR = "backend_error"  # any other error reported by the store
    MOVED = "moved"  # the store that holds a profile's secret is not the one available now


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


def install_hint() -> Text:
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "Install and start a Secret Service password store: GNOME Keyring (package 'gnome-keyring') "
                "or KDE Wallet (package 'kwalletmanager'), or enable KeePassXC's Secret Service integration, "
                "and run MailSetup inside your desktop session.",
            )
        )
    if sys.platform == "darwin":
        return t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "The macOS Keychain should always be available; log in to a normal user session and try again.",
            )
        )
    if sys.platform == "win32":
        return t(
            QT_TRANSLATE_NOOP(
                "Secrets", "The Windows Credential Locker should always be available; log in to a normal user session."
            )
        )
    return t(QT_TRANSLATE_NOOP("Secrets", "Install a password store supported by the Python 'keyring' package."))


SAVE_WITHOUT = t(
    QT_TRANSLATE_NOOP(
        "Secrets",
        "You can save the account without the password; MailSetup will then ask for it each time it tests the account.",
    )
)


def no_backend_error() -> SecretStoreError:
    return SecretStoreError(
        SecretErrorKind.NO_BACKEND,
        t(QT_TRANSLATE_NOOP("Secrets", "No password store available")),
        t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "MailSetup keeps passwords only in the system password store, and none was found on this computer. ",
            )
        )
        + install_hint()
        + " "
        + SAVE_WITHOUT,
    )


def insecure_error(qualname: str) -> SecretStoreError:
    return SecretStoreError(
        SecretErrorKind.INSECURE_BACKEND,
        t(QT_TRANSLATE_NOOP("Secrets", "Password store is not secure")),
        t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "The configured password store ({name}) keeps passwords in a file on disk, not in a protected "
                "system store, so MailSetup will not use it. ",
            ),
            name=qualname,
        )
        + install_hint()
        + " "
        + SAVE_WITHOUT,
    )


def moved_error(stored: str, current: str | None) -> SecretStoreError:
    """The secret was stored in ``stored`` (a display name), which is not the store available now."""
    return SecretStoreError(
        SecretErrorKind.MOVED,
        t(QT_TRANSLATE_NOOP("Secrets", "Stored password is in another password store")),
        t(
            QT_TRANSLATE_NOOP(
                "Secrets",
                "The password was stored in {stored}, which cannot be opened now (the password store in use is "
                "{current}). Start or unlock that store, or save the account again to keep the password in the "
                "store in use now.",
            ),
            stored=stored,
            current=current or "none",
        ),
    )


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


# What was being done when the store failed, as it reads in "while {what} the password".
_OPERATIONS = {
    "open": t(QT_TRANSLATE_NOOP("Secrets", "opening the store for")),
    "read": t(QT_TRANSLATE_NOOP("Secrets", "reading")),
    "write": t(QT_TRANSLATE_NOOP("Secrets", "saving")),
    "delete": t(QT_TRANSLATE_NOOP("Secrets", "deleting")),
}


def translate_error(exc: BaseException, what: str, secret: str | None) -> BaseException:
    """Map a backend exception to SecretStoreError (never leaking the secret)."""
    from keyring import errors

    if isinstance(exc, SecretStoreError):
        return exc
    reason = _scrub(str(exc) or type(exc).__name__, secret)
    log.info("password store %s failed: %s: %s", what, type(exc).__name__, reason)
    if isinstance(exc, errors.NoKeyringError):
        return no_backend_error()
    if isinstance(exc, errors.KeyringLocked):
        return SecretStoreError(
            SecretErrorKind.LOCKED,
            t(QT_TRANSLATE_NOOP("Secrets", "Password store is locked")),
            t(
                QT_TRANSLATE_NOOP(
                    "Secrets",
                    "The system password store is locked and was not unlocked (the unlock window was closed or could "
                    "not be shown). Unlock it (for example by logging in to your desktop, or in Passwords and Keys / "
                    "KWallet Manager / Keychain Access) and try again. ",
                )
            )
            + SAVE_WITHOUT,
        )
    if isinstance(exc, errors.InitError):
        return SecretStoreError(
            SecretErrorKind.INIT_FAILED,
            t(QT_TRANSLATE_NOOP("Secrets", "Password store could not be started")),
            t(QT_TRANSLATE_NOOP("Secrets", "The system password store could not be opened: {reason}. "), reason=reason)
            + install_hint(),
        )
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        return exc
    return SecretStoreError(
        SecretErrorKind.BACKEND_ERROR,
        t(QT_TRANSLATE_NOOP("Secrets", "Password store error")),
        t(
            QT_TRANSLATE_NOOP(
                "Secrets", "The system password store reported an error while {what} the password: {reason}."
            ),
            what=_OPERATIONS.get(what, what),
            reason=reason,
        ),
    )
