"""The Save page's exports: settings for an app (env, Python, PHPMailer, Nodemailer, ...), with the password only when asked; copying and saving a file are explicit actions."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from app.ui.wizard.pages.save.jobs import (
    EXPORT_LABELS,
    export_formats,
    export_text,
)

log = logging.getLogger(__name__)


class SaveExports:
    """Part of SavePage (see __init__.py); a mixin: it uses the page's widgets and model."""

    def _build_exports(self) -> None:
        self.export_group = QGroupBox(objectName="export_group")
        self.export_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        for i, fmt in enumerate(export_formats()):
            b = QPushButton(EXPORT_LABELS.get(fmt, fmt), objectName=f"export_{fmt}")
            b.clicked.connect(lambda _=False, f=fmt: self.export(f))
            self.export_buttons[fmt] = b
            grid.addWidget(b, i // 3, i % 3)
        self.include_password = QCheckBox(objectName="include_password")
        self.include_password.toggled.connect(self._include_toggled)
        self.include_warning = QLabel(objectName="include_password_warning")
        self.include_warning.setWordWrap(True)
        self.include_warning.hide()
        self.export_preview = QPlainTextEdit(objectName="export_preview")
        self.export_preview.setReadOnly(True)
        self.export_preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.export_preview.setMinimumHeight(120)
        self.copy_export = QPushButton(objectName="copy_export")
        self.save_export = QPushButton(objectName="save_export")
        self.copy_export.clicked.connect(self.copy_export_text)
        self.save_export.clicked.connect(self._save_export_dialog)
        self.copy_export.setEnabled(False)
        self.save_export.setEnabled(False)
        self.export_status = QLabel(objectName="export_status")
        self.export_status.setWordWrap(True)
        self._export_fmt: str | None = None
        self._export_status_fn: Any = None
        eg = QVBoxLayout(self.export_group)
        eg.addLayout(grid)
        eg.addWidget(self.include_password)
        eg.addWidget(self.include_warning)
        eg.addWidget(self.export_preview, 1)
        row = QHBoxLayout()
        row.addWidget(self.export_status, 1)
        row.addWidget(self.copy_export)
        row.addWidget(self.save_export)
        eg.addLayout(row)

    # -- export ----------------------------------------------------------------------------
    def _include_toggled(self, on: bool) -> None:
        self.include_warning.setVisible(on)
        if self._export_fmt:
            self.export(self._export_fmt)

    def export_text(self, fmt: str) -> str:
        name = self.profile_name.text().strip()
        return export_text(self._wizard.model, name, fmt, with_secret=self.include_password.isChecked())

    def export(self, fmt: str) -> None:
        """Show the export in the preview; copying is a separate, explicit action (Copy)."""
        text = self.export_text(fmt)
        self._export_fmt = fmt
        self.export_preview.setPlainText(text)
        self.copy_export.setEnabled(True)
        self.save_export.setEnabled(True)
        self._export_status_fn = None
        self.export_status.setText("")

    def export_has_password(self) -> bool:
        password = self._wizard.model.password
        return bool(password) and password in self.export_preview.toPlainText()

    def copy_export_text(self) -> None:
        QGuiApplication.clipboard().setText(self.export_preview.toPlainText())
        fmt = EXPORT_LABELS.get(self._export_fmt or "", self._export_fmt or "")
        if self.export_has_password():
            self._export_status_fn = lambda: self.tr(
                "{format} copied to the clipboard, with the password: clear the clipboard when done."
            ).format(format=fmt)
        else:
            self._export_status_fn = lambda: self.tr("{format} copied to the clipboard.").format(format=fmt)
        self.export_status.setText(self._export_status_fn())

    def save_export_to(self, path: str) -> Any:
        from app.core.store import write_export

        written = write_export(path, self.export_preview.toPlainText())
        self.export_status.setText(self.tr("Saved to {path} (readable only by you).").format(path=str(written)))
        return written

    def _save_export_dialog(self) -> None:
        from app.core.store import EXPORT_FILENAMES

        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save export"), EXPORT_FILENAMES.get(self._export_fmt or "", "export.txt")
        )
        if path:
            try:
                self.save_export_to(path)
            except OSError as exc:
                self.export_status.setText(
                    self.tr("Could not write the file: {error}").format(
                        error=getattr(exc, "message", None) or exc.strerror or str(exc)
                    )
                )
