"""A failure explained: title, plain explanation, fixes, server reply and one-click actions.

Shared by the Check and Test send pages. Texts come from the engine's diagnosis
table, translated in the "Diagnosis" context, then filled with values.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from app.core.diagnosis import Action, Diagnosis
from app.core.model import fill
from app.ui import i18n
from app.ui.widgets.flow_layout import FlowRow

log = logging.getLogger(__name__)


def translate_diagnosis(text: str) -> str:
    return QCoreApplication.translate("Diagnosis", text)


def render_diagnosis(diagnosis: Diagnosis) -> tuple[str, str, list[str]]:
    """(title, explanation, fixes) in the current UI language."""
    return diagnosis.render(translate=translate_diagnosis, lang=i18n.current_language(), front_end="gui")


def action_label(action: Action) -> str:
    return fill(translate_diagnosis(action.label), action.params)


class DiagnosisPanel(QFrame):
    """Shows one Diagnosis; ``action_triggered(Action)`` when the user clicks a remedy."""

    action_triggered = Signal(object)

    def __init__(self, parent: QWidget | None = None, extra_actions: tuple[Action, ...] = ()):
        super().__init__(parent)
        self.setObjectName("diagnosis_panel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._diagnosis: Diagnosis | None = None
        self._extra = extra_actions
        self.title = QLabel(objectName="diagnosis_title")
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.explanation = QLabel(objectName="diagnosis_explanation")
        self.explanation.setWordWrap(True)
        self.fixes_caption = QLabel()
        self.fixes = QLabel(objectName="diagnosis_fixes")
        self.fixes.setWordWrap(True)
        self.fixes.setOpenExternalLinks(True)
        self.reply = QLabel(objectName="diagnosis_reply")
        self.reply.setWordWrap(True)
        self.reply.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # Titles and explanations carry values from the server (its reply, names): plain text only,
        # so a reply written in HTML shows as the characters it is, never as markup or a link.
        for w in (self.title, self.explanation, self.reply):
            w.setTextFormat(Qt.TextFormat.PlainText)
        self.fixes.setTextFormat(Qt.TextFormat.RichText)  # our list markup; every item is escaped
        for w in (self.title, self.explanation, self.fixes, self.reply):
            w.setTextInteractionFlags(w.textInteractionFlags() | w.textInteractionFlags().TextSelectableByMouse)
        self.actions_row = FlowRow()  # one-click fixes wrap rather than widen the page (long in Russian)
        self.buttons: list[QPushButton] = []
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.explanation)
        lay.addWidget(self.fixes_caption)
        lay.addWidget(self.fixes)
        lay.addWidget(self.reply)
        lay.addLayout(self.actions_row)
        self.hide()

    @property
    def diagnosis(self) -> Diagnosis | None:
        return self._diagnosis

    def show_diagnosis(self, diagnosis: Diagnosis | None) -> None:
        self._diagnosis = diagnosis
        for b in self.buttons:
            self.actions_row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.buttons = []
        if diagnosis is None:
            self.hide()
            return
        seen: dict[str, int] = {}
        for action in tuple(diagnosis.actions) + self._extra:
            seen[action.kind] = seen.get(action.kind, 0) + 1
            suffix = "" if seen[action.kind] == 1 else f"_{seen[action.kind]}"
            button = QPushButton(objectName=f"action_{action.kind}{suffix}")
            button.setProperty("action_kind", action.kind)
            button.clicked.connect(lambda _=False, a=action: self.action_triggered.emit(a))
            self.actions_row.addWidget(button)
            self.buttons.append(button)
        self.retranslate_ui()
        self.show()

    def button_for(self, kind: str) -> QPushButton | None:
        return next((b for b in self.buttons if b.property("action_kind") == kind), None)

    def retranslate_ui(self) -> None:
        self.fixes_caption.setText(self.tr("What to do:"))
        d = self._diagnosis
        if d is None:
            return
        title, explanation, fixes = render_diagnosis(d)
        self.title.setText(title)
        self.title.setAccessibleName(title)
        self.explanation.setText(explanation)
        self.fixes_caption.setVisible(bool(fixes))
        self.fixes.setText(
            "<ul style='margin-left:-20px'>" + "".join(f"<li>{html.escape(x)}</li>" for x in fixes) + "</ul>"
        )
        self.fixes.setVisible(bool(fixes))
        if d.server_reply:
            self.reply.setText(self.tr("Server said: {reply}").format(reply=d.server_reply.strip()))
        self.reply.setVisible(bool(d.server_reply))
        actions = tuple(d.actions) + self._extra
        for button, action in zip(self.buttons, actions):
            if action.kind == "retry":
                button.setText(self.tr("&Retry"))
            else:
                button.setText(action_label(action))
            button.setAccessibleName(button.text().replace("&", ""))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
