"""Saved accounts → "Check all": a live table filled from real servers and the real keyring; Stop cancels."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from app.core.model import Timeouts
from app.core.store import AccountStore, Profile, SecretStore
from app.ui.dialogs.check_all import COL_DIAGNOSIS, COL_NAME, COL_STATUS
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER
from tests.fixtures.ui import make_wizard

pytestmark = [pytest.mark.gui, pytest.mark.keyring]


def save(name: str, server, **timeouts: float) -> None:
    settings = server.settings(username=TEST_USER)
    if timeouts:
        settings = settings.with_(timeouts=Timeouts(**timeouts))
    AccountStore().save(Profile(name=name, settings=settings), password=TEST_PASSWORD)


def rows(panel) -> dict[str, tuple[str, str]]:
    t = panel.table
    return {
        t.item(r, COL_NAME).text(): (t.item(r, COL_STATUS).text(), t.item(r, COL_DIAGNOSIS).text())
        for r in range(t.rowCount())
    }


def open_panel(qtbot):
    w = make_wizard(qtbot)
    w.provider_page.open_saved_accounts()
    return w.provider_page.saved_dialog


def test_check_all_fills_the_table_as_results_arrive(qtbot, smtp_server, secret_service):
    good = smtp_server("ssl", username=TEST_USER, password=TEST_PASSWORD)
    wrong = smtp_server("auth_535", implicit_tls=True)
    save("Office", good)
    save("Shop", wrong)
    save("Gone", good)
    SecretStore().delete("Gone")
    dialog = open_panel(qtbot)
    panel = dialog.check_all
    with qtbot.waitSignal(panel.finished, timeout=20000) as blocker:
        qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
        assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()
    summary = blocker.args[0]
    assert (summary.ok, summary.failed) == (1, 2)
    got = rows(panel)
    assert got["Office"] == ("OK", "")
    assert got["Shop"][0] == "Failed" and got["Shop"][1]  # the diagnosis title
    assert got["Gone"] == ("Failed", "Stored password not found")
    assert "1 of 3 passed, 2 failed" in panel.summary.text()
    assert panel.start_button.isEnabled()


def test_stop_cancels_the_run_and_the_dialog_stays_usable(qtbot, smtp_server, secret_service):
    slow = smtp_server("smtp", implicit_tls=True, auth_delay=5.0)
    for name in ("A", "B", "C"):
        save(name, slow, connect=2, greeting=2, command=20, total=30)  # no timeout before Stop
    dialog = open_panel(qtbot)
    panel = dialog.check_all
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: slow.connections >= 3, timeout=10000)  # all three wait for the slow answer
    assert dialog.profile_list.count() == 3 and dialog.retest.isEnabled()  # the dialog answers meanwhile
    with qtbot.waitSignal(panel.finished, timeout=5000) as blocker:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] is None
    assert panel.summary.text() == "Stopped."
    assert {status for status, _ in rows(panel).values()} == {"Not checked"}, rows(panel)
    assert slow.client_closed.wait(2)  # the engine closed its connections
