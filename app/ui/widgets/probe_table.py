"""The servers an automatic search tried: host, port, security, state and milliseconds, one row each."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from app.ui.icons import Status, status_icon

# Qt.ItemDataRole.UserRole as its number: touching the Qt namespace at start-up creates all of its
# Python enums (~20 ms); this table is on the first page.
ID_ROLE = 0x0100


class ProbeTable(QTableWidget):
    """Fills from detect()'s ProbeStarted/ProbeFinished events (``handle``); hidden until a search starts."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 5, parent)
        self.setObjectName("probe_table")
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.hide()
        self.retranslate_ui()

    def _row(self, host: str, port: int, security: str) -> int:
        for r in range(self.rowCount()):
            it = self.item(r, 0)
            if it is not None and it.data(ID_ROLE) == (host, port, security):
                return r
        r = self.rowCount()
        self.insertRow(r)
        first = QTableWidgetItem(host)
        first.setData(ID_ROLE, (host, port, security))
        self.setItem(r, 0, first)
        self.setItem(r, 1, QTableWidgetItem(str(port)))
        self.setItem(r, 2, QTableWidgetItem(security))
        self.setItem(r, 3, QTableWidgetItem())
        self.setItem(r, 4, QTableWidgetItem())
        return r

    def handle(self, ev: Any) -> None:
        from app.core.model import ProbeFinished, ProbeStarted

        if isinstance(ev, ProbeStarted):
            r = self._row(ev.host, ev.port, ev.security)
            self.item(r, 3).setText(self.tr("trying"))
            self.item(r, 3).setIcon(status_icon(Status.RUNNING))
        elif isinstance(ev, ProbeFinished):
            r = self._row(ev.host, ev.port, ev.security)
            status = {"ok": Status.OK, "failed": Status.FAILED, "cancelled": Status.CANCELLED}.get(
                ev.outcome, Status.SKIPPED
            )
            texts = {
                Status.OK: self.tr("answers"),
                Status.FAILED: self.tr("no"),
                Status.CANCELLED: self.tr("not needed"),
                Status.SKIPPED: self.tr("skipped"),
            }
            cell = self.item(r, 3)
            cell.setText(texts[status] + (f" ({ev.code})" if ev.code and status is Status.FAILED else ""))
            cell.setIcon(status_icon(status))
            if ev.detail:
                cell.setToolTip(ev.detail)
            self.item(r, 4).setText(f"{ev.elapsed_ms:.0f}")

    def retranslate_ui(self) -> None:
        self.setHorizontalHeaderLabels(
            [self.tr("Server"), self.tr("Port"), self.tr("Security"), self.tr("State"), self.tr("ms")]
        )
        self.setAccessibleName(self.tr("Servers tried"))
