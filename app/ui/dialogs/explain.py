""" "Decode a server reply…": paste an SMTP reply or a bounce (or open an .eml) and read its diagnosis.

The decoding is app.core.diagnosis.explain_input (the same table and classifier as the check, with
the provider's hints); this dialog only collects the text and shows each finding in the shared
DiagnosisPanel. The input is bounded by the core (EXPLAIN_MAX_INPUT), so decoding runs at once on
the GUI thread; a refused input is named in the summary and the pasted text stays as it was.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.diagnosis import EXPLAIN_MAX_INPUT, Action, ExplainInputError, Explanation, explain_input
from app.ui import i18n
from app.ui.desktop import open_url
from app.ui.widgets.diagnosis_panel import DiagnosisPanel

log = logging.getLogger(__name__)


class ExplainDialog(QDialog):
    """Paste a reply or bounce, press Decode, read the diagnosis (one per recipient of a bounce)."""

    def __init__(self, catalogue: Any = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("explain_dialog")
        self._catalogue = catalogue
        self._file_bytes: bytes | None = None  # an opened .eml as read (its own charsets), until edited
        self._result: Explanation | None = None
        self._error = ""
        self.prompt = QLabel(objectName="explain_prompt")
        self.prompt.setWordWrap(True)
        self.input = QPlainTextEdit(objectName="explain_input")
        self.input.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.input.setMinimumHeight(120)
        self.input.textChanged.connect(self._edited)
        self.provider = QComboBox(objectName="explain_provider")
        self.provider.addItem("", "")
        for p in getattr(catalogue, "presets", ()) or ():
            self.provider.addItem(p.display_name(i18n.current_language()), p.id)
        self.provider_label = QLabel()
        self.provider_label.setBuddy(self.provider)
        self.open_file = QPushButton(objectName="explain_open_file")
        self.open_file.clicked.connect(self.choose_file)
        self.decode_button = QPushButton(objectName="explain_decode")
        self.decode_button.setDefault(True)
        self.decode_button.clicked.connect(self.decode)
        self.summary = QLabel(objectName="explain_summary")
        self.summary.setWordWrap(True)
        self.findings = QComboBox(objectName="explain_findings")
        self.findings.currentIndexChanged.connect(self._show_finding)
        self.findings.hide()
        self.panel = DiagnosisPanel()
        self.panel.action_triggered.connect(self._action)
        self._build_layout()
        self.retranslate_ui()

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.addRow(self.provider_label, self.provider)
        row = QHBoxLayout()
        row.addWidget(self.open_file)
        row.addStretch(1)
        row.addWidget(self.decode_button)
        result = QWidget()
        result_lay = QVBoxLayout(result)
        result_lay.setContentsMargins(0, 0, 0, 0)
        result_lay.addWidget(self.summary)
        result_lay.addWidget(self.findings)
        result_lay.addWidget(self.panel)
        result_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(result)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.prompt)
        lay.addWidget(self.input, 2)
        lay.addLayout(form)
        lay.addLayout(row)
        lay.addWidget(scroll, 3)
        lay.addWidget(buttons)
        self.resize(640, 640)

    # -- input --------------------------------------------------------------------------------
    def _edited(self) -> None:
        if not getattr(self, "_loading", False):
            self._file_bytes = None

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a bounce message"), "", self.tr("Email messages (*.eml *.msg *.txt);;All files (*)")
        )
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> bool:
        """Read ``path`` (at most the core's limit + 1 byte) into the box and decode it; False if unreadable."""
        try:
            with path.open("rb") as f:
                data = f.read(EXPLAIN_MAX_INPUT + 1)
        except OSError as exc:
            self._show_error(self.tr("{file} cannot be read: {reason}").format(file=path.name, reason=exc.strerror))
            return False
        if len(data) > EXPLAIN_MAX_INPUT:
            self._show_error(self.tr("{file} is larger than 1 MB; a bounce is much smaller.").format(file=path.name))
            return False
        self._loading = True
        try:
            self.input.setPlainText(data.decode("utf-8", "replace"))
        finally:
            self._loading = False
        self._file_bytes = data
        self.decode()
        return True

    # -- decoding -----------------------------------------------------------------------------
    def decode(self) -> None:
        data: bytes | str = self._file_bytes if self._file_bytes is not None else self.input.toPlainText()
        provider = None
        pid = self.provider.currentData()
        if pid and self._catalogue is not None:
            provider = self._catalogue.by_id(pid)
        try:
            result = explain_input(data, self._catalogue, provider)
        except ExplainInputError as exc:
            empty = not data.strip()
            self._show_error(
                self.tr("Paste a server reply or a bounce message first.")
                if empty
                else self.tr("This is larger than 1 MB; paste only the bounce or the reply.")
            )
            log.info("explain input refused: %s", exc)
            return
        self._result, self._error = result, ""
        self.findings.blockSignals(True)
        self.findings.clear()
        for n, f in enumerate(result.findings, 1):
            self.findings.addItem(f"{n}. {f.recipient or f.status or f.reply or ''}"[:120])
        self.findings.setCurrentIndex(0 if result.findings else -1)
        self.findings.blockSignals(False)
        self.findings.setVisible(len(result.findings) > 1)
        self._show_finding(0)
        self.retranslate_ui()

    def _show_error(self, message: str) -> None:
        self._result, self._error = None, message
        self.findings.hide()
        self.panel.show_diagnosis(None)
        self.summary.setText(message)

    def _show_finding(self, index: int) -> None:
        findings = self._result.findings if self._result else ()
        self.panel.show_diagnosis(findings[index].diagnosis if 0 <= index < len(findings) else None)

    def _action(self, action: Action) -> None:
        if action.kind == "open_url" and action.params.get("url"):
            open_url(str(action.params["url"]))

    # -- texts --------------------------------------------------------------------------------
    def _summary_text(self) -> str:
        r = self._result
        if r is None:
            return self._error
        if not r.findings:
            return self.tr("No SMTP reply or delivery status was found in this text.")
        kinds = {
            "reply": self.tr("A server reply"),
            "dsn": self.tr("A delivery status notification with {count} recipient(s)"),
            "bounce": self.tr("A bounce message with {count} reply(ies)"),
        }
        text = kinds.get(r.kind, kinds["reply"]).format(count=len(r.findings))
        if r.provider is not None:
            text += " " + self.tr("(provider: {name})").format(name=r.provider.display_name(i18n.current_language()))
        if r.truncated:
            text += " " + self.tr("Only the first part was read; the rest is left out.")
        return text

    def retranslate_ui(self) -> None:
        self.setWindowTitle(self.tr("Decode a server reply"))
        self.prompt.setText(
            self.tr(
                "Paste an SMTP reply (for example '535 5.7.8 Username and Password not accepted') "
                "or a whole bounce message, or open a saved .eml file."
            )
        )
        self.input.setAccessibleName(self.tr("Server reply or bounce message"))
        self.provider_label.setText(self.tr("&Provider:"))
        self.provider.setItemText(0, self.tr("Recognise automatically"))
        self.open_file.setText(self.tr("&Open .eml…"))
        self.decode_button.setText(self.tr("&Decode"))
        self.findings.setAccessibleName(self.tr("Recipient"))
        self.summary.setText(self._summary_text())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
