"""The desktop around the wizard: UI preferences, links opened in the browser, shared message texts.

Shared by the wizard, its pages and the dialogs, so that none of them imports another's module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings


def settings_store() -> QSettings:
    """UI preferences (window size, last provider, language) in an ini file under the user config dir."""
    from platformdirs import user_config_dir

    path = Path(user_config_dir("mailsetup", "MailSetup")) / "mailsetup-ui.ini"
    return QSettings(str(path), QSettings.Format.IniFormat)


def open_url(url: str) -> bool:
    """Open ``url`` in the browser (https only)."""
    if not url.lower().startswith(("https://", "http://")):
        return False
    from PySide6.QtCore import QUrl  # not at import: the first page shows before any link is opened
    from PySide6.QtGui import QDesktopServices

    return QDesktopServices.openUrl(QUrl(url))


def secret_error_texts(exc: Any) -> tuple[str, str]:
    """(title, message) of a SecretStoreError in the UI language."""
    from PySide6.QtCore import QCoreApplication

    render = getattr(exc, "render", None)
    if callable(render):
        return render(lambda context, text: QCoreApplication.translate(context or "Secrets", text))
    return str(getattr(exc, "title", exc)), str(getattr(exc, "message", ""))


def secret_store_name(name: str | None) -> str:
    """A password store's name (from core's table) in the UI language."""
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("Secrets", name) if name else ""
