"""The "Check all" panel of the Saved accounts dialog: every saved account checked at once, a live table.

The run is app.core.fleet.check_fleet on the engine bridge: each profile's result arrives as a job event
(on the GUI thread, through the bridge's signals) and fills its row; Stop cancels the job, which cancels
every check in the engine. Nothing here blocks the dialog.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COL_NAME, COL_STATUS, COL_TIME, COL_DIAGNOSIS = range(4)


class CheckAllPanel(QWidget):
    """``finished(summary_or_None)`` when a run ends (None when it was stopped or failed)."""

    finished = Signal(object)

    def __init__(self, bridge: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self._bridge = bridge
        self._job: Any = None
        self._outcome: Any = None  # the FleetSummary of the run that just ended (None: stopped or failed)
        self._rows: dict[str, int] = {}
        self.start_button = QPushButton(objectName="check_all")
        self.stop_button = QPushButton(objectName="stop_check_all")
        self.summary = QLabel(objectName="check_all_summary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 4, objectName="check_all_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(COL_DIAGNOSIS, QHeaderView.ResizeMode.Stretch)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.summary, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.table)
        self.retranslate_ui()
        self._update_buttons()

    def is_running(self) -> bool:
        return self._job is not None and self._job.running

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _fill_rows(self) -> None:
        from app.core.store import AccountStore, ProfileStoreError

        store = AccountStore()
        try:
            names = [p.name for p in store.list()] + list(store.problems())
        except ProfileStoreError:
            names = []
        self.table.setRowCount(0)
        self._rows = {}
        for name in names:
            self._row_for(name)

    def _row_for(self, name: str) -> int:
        if name not in self._rows:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, COL_NAME, QTableWidgetItem(name))
            for col, text in ((COL_STATUS, self.tr("Waiting…")), (COL_TIME, ""), (COL_DIAGNOSIS, "")):
                self.table.setItem(row, col, QTableWidgetItem(text))
            self._rows[name] = row
        return self._rows[name]

    def start(self) -> None:
        """Check every saved account (app.core.fleet), at most 8 at a time; rows fill as results arrive."""
        if self.is_running():
            return
        from app.core.fleet import check_fleet

        self._fill_rows()
        self.summary.setText(self.tr("Checking {count} accounts…").format(count=len(self._rows)))
        self._job = self._bridge.submit(lambda emit: check_fleet(emit), name="check_all")
        self._job.event.connect(self.show_result)
        self._job.finished.connect(self._finished)
        self._job.failed.connect(lambda exc: self._ended(self.tr("The check stopped: {error}").format(error=exc)))
        self._job.cancelled.connect(lambda: self._ended(self.tr("Stopped.")))
        self._job.done.connect(self._done)
        self._outcome = None
        self._update_buttons()

    def stop(self) -> None:
        if self.is_running():
            self._job.cancel()

    def show_result(self, result: Any) -> None:
        """Fill the row of one FleetResult (status, time, diagnosis title)."""
        from app.core.fleet import FleetResult

        if not isinstance(result, FleetResult):
            return
        row = self._row_for(result.profile)
        diagnosis = result.the_diagnosis
        if diagnosis is not None:
            from app.ui.widgets.diagnosis_panel import render_diagnosis

            title = render_diagnosis(diagnosis)[0]
        else:
            title = result.render(QCoreApplication.translate)[0]
        status = self.tr("OK") if result.ok else self.tr("Failed")
        self.table.item(row, COL_STATUS).setText(status)
        self.table.item(row, COL_TIME).setText(self.tr("{seconds} s").format(seconds=f"{result.elapsed_ms / 1000:.1f}"))
        self.table.item(row, COL_DIAGNOSIS).setText(title if not result.ok else "")

    def _finished(self, summary: Any) -> None:
        total = summary.ok + summary.failed
        self.summary.setText(
            self.tr("{ok} of {total} passed, {failed} failed ({seconds} s).").format(
                ok=summary.ok, total=total, failed=summary.failed, seconds=f"{summary.elapsed_ms / 1000:.1f}"
            )
        )
        self._outcome = summary

    def _done(self) -> None:
        # "finished" goes out once the job has ended (buttons included): its result arrives first, from
        # the engine thread, and a listener must not see Start still disabled
        self._update_buttons()
        self.finished.emit(self._outcome)

    def _ended(self, text: str) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, COL_STATUS)
            if item is not None and item.text() == self.tr("Waiting…"):
                item.setText(self.tr("Not checked"))
        self.summary.setText(text)
        self._outcome = None

    def retranslate_ui(self) -> None:
        self.start_button.setText(self.tr("Check a&ll"))
        self.stop_button.setText(self.tr("&Stop"))
        self.table.setHorizontalHeaderLabels(
            [self.tr("Account"), self.tr("Status"), self.tr("Time"), self.tr("Problem")]
        )
        self.table.setAccessibleName(self.tr("Results of checking every account"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)
