"""A row of controls that wraps onto the next line when the window is too narrow.

Qt has no wrapping layout (its documentation carries one as the "Flow Layout" example), so this is
written here. A QHBoxLayout row of buttons makes its page at least as wide as all of them together:
in Russian, with a desktop theme's larger metrics, the Check page's rows asked for 843 px on an 800 px
screen and pushed Cancel off it. In a FlowRow the row asks only for its widest item and grows taller
instead (``heightForWidth``).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QStyle, QWidget


class FlowRow(QLayout):
    """Items left to right, wrapping as needed; with ``last_right`` the last item keeps to the right edge
    of its line (as after a stretch in a QHBoxLayout)."""

    def __init__(self, parent: QWidget | None = None, *, last_right: bool = False, spacing: int = -1):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._last_right = last_right
        self.setSpacing(spacing)
        if parent is None:
            self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout ------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)  # neither: the row takes what its items need

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        # one line: every visible item side by side
        items = self._visible()
        if not items:
            return QSize(0, 0)
        gap = self._gap()
        width = sum(i.sizeHint().width() for i in items) + gap * (len(items) - 1)
        height = max(i.sizeHint().height() for i in items)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        # the widest single item: narrower than that, nothing can wrap any further
        size = QSize(0, 0)
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    # -- layout -------------------------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _gap(self) -> int:
        if self.spacing() >= 0:
            return self.spacing()
        parent = self.parentWidget()
        style = parent.style() if parent is not None else None
        if style is None:
            return 6
        return max(0, style.pixelMetric(QStyle.PixelMetric.PM_LayoutHorizontalSpacing, None, parent))

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        """Place the items in ``rect`` (when ``apply``); returns the height they take."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        gap = self._gap()
        lines: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = 0
        visible = self._visible()
        for item in visible:
            hint = item.sizeHint().boundedTo(QSize(area.width(), item.sizeHint().height()))
            hint = hint.expandedTo(item.minimumSize())
            if lines[-1] and x + hint.width() > area.width():
                lines.append([])
                x = 0
            lines[-1].append((item, hint))
            x += hint.width() + gap
        if not lines[-1]:  # nothing visible: no height (not minus one gap)
            return m.top() + m.bottom()
        y = area.y()
        for line in lines:
            if not line:
                continue
            height = max(hint.height() for _, hint in line)
            if apply:
                x = area.x()
                for n, (item, hint) in enumerate(line):
                    last = n == len(line) - 1 and item is visible[-1]
                    left = area.right() - hint.width() + 1 if last and self._last_right else x
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(max(left, x), top), hint))
                    x += hint.width() + gap
            y += height + gap
        return y - gap - area.y() + m.top() + m.bottom()
