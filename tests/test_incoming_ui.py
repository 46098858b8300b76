"""The wizard's incoming side, driven with qtbot: the IMAP check beside SMTP on the Check page and the
proof of delivery on the Send page, against the real Dovecot and the delivering MTA."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWizard

from app.core.catalog import Endpoint, Provider, ProviderKind
from app.core.model import Timeouts
from tests.fixtures.smtp_servers import TEST_PASSWORD, TEST_USER
from tests.fixtures.ui import FAST, choose_custom, make_wizard, wait_check_done

pytestmark = pytest.mark.gui


def local_provider(mta, dovecot) -> Provider:
    """A preset whose SMTP and IMAP servers are the local MTA and Dovecot."""
    return Provider(
        id="local-test",
        kind=ProviderKind.PRESET,
        name={"en": "Local"},
        smtp=(Endpoint(mta.host, mta.port, "ssl"),),
        imap=(Endpoint(dovecot.host, dovecot.port("imap", "ssl"), "ssl"),),
    )


def to_check_page(qtbot, wizard, mta, dovecot, password=TEST_PASSWORD):
    choose_custom(wizard, email=TEST_USER)
    acc = wizard.account_page
    acc.host.setText(mta.host)
    acc.port.setText(str(mta.port))
    acc.security.setCurrentIndex(acc.security.findData("ssl"))
    acc.username.setText(TEST_USER)
    acc.password.setText(password)
    acc.ca_file.setText(mta.ca_file)
    acc._validate()
    wizard.model.update_settings(timeouts=Timeouts(**FAST))
    wizard.model.provider = local_provider(mta, dovecot)  # as if the local servers were a preset
    wizard.next()


def test_check_page_runs_the_imap_check_beside_smtp(qtbot, dovecot, dovecot_mta):
    wizard = make_wizard(qtbot)
    to_check_page(qtbot, wizard, dovecot_mta, dovecot)
    page = wizard.check_page
    assert wait_check_done(qtbot, wizard).ok
    qtbot.waitUntil(lambda: page.incoming.result is not None, timeout=10000)
    assert page.incoming.isVisibleTo(page)
    assert page.incoming.title() == "Incoming mail (IMAP)"
    assert page.incoming.status.text().startswith("IMAP login works (127.0.0.1:")


def test_check_page_explains_an_incoming_failure_without_blocking_next(qtbot, dovecot, dovecot_mta):
    wizard = make_wizard(qtbot)
    to_check_page(qtbot, wizard, dovecot_mta, dovecot)
    wizard.model.provider = Provider(
        id="local-test",
        kind=ProviderKind.PRESET,
        name={"en": "Local"},
        smtp=(Endpoint(dovecot_mta.host, dovecot_mta.port, "ssl"),),
        imap=(Endpoint(dovecot.host, dovecot.port("imap", "starttls"), "ssl"),),  # wrong mode for the port
    )
    page = wizard.check_page
    page.run()
    qtbot.waitUntil(lambda: page.incoming.result is not None and not page.is_running(), timeout=10000)
    assert page.incoming.status.text() == "The IMAP check failed."
    assert page.incoming.diagnosis.title.text() == "Port {} does not use SSL/TLS from the start".format(
        dovecot.port("imap", "starttls")
    )
    assert page.incoming.diagnosis.buttons == []  # the catalogue's server: the port is told, not switched
    qtbot.waitUntil(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())


def test_send_page_shows_where_the_message_arrived(qtbot, dovecot, dovecot_mta):
    wizard = make_wizard(qtbot)
    to_check_page(qtbot, wizard, dovecot_mta, dovecot)
    assert wait_check_done(qtbot, wizard).ok
    qtbot.waitUntil(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
    wizard.next()
    send = wizard.send_page
    assert send.delivery.isVisibleTo(send) and send.delivery.status.text().startswith("After sending")
    assert not send.delivery.delete_after.isChecked()  # asked, default keep
    send.to.setText(TEST_USER)
    send.send_test.click()
    qtbot.waitUntil(lambda: send.delivery.result is not None, timeout=15000)
    assert send.delivery.result.found and not send.delivery.result.deleted
    assert len(dovecot.maildir(TEST_USER)) == 1
    text = send.delivery.status.text()
    assert text.startswith("Arrived in INBOX after ") and "SPF pass, DKIM pass, DMARC pass" in text


def test_send_page_deletes_the_test_message_when_asked(qtbot, dovecot, dovecot_mta):
    wizard = make_wizard(qtbot)
    to_check_page(qtbot, wizard, dovecot_mta, dovecot)
    assert wait_check_done(qtbot, wizard).ok
    qtbot.waitUntil(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
    wizard.next()
    send = wizard.send_page
    send.delivery.delete_after.setChecked(True)
    send.to.setText(TEST_USER)
    send.send_test.click()
    qtbot.waitUntil(lambda: send.delivery.result is not None, timeout=15000)
    assert send.delivery.result.found and send.delivery.result.deleted
    assert len(dovecot.maildir(TEST_USER)) == 0


def test_sandbox_send_confirms_delivery_from_its_own_inbox(qtbot):
    from tests.test_ui_first_run import next_enabled, start_sandbox_account

    wizard = make_wizard(qtbot)
    start_sandbox_account(qtbot, wizard)
    wizard.next()
    assert wait_check_done(qtbot, wizard).ok
    qtbot.waitUntil(lambda: next_enabled(wizard))
    wizard.next()
    send = wizard.send_page
    send.send_test.click()
    qtbot.waitUntil(lambda: send.delivery.result is not None, timeout=10000)
    assert send.delivery.result.found
    assert send.delivery.status.text().startswith("Arrived in the sandbox inbox after ")
    assert not send.delivery.delete_after.isVisibleTo(send)
