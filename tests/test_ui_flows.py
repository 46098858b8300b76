"""Secondary wizard flows: autodetect table, certificate trust, sandbox, saved accounts, MX pre-selection."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app.core.diagnosis.table import Code
from app.core.model.settings import Timeouts, TlsOptions
from app.ui.wizard.ids import PageId
from tests.fixtures.ui import (
    FAST,
    PASSWORD,
    USER,
    choose_custom,
    fill_account,
    make_wizard,
    pass_check,
    wait_check_done,
)


def next_enabled(wizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def test_autodetect_fills_table_and_account(qtbot, starttls_server):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.email.setText(USER)
    w.model.detect_options = dict(
        host=starttls_server.host,
        ports=(starttls_server.port,),
        timeouts=Timeouts(**FAST),
        tls=TlsOptions(cafile=starttls_server.cafile),
    )
    qtbot.mouseClick(page.find_settings, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detect_result is not None, timeout=15000)
    assert page.detect_result.ok, page.detect_status.text()
    assert page.probe_table.rowCount() >= 1
    hosts = {page.probe_table.item(r, 0).text() for r in range(page.probe_table.rowCount())}
    assert starttls_server.host in hosts
    assert str(starttls_server.port) in page.detect_status.text()
    assert page.selected_provider().kind.value == "custom"
    w.next()
    assert w.currentId() == PageId.ACCOUNT
    acc = w.account_page
    assert acc.host.text() == starttls_server.host and acc.port.text() == str(starttls_server.port)
    assert acc.security.currentData() == "starttls"
    assert acc.ca_file.text() == starttls_server.cafile


def test_untrusted_certificate_shown_and_trusted_explicitly(qtbot, starttls_server):
    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server)
    w.account_page.ca_file.clear()  # the private CA is unknown: the certificate is untrusted
    w.account_page._validate()
    w.next()
    result = wait_check_done(qtbot, w)
    assert not result.ok and result.diagnosis.code in (Code.CERT_UNTRUSTED, Code.CERT_HOSTNAME_MISMATCH)
    box = w.check_page.certificate
    assert box.isVisible()
    details = box.text.text()
    assert "trustme" in details and "127.0.0.1" in details and "SHA-256" in details
    assert w.model.settings.tls.pinned_sha256 is None  # never silently
    runs = w.check_page.runs
    qtbot.mouseClick(box.trust, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: w.check_page.runs > runs and w.check_page.last_result is not None and not w.check_page.is_running(),
        timeout=10000,
    )
    pinned = w.model.settings.tls.pinned_sha256
    assert pinned and len(pinned) == 64 and pinned == result.tls.sha256
    shown = w.account_page.pinned.text().replace(":", "").replace("\n", "").lower()
    assert not w.account_page.pinned.isHidden() and pinned in shown
    assert w.check_page.last_result.ok, w.check_page.status.text()


def test_sandbox_provider_fills_everything_and_checks(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
    page.select_provider(sandbox.id)
    assert page.nextId() == PageId.ACCOUNT
    w.next()
    acc = w.account_page
    qtbot.waitUntil(lambda: w.sandbox_info is not None and acc.host.text() != "", timeout=10000)
    qtbot.waitUntil(lambda: next_enabled(w), timeout=5000)
    info = w.sandbox_info
    assert acc.port.text() == str(info.ssl_port) and acc.username.text() == info.username
    assert acc.password.text() == info.password and acc.ca_file.text() == str(info.ca_file)
    assert acc.view_inbox.isVisible()
    w.next()
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: next_enabled(w))
    w.next()
    send = w.send_page
    send.send()
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok, send.status.text()
    server = w.sandbox
    assert len(server.inbox) == 1
    acc.open_sandbox_inbox()
    dialog = acc.inbox_dialog
    assert dialog.objectName() == "sandbox_inbox" and dialog.message_count() == 1
    dialog.close()
    w.model.dirty = False  # closing must not stop to ask here
    w.close()
    assert w.sandbox is None and not server.running


def _save_profile(qtbot, w, name: str) -> None:
    w.next()
    w.next()
    save = w.save_page
    save.profile_name.setText(name)
    save.save(store_secret=False)
    qtbot.waitUntil(lambda: save.saved_profile is not None, timeout=10000)


def test_saved_accounts_list_edit_retest_delete(qtbot, starttls_server):
    from app.core.store.profiles import ProfileStore

    w = make_wizard(qtbot)
    choose_custom(w)
    fill_account(w, starttls_server)
    w.account_page.from_name.setText("Help desk")
    w.next()
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: next_enabled(w))
    _save_profile(qtbot, w, "Desk")
    assert ProfileStore().get("Desk") is not None

    w2 = make_wizard(qtbot)
    page = w2.provider_page
    page.open_saved_accounts()
    dialog = page.saved_dialog
    assert dialog.profile_list.count() == 1 and "Desk" in dialog.profile_list.item(0).text()
    assert "no password stored" in dialog.profile_list.item(0).text()
    # re-test without a stored password: never silently without a login; the password is asked for
    asked = []
    dialog.ask_password = lambda profile: asked.append(profile.name)  # the user cancels
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not tested" in dialog.status.text(), timeout=10000)
    assert asked == ["Desk"]
    qtbot.waitUntil(lambda: dialog.retest.isEnabled())
    dialog.ask_password = lambda profile: PASSWORD
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in dialog.status.text() or "failed" in dialog.status.text(), timeout=10000)
    assert "works" in dialog.status.text(), dialog.status.text()
    # edit re-opens the wizard pre-filled, on the Account page
    qtbot.waitUntil(lambda: dialog.edit.isEnabled())
    qtbot.mouseClick(dialog.edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w2.currentId() == PageId.ACCOUNT, timeout=5000)
    acc = w2.account_page
    assert acc.host.text() == starttls_server.host and acc.port.text() == str(starttls_server.port)
    assert acc.from_address.text() == USER and acc.from_name.text() == "Help desk"
    assert acc.password.text() == ""  # nothing was stored; the user types it
    # delete (confirmation skipped in the test; the button asks first)
    page.open_saved_accounts()
    dialog = page.saved_dialog
    dialog.delete_selected(confirm=False)
    qtbot.waitUntil(lambda: dialog.profile_list.count() == 0, timeout=5000)
    assert ProfileStore().get("Desk") is None


def test_email_domain_preselects_provider_without_blocking(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    qtbot.keyClicks(page.email, "ivan@yandex.ru")
    assert page.selected_provider().id == "yandex"
    assert "Yandex" in page.email_hint.text()
    # a manual choice is never overridden by typing
    page.select_provider("gmail")
    page.email.setText("ivan@mail.ru")
    assert page.selected_provider().id == "gmail"


def test_mx_lookup_is_debounced_and_selects_provider(qtbot, dns_server):
    dns_server.zone["corp-example.test"] = {"MX": ["10 mx.yandex.net."]}
    w = make_wizard(qtbot)
    page = w.provider_page
    page.mx_options = {"resolver": dns_server.resolver(), "timeout": 1.0}
    custom = next(p for p in page.providers() if p.kind.value == "custom")
    page.select_provider(custom.id, by_user=False)
    qtbot.keyClicks(page.email, "boss@corp-example.test")  # one keystroke at a time
    assert page.selected_provider().id == custom.id  # typing never waits for DNS
    qtbot.waitUntil(lambda: page.selected_provider().id == "yandex", timeout=5000)
    mx_queries = [q for q in dns_server.queries if q[1] == "MX"]
    assert mx_queries == [("corp-example.test", "MX")]  # debounced: one lookup for the whole address
    assert page.email_hint.text()


@pytest.mark.parametrize(
    ("provider_id", "title_word", "confirm_word"),
    [("sendgrid", "API key", "API key"), ("mailtrap", "credentials", "generated login")],
)
def test_guide_wording_for_api_keys_and_generated_credentials(qtbot, provider_id, title_word, confirm_word):
    w = make_wizard(qtbot)
    page = w.provider_page
    page.email.setText("team@example.org")
    assert page.select_provider(provider_id)
    w.next()
    assert w.currentId() == PageId.GUIDE
    guide = w.guide_page
    assert title_word in guide.title()
    assert confirm_word in guide.confirm.text().replace("&", "")
    guide.confirm.setChecked(True)
    w.next()
    acc = w.account_page
    provider = w.model.provider
    assert acc.username.text() == provider.username_for("team@example.org")
    if provider_id == "sendgrid":
        assert acc.labels["password"].text().replace("&", "") == "API key:"


def test_closing_while_sandbox_starts_stops_it(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
    page.select_provider(sandbox.id)
    w.next()  # starts the sandbox off the GUI thread
    server = w._sandbox_starting[0]
    w.model.dirty = False  # closing must not stop to ask here
    w.close()  # at once, before the start finished
    assert not server.running
    assert w.sandbox is None and not w.bridge.is_running()


def test_closing_while_sandbox_is_mid_start_stops_it(qtbot):
    w = make_wizard(qtbot)
    page = w.provider_page
    sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
    page.select_provider(sandbox.id)
    w.next()
    server, began, _finished, _cancelled = w._sandbox_starting
    qtbot.waitUntil(began.is_set, timeout=5000)  # the worker is inside start()
    w.model.dirty = False  # closing must not stop to ask here
    w.close()
    assert not server.running and w.sandbox is None


def test_try_autodetect_action_finds_working_port_and_rechecks(qtbot, smtp_server, implicit_tls_server):
    """A server without STARTTLS offers "Find working settings automatically"; it finds the SSL port."""
    no_tls = smtp_server("no_starttls")
    w = make_wizard(qtbot)
    w.model.detect_options = dict(
        ports=(implicit_tls_server.port,),
        timeouts=Timeouts(**FAST),
        tls=TlsOptions(cafile=implicit_tls_server.cafile),
    )
    choose_custom(w)
    fill_account(w, implicit_tls_server, security="starttls")
    w.account_page.port.setText(str(no_tls.port))
    w.account_page._validate()
    w.next()
    result = wait_check_done(qtbot, w)
    assert not result.ok and result.diagnosis.code is Code.STARTTLS_UNSUPPORTED
    button = w.check_page.diagnosis.button_for("autodetect")
    assert button is not None
    runs = w.check_page.runs
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: w.check_page.runs > runs and w.check_page.last_result is not None and not w.check_page.is_running(),
        timeout=15000,
    )
    assert w.check_page.last_result.ok, w.check_page.status.text()
    assert w.account_page.port.text() == str(implicit_tls_server.port)
    assert w.account_page.security.currentData() == "ssl"


def test_save_to_real_secret_service_then_edit_and_delete(qtbot, starttls_server, secret_service):
    """Full round trip through a real unlocked Secret Service (gnome-keyring)."""
    from app.core.store.profiles import ProfileStore
    from app.core.store.secrets import SecretStore

    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    w.next()
    save = w.save_page
    qtbot.waitUntil(lambda: save.backend_name is not None or save.backend_error is not None, timeout=15000)
    assert save.backend_name and save.backend_name in save.summary.text()
    save.profile_name.setText("Keyring box")
    save.save(store_secret=True)
    qtbot.waitUntil(lambda: save.saved_profile is not None or save.keyring_box.isVisible(), timeout=15000)
    profile = ProfileStore().get("Keyring box")
    assert profile is not None and profile.has_secret and profile.secret_backend == save.backend_name
    assert SecretStore().get("Keyring box") == PASSWORD
    assert PASSWORD not in ProfileStore().path.read_text(encoding="utf-8")

    w2 = make_wizard(qtbot)
    page = w2.provider_page
    page.open_saved_accounts()
    dialog = page.saved_dialog
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in dialog.status.text() or "failed" in dialog.status.text(), timeout=15000)
    assert "works" in dialog.status.text(), dialog.status.text()
    qtbot.waitUntil(lambda: dialog.edit.isEnabled(), timeout=5000)
    qtbot.mouseClick(dialog.edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w2.currentId() == PageId.ACCOUNT, timeout=15000)
    assert w2.account_page.password.text() == PASSWORD  # read back from the keyring
    page.open_saved_accounts()
    dialog = page.saved_dialog
    dialog.delete_selected(confirm=False)
    qtbot.waitUntil(lambda: dialog.profile_list.count() == 0, timeout=15000)
    assert SecretStore().get("Keyring box") is None
