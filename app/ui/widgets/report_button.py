"""“Save report…”: writes the shareable diagnostic report (app.core.report) of the last run on this page.

The data comes from the WizardModel (``report_inputs``: the last Verdict, the send and delivery results
and the recorded events), never from another page's widgets, and never holds a password. The file is
chosen with a QFileDialog; HTML or plain text by the chosen filter or the name's extension. The
target checks and the atomic write are the engine's (``write_report``), as for ``mailsetup report``.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QStandardPaths, Qt
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget


def report_file_name(host: str, fmt: str, now: datetime | None = None) -> str:
    """``mailsetup-report-smtp.example.com-20261205-0730.html``: only safe characters from the host."""
    safe = re.sub(r"[^A-Za-z0-9.-]+", "_", host or "")[:60].strip("._") or "server"
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M")
    return f"mailsetup-report-{safe}-{stamp}.{'txt' if fmt == 'text' else 'html'}"


class ReportButton(QWidget):
    """A “Save report…” button and a status line; enabled once the page's run (``kind``: check/send) ended."""

    def __init__(self, model: Any, kind: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"report_{kind}")
        self._model = model
        self._kind = kind
        self.last_path: Path | None = None
        self.button = QPushButton(objectName=f"save_report_{kind}")
        self.button.clicked.connect(self.choose_and_save)
        # addresses (login, sender, recipients) masked in the report, for a report shared outside the company
        self.mask = QCheckBox(objectName=f"report_mask_{kind}")
        self.status = QLabel(objectName=f"report_status_{kind}")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # a path or an error may hold anything
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.button)
        lay.addWidget(self.mask)
        lay.addWidget(self.status, 1)
        model.report_changed.connect(self.refresh)
        self.retranslate_ui()
        self.refresh()

    def available(self) -> bool:
        return self._model.report_inputs(self._kind) is not None

    def refresh(self) -> None:
        """Enabled only when the model holds a finished run; a new run hides the previous outcome."""
        self.button.setEnabled(self.available())
        self.mask.setEnabled(self.button.isEnabled())
        if not self.button.isEnabled():
            self.status.hide()

    def retranslate_ui(self) -> None:
        self.button.setText(self.tr("Sav&e report…"))
        self.button.setToolTip(
            self.tr("Save everything a support engineer needs about this run (never a password) as one file.")
        )
        self.mask.setText(self.tr("Hide addresses"))
        self.mask.setToolTip(self.tr("Replace the login, sender and recipient addresses in the report with masks."))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def choose_and_save(self) -> None:
        """Ask where (QFileDialog), then save; nothing happens when the dialog is cancelled."""
        if not self.available():
            return
        html_filter, text_filter = self.tr("Web page (*.html)"), self.tr("Plain text (*.txt)")
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        settings = self._model.report_inputs(self._kind)["verdict"].settings
        suggested = str(Path(folder) / report_file_name(settings.host, "html"))
        path, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Save report"), suggested, f"{html_filter};;{text_filter}"
        )
        if not path:
            return
        fmt = "text" if chosen == text_filter or path.lower().endswith((".txt", ".text")) else "html"
        self.save_to(path, fmt)

    def save_to(self, path: str, fmt: str = "html") -> bool:
        """Build, render and write the report; the outcome is shown beside the button."""
        from app.core.report import ReportTargetError, build_report, render_report, write_report

        inputs = self._model.report_inputs(self._kind)
        if inputs is None:
            return False
        try:
            report = build_report(**inputs, mask_addresses=self.mask.isChecked())
            written = write_report(path, render_report(report, fmt))
        except ReportTargetError as exc:
            self.last_path = None
            self.status.setText(self.tr("The report was not saved: {reason}").format(reason=exc.message))
            self.status.show()
            return False
        self.last_path = written
        self.status.setText(self.tr("Report saved to {path}.").format(path=str(written)))
        self.status.show()
        return True


__all__ = ["ReportButton", "report_file_name"]
