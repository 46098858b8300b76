"""Base of the wizard pages: widgets are built on first use so that the first page shows fast."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QWizardPage

log = logging.getLogger(__name__)


class DynamicTexts:
    """Labels whose text is computed (status lines): re-computed when the language changes."""

    def set_dynamic(self, label: Any, fn: Callable[[], str] | None) -> None:
        """Show ``fn()`` in ``label`` now and after every language switch (None clears it)."""
        store = self.__dict__.setdefault("_dynamic_texts", {})
        if fn is None:
            store.pop(id(label), None)
            label.setText("")
            return
        store[id(label)] = (label, fn)
        label.setText(fn())

    def refresh_dynamic(self) -> None:
        for label, fn in list(self.__dict__.get("_dynamic_texts", {}).values()):
            label.setText(fn())


class LazyPage(DynamicTexts, QWizardPage):
    """Subclasses implement ``build()`` (create widgets, then call ``retranslate_ui()``),
    ``retranslate_ui()`` and optionally ``on_enter()`` (what ``initializePage`` does)."""

    def __init__(self, wizard: Any, object_name: str):
        super().__init__()
        self.setObjectName(object_name)
        self._wizard = wizard
        self._built = False

    @property
    def built(self) -> bool:
        return self._built

    def ensure_built(self) -> None:
        """Create the page's widgets now if that has not happened yet."""
        if not self._built:
            self._built = True
            self.build()

    def build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def retranslate_ui(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_enter(self) -> None:
        """Called when the user arrives at the page (after it is built)."""

    def initializePage(self) -> None:
        self.ensure_built()
        self.on_enter()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and self._built:
            self.retranslate_ui()
        super().changeEvent(event)
