"""The files attached to the test message: names with sizes, the full path as tooltip and item data."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

PATH_ROLE = Qt.ItemDataRole.UserRole


def human_size(n: int) -> str:
    """A file size as people read it, in the UI language (e.g. "1 KB", "1,5 МБ")."""
    from PySide6.QtCore import QLocale

    from app.ui import i18n

    locale = QLocale(i18n.current_language())
    text = locale.formattedDataSize(n, 1, QLocale.DataSizeFormat.DataSizeTraditionalFormat)
    return text.replace(locale.decimalPoint() + "0 ", " ")  # "2 KB", not "2.0 KB"


class AttachmentList(QListWidget):
    """Each existing file once; removing takes the selected rows (or the current one)."""

    def add_files(self, paths: list[str]) -> None:
        existing = {self.item(i).data(PATH_ROLE) for i in range(self.count())}
        for p in paths:
            path = Path(p)
            if str(path) in existing or not path.is_file():
                continue
            item = QListWidgetItem(f"{path.name} — {human_size(path.stat().st_size)}")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path))
            self.addItem(item)

    def paths(self) -> list[Path]:
        return [Path(self.item(i).data(PATH_ROLE)) for i in range(self.count())]

    def remove_selected(self) -> None:
        rows = sorted({self.row(i) for i in self.selectedItems()}, reverse=True)
        if not rows and self.currentRow() >= 0:
            rows = [self.currentRow()]
        for r in rows:
            self.takeItem(r)
