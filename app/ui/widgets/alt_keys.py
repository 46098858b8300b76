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
from PySide6.QtWidgets import QApplication

# By class name (QObject.inherits, in C++): importing the editor classes here would create their Python types
# at start-up, which costs ~15 ms before the first page shows.
_EDITORS = ("QLineEdit", "QPlainTextEdit", "QTextEdit", "QAbstractSpinBox")


class AltKeyGuard(QObject):
    """Swallows unclaimed Alt+<printable> presses aimed at a text editor.

    It filters the focused editor only, moving with the focus (``QApplication.focusChanged``): an
    application-wide filter would run Python for every event of every widget (and build a Python type for
    each kind of event it sees), ~4 ms at start-up alone. Key presses go to the focus widget, so
    that is the one place they need catching.
    """

    _alt_only: Any = None  # the Alt and Alt+Shift modifier sets, made at the first key press

    def __init__(self, app: QApplication, parent: QObject | None = None):
        super().__init__(parent)
        self._watched: QObject | None = None
        app.focusChanged.connect(self._focus_changed)
        focused = app.focusWidget()
        if focused is not None:
            self._focus_changed(None, focused)

    def _focus_changed(self, old: QObject | None, new: QObject | None) -> None:
        if self._watched is not None:
            try:
                self._watched.removeEventFilter(self)
            except RuntimeError:  # the editor was deleted while it had the focus
                pass
            self._watched = None
        if new is not None and any(new.inherits(name) for name in _EDITORS):
            new.installEventFilter(self)
            self._watched = new

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
