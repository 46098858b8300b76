"""The first page's extras around the provider list: a search field that filters it, the audience shown next to
each name (personal mail, business mail, sending service for apps) and a region chooser for providers whose
servers depend on the region (Amazon SES, Zoho, Mailgun, GMX). Matching is the catalogue's (Provider.matches)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QComboBox, QLineEdit, QListWidget

if TYPE_CHECKING:  # the provider list shows before the catalogue's model is loaded
    from app.core.catalog import Provider


def audience_label(audience: str) -> str:
    """The translated audience shown after a provider's name ("" for none)."""
    labels = {
        "personal": QCoreApplication.translate("ProviderExtras", "personal mail"),
        "business": QCoreApplication.translate("ProviderExtras", "business mail"),
        "developer": QCoreApplication.translate("ProviderExtras", "sending service for apps"),
    }
    return labels.get(audience, "")


class ProviderSearch(QLineEdit):
    """Filters a QListWidget of providers as the user types (hidden rows, nothing removed)."""

    def __init__(self, provider_list: QListWidget, provider_of: Callable[[object], Provider | None]):
        super().__init__(objectName="provider_search")
        self._list = provider_list
        self._provider_of = provider_of
        self.setClearButtonEnabled(True)
        self.textChanged.connect(self.apply)

    def apply(self, text: str = "") -> None:
        query = text or self.text()
        for i in range(self._list.count()):
            item = self._list.item(i)
            p = self._provider_of(item)
            item.setHidden(p is not None and not p.matches(query) and not item.isSelected())

    def retranslate(self) -> None:
        self.setPlaceholderText(QCoreApplication.translate("ProviderExtras", "Search providers…"))
        self.setAccessibleName(QCoreApplication.translate("ProviderExtras", "Search providers"))


class RegionBox(QComboBox):
    """The regions of the selected provider; hidden when it has none. Emits ``region_chosen(region_id)``."""

    region_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__(objectName="provider_region")
        self._filling = False
        self.hide()
        self.currentIndexChanged.connect(self._changed)
        self.retranslate()

    def retranslate(self) -> None:
        self.setAccessibleName(QCoreApplication.translate("ProviderExtras", "Region of the provider's servers"))
        self.setToolTip(QCoreApplication.translate("ProviderExtras", "The servers depend on where the account lives."))

    def show_regions(self, provider: Provider | None, lang: str, current: str = "") -> None:
        self._filling = True
        self.clear()
        regions = provider.regions if provider is not None else ()
        for r in regions:
            self.addItem(r.display_name(lang), r.id)
        if current:
            self.setCurrentIndex(max(0, self.findData(current)))
        self._filling = False
        self.setVisible(bool(regions))

    def _changed(self, index: int) -> None:
        if not self._filling and index >= 0:
            self.region_chosen.emit(str(self.itemData(index)))
