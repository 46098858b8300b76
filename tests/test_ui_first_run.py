"""The wizard as a new user finds it (issue 13): each test drives the real widgets, offscreen."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QWizard

from app.core.diagnosis.table import Code
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


def choose(wizard, kind: str) -> None:
    page = wizard.provider_page
    provider = next(p for p in page.providers() if p.kind.value == kind)
    assert page.select_provider(provider.id)


def start_sandbox_account(qtbot, w) -> None:
    choose(w, "sandbox")
    w.next()
    qtbot.waitUntil(lambda: w.sandbox_info is not None and w.account_page.host.text() != "", timeout=10000)
    qtbot.waitUntil(lambda: next_enabled(w), timeout=5000)


def run_check_and_wait(qtbot, w, runs: int) -> object:
    """Wait for a check run after run number ``runs`` to finish."""
    page = w.check_page
    qtbot.waitUntil(lambda: page.runs > runs and not page.is_running() and page.last_result is not None, timeout=10000)
    return page.last_result


# -- 1. provider-owned state ------------------------------------------------------------------
def test_switching_provider_drops_the_previous_password_and_ca_file(qtbot):
    w = make_wizard(qtbot)
    start_sandbox_account(qtbot, w)
    acc = w.account_page
    assert acc.password.text() and acc.ca_file.text()  # the sandbox filled them
    w.back()
    choose(w, "custom")
    w.next()
    assert w.currentId() == PageId.ACCOUNT
    assert acc.password.text() == "" and acc.ca_file.text() == ""
    assert w.model.password == "" and w.model.settings.tls.cafile is None


# -- 2. pins belong to host + port; expired certificates are never offered for trust ---------
def test_pin_belongs_to_host_and_port_is_listed_and_forgettable(qtbot, smtp_server, implicit_tls_server):
    self_signed = LocalSmtp(smtp_server("ssl", cert="self_signed", username=USER, password=PASSWORD), True)
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, self_signed)
    w.account_page.ca_file.clear()
    w.account_page._validate()
    w.next()
    result = wait_check_done(qtbot, w)
    assert result.diagnosis.code is Code.CERT_UNTRUSTED
    runs = w.check_page.runs
    qtbot.mouseClick(w.check_page.certificate.trust, Qt.MouseButton.LeftButton)
    assert run_check_and_wait(qtbot, w, runs).ok
    assert list(w.model.pins) == [("127.0.0.1", self_signed.port)]
    w.back()
    acc = w.account_page
    assert len(acc.forget_buttons) == 1 and str(self_signed.port) in acc.pins_box.findChild(
        type(acc.pinned), "trusted_certificate_1"
    ).text().replace("\n", "")
    # another port (a CA-signed server): the pin does not follow, so nothing "changed"
    acc.port.setText(str(implicit_tls_server.port))
    acc.ca_file.setText(implicit_tls_server.cafile)
    acc._validate()
    assert w.model.settings.tls.pinned_sha256 is None and acc.pinned.isHidden()
    w.next()
    assert wait_check_done(qtbot, w).ok, w.check_page.status.text()
    w.back()
    qtbot.mouseClick(acc.forget_buttons[0], Qt.MouseButton.LeftButton)
    assert w.model.pins == {} and acc.pins_box.isHidden()


def test_expired_certificate_is_shown_but_never_offered_for_trust(qtbot, smtp_server):
    expired = LocalSmtp(smtp_server("ssl", cert="expired", username=USER, password=PASSWORD), True)
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, expired)
    w.next()
    result = wait_check_done(qtbot, w)
    assert result.diagnosis.code is Code.CERT_EXPIRED
    box = w.check_page.certificate
    assert box.isVisible() and not box.trust.isVisible()
    assert w.check_page.diagnosis.button_for("trust_certificate") is None


# -- 3. unknown domain -> Custom ----------------------------------------------------------------
def test_unknown_domain_selects_custom_and_says_so(qtbot, dns_server):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.mx_options = {"resolver": dns_server.resolver(), "timeout": 1.0}
    page.select_provider("yandex", by_user=False)  # remembered from last time
    qtbot.keyClicks(page.email, "boss@nowhere-example.test")
    qtbot.waitUntil(lambda: page.selected_provider().kind.value == "custom", timeout=5000)
    assert "Custom server is selected" in page.email_hint.text()


# -- 4. re-test of the typed host on the typed port and the usual ones -------------------------
def test_retest_takes_the_typed_host_and_port_and_reports_what_it_tried(qtbot, implicit_tls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")  # wrong mode for an implicit-TLS port
    w.next()
    assert not wait_check_done(qtbot, w).ok
    page = w.check_page
    runs = page.runs
    page.autodetect()
    qtbot.waitUntil(lambda: page.runs > runs and not page.is_running(), timeout=15000)
    assert ("127.0.0.1", implicit_tls_server.port, "ssl") in page.tried
    assert f"127.0.0.1:{implicit_tls_server.port} (SSL)" in page.log_view.plain_text()
    assert w.model.settings.security.value == "ssl" and w.model.settings.port == implicit_tls_server.port
    qtbot.waitUntil(lambda: page.last_result is not None and not page.is_running(), timeout=10000)
    assert page.last_result.ok


# -- 5. security mode <-> port ---------------------------------------------------------------------
def test_security_mode_moves_the_usual_port_and_warns_about_a_mismatch(qtbot):
    w = make_wizard(qtbot)
    choose_custom(w)
    acc = w.account_page
    acc.port.setText("465")
    acc.security.setCurrentIndex(acc.security.findData("ssl"))
    acc.security.setCurrentIndex(acc.security.findData("starttls"))
    assert acc.port.text() == "587" and w.model.settings.port == 587
    acc.security.setCurrentIndex(acc.security.findData("ssl"))
    assert acc.port.text() == "465"
    acc.port.clear()
    qtbot.keyClicks(acc.port, "587")  # the user's own port stays; the mismatch is explained
    assert acc.port.text() == "587" and acc.security_warning.isVisible()
    assert "587" in acc.security_warning.text()


# -- 6. window size, scrolling, fingerprints --------------------------------------------------------
def test_window_fits_the_screen_and_fixes_are_in_view_at_800x600(qtbot, starttls_server):
    from PySide6.QtCore import QSize

    from app.ui.desktop import settings_store

    settings_store().setValue("window/size", QSize(1410, 1050))
    w = make_wizard(qtbot)
    avail = w.screen().availableGeometry()
    assert w.frameGeometry().width() <= avail.width() and w.frameGeometry().height() <= avail.height()
    w.resize(800, 600)
    choose_custom(w)
    fill_account(w, starttls_server, password="wrong-password")
    w.next()
    assert wait_check_done(qtbot, w).diagnosis.code is Code.AUTH_FAILED
    page = w.check_page
    button = page.diagnosis.buttons[0] if page.diagnosis.buttons else page.diagnosis.title
    viewport = page.scroll.viewport()

    def in_view() -> bool:
        return viewport.rect().contains(button.mapTo(viewport, button.rect().topLeft()))

    qtbot.waitUntil(in_view)  # the first fix is scrolled into view


def test_russian_with_a_larger_desktop_font_stays_within_800_px(qtbot, starttls_server):
    """A desktop theme's larger font (GNOME's Adwaita, 1.5x scale) made the Check page's button rows ask for
    843 px on an 800 px screen in Russian, pushing Cancel off it; the rows now wrap instead."""
    from PySide6.QtWidgets import QApplication, QWizard

    app = QApplication.instance()
    font = app.font()
    bigger = app.font()
    bigger.setPointSizeF(font.pointSizeF() * 1.25)
    app.setFont(bigger)
    try:
        w = make_wizard(qtbot, "ru")
        w.resize(800, 600)
        choose_custom(w)
        fill_account(w, starttls_server, password="wrong-password")
        w.next()
        assert wait_check_done(qtbot, w).diagnosis.code is Code.AUTH_FAILED
        for page in (w.check_page, w.send_page):
            assert page.minimumSizeHint().width() <= 800 - w.side_bar.minimumWidth() - 100, page.objectName()
        qtbot.waitUntil(w.check_page.diagnosis.isVisible)
        assert w.width() <= 800
        cancel = w.button(QWizard.WizardButton.CancelButton)
        assert cancel.mapTo(w, cancel.rect().bottomRight()).x() < 800  # Cancel stays on the screen
    finally:
        app.setFont(font)
        w.set_language("en")


def test_certificate_fingerprint_wraps(qtbot, starttls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server)
    w.account_page.ca_file.clear()
    w.account_page._validate()
    w.next()
    wait_check_done(qtbot, w)
    box = w.check_page.certificate
    assert box.isVisible()
    assert box.text.text().count("<br>") >= 1  # 32 pairs in two lines, not one 95-character line
    assert box.text.sizeHint().width() < 700


# -- 7. Escape / Finish ask about unsaved input -----------------------------------------------------
def test_escape_asks_before_losing_typed_input(qtbot):
    w = make_wizard(qtbot)
    qtbot.keyClicks(w.provider_page.email, "me@example.org")
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    box = w.discard_box
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.findChild(type(box.buttons()[0]), "discard_stay"), Qt.MouseButton.LeftButton)
    assert w.isVisible() and w.provider_page.email.text() == "me@example.org"
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    box = w.discard_box
    qtbot.mouseClick(box.findChild(type(box.buttons()[0]), "discard_close"), Qt.MouseButton.LeftButton)
    assert not w.isVisible()


def test_finish_asks_too_but_not_after_saving(qtbot):
    w = make_wizard(qtbot)
    qtbot.keyClicks(w.provider_page.email, "me@example.org")
    w.accept()
    assert w.discard_box is not None and w.discard_box.isVisible() and w.isVisible()
    w.discard_box.reject()
    w.model.set_saved(type("P", (), {"name": "me"})())
    w.accept()
    assert not w.isVisible()


# -- 8. no keyring: the store option is off and disabled -------------------------------------------
def test_store_password_checkbox_disabled_without_a_keyring(qtbot, starttls_server, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    w.next()
    save = w.save_page
    qtbot.waitUntil(lambda: save.backend_error is not None, timeout=5000)
    assert not save.store_password.isChecked() and not save.store_password.isEnabled()


# -- 9. clipboard only on Copy, and it says when the password is in it -------------------------------
def test_export_copies_only_on_request_and_says_when_the_password_is_in_it(qtbot, starttls_server):
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    w.next()
    save = w.save_page
    QGuiApplication.clipboard().setText("untouched")
    save.include_password.setChecked(True)
    qtbot.mouseClick(save.export_buttons["env"], Qt.MouseButton.LeftButton)
    assert PASSWORD in save.export_preview.toPlainText()
    assert QGuiApplication.clipboard().text() == "untouched"
    qtbot.mouseClick(save.copy_export, Qt.MouseButton.LeftButton)
    assert PASSWORD in QGuiApplication.clipboard().text()
    assert "with the password" in save.export_status.text()
    QGuiApplication.clipboard().setText("")


# -- 10. untrusted CA: "Choose CA file…" in the GUI, not --cafile --------------------------------------
def test_untrusted_ca_offers_choose_ca_file(qtbot, starttls_server, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server)
    w.account_page.ca_file.clear()
    w.account_page._validate()
    w.next()
    result = wait_check_done(qtbot, w)
    assert result.diagnosis.code is Code.CERT_UNTRUSTED
    panel = w.check_page.diagnosis
    assert "--cafile" not in panel.fixes.text()
    button = panel.button_for("choose_cafile")
    assert button is not None and "CA file" in button.text()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (starttls_server.cafile, ""))
    runs = w.check_page.runs
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert w.model.settings.tls.cafile == starttls_server.cafile
    assert run_check_and_wait(qtbot, w, runs).ok
    assert w.account_page.ca_file.text() == starttls_server.cafile  # the Account page follows the model


def test_cli_keeps_the_cafile_wording():
    from app.core.diagnosis import diagnose

    d = diagnose(Code.CERT_UNTRUSTED, host="h", subject="s", issuer="i", detail="d", sha256="ab")
    assert any("--cafile" in f for f in d.render()[2])
    assert not any("--cafile" in f for f in d.render(front_end="gui")[2])


# -- 11, 1. sandbox send -> open the inbox -------------------------------------------------------------
def test_sandbox_send_offers_to_open_the_inbox(qtbot):
    w = make_wizard(qtbot)
    start_sandbox_account(qtbot, w)
    w.next()
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: next_enabled(w))
    w.next()
    send = w.send_page
    assert not send.open_inbox.isVisible()
    qtbot.mouseClick(send.send_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok and send.open_inbox.isVisible()
    assert "Spam" not in send.status.text()
    assert "Sent in" in send.log_view.plain_text() and "button" not in send.log_view.plain_text()  # the log reports
    qtbot.mouseClick(send.open_inbox, Qt.MouseButton.LeftButton)
    assert send.inbox_dialog.message_count() == 1
    send.inbox_dialog.close()


# -- 12. guide: "I already have one"; a link that cannot open ---------------------------------------
def test_guide_already_have_one_and_link_failure(qtbot, monkeypatch):
    from app.ui.wizard.pages import guide as guide_module

    w = make_wizard(qtbot)
    w.provider_page.email.setText("someone@gmail.com")
    w.next()
    assert w.currentId() == PageId.GUIDE
    guide = w.guide_page
    monkeypatch.setattr(guide_module, "open_url", lambda url: False)  # no browser on this machine
    qtbot.mouseClick(guide.link_buttons[0], Qt.MouseButton.LeftButton)
    url = guide.link_buttons[0].toolTip()
    assert guide.link_failed.isVisible() and url in guide.link_failed.text()
    qtbot.mouseClick(guide.copy_link, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == url
    qtbot.mouseClick(guide.already_have, Qt.MouseButton.LeftButton)
    assert w.currentId() == PageId.ACCOUNT


# -- 14. the log: for people at Normal, for engineers at Protocol ------------------------------------
def test_log_at_normal_has_no_codes_and_ends_with_the_outcome(qtbot, starttls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server, password="wrong-password")
    w.next()
    wait_check_done(qtbot, w)
    log = w.check_page.log_view
    assert "auth_failed" not in log.plain_text() and "Log in" in log.plain_text()
    log.level.setCurrentIndex(2)
    assert "auth_failed" in log.plain_text()
    log.level.setCurrentIndex(0)
    w.back()
    w.account_page.password.setText(PASSWORD)
    w.account_page._validate()
    w.next()
    assert wait_check_done(qtbot, w).ok
    last = log.plain_text().splitlines()[-1]
    assert not last.endswith("…") and "Connected" in last


def test_cancel_is_not_reported_as_failed(qtbot, implicit_tls_server):
    from app.core.model.settings import Timeouts

    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")
    w.model.update_settings(timeouts=Timeouts(connect=5, greeting=30, command=5, total=60))
    w.next()
    page = w.check_page
    from app.core.model.events import Stage
    from app.ui.icons import Status

    qtbot.waitUntil(lambda: page.stage_list.state(Stage.GREETING) is Status.RUNNING, timeout=5000)
    with qtbot.waitSignal(page._job.done, timeout=5000):
        qtbot.mouseClick(page.cancel_check, Qt.MouseButton.LeftButton)
    text = page.log_view.plain_text().lower()
    assert "failed" not in text and "did not work" not in text


# -- 15. title, one show-password control, focus ---------------------------------------------------------
def test_title_show_password_and_first_empty_field_focus(qtbot):
    w = make_wizard(qtbot)
    assert "MailSetup" not in w.windowTitle()  # the platform appends the application name
    choose_custom(w, email="")
    acc = w.account_page
    assert acc.password.actions() == []  # no second (icon) control inside the field
    assert acc.show_password.text()
    qtbot.waitUntil(lambda: w.focusWidget() is acc.from_address)
    acc.show_password.setChecked(True)
    assert acc.password.echoMode() is QLineEdit.EchoMode.Normal


# -- 13. Russian after a live switch -----------------------------------------------------------------------
def test_russian_after_a_live_switch(qtbot, starttls_server):
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    send = w.send_page
    assert send.subject.text() == "MailSetup test message"
    w.set_language("ru")
    try:
        assert send.subject.text() != "MailSetup test message" and send.subject.text()
        assert "MailSetup" in send.body.toPlainText() and "Hello" not in send.body.toPlainText()
        w.next()
        save = w.save_page
        qtbot.mouseClick(save.export_buttons["nodemailer"], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(save.copy_export, Qt.MouseButton.LeftButton)
        assert "copied" not in save.export_status.text() and save.export_status.text()
        from app.ui.widgets.attachment_list import human_size
        from app.ui.widgets.certificate_box import local_date

        assert "2026" in local_date("2026-03-01T00:00:00") and "-03-" not in local_date("2026-03-01T00:00:00")
        assert human_size(1024) != "1.0 KB"
    finally:
        w.set_language("en")


# -- 16. xcb libraries, Ctrl+C -----------------------------------------------------------------------------
def test_missing_xcb_libraries_are_named_as_packages():
    from app.ui.platform_check import xcb_problem

    text = xcb_problem(loads=lambda so: "icccm" not in so and "keysyms" not in so, environ={})
    assert "libxcb-icccm4" in text and "libxcb-keysyms1" in text and "xcb-cursor0" not in text
    assert xcb_problem(loads=lambda so: True, environ={}) == ""
    assert xcb_problem(loads=lambda so: False, environ={"QT_QPA_PLATFORM": "offscreen"}) == ""


def test_ctrl_c_closes_the_wizard_without_asking(qtbot):
    import signal

    from app.ui.app import quit_on_interrupt

    w = make_wizard(qtbot)
    qtbot.keyClicks(w.provider_page.email, "me@example.org")
    quits: list[bool] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        quit_on_interrupt(w, lambda: quits.append(True))
        signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    finally:
        signal.set_wakeup_fd(-1)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    assert quits == [True] and not w.isVisible() and w.discard_box is None
    assert not w.bridge.is_running()


def test_long_translated_choices_do_not_widen_the_account_page(qtbot):
    w = make_wizard(qtbot)
    choose_custom(w)
    acc = w.account_page
    for combo in (acc.security, acc.auth):
        combo.setItemText(0, "A very long translated choice " * 6)  # what a long Russian text does
        assert combo.minimumSizeHint().width() < 300 and combo.sizeHint().width() < 400


# -- 4. page 1: nothing to probe is said, not an empty table ------------------------------------------
def test_find_settings_for_an_unknown_domain_says_what_it_looked_for(qtbot, dns_server):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.mx_options = {"resolver": dns_server.resolver(), "timeout": 1.0}
    w.model.detect_options = {"resolver": dns_server.resolver()}
    page.email.setText("boss@nowhere-example.test")
    qtbot.mouseClick(page.find_settings, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detect_result is not None, timeout=10000)
    assert page.probe_table.isHidden()
    assert "nowhere-example.test" in page.detect_status.text() and "Custom server" in page.detect_status.text()


# -- 13. the password store's name follows the language --------------------------------------------------
def test_password_store_name_in_russian_after_a_live_switch(qtbot, starttls_server, secret_service):
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    w.next()
    save = w.save_page
    qtbot.waitUntil(lambda: save.backend_name is not None, timeout=10000)
    assert "Secret Service" in save.summary.text()
    w.set_language("ru")
    try:
        assert "совместимое" in save.summary.text() or "GNOME Keyring" in save.summary.text()
        assert "or compatible" not in save.summary.text()
    finally:
        w.set_language("en")
