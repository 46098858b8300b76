"""The wizard driven end to end by qtbot against real local SMTP servers (offscreen Qt)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import gc

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTranslator, QUrl, Slot, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWizard

from app.core.diagnosis.table import Code
from app.core.model.events import Stage
from app.core.model.settings import Timeouts
from app.ui.icons import Status
from app.ui.wizard.ids import PageId
from tests.fixtures.ui import (
    PASSWORD,
    USER,
    LocalSmtp,
    choose_custom,
    fill_account,
    make_wizard,
    pass_check,
    wait_check_done,
)


def next_enabled(wizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_happy_path_custom_server(qtbot, starttls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server)
    assert next_enabled(w)
    w.next()
    assert w.currentId() == PageId.CHECK
    result = wait_check_done(qtbot, w)
    assert result.ok and result.auth_verified
    stages = w.check_page.stage_list
    assert stages.state(Stage.STARTTLS) is Status.OK and stages.state(Stage.AUTH) is Status.OK
    assert stages.state(Stage.TLS) in (Status.SKIPPED, Status.PENDING)
    qtbot.waitUntil(lambda: next_enabled(w))
    assert "STARTTLS" in w.check_page.log_view.plain_text()
    # the transcript level shows protocol lines, with AUTH masked by the engine
    w.check_page.log_view.level.setCurrentIndex(2)
    transcript = w.check_page.log_view.plain_text()
    assert "EHLO" in transcript and PASSWORD not in transcript

    w.next()
    assert w.currentId() == PageId.SEND
    send = w.send_page
    assert send.to.text() == USER
    send.cc.setText("Copy Person <cc@example.test>")
    send.bcc.setText("hidden@example.test; hidden2@example.test")
    qtbot.mouseClick(send.send_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok, send.status.text()
    assert "MS12345" in send.status.text() and "Spam" in send.status.text()
    got = starttls_server.messages[-1]
    msg = got["message"]
    assert msg["Subject"] == "MailSetup test message"
    assert msg["To"] == USER
    assert "cc@example.test" in msg["Cc"]
    assert msg["Bcc"] is None  # Bcc never travels in the headers
    assert {"hidden@example.test", "hidden2@example.test", "cc@example.test", USER} <= set(got["rcpt_tos"])
    assert got["mail_from"] == USER

    w.next()
    assert w.currentId() == PageId.SAVE
    save = w.save_page
    assert save.profile_name.text() == USER
    # export without the password by default
    qtbot.mouseClick(save.export_buttons["env"], Qt.MouseButton.LeftButton)
    text = save.export_preview.toPlainText()
    assert starttls_server.host in text and str(starttls_server.port) in text and PASSWORD not in text
    save.include_password.setChecked(True)
    assert PASSWORD in save.export_preview.toPlainText()
    save.include_password.setChecked(False)
    assert PASSWORD not in save.export_preview.toPlainText()


def test_save_with_failing_keyring_offers_save_without_password(qtbot, starttls_server, tmp_path):
    from app.core.store.profiles import ProfileStore

    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    w.next()
    save = w.save_page
    save.profile_name.setText("Office mail")
    qtbot.mouseClick(save.save_profile, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not save.is_saving() and save.status.text() != "Saving…", timeout=10000)
    assert save.keyring_box.isVisible(), save.status.text()
    assert save.keyring_error.text()  # the plain message from the secrets layer
    assert ProfileStore().get("Office mail") is None
    assert save.profile_name.text() == "Office mail"  # nothing typed is lost
    qtbot.waitUntil(lambda: save.save_without_password.isEnabled())
    qtbot.mouseClick(save.save_without_password, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: save.saved_profile is not None, timeout=10000)
    saved = ProfileStore().get("Office mail")
    assert saved is not None and saved.has_secret is False
    assert saved.settings.host == starttls_server.host and saved.settings.port == starttls_server.port
    assert saved.from_addr == USER
    raw = ProfileStore().path.read_text(encoding="utf-8")
    assert PASSWORD not in raw
    assert "without the password" in save.status.text()
    # summary names the file and says the store is missing
    assert str(ProfileStore().path) in save.summary.text()


def test_wrong_password_shows_auth_diagnosis(qtbot, starttls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server, password="wrong-password")
    w.next()
    result = wait_check_done(qtbot, w)
    assert not result.ok and result.diagnosis.code is Code.AUTH_FAILED
    panel = w.check_page.diagnosis
    assert panel.isVisible() and panel.title.text()
    assert panel.fixes.isVisible() and panel.fixes.text()
    assert w.check_page.stage_list.state(Stage.AUTH) is Status.FAILED
    assert not next_enabled(w)
    assert w.check_page.retry_check.isVisible()
    assert "wrong-password" not in w.check_page.log_view.plain_text()


def test_silent_implicit_tls_port_switch_action_fixes_it(qtbot, implicit_tls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")
    w.next()
    result = wait_check_done(qtbot, w)
    assert not result.ok and result.diagnosis.code is Code.GREETING_TIMEOUT
    button = w.check_page.diagnosis.button_for("switch_settings")
    assert button is not None and str(implicit_tls_server.port) in button.text()
    runs = w.check_page.runs
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: w.check_page.runs > runs and not w.check_page.is_running() and w.check_page.last_result is not None,
        timeout=10000,
    )
    assert w.check_page.last_result.ok
    acc = w.account_page
    assert acc.security.currentData() == "ssl" and acc.port.text() == str(implicit_tls_server.port)
    assert w.model.settings.security.value == "ssl"
    qtbot.waitUntil(lambda: next_enabled(w))


def test_timeout_is_confirmed_by_a_second_client_in_the_log(qtbot, smtp_server):
    silent = LocalSmtp(smtp_server("silent", security="starttls"), False)
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, silent, security="starttls")
    w.next()
    page = w.check_page
    # the diagnosis shows as soon as the engine gives up, while the second client still runs
    qtbot.waitUntil(lambda: page.diagnosis.isVisible() and page.is_running(), timeout=5000)
    result = wait_check_done(qtbot, w)
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.GREETING_TIMEOUT, "silent")
    assert "Confirmed by a second client (aiosmtplib)" in page.log_view.plain_text()
    assert page.retry_check.isVisible() and page.retry_check.isEnabled()


def test_implicit_tls_port_is_named_at_once_and_retry_comes_back_with_the_verdict(qtbot, implicit_tls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")
    w.model.update_settings(timeouts=Timeouts(connect=2, greeting=20, command=5, total=30))
    w.next()
    page = w.check_page
    result = wait_check_done(qtbot, w, timeout=8000)  # far below the 20 s greeting timeout
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.GREETING_TIMEOUT, "implicit_tls")
    assert page.retry_check.isVisible() and page.retry_check.isEnabled() and not page.is_running()
    assert "Confirmed by a second client" not in page.log_view.plain_text()
    switch = [a for a in result.diagnosis.actions if a.kind == "switch_settings"]
    assert switch[0].params["port"] == implicit_tls_server.port and switch[0].params["security"] == "ssl"


def test_cancel_mid_check(qtbot, implicit_tls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")
    w.model.update_settings(timeouts=Timeouts(connect=5, greeting=30, command=5, total=60))
    w.account_page.timeout_total.setValue(60)
    w.next()
    page = w.check_page
    qtbot.waitUntil(lambda: page.stage_list.state(Stage.GREETING) is Status.RUNNING, timeout=5000)
    assert page.cancel_check.isEnabled()
    with qtbot.waitSignal(page._job.done, timeout=3000):
        qtbot.mouseClick(page.cancel_check, Qt.MouseButton.LeftButton)
    assert "cancel" in page.status.text().lower()
    assert page.stage_list.state(Stage.GREETING) is Status.CANCELLED
    assert not next_enabled(w)
    assert page.retry_check.isVisible() and page.retry_check.isEnabled()


def test_closing_mid_check_leaves_no_thread(qtbot, implicit_tls_server):
    messages: list[str] = []

    def handler(mode, context, message):
        messages.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        w = make_wizard(qtbot, register=False)
        choose_custom(w)
        fill_account(w, implicit_tls_server, security="starttls")
        w.model.update_settings(timeouts=Timeouts(connect=5, greeting=30, command=5, total=60))
        w.account_page.timeout_total.setValue(60)
        w.next()
        page = w.check_page
        qtbot.waitUntil(lambda: page.stage_list.state(Stage.GREETING) is Status.RUNNING, timeout=5000)
        thread = w.bridge._thread
        assert thread is not None and thread.isRunning()
        w.model.dirty = False  # closing must not stop to ask here
        w.close()
        assert not thread.isRunning()
        assert w.bridge._thread is None
        w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        del w, thread
        gc.collect()
    finally:
        qInstallMessageHandler(previous)
    assert not any("QThread" in m and "still running" in m for m in messages), messages


def test_validation_messages_and_next_disabled(qtbot):
    w = make_wizard(qtbot)
    choose_custom(w, email="")
    acc = w.account_page
    assert not next_enabled(w)
    acc.advanced.setChecked(True)
    qtbot.keyClicks(acc.from_address, "not-an-address")
    qtbot.keyClicks(acc.host, "bad host!")
    acc.port.clear()
    qtbot.keyClicks(acc.port, "99999")
    qtbot.keyClicks(acc.username, "someone")
    assert not next_enabled(w)
    assert "not an e-mail address" in acc.messages["from_address"].label.text()
    assert "bad host!" in acc.messages["host"].label.text()
    assert "65535" in acc.messages["port"].label.text()
    assert "password" in acc.messages["password"].label.text().lower()
    assert acc.messages["host"].isVisible() and acc.advanced_box.isVisible()
    # nothing typed is lost, and fixing the input enables Next
    assert acc.host.text() == "bad host!" and acc.port.text() == "99999"
    acc.from_address.setText("me@example.test")
    acc.host.setText("smtp.example.test")
    acc.port.setText("587")
    acc.password.setText("secret")
    acc._validate()
    assert next_enabled(w)
    assert not acc.messages["host"].isVisible()
    # no encryption with a password needs an explicit allow
    acc.security.setCurrentIndex(acc.security.findData("none"))
    assert not next_enabled(w)
    assert "without encryption the password would travel readable" in acc.messages["security"].label.text().lower()
    acc.advanced.setChecked(True)
    acc.allow_plain.setChecked(True)
    assert acc.allow_plain_warning.isVisible()
    assert next_enabled(w)


def test_guide_page_for_gmail_shows_steps_and_links(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.email.setText("someone@gmail.com")
    assert page.selected_provider().id == "gmail"  # pre-selected from the domain
    w.next()
    assert w.currentId() == PageId.GUIDE
    guide = w.guide_page
    assert guide.steps_layout.count() >= 2
    assert guide.link_buttons, "gmail's steps carry links"
    assert all(b.toolTip().startswith("https://") for b in guide.link_buttons)
    assert not next_enabled(w)
    guide.confirm.setChecked(True)
    assert next_enabled(w)
    opened: list[str] = []

    class Browser(QObject):
        @Slot(QUrl)
        def open(self, url):
            opened.append(url.toString())

    browser = Browser()
    QDesktopServices.setUrlHandler("https", browser, "open")  # Qt's hook: no real browser in tests
    try:
        guide.link_buttons[0].click()
    finally:
        QDesktopServices.unsetUrlHandler("https")
    assert opened == [guide.link_buttons[0].toolTip()]
    w.next()
    assert w.currentId() == PageId.ACCOUNT
    acc = w.account_page
    assert acc.host.text() and acc.username.text() == "someone@gmail.com"
    assert acc.from_address.text() == "someone@gmail.com"


def test_custom_and_sandbox_skip_guide(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    custom = next(p for p in page.providers() if p.kind.value == "custom")
    page.select_provider(custom.id)
    assert page.nextId() == PageId.ACCOUNT


class PseudoTranslator(QTranslator):
    """Marks every translated text, so a test sees which texts went through tr() and were re-set."""

    def translate(self, context, source, disambiguation=None, n=-1):
        if context in ("QWizard", "QPlatformTheme"):
            return None
        return "[xx] " + source

    def isEmpty(self):
        return False


def test_language_switch_changes_visible_texts(qtbot):
    from PySide6.QtWidgets import QApplication

    w = make_wizard(qtbot)
    w.build_all_pages()
    w.provider_page.start_detect()  # no address yet: a computed status line
    assert w.provider_page.detect_status.text() == "Type your e-mail address first."
    w.set_language("ru")
    assert w.side_bar.language.currentData() == "ru"
    assert w.lang == "ru"
    pseudo = PseudoTranslator()
    app = QApplication.instance()
    app.installTranslator(pseudo)
    # a running app broadcasts LanguageChange itself; without exec() the test sends it
    QApplication.sendEvent(w, QEvent(QEvent.Type.LanguageChange))
    try:
        assert w.provider_page.title().startswith("[xx] ")
        assert w.provider_page.find_settings.text().startswith("[xx] ")
        assert w.buttonText(QWizard.WizardButton.NextButton).startswith("[xx] ")
        assert w.account_page.labels["host"].text().startswith("[xx] ")
        assert w.check_page.stage_list.topLevelItem(0).text(0).startswith("[xx] ")
        assert w.send_page.send_test.text().startswith("[xx] ")
        assert w.save_page.save_profile.text().startswith("[xx] ")
        assert w.check_page.log_view.copy_button.text().startswith("[xx] ")
        assert w.provider_page.detect_status.text() == "[xx] Type your e-mail address first."
        assert w.side_bar.steps[PageId.CHECK].text().startswith("[xx] ")
    finally:
        app.removeTranslator(pseudo)
    w.set_language("en")
    assert w.side_bar.language.currentData() == "en"
    assert w.provider_page.find_settings.text() == "&Find my settings automatically"
    assert w.buttonText(QWizard.WizardButton.NextButton) == "&Next >"


def test_every_page_reachable_and_named(qtbot):
    w = make_wizard(qtbot)
    w.build_all_pages()
    for pid in PageId:
        page = w.page(int(pid))
        assert page is not None and page.objectName().startswith("page_")
    names = {
        "provider_list",
        "email",
        "find_settings",
        "saved_accounts",
        "password",
        "host",
        "port",
        "security",
        "log_view",
        "cancel_check",
        "retry_check",
        "start_check",
        "send_test",
        "to",
        "cc",
        "bcc",
        "subject",
        "body",
        "attachments",
        "profile_name",
        "save_profile",
        "export_env",
        "language",
    }
    from PySide6.QtWidgets import QWidget

    found = {o.objectName() for o in w.findChildren(QWidget)}
    assert names <= found, names - found


def test_window_size_and_last_provider_remembered(qtbot):
    from app.ui.desktop import settings_store

    w = make_wizard(qtbot)
    w.provider_page.select_provider("gmail")
    w.provider_page.validatePage()
    w.resize(1000, 700)
    w.model.dirty = False  # closing must not stop to ask here
    w.close()
    assert settings_store().value("last_provider") == "gmail"
    w2 = make_wizard(qtbot)
    assert w2.provider_page.selected_provider().id == "gmail"
    # remembered, but never wider than the screen
    assert abs(w2.width() - min(1000, w2.screen().availableGeometry().width())) < 50
    w2.close()


def test_attachments_listed_with_size_and_sent(qtbot, starttls_server, tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("x" * 2048)
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    send = w.send_page
    send.add_files([str(f)])
    assert send.attachments.count() == 1 and "2 kB" in send.attachments.item(0).text()
    send.html.setChecked(True)
    send.body.setPlainText("<p>Hello <b>HTML</b></p>")
    send.send()
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok
    msg = starttls_server.messages[-1]["message"]
    names = [p.get_filename() for p in msg.walk() if p.get_filename()]
    assert names == ["report.txt"]
    assert any(p.get_content_type() == "text/html" for p in msg.walk())
    send.attachments.setCurrentRow(0)
    send.remove_selected_attachments()
    assert send.attachments.count() == 0


def test_bad_recipient_shows_message_next_to_field(qtbot, starttls_server):
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    send = w.send_page
    send.to.setText("bad@@address")
    send.send()
    assert send.messages["to"].isVisible() and "bad@@address" in send.messages["to"].label.text()
    assert send.last_result is None and not send.is_running()
    assert not starttls_server.messages


def test_action_clicked_while_second_opinion_runs_restarts_cleanly(qtbot, smtp_server, implicit_tls_server):
    from app.core.diagnosis import Action

    silent = LocalSmtp(smtp_server("silent", security="starttls"), False)
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, silent, security="starttls")
    w.next()
    page = w.check_page
    qtbot.waitUntil(lambda: page.diagnosis.isVisible() and page.is_running(), timeout=5000)
    runs = page.runs
    # a one-click switch while the second opinion still runs (to the server that works)
    page.do_action(
        Action("switch_settings", "switch", {"host": "127.0.0.1", "port": implicit_tls_server.port, "security": "ssl"})
    )
    qtbot.waitUntil(lambda: page.runs > runs and not page.is_running() and page.last_result is not None, timeout=10000)
    assert page.last_result.ok
    assert page.stage_list.state(Stage.AUTH) is not Status.CANCELLED
    assert "cancelled" not in page.status.text().lower()
