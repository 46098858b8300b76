"""Form rows with a label (the field's buddy) and a validation message under the field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.ui.icons import Status, status_icon


class FieldMessage(QWidget):
    """A validation message shown under a field: a status mark and the text (palette colours)."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"{name}_error")
        self.icon = QLabel()
        self.icon.setPixmap(status_icon(Status.FAILED).pixmap(QSize(14, 14)))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setWordWrap(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.addWidget(self.icon)
        lay.addWidget(self.label, 1)
        self.hide()

    def set_message(self, text: str) -> None:
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text() if self.isVisible() or self.label.text() else ""


def add_validated_row(
    form: QFormLayout,
    name: str,
    field: QWidget | Any,
    labels: dict[str, QLabel],
    messages: dict[str, FieldMessage],
    *,
    buddy: QWidget | None = None,
) -> None:
    """Add ``label | field + message`` to ``form``; the label text is set later by retranslate_ui."""
    label = QLabel()
    label.setBuddy(buddy or field)
    labels[name] = label
    msg = FieldMessage(name.replace(".", "_"))
    messages[name] = msg
    box = QVBoxLayout()
    box.setSpacing(2)
    if isinstance(field, QWidget):
        box.addWidget(field)
    else:
        box.addLayout(field)
    box.addWidget(msg)
    form.addRow(label, box)


def clear_layout(layout: Any) -> None:
    """Remove every item from ``layout``, nested layouts included; their widgets are hidden at once and deleted later."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget()
        if widget is not None:
            widget.hide()
            widget.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())
            item.layout().deleteLater()


def scrolled(content: QWidget, object_name: str = "") -> QScrollArea:
    """``content`` in a frameless, resizable scroll area (pages stay usable at large font scales)."""
    scroll = QScrollArea(objectName=object_name) if object_name else QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(content)
    return scroll
