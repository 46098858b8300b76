"""The check's stages with a state mark and elapsed milliseconds (the Check page's top list)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.core.diagnosis import Code
from app.core.model import Security
from app.ui.icons import Status, status_icon
from app.ui.widgets.log_view import stage_name

if TYPE_CHECKING:  # annotations only; imported lazily where used (start-up time)
    from app.core.model import Stage


def check_stages() -> tuple:
    """The stages a check shows: DNS, connect, TLS, greeting, EHLO, STARTTLS, login."""
    from app.core.model import Stage

    return (Stage.RESOLVE, Stage.CONNECT, Stage.TLS, Stage.GREETING, Stage.EHLO, Stage.STARTTLS, Stage.AUTH)


class StageList(QTreeWidget):
    """Stages with a state mark and elapsed milliseconds."""

    def __init__(self, stages: tuple[Stage, ...], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("stage_list")
        self.stages = stages
        self.setColumnCount(3)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.items: dict[Stage, QTreeWidgetItem] = {}
        self.states: dict[Stage, Status] = {}
        for st in stages:
            item = QTreeWidgetItem(["", "", ""])
            item.setData(0, Qt.ItemDataRole.UserRole, st.value)
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.addTopLevelItem(item)
            self.items[st] = item
        self.reset()
        self.retranslate_ui()

    def stage_name(self, st: Stage) -> str:
        return stage_name(st)

    def state_name(self, status: Status) -> str:
        return {
            Status.PENDING: self.tr("waiting"),
            Status.RUNNING: self.tr("running…"),
            Status.OK: self.tr("done"),
            Status.FAILED: self.tr("failed"),
            Status.SKIPPED: self.tr("not needed"),
            Status.CANCELLED: self.tr("cancelled"),
        }[status]

    def reset(self) -> None:
        for st, item in self.items.items():
            self.set_state(st, Status.PENDING)
            item.setText(2, "")

    def set_state(self, st: Stage, status: Status, ms: float | None = None) -> None:
        item = self.items.get(st)
        if item is None:
            return
        self.states[st] = status
        item.setIcon(1, status_icon(status))
        item.setText(1, self.state_name(status))
        if ms is not None:
            item.setText(2, self.tr("{ms} ms").format(ms=f"{ms:.0f}"))

    def mark_running_as(self, status: Status) -> None:
        for st, s in self.states.items():
            if s is Status.RUNNING:
                self.set_state(st, status)

    def state(self, st: Stage) -> Status:
        return self.states.get(st, Status.PENDING)

    def handle(self, ev: Any) -> None:
        from app.core.model import StageFailed, StageFinished, StageSkipped, StageStarted

        if isinstance(ev, StageStarted):
            self.set_state(ev.stage, Status.RUNNING)
        elif isinstance(ev, StageFinished):
            self.set_state(ev.stage, Status.OK, ev.elapsed_ms)
        elif isinstance(ev, StageFailed):
            cancelled = ev.diagnosis.code is Code.CANCELLED
            self.set_state(ev.stage, Status.CANCELLED if cancelled else Status.FAILED, ev.elapsed_ms)
        elif isinstance(ev, StageSkipped):
            self.set_state(ev.stage, Status.SKIPPED)

    def retranslate_ui(self) -> None:
        self.setHeaderLabels([self.tr("Step"), self.tr("State"), self.tr("Time")])
        self.setAccessibleName(self.tr("Check steps"))
        for st, item in self.items.items():
            item.setText(0, self.stage_name(st))
            item.setText(1, self.state_name(self.state(st)))

    def fit_height(self) -> None:
        """As tall as the visible stages: the list never scrolls."""
        visible = sum(1 for it in self.items.values() if not it.isHidden())
        row = max(self.sizeHintForRow(0), self.fontMetrics().height() + 4)
        self.setFixedHeight(row * visible + self.header().sizeHint().height() + 2 * self.frameWidth() + 2)

    def show_for(self, security: Security) -> None:
        """Only the stages this security mode goes through (TLS for SSL, STARTTLS otherwise)."""
        from app.core.model import Stage

        self.items[Stage.TLS].setHidden(security is not Security.SSL)
        self.items[Stage.STARTTLS].setHidden(security is not Security.STARTTLS)
        self.fit_height()
