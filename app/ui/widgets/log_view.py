"""The live log shared by the Check and Test send pages: levels, monospace, copy and save."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets.flow_layout import FlowRow

if TYPE_CHECKING:  # annotations only; imported lazily where used (start-up time)
    from app.core.model import LogLevel

log = logging.getLogger(__name__)

_RANK = {"info": 0, "detail": 1, "protocol": 2}  # LogLevel values (a str Enum hashes like its value)


def stage_name(stage: Any) -> str:
    """A check stage as people call it, in the UI language (the stage list and the log share it)."""
    from app.core.model import Stage

    names = {
        Stage.RESOLVE: QCoreApplication.translate("Stages", "Find the server (DNS)"),
        Stage.CONNECT: QCoreApplication.translate("Stages", "Connect"),
        Stage.TLS: QCoreApplication.translate("Stages", "Encrypt (TLS)"),
        Stage.GREETING: QCoreApplication.translate("Stages", "Server greeting"),
        Stage.EHLO: QCoreApplication.translate("Stages", "Introduce (EHLO)"),
        Stage.STARTTLS: QCoreApplication.translate("Stages", "Switch to encryption (STARTTLS)"),
        Stage.AUTH: QCoreApplication.translate("Stages", "Log in"),
        Stage.MAIL_FROM: QCoreApplication.translate("Stages", "Sender (MAIL FROM)"),
        Stage.RCPT_TO: QCoreApplication.translate("Stages", "Recipients (RCPT TO)"),
        Stage.DATA: QCoreApplication.translate("Stages", "Message (DATA)"),
        Stage.QUIT: QCoreApplication.translate("Stages", "Say goodbye (QUIT)"),
    }
    return names.get(stage, getattr(stage, "value", str(stage)))


class LogView(QWidget):
    """Keeps every line with its level and shows those at or below the chosen verbosity."""

    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None, prefix: str = ""):
        super().__init__(parent)
        self._lines: list[tuple[LogLevel, str]] = []
        self.level_label = QLabel()
        self.level = QComboBox(objectName="log_level")
        self.level.addItems(["", "", ""])
        self.level.currentIndexChanged.connect(self._refill)
        self.level_label.setBuddy(self.level)
        self.text = QPlainTextEdit(objectName="log_view")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMaximumBlockCount(5000)
        self.copy_button = QPushButton(objectName="copy_log")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.save_button = QPushButton(objectName="save_log")
        self.save_button.clicked.connect(self._save_dialog)

        # two groups in a wrapping row: at 800 px in Russian the buttons go under the detail choice
        # instead of widening the window
        detail, actions = QWidget(), QWidget()
        for group, widgets in (
            (detail, (self.level_label, self.level)),
            (actions, (self.copy_button, self.save_button)),
        ):
            group_lay = QHBoxLayout(group)
            group_lay.setContentsMargins(0, 0, 0, 0)
            for widget in widgets:
                group_lay.addWidget(widget)
        bar = FlowRow(last_right=True)
        bar.addWidget(detail)
        bar.addWidget(actions)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.text, 1)
        self.retranslate_ui()

    # -- i18n ----------------------------------------------------------------------
    def retranslate_ui(self) -> None:
        self.level_label.setText(self.tr("Log &detail:"))
        for i, text in enumerate((self.tr("Normal"), self.tr("Detailed"), self.tr("Protocol transcript"))):
            self.level.setItemText(i, text)
        self.level.setAccessibleName(self.tr("Log detail"))
        self.text.setAccessibleName(self.tr("Connection log"))
        self.copy_button.setText(self.tr("Cop&y log"))
        self.save_button.setText(self.tr("Sa&ve log…"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    # -- content -------------------------------------------------------------------
    def verbosity(self) -> LogLevel:
        from app.core.model import LogLevel

        return (LogLevel.INFO, LogLevel.DETAIL, LogLevel.PROTOCOL)[max(0, self.level.currentIndex())]

    def clear(self) -> None:
        self._lines.clear()
        self.text.clear()

    def add_line(self, level: LogLevel, text: str) -> None:
        self._lines.append((level, text))
        if _RANK[level] <= _RANK[self.verbosity()]:
            self.text.appendPlainText(text)

    def add_event(self, event: Any) -> None:
        """Append what an engine event has to say (stage events are summarised by the pages)."""
        from app.core.model import (
            LogLevel,
            LogLine,
            StageFailed,
            StageFinished,
            StageSkipped,
            TlsEstablished,
            TranscriptLine,
        )

        if isinstance(event, LogLine):
            # the engine's template in the UI language, its values (hosts, server words) filled after
            message = event.message
            self.add_line(
                event.level, message.render(QCoreApplication.translate) if hasattr(message, "render") else str(message)
            )
        elif isinstance(event, TranscriptLine):
            arrow = "C:" if event.direction.upper().startswith("C") else "S:"
            for part in event.text.splitlines() or [""]:
                self.add_line(LogLevel.PROTOCOL, f"{arrow} {part}")
        elif isinstance(event, StageFinished):
            extra = f" — {event.summary}" if event.summary else ""
            self.add_line(LogLevel.DETAIL, f"[{event.stage.value}] ok, {event.elapsed_ms:.0f} ms{extra}")
        elif isinstance(event, StageFailed):
            from app.core.diagnosis import Code
            from app.ui.widgets.diagnosis_panel import render_diagnosis

            # for people: the step and what went wrong, translated; for engineers: the code
            if event.diagnosis.code is Code.CANCELLED:
                text = self.tr("{stage}: cancelled after {ms} ms.")
            else:
                text = self.tr("{stage}: did not work ({title}), after {ms} ms.")
            title = render_diagnosis(event.diagnosis)[0]
            self.add_line(
                LogLevel.INFO, text.format(stage=stage_name(event.stage), title=title, ms=f"{event.elapsed_ms:.0f}")
            )
            self.add_line(
                LogLevel.DETAIL,
                f"[{event.stage.value}] {event.diagnosis.code.value} after {event.elapsed_ms:.0f} ms",
            )
        elif isinstance(event, StageSkipped):
            self.add_line(LogLevel.DETAIL, f"[{event.stage.value}] skipped {event.reason}".rstrip())
        elif isinstance(event, TlsEstablished):
            d = event.details
            self.add_line(LogLevel.DETAIL, f"TLS {d.protocol} {d.cipher}; subject {d.subject}; issuer {d.issuer}")

    def plain_text(self) -> str:
        """Every kept line at the chosen verbosity."""
        rank = _RANK[self.verbosity()]
        return "\n".join(t for lvl, t in self._lines if _RANK[lvl] <= rank)

    def _refill(self) -> None:
        self.text.setPlainText(self.plain_text())
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- actions -------------------------------------------------------------------
    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.plain_text())

    def save_to(self, path: str | Path) -> Path:
        """Write the log (atomically; never onto a FIFO, device, folder or through a link). Raises OSError."""
        from app.core.store import atomic_write

        path = atomic_write(path, self.plain_text() + "\n", mode=0o600)
        self.saved.emit(str(path))
        return path

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save log"), "mailsetup-log.txt", self.tr("Text files (*.txt);;All files (*)")
        )
        if path:
            try:
                self.save_to(path)
            except OSError as exc:
                from PySide6.QtWidgets import QMessageBox

                QMessageBox.warning(
                    self,
                    self.tr("Save log"),
                    self.tr("Could not save the log: {error}").format(
                        error=getattr(exc, "message", None) or exc.strerror or str(exc)
                    ),
                )
