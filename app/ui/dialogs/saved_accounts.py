"""The "Saved accounts" dialog: list profiles, re-test, edit (re-open the wizard pre-filled), delete."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

NAME_ROLE = Qt.ItemDataRole.UserRole


def _get_secret(name: str) -> str | None:
    from app.core.store import SecretStore

    return SecretStore().get(name)


def _delete_profile(name: str) -> bool:
    """Remove the keyring entries first, then the profile (a keyring error keeps the profile)."""
    from app.core.store import PROXY_SERVICE, ProfileStore, SecretStore, SecretStoreError

    store = ProfileStore()
    profile = store.get(name)
    if profile is not None and (profile.has_secret or profile.has_proxy_secret):
        secrets = SecretStore()
        if profile.has_secret:
            secrets.delete(name)
        if profile.has_proxy_secret:
            try:
                secrets.delete(name, service=PROXY_SERVICE)
            except SecretStoreError:
                log.warning("proxy secret of %s could not be removed", name)
    return store.delete(name)


class SavedAccountsDialog(QDialog):
    """``edit_requested(profile, password_or_None)`` when the user picks Edit."""

    edit_requested = Signal(object, object)

    def __init__(self, wizard: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("saved_accounts_dialog")
        self._wizard = wizard
        self._profiles: dict[str, Any] = {}
        self._job = None
        self.list_label = QLabel()
        self.profile_list = QListWidget(objectName="profile_list")
        self.list_label.setBuddy(self.profile_list)
        self.status = QLabel(objectName="profiles_status")
        self.status.setWordWrap(True)
        self.retest = QPushButton(objectName="retest_profile")
        self.edit = QPushButton(objectName="edit_profile")
        self.delete = QPushButton(objectName="delete_profile")
        self.close_button = QPushButton(objectName="close_profiles")
        self.retest.clicked.connect(self.retest_selected)
        self.edit.clicked.connect(self.edit_selected)
        self.delete.clicked.connect(self.delete_selected)
        self.close_button.clicked.connect(self.accept)
        self.profile_list.currentItemChanged.connect(lambda *_: self._update_buttons())
        buttons = QVBoxLayout()
        for b in (self.retest, self.edit, self.delete):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        row = QHBoxLayout()
        row.addWidget(self.profile_list, 1)
        row.addLayout(buttons)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list_label)
        lay.addLayout(row)
        lay.addWidget(self.status)
        self.resize(560, 340)
        self.retranslate_ui()
        self.reload()

    def reload(self) -> None:
        from app.core.store import ProfileStore, ProfileStoreError

        self.profile_list.clear()
        self._profiles = {}
        try:
            profiles = ProfileStore().list()
        except ProfileStoreError as exc:
            self.status.setText(exc.message)
            profiles = []
        for p in profiles:
            s = p.settings
            item = QListWidgetItem(f"{p.name} — {s.host}:{s.port} ({s.security.value})")
            item.setData(NAME_ROLE, p.name)
            self.profile_list.addItem(item)
            self._profiles[p.name] = p
        if profiles:
            self.profile_list.setCurrentRow(0)
        else:
            self.status.setText(self.tr("No saved accounts yet."))
        self._update_buttons()

    def selected(self) -> Any:
        item = self.profile_list.currentItem()
        return self._profiles.get(item.data(NAME_ROLE)) if item is not None else None

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        busy = self._job is not None and self._job.running
        for b in (self.retest, self.edit, self.delete):
            b.setEnabled(has and not busy)

    def _run(self, fn: Any, *args: Any, on_done: Any) -> None:
        self._job = self._wizard.bridge.run_blocking(fn, *args, name="profiles", serial=True)
        self._job.finished.connect(on_done)
        self._job.failed.connect(self._show_error)
        self._job.done.connect(self._update_buttons)
        self._update_buttons()

    def _show_error(self, exc: Any) -> None:
        from app.core.store import SecretStoreError
        from app.ui.desktop import secret_error_texts

        if isinstance(exc, SecretStoreError):
            title, message = secret_error_texts(exc)
            self.status.setText(f"{title}: {message}")
        else:
            self.status.setText(getattr(exc, "message", None) or str(exc))

    def retest_selected(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        self.status.setText(self.tr("Testing “{name}”…").format(name=profile.name))

        async def check(on_event: Any) -> Any:
            import asyncio

            from app.core.oauth import access_token, account_of
            from app.core.smtp import run_check

            if account_of(profile) is not None:  # OAuth: a fresh access token from the sign-in in the keyring
                return await run_check(profile.settings, await access_token(profile), on_event=on_event)
            password = await asyncio.to_thread(_get_secret, profile.name) if profile.has_secret else None
            settings = (
                profile.settings if password or not profile.settings.username else profile.settings.with_(username="")
            )
            return await run_check(settings, password, on_event=on_event)

        self._job = self._wizard.bridge.submit(check, name="retest")
        self._job.finished.connect(lambda r, n=profile.name: self._retested(n, r))
        self._job.failed.connect(self._show_error)
        self._job.done.connect(self._update_buttons)
        self._update_buttons()

    def _retested(self, name: str, result: Any) -> None:
        from app.ui.widgets.diagnosis_panel import render_diagnosis

        if result.ok:
            self.status.setText(self.tr("“{name}” works ({ms} ms).").format(name=name, ms=f"{result.elapsed_ms:.0f}"))
        else:
            title, explanation, _ = render_diagnosis(result.diagnosis)
            self.status.setText(
                self.tr("“{name}” failed: {title} {explanation}").format(
                    name=name, title=title, explanation=explanation
                )
            )

    def edit_selected(self) -> None:
        profile = self.selected()
        if profile is None:
            return
        if not profile.has_secret:
            self.accept()
            self.edit_requested.emit(profile, None)
            return

        def done(password: Any) -> None:
            self.accept()
            self.edit_requested.emit(profile, password)

        self._job = self._wizard.bridge.run_blocking(_get_secret, profile.name, name="keyring-get", serial=True)
        self._job.finished.connect(done)
        self._job.failed.connect(lambda _exc: done(None))  # edit anyway; the user types the password
        self._update_buttons()

    def delete_selected(self, *, confirm: bool = True) -> None:
        profile = self.selected()
        if profile is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                self.tr("Delete account"),
                self.tr("Delete the saved account “{name}” and its stored password?").format(name=profile.name),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._run(_delete_profile, profile.name, on_done=lambda _ok: self._deleted(profile.name))

    def _deleted(self, name: str) -> None:
        self.reload()
        self.status.setText(self.tr("Deleted “{name}”.").format(name=name))

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Saved accounts"))
        self.list_label.setText(self.tr("&Accounts:"))
        self.profile_list.setAccessibleName(self.tr("Saved accounts"))
        self.retest.setText(self.tr("&Test again"))
        self.edit.setText(self.tr("&Edit…"))
        self.delete.setText(self.tr("&Delete…"))
        self.close_button.setText(self.tr("&Close"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
