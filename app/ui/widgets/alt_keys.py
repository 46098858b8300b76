"""Alt+<letter> never types into a field.

Qt hands an Alt+<key> press that no shortcut took (a wizard button's mnemonic while the button is hidden or
disabled, a Latin key under a Russian mnemonic) to the focused editor, and line edits insert the letter:
Alt+N in the Port field typed "n". One application-wide filter drops such presses before an editor sees
them. AltGr (a real character on many layouts) is not Alt here: X11 reports it as a group switch, Windows
as Ctrl+Alt, and neither is dropped.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent

# By class name (QObject.inherits, in C++): importing the editor classes here would create their Python types
# at start-up, which costs ~15 ms before the first page shows.
_EDITORS = ("QLineEdit", "QPlainTextEdit", "QTextEdit", "QAbstractSpinBox")


class AltKeyGuard(QObject):
    """Install on the QApplication: swallows unclaimed Alt+<printable> presses aimed at a text editor."""

    _alt_only: Any = None  # the Alt and Alt+Shift modifier sets, made at the first key press

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() is QEvent.Type.KeyPress and any(obj.inherits(name) for name in _EDITORS):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            text = key_event.text()
            if key_event.modifiers() in self._alt_modifiers() and text and text.isprintable():
                return True
        return False

    @classmethod
    def _alt_modifiers(cls) -> Any:
        # The Qt namespace is touched here, not at import: its first use builds all of its ~90 enums
        # (~15 ms), which is not worth paying before the first page shows.
        if cls._alt_only is None:
            from PySide6.QtCore import Qt

            alt = Qt.KeyboardModifier.AltModifier
            cls._alt_only = (alt, alt | Qt.KeyboardModifier.ShiftModifier)
        return cls._alt_only
