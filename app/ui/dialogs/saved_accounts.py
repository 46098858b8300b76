"""The "Saved accounts" dialog: list profiles, re-test, edit (re-open the wizard pre-filled), delete, check all."""

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


def _load(name: str) -> Any:
    """The account with its secrets (AccountStore.load): runs on a worker thread."""
    from app.core.store import AccountStore

    return AccountStore().load(name)


def _delete_profile(name: str) -> Any:
    """Every secret the account owns, then the profile (a keyring error keeps the profile)."""
    from app.core.store import AccountStore

    return AccountStore().delete(name)


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
        from app.ui.dialogs.check_all import CheckAllPanel

        self.check_all = CheckAllPanel(wizard.bridge, self)
        lay.addWidget(self.check_all, 1)
        self.resize(640, 520)
        self.retranslate_ui()
        self.reload()

    def reload(self) -> None:
        from app.core.store import AccountStore, ProfileStoreError

        self.profile_list.clear()
        self._profiles = {}
        store = AccountStore()
        problems: dict[str, str] = {}
        try:
            profiles = store.list()
            problems = store.problems()
        except ProfileStoreError as exc:
            self.status.setText(exc.message)
            profiles = []
        for p in profiles:
            s = p.settings
            item = QListWidgetItem(f"{p.name} — {s.host}:{s.port} ({s.security.value}) — {self.secret_text(p)}")
            item.setData(NAME_ROLE, p.name)
            self.profile_list.addItem(item)
            self._profiles[p.name] = p
        if profiles:
            self.profile_list.setCurrentRow(0)
        elif not problems:
            self.status.setText(self.tr("No saved accounts yet."))
        if problems:
            self.status.setText(
                self.tr("Skipped (kept in the file as it is): {problems}").format(problems="; ".join(problems.values()))
            )
        self._update_buttons()

    def secret_text(self, profile: Any) -> str:
        """Whether a password is stored, as the list shows it."""
        if profile.has_secret:
            return self.tr("password stored")
        if "oauth" in profile.extra:
            return self.tr("signs in with OAuth")
        return self.tr("no password stored") if profile.settings.username else self.tr("no login")

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
        """Test the account again with its stored secrets, provider and proxy; never silently without a login."""
        profile = self.selected()
        if profile is None:
            return
        self.status.setText(self.tr("Testing “{name}”…").format(name=profile.name))
        self._run(_load, profile.name, on_done=self._retest_loaded)

    def ask_password(self, profile: Any) -> str | None:
        """The password typed for this test (not stored), or None when the user cancels."""
        from PySide6.QtWidgets import QInputDialog, QLineEdit

        text, ok = QInputDialog.getText(
            self,
            self.tr("Password needed"),
            self.tr("No password is stored for “{name}”. Password for {user} (used for this test only):").format(
                name=profile.name, user=profile.settings.username
            ),
            QLineEdit.EchoMode.Password,
        )
        return text if ok and text else None

    def _retest_loaded(self, loaded: Any) -> None:
        from app.core.store import PROXY_SERVICE

        profile = loaded.profile
        if PROXY_SERVICE in loaded.missing:
            self.status.setText(
                self.tr("Not tested: the proxy password of “{name}” is no longer stored. Edit the account.").format(
                    name=profile.name
                )
            )
            return
        password = loaded.password
        oauth = "oauth" in profile.extra
        if password is None and profile.settings.username and not oauth:
            password = self.ask_password(profile)
            if password is None:
                self.status.setText(
                    self.tr("Not tested: “{name}” has no stored password, and none was typed.").format(
                        name=profile.name
                    )
                )
                return
        if profile.sandbox and self._wizard.sandbox_info is None:
            job = self._wizard.start_sandbox()
            if job is not None:
                job.finished.connect(lambda _info: self._retest_run(loaded, password))
                job.failed.connect(self._show_error)
                return
        self._retest_run(loaded, password)

    def _retest_run(self, loaded: Any, password: str | None) -> None:
        from app.core.store import sandbox_settings

        profile = loaded.profile
        settings = loaded.settings
        if profile.sandbox and self._wizard.sandbox_info is not None:
            settings = sandbox_settings(settings, self._wizard.sandbox_info)
        catalogue = getattr(self._wizard, "catalogue", None)
        provider = catalogue.by_id(profile.provider_id) if catalogue is not None and profile.provider_id else None

        async def check(on_event: Any) -> Any:
            from app.core.oauth import access_token, account_of
            from app.core.smtp import run_check

            secret = password
            if secret is None and account_of(profile) is not None:  # OAuth: a fresh token from the stored grant
                secret = await access_token(profile)
            return await run_check(settings, secret, on_event=on_event, provider=provider)

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

        def done(loaded: Any) -> None:
            self.accept()
            self.edit_requested.emit(profile, loaded.password)

        def failed(exc: Any) -> None:  # edit anyway, say why the password is not filled in
            self._show_error(exc)
            self.accept()
            self.edit_requested.emit(profile, None)

        self._job = self._wizard.bridge.run_blocking(_load, profile.name, name="keyring-get", serial=True)
        self._job.finished.connect(done)
        self._job.failed.connect(failed)
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

    def done(self, result: int) -> None:
        """Closing the dialog stops a running "Check all" (the engine cancels every check)."""
        self.check_all.stop()
        super().done(result)

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
