"""“Save report…” on the Check and Send pages: real wizard, real server, real file dialog call (patched to answer),
the report made of the model's last runs and never holding the password."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.fixtures.ui import PASSWORD, USER, choose_custom, fill_account, make_wizard, wait_check_done
from tests.test_report import assert_no_secret


@pytest.fixture
def answer_dialog(monkeypatch):
    """QFileDialog.getSaveFileName answers with the path (and filter) the test sets; records what it was asked."""
    asked: dict = {}

    def fake(parent, caption, suggested, filters):
        asked.update(caption=caption, suggested=suggested, filters=filters)
        return asked.get("answer", ("", ""))

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake))
    return asked


def test_failed_check_then_send_reports(qtbot, starttls_server, tmp_path, answer_dialog):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server, password="wrong-" + PASSWORD)
    w.next()
    check_report = w.check_page.report
    assert not wait_check_done(qtbot, w).ok
    qtbot.waitUntil(check_report.button.isEnabled)
    # a failed check is when a report is needed most: save it as text through the dialog
    target = tmp_path / "failed.txt"
    answer_dialog["answer"] = (str(target), "Plain text (*.txt)")
    qtbot.mouseClick(check_report.button, Qt.MouseButton.LeftButton)
    assert answer_dialog["suggested"].endswith(".html") and "mailsetup-report-127.0.0.1-" in answer_dialog["suggested"]
    text = target.read_text("utf-8")
    assert text.startswith("MailSetup report:") and "auth_failed" in text and "[SMTP] C: AUTH" in text
    assert_no_secret(text, "wrong-" + PASSWORD, USER)
    assert str(target) in check_report.status.text()
    # a cancelled dialog writes nothing
    answer_dialog["answer"] = ("", "")
    qtbot.mouseClick(check_report.button, Qt.MouseButton.LeftButton)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failed.txt"]
    # a hostile target: a clear message, nothing followed
    (tmp_path / "victim").write_text("keep")
    (tmp_path / "link.html").symlink_to(tmp_path / "victim")
    assert not check_report.save_to(str(tmp_path / "link.html"))
    assert "symbolic link" in check_report.status.text() and (tmp_path / "victim").read_text() == "keep"

    # the right password: the check passes, then the Send page's report has the check and the send
    w.back()
    w.account_page.password.setText(PASSWORD)
    w.next()
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: w.check_page.last_result is not None and w.check_page.last_result.ok)
    w.next()
    send = w.send_page
    assert not send.report.button.isEnabled()  # nothing to report before a send
    qtbot.mouseClick(send.send_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    qtbot.waitUntil(send.report.button.isEnabled)
    page_path = tmp_path / "sent.html"
    assert send.report.save_to(str(page_path))
    page = page_path.read_text("utf-8")
    assert "The settings work" in page and "Test message" in page and "[Send] C: MAIL FROM" in page
    assert_no_secret(page, PASSWORD, USER)


def test_report_strings_are_translated(qtbot):
    w = make_wizard(qtbot, "ru")
    w.build_all_pages()
    assert w.check_page.report.button.text() == "Сох&ранить отчёт…"
    assert w.send_page.report.button.text() == "Сох&ранить отчёт…"


def test_round_trip_report_from_the_send_page(qtbot, dovecot, dovecot_mta, tmp_path):
    from PySide6.QtWidgets import QWizard

    from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER
    from tests.test_incoming_ui import to_check_page

    w = make_wizard(qtbot)
    to_check_page(qtbot, w, dovecot_mta, dovecot)
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: w.check_page.incoming.result is not None, timeout=10000)
    qtbot.waitUntil(lambda: w.button(QWizard.WizardButton.NextButton).isEnabled())
    w.next()
    send = w.send_page
    send.to.setText(TEST_USER)
    send.send_test.click()
    qtbot.waitUntil(lambda: send.delivery.result is not None, timeout=15000)
    qtbot.waitUntil(lambda: w.model.delivery_result is not None)
    target = tmp_path / "round-trip.txt"
    assert send.report.save_to(str(target), "text")
    text = target.read_text("utf-8")
    assert "== Delivery round trip [OK]" in text and "Folder:" in text and "INBOX" in text
    assert "== Incoming mail check [OK]" in text and "== Test message [OK]" in text
    assert_no_secret(text, TEST_PASSWORD, TEST_USER)


def test_hide_addresses_masks_them_in_the_saved_report(qtbot, starttls_server, tmp_path):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server, password="wrong-" + PASSWORD)
    w.next()
    report = w.check_page.report
    assert not wait_check_done(qtbot, w).ok
    qtbot.waitUntil(report.button.isEnabled)
    assert report.mask.isEnabled() and not report.mask.isChecked()
    assert report.save_to(str(tmp_path / "plain.txt"), "text")
    assert USER in (tmp_path / "plain.txt").read_text("utf-8")
    report.mask.setChecked(True)
    assert report.save_to(str(tmp_path / "masked.txt"), "text")
    masked = (tmp_path / "masked.txt").read_text("utf-8")
    assert USER not in masked and USER.split("@")[0] not in masked
