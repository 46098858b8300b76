"""FlowRow: a row of controls that wraps instead of widening its window."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QPushButton, QWidget

from app.ui.widgets.flow_layout import FlowRow


def make_row(qtbot, *, last_right: bool = False):
    host = QWidget()
    qtbot.addWidget(host)
    row = FlowRow(host, last_right=last_right, spacing=4)
    row.setContentsMargins(0, 0, 0, 0)
    buttons = [QPushButton(text) for text in ("First button", "Second", "A much longer third button", "Last")]
    for b in buttons:
        row.addWidget(b)
    return host, row, buttons


def test_minimum_is_the_widest_item_and_one_line_is_the_hint(qtbot):
    host, row, buttons = make_row(qtbot)
    widths = [b.sizeHint().width() for b in buttons]
    assert row.minimumSize().width() == max(widths)
    assert row.sizeHint().width() == sum(widths) + 4 * 3
    assert host.minimumSizeHint().width() == max(widths)


def test_narrow_rows_wrap_and_grow_taller(qtbot):
    host, row, buttons = make_row(qtbot)
    one_line = row.heightForWidth(row.sizeHint().width())
    narrow = buttons[2].sizeHint().width() + 10
    assert row.heightForWidth(narrow) > one_line
    host.resize(narrow, row.heightForWidth(narrow))
    host.show()
    qtbot.waitExposed(host)
    qtbot.waitUntil(lambda: buttons[3].geometry().y() > buttons[0].geometry().y())
    for b in buttons:  # nothing is cut off on the right
        assert b.geometry().right() < narrow


def test_wide_rows_keep_one_line_with_the_last_item_on_the_right(qtbot):
    host, row, buttons = make_row(qtbot, last_right=True)
    width = row.sizeHint().width() + 200
    host.resize(width, row.heightForWidth(width))
    host.show()
    qtbot.waitExposed(host)
    qtbot.waitUntil(lambda: buttons[3].geometry().right() == width - 1)
    assert len({b.geometry().y() for b in buttons}) == 1
    assert buttons[2].geometry().right() < buttons[3].geometry().left()


def test_hidden_items_take_no_room_and_items_can_be_removed(qtbot):
    _host, row, buttons = make_row(qtbot)
    before = row.sizeHint().width()
    buttons[2].hide()
    row.invalidate()
    assert row.sizeHint().width() == before - buttons[2].sizeHint().width() - 4
    row.removeWidget(buttons[1])
    assert row.count() == 3 and row.itemAt(3) is None and row.takeAt(7) is None


def test_an_empty_row_takes_no_height(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    row = FlowRow(host, spacing=6)
    row.setContentsMargins(0, 0, 0, 0)
    assert row.heightForWidth(300) == 0
    button = QPushButton("only")
    row.addWidget(button)
    button.hide()
    assert row.heightForWidth(300) == 0
