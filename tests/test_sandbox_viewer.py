"""The sandbox inbox dialog: rows appear live from the server thread; selecting one shows it."""

from __future__ import annotations

import smtplib
import ssl
import threading
from email.message import EmailMessage

import pytest

from app.core.sandbox.server import SandboxServer

pytestmark = pytest.mark.gui


@pytest.fixture
def sandbox(tmp_path):
    with SandboxServer(tmp_path / "sb") as server:
        yield server


def _send(server: SandboxServer, subject: str, body: str) -> None:
    info = server.info
    msg = EmailMessage()
    msg["From"] = "Viewer Test <viewer@example.test>"
    msg["To"] = "inbox@example.test"
    msg["Subject"] = subject
    msg.set_content(body)
    msg.add_attachment(b"PK" + b"\0" * 98, maintype="application", subtype="zip", filename="logs.zip")
    ctx = ssl.create_default_context(cafile=str(info.ca_file))
    with smtplib.SMTP_SSL(info.host, info.ssl_port, context=ctx, timeout=5) as client:
        client.login(info.username, info.password)
        client.send_message(msg)


def test_message_appears_live_and_selecting_shows_it(qtbot, sandbox):
    from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTableWidget

    from app.ui.dialogs.sandbox_viewer import SandboxInboxDialog

    dialog = SandboxInboxDialog(sandbox)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.objectName() == "sandbox_inbox"
    table = dialog.findChild(QTableWidget, "sandbox_messages")
    view = dialog.findChild(QPlainTextEdit, "sandbox_message_view")
    assert table.rowCount() == 0

    # Sent from a plain thread, like any client: the row must come through the queued signal.
    sender = threading.Thread(target=_send, args=(sandbox, "First", "Line one of the body."))
    sender.start()
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=5000)
    sender.join(5)
    _send(sandbox, "Second", "Body of the second message.")
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=5000)

    cells = [table.item(1, c).text() for c in range(table.columnCount())]
    assert cells[1] == "viewer@example.test" and cells[2] == "inbox@example.test"
    assert cells[3] == "Second" and "logs.zip" in cells[5]

    dialog.select_row(1)
    assert "Subject: Second" in view.toPlainText()
    assert "Body of the second message." in view.toPlainText()
    assert "logs.zip (100 B)" in view.toPlainText()
    dialog.select_row(0)
    assert "Line one of the body." in view.toPlainText()
    assert sandbox.info.password in dialog.findChild(QLabel, "sandbox_info").text()


def test_dialog_lists_earlier_messages_and_detaches_on_close(qtbot, sandbox):
    from app.ui.dialogs.sandbox_viewer import SandboxInboxDialog

    _send(sandbox, "Before", "Sent before the dialog opened.")
    dialog = SandboxInboxDialog(sandbox)
    qtbot.addWidget(dialog)
    assert dialog.message_count() == 1
    assert len(sandbox._listeners) == 1
    dialog.reject()
    assert sandbox._listeners == []
