"""The "Decode a server reply…" dialog: reachable from the wizard's side bar, pasted replies and an opened
bounce shown in the shared diagnosis panel, refused input named without losing what was typed, Russian."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt

from tests.bounce_samples import GMAIL_DSN
from tests.fixtures.ui import make_wizard

pytestmark = pytest.mark.gui

GMAIL_535 = "535-5.7.8 Username and Password not accepted.\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp"


@pytest.fixture
def dialog(qtbot):
    wizard = make_wizard(qtbot)
    qtbot.mouseClick(wizard.side_bar.explain, Qt.MouseButton.LeftButton)
    dlg = wizard.explain_dialog
    qtbot.waitExposed(dlg)
    return dlg


def test_side_bar_opens_one_dialog_and_a_pasted_reply_is_diagnosed(qtbot, dialog):
    wizard = dialog.parent()
    assert wizard.side_bar.explain.text() == "Decode a reply…"
    wizard.open_explain()
    assert wizard.explain_dialog is dialog
    dialog.input.setPlainText(GMAIL_535)
    qtbot.mouseClick(dialog.decode_button, Qt.MouseButton.LeftButton)
    assert dialog.summary.text() == "A server reply (provider: Gmail)"
    assert dialog.panel.isVisible() and dialog.findings.isHidden()
    assert dialog.panel.title.text() == "Login failed: Gmail needs an app password"
    assert "Google rejected the login or password" in dialog.panel.fixes.text()
    assert dialog.panel.button_for("open_url") is not None


def test_opened_bounce_lists_each_recipient(qtbot, dialog, tmp_path):
    eml = tmp_path / "bounce.eml"
    eml.write_text(GMAIL_DSN)
    assert dialog.load_file(eml)
    assert dialog.summary.text() == "A delivery status notification with 3 recipient(s) (provider: Gmail)"
    assert dialog.findings.isVisible() and dialog.findings.count() == 3
    assert dialog.panel.title.text() == "The server refused the recipient(s): nobody@gmail.com"
    dialog.findings.setCurrentIndex(1)
    assert dialog.panel.title.text() == "The server refused the recipient(s): ghost@yandex.ru"
    assert "Yandex has no such mailbox" in dialog.panel.fixes.text()
    dialog.findings.setCurrentIndex(2)
    assert dialog.panel.title.text() == "A temporary failure MailSetup has no specific advice for"


def test_refused_input_keeps_the_text_and_says_why(qtbot, dialog, tmp_path):
    dialog.input.setPlainText("   ")
    dialog.decode()
    assert dialog.summary.text() == "Paste a server reply or a bounce message first."
    assert dialog.panel.isHidden()
    big = tmp_path / "huge.eml"
    big.write_bytes(b"5" * (2 * 1024 * 1024))
    dialog.input.setPlainText("my notes")
    assert dialog.load_file(big) is False
    assert dialog.summary.text() == "huge.eml is larger than 1 MB; a bounce is much smaller."
    assert dialog.input.toPlainText() == "my notes"
    dialog.input.setPlainText("nothing to see <b>here</b>")
    dialog.decode()
    assert dialog.summary.text() == "No SMTP reply or delivery status was found in this text."


def test_server_text_is_plain_and_the_dialog_speaks_russian(qtbot):
    wizard = make_wizard(qtbot, "ru")
    wizard.open_explain()
    dlg = wizard.explain_dialog
    assert wizard.side_bar.explain.text() == "Разбор ответа…"
    assert dlg.decode_button.text() == "&Расшифровать"
    dlg.input.setPlainText("550 5.7.1 <a href='http://evil.example'>click</a> No such user!")
    dlg.decode()
    assert dlg.panel.reply.textFormat() == Qt.TextFormat.PlainText
    assert "<a href='http://evil.example'>" in dlg.panel.reply.text()
    assert dlg.panel.title.text().startswith("Сервер")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_side_bar_button_shows_its_whole_label_at_800x600(qtbot, lang):
    wizard = make_wizard(qtbot, lang)
    wizard.resize(800, 600)
    wizard.show()
    qtbot.waitExposed(wizard)
    button = wizard.side_bar.explain
    assert button.width() >= button.sizeHint().width(), (button.text(), button.width(), button.sizeHint().width())
