"""Step 6: save the profile (settings to a file, password to the OS keyring) and export snippets."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.desktop import secret_error_texts, secret_store_name
from app.ui.widgets.form_rows import FieldMessage, scrolled
from app.ui.wizard.pages.base import LazyPage
from app.ui.wizard.pages.save.exports import SaveExports
from app.ui.wizard.pages.save.jobs import (
    backend_name_blocking,
    save_profile_blocking,
)

log = logging.getLogger(__name__)


class SavePage(SaveExports, LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_save")

    def build(self) -> None:
        self._job = None
        self._last_save: tuple[bool, str] = (True, "")
        self._name_taken: tuple[bool, str] | None = None  # (store_secret, name) of a save refused: name taken
        self._backend_job = None
        self.saved_profile: Any = None
        self.backend_name: str | None = None
        self.backend_error: Any = None
        self._name_prefilled: str | None = None
        self._status_fn = None
        self.keyring_exc: Any = None
        self._build_save_row()
        self._build_keyring_box()
        self._build_exports()
        self._build_layout()

    def _build_save_row(self) -> None:
        self.summary = QLabel(objectName="save_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_label = QLabel()
        self.profile_name = QLineEdit(objectName="profile_name")
        self.name_label.setBuddy(self.profile_name)
        self.profile_name.textEdited.connect(lambda *_: self.name_error.set_message(""))
        self.name_error = FieldMessage("profile_name")
        self.store_password = QCheckBox(objectName="store_password")
        self.store_password.setChecked(True)
        self.save_profile = QPushButton(objectName="save_profile")
        self.save_profile.clicked.connect(lambda: self.save(store_secret=self.store_password.isChecked()))
        self.status = QLabel(objectName="save_status")
        self.status.setWordWrap(True)

    def _build_keyring_box(self) -> None:
        self.keyring_box = QFrame(objectName="keyring_box")
        self.keyring_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.keyring_title = QLabel(objectName="keyring_error_title")
        f = self.keyring_title.font()
        f.setBold(True)
        self.keyring_title.setFont(f)
        self.keyring_title.setWordWrap(True)
        self.keyring_error = QLabel(objectName="keyring_error")
        self.keyring_error.setWordWrap(True)
        self.keyring_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_without_password = QPushButton(objectName="save_without_password")
        self.save_without_password.clicked.connect(lambda: self.save(store_secret=False))
        kb = QVBoxLayout(self.keyring_box)
        kb.addWidget(self.keyring_title)
        kb.addWidget(self.keyring_error)
        kb_row = QHBoxLayout()
        kb_row.addStretch(1)
        kb_row.addWidget(self.save_without_password)
        kb.addLayout(kb_row)
        self.keyring_box.hide()

    def _build_layout(self) -> None:
        name_row = QHBoxLayout()
        name_row.addWidget(self.name_label)
        name_row.addWidget(self.profile_name, 1)
        name_row.addWidget(self.save_profile)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.addWidget(self.summary)
        lay.addLayout(name_row)
        lay.addWidget(self.name_error)
        lay.addWidget(self.store_password)
        lay.addWidget(self.status)
        lay.addWidget(self.keyring_box)
        lay.addWidget(self.export_group, 1)
        scroll = scrolled(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.retranslate_ui()

    # -- lifecycle -------------------------------------------------------------------------
    def on_enter(self) -> None:
        model = self._wizard.model
        default = model.editing_profile or model.email
        if not self.profile_name.text() or self.profile_name.text() == self._name_prefilled:
            self.profile_name.setText(default)
            self._name_prefilled = default
        self.store_password.setEnabled(bool(model.password) and self.backend_error is None)
        if self.backend_name is None and self.backend_error is None:
            self._backend_job = self._wizard.bridge.run_blocking(
                backend_name_blocking, name="keyring-backend", serial=True
            )
            self._backend_job.finished.connect(self._backend_found)
            self._backend_job.failed.connect(self._backend_failed)
        self._update_summary()

    def _backend_found(self, name: str) -> None:
        self.backend_name = name
        self._update_summary()

    def _backend_failed(self, exc: Any) -> None:
        self.backend_error = exc
        # no store: the option cannot be taken, so it is neither checked nor clickable
        self.store_password.setChecked(False)
        self.store_password.setEnabled(False)
        self._update_summary()

    def profiles_path(self) -> str:
        from app.core.store import default_profiles_path

        return str(default_profiles_path())

    def _update_summary(self) -> None:
        s = self._wizard.model.settings
        where = f"{s.host}:{s.port} ({s.security.value.upper()})" if s is not None else "—"
        if self.backend_name:
            secret = self.tr("The password goes to the system password store: {backend}.").format(
                backend=secret_store_name(self.backend_name)
            )
        elif self.backend_error is not None:
            secret = self.tr(
                "The password cannot be stored on this computer ({title}). You can save without the password."
            ).format(title=secret_error_texts(self.backend_error)[0])
        else:
            secret = self.tr("Looking for the system password store…")
        self.summary.setText(
            self.tr("Server {server}. The settings (never the password) are saved to {path}.").format(
                server=where, path=self.profiles_path()
            )
            + "\n"
            + secret
        )

    # -- saving ----------------------------------------------------------------------------
    def is_saving(self) -> bool:
        return self._job is not None and self._job.running

    def save(self, *, store_secret: bool = True, replace_existing: bool = False) -> None:
        """Save the profile off the GUI thread; keyring trouble keeps every field as typed.

        A name that is taken asks before overwriting (``ask_overwrite``), unless it is the account
        being edited; an edit that brings no new password keeps the stored ones.
        """
        if self.is_saving():
            return
        from app.core.store import ProfileStoreError, normalize_name

        try:
            name = normalize_name(self.profile_name.text())
        except ProfileStoreError as exc:
            self.name_error.set_message(exc.message)
            return
        model = self._wizard.model
        settings = model.settings
        if settings is None:
            return
        editing = model.editing_profile is not None and normalize_name(model.editing_profile) == name
        self._last_save = (store_secret, name)
        self.keyring_box.hide()
        self._set_status(lambda: self.tr("Saving…"))
        self.save_profile.setEnabled(False)
        self.save_without_password.setEnabled(False)
        if model.oauth is not None:  # an OAuth sign-in: the grant goes to the keyring, never the access token
            from app.ui.widgets.oauth_sign_in_box import save_oauth_blocking

            job = self._wizard.bridge.run_blocking(
                save_oauth_blocking,
                name,
                settings,
                model,
                replace_existing=replace_existing or editing,  # a taken name asks first (_save_failed)
                name="save-profile",
                serial=True,
            )
            job.finished.connect(self._saved)
            job.failed.connect(self._save_failed)
            job.done.connect(self._save_ended)
            self._job = job
            return
        job = self._wizard.bridge.run_blocking(
            save_profile_blocking,
            name,
            settings,
            model.email,
            model.from_name,
            model.provider,
            model.password or None,
            store_secret=store_secret and bool(model.password),
            replace_existing=replace_existing or editing,
            keep_secrets=editing and store_secret,
            name="save-profile",
            serial=True,
        )
        job.finished.connect(self._saved)
        job.failed.connect(self._save_failed)
        job.done.connect(self._save_ended)
        self._job = job

    def ask_overwrite(self, name: str) -> bool:
        """Ask whether to replace the saved account ``name`` (its stored passwords go with it)."""
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self,
            self.tr("Replace saved account"),
            self.tr(
                "A saved account called “{name}” already exists. Replace it with these settings? "
                "Its stored passwords are replaced or removed."
            ).format(name=name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _saved(self, profile: Any) -> None:
        self.saved_profile = profile
        self._wizard.model.set_saved(profile)
        if "oauth" in profile.extra:
            self._set_status(
                lambda: self.tr("Saved “{name}”; the sign-in is in the system password store.").format(
                    name=profile.name
                )
            )
        elif profile.has_secret:
            self._set_status(
                lambda: self.tr("Saved “{name}”; the password is in {backend}.").format(
                    name=profile.name, backend=secret_store_name(profile.secret_backend)
                )
            )
        else:
            self._set_status(
                lambda: self.tr("Saved “{name}” without the password; you will be asked for it when needed.").format(
                    name=profile.name
                )
            )

    def _save_failed(self, exc: Any) -> None:
        from app.core.store import ProfileErrorKind, ProfileStoreError, SecretStoreError

        if isinstance(exc, ProfileStoreError) and exc.kind is ProfileErrorKind.EXISTS:
            # asked once this job has ended (_save_ended): the question runs its own event loop, in which
            # the job's "done" would otherwise arrive while it still counted as running
            self._name_taken = self._last_save
            return
        if isinstance(exc, SecretStoreError):
            self.keyring_exc = exc
            self._render_keyring_error()
            self.keyring_box.show()
            self._set_status(lambda: self.tr("The password could not be stored; nothing was saved yet."))
        else:
            self._set_status(lambda: self.tr("Could not save: {error}").format(error=getattr(exc, "message", str(exc))))

    def _render_keyring_error(self) -> None:
        exc = self.keyring_exc
        if exc is None:
            return
        title, message = secret_error_texts(exc)
        self.keyring_title.setText(title)
        self.keyring_error.setText(message)

    def _save_ended(self) -> None:
        self.save_profile.setEnabled(True)
        self.save_without_password.setEnabled(True)
        taken, self._name_taken = self._name_taken, None
        if taken is None:
            return
        store_secret, name = taken
        if self.ask_overwrite(name):
            self.save(store_secret=store_secret, replace_existing=True)
        else:
            self._set_status(lambda: self.tr("Not saved: “{name}” was kept as it was.").format(name=name))

    def _set_status(self, fn: Any) -> None:
        self._status_fn = fn
        self.status.setText(fn())

    # -- wizard protocol -------------------------------------------------------------------
    def isComplete(self) -> bool:
        if not self.built:
            return False
        return not self.is_saving()

    def nextId(self) -> int:
        return -1

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Save the account"))
        self.setSubTitle(self.tr("Keep these settings for later and copy them into your application."))
        self.name_label.setText(self.tr("&Profile name:"))
        self.profile_name.setAccessibleName(self.tr("Profile name"))
        self.store_password.setText(self.tr("&Store the password in the system password store"))
        self.save_profile.setText(self.tr("Sa&ve profile"))
        self.save_without_password.setText(self.tr("Save &without the password"))
        self.export_group.setTitle(self.tr("Export for your application"))
        self.include_password.setText(self.tr("&Include the password in the export"))
        self.include_warning.setText(
            self.tr(
                "The password will be in plain text in the copied or saved text. Anyone who reads it can send mail as you."
            )
        )
        self.export_preview.setAccessibleName(self.tr("Export preview"))
        self.copy_export.setText(self.tr("&Copy"))
        self.save_export.setText(self.tr("Save to fil&e…"))
        self._update_summary()
        self._render_keyring_error()
        if self._status_fn is not None:
            self.status.setText(self._status_fn())
        if self._export_status_fn is not None:
            self.export_status.setText(self._export_status_fn())
