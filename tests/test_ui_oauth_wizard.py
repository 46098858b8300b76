"""The wizard with OAuth: Account page "Sign in with …" -> check -> send -> save -> re-test from the keyring.

A Microsoft-style and a Google-style provider are added as provider files (no code), pointing at the real
authorization server on loopback (https, trustme); qtbot drives the wizard while the test plays the browser.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from PySide6.QtCore import Qt

from app.core.catalog import default_catalogue, user_providers_dir
from app.core.store import ProfileStore, SecretStore
from app.ui.dialogs import oauth_sign_in
from app.ui.wizard.ids import PageId
from tests.fixtures.oauth_server import USER, browse
from tests.fixtures.ui import FAST, make_wizard, wait_check_done
from tests.test_oauth_cli import GOOGLE_EXTRA, MS_EXTRA, PROVIDER
from tests.test_ui_accounts import dialog_loop

CID = "00001111-aaaa-2222-bbbb-3333cccc4444"


@pytest.fixture
def ui_world(oauth_server_tls, xoauth2_smtp, secret_service, monkeypatch):
    auth = oauth_server_tls
    smtp, handler = xoauth2_smtp(auth)
    folder = user_providers_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for pid, extra, tpath in (("msstyle", MS_EXTRA, "/{tenant}"), ("gstyle", GOOGLE_EXTRA, "")):
        text = PROVIDER.format(
            pid=pid, smtp_port=smtp.port, url=auth.url, tpath=tpath, extra=extra.format(url=auth.url)
        )
        (folder / f"{pid}.toml").write_text(text, encoding="utf-8")
    default_catalogue.cache_clear()
    threads: list[threading.Thread] = []

    def fake_open(url: str) -> bool:  # the system browser, played by an HTTP client in its own thread
        t = threading.Thread(target=lambda: asyncio.run(browse(url)), daemon=True)
        t.start()
        threads.append(t)
        return True

    monkeypatch.setattr(oauth_sign_in, "open_url", fake_open)
    yield auth, smtp, handler
    for t in threads:
        t.join(5)
    default_catalogue.cache_clear()


def _to_account(qtbot, w, provider_id: str) -> None:
    page = w.provider_page
    page.email.setText(USER)
    assert page.select_provider(provider_id)
    for _ in range(3):
        if w.currentId() == PageId.ACCOUNT:
            break
        w.next()
    assert w.currentId() == PageId.ACCOUNT


def _signed_in(qtbot, smtp, pid: str, secret: str | None = None, before_sign_in=None):
    """A wizard on the Account page of ``pid``, signed in through the dialog (the test plays the browser);
    ``before_sign_in(box, dialog)`` looks at the box and the dialog before "Sign in" is clicked."""
    from app.core.model import Timeouts

    w = make_wizard(qtbot)
    _to_account(qtbot, w, pid)
    acc = w.account_page
    box = acc.oauth_box
    acc.ca_file.setText(smtp.ca_file)
    acc._validate()
    w.model.update_settings(timeouts=Timeouts(**FAST))
    qtbot.mouseClick(box.button, Qt.MouseButton.LeftButton)
    dialog = box.dialog
    if before_sign_in is not None:
        before_sign_in(box, dialog)
    dialog.client_id.setText(CID)
    dialog.secret.setText(secret or "")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.model.oauth is not None, timeout=10000)
    return w


@pytest.mark.parametrize(("pid", "secret"), [("msstyle", None), ("gstyle", "gsecret-1")])
def test_wizard_sign_in_check_send_save_retest(qtbot, ui_world, pid, secret):

    auth, smtp, handler = ui_world
    auth.register(CID, secret=secret, loopback_host="localhost" if pid == "msstyle" else "127.0.0.1")

    def before_sign_in(box, dialog) -> None:
        assert box.isVisible() and pid in box.button.text()
        assert dialog.user.text() == USER and dialog.secret.isVisible() == bool(secret)

    w = _signed_in(qtbot, smtp, pid, secret, before_sign_in)
    acc = w.account_page
    box = acc.oauth_box
    assert "Signed in as" in box.state.text()
    assert acc.auth.currentData() == "xoauth2" and acc.username.text() == USER
    assert acc.isComplete()

    w.next()
    result = wait_check_done(qtbot, w)
    assert result.ok and result.auth_mechanism == "XOAUTH2", result.diagnosis
    qtbot.waitUntil(lambda: w.button(w.WizardButton.NextButton).isEnabled())
    w.next()
    send = w.send_page
    send.send()
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok and len(smtp.messages) == 1

    w.next()
    save = w.save_page
    assert 'type: "OAuth2"' in save.export_text("nodemailer")
    save.profile_name.setText("Work mail")
    save.save(store_secret=True)
    qtbot.waitUntil(lambda: save.saved_profile is not None or save.keyring_box.isVisible(), timeout=15000)
    assert "sign-in is in the system password store" in save.status.text()
    profile = ProfileStore().get("Work mail")
    assert profile.extra["oauth"]["client_id"] == CID and not profile.has_secret
    grant = json.loads(SecretStore().get("Work mail", service="MailSetup OAuth"))
    assert grant["refresh_token"].startswith("rt-") and grant.get("client_secret") == secret
    saved_text = ProfileStore().path.read_text(encoding="utf-8")
    assert "rt-" not in saved_text and "at-" not in saved_text and (secret or "gsecret") not in saved_text

    auth.expire_access_tokens()  # re-test from the keyring, an hour later
    w2 = make_wizard(qtbot)
    w2.provider_page.open_saved_accounts()
    saved = w2.provider_page.saved_dialog
    qtbot.mouseClick(saved.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in saved.status.text() or "failed" in saved.status.text(), timeout=15000)
    assert "works" in saved.status.text(), saved.status.text()
    assert handler.seen_users.count(USER) >= 3  # check, send, re-test: each logged in with XOAUTH2


def test_revoked_sign_in_on_the_check_page_signs_in_again_with_one_click(qtbot, ui_world):
    from app.core.diagnosis import Code
    from app.core.model import Timeouts

    auth, smtp, _ = ui_world
    auth.register(CID, loopback_host="localhost")
    w = make_wizard(qtbot)
    _to_account(qtbot, w, "msstyle")
    acc = w.account_page
    acc.ca_file.setText(smtp.ca_file)
    acc._validate()
    w.model.update_settings(timeouts=Timeouts(**FAST))
    qtbot.mouseClick(acc.oauth_box.button, Qt.MouseButton.LeftButton)
    acc.oauth_box.dialog.client_id.setText(CID)
    qtbot.mouseClick(acc.oauth_box.dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.model.oauth is not None, timeout=10000)
    first = w.model.password
    auth.expire_access_tokens()  # the hour is over before the check runs
    w.next()
    result = wait_check_done(qtbot, w)
    assert (result.diagnosis.code, result.diagnosis.variant) == (Code.AUTH_FAILED, "oauth_token_rejected")
    sign_in = next(a for a in result.diagnosis.actions if a.kind == "oauth_sign_in")
    w.check_page.do_action(sign_in)  # the one click: the sign-in dialog opens with the registration kept
    dialog = acc.oauth_box.dialog
    assert dialog.isVisible() and dialog.client_id.text() == CID
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.model.password != first, timeout=10000)
    w.check_page.run()
    qtbot.waitUntil(lambda: w.check_page.last_result is not None and w.check_page.last_result.ok, timeout=10000)


def test_saving_a_sign_in_under_a_taken_name_asks_first(qtbot, ui_world, monkeypatch):
    from app.core.model import Security, SmtpSettings
    from app.core.store import AccountStore, Profile
    from app.ui.wizard.pages.save.page import SavePage

    auth, smtp, _handler = ui_world
    auth.register(CID, secret=None, loopback_host="localhost")
    existing = SmtpSettings(host="smtp.old.example", port=465, security=Security.SSL, username="old@example.org")
    AccountStore().save(Profile(name="Team mail", settings=existing), password="old-password")
    grant_before = SecretStore().get("Team mail", service="MailSetup OAuth")

    w = _signed_in(qtbot, smtp, "msstyle")
    w.next()
    assert wait_check_done(qtbot, w).ok
    qtbot.waitUntil(lambda: w.button(w.WizardButton.NextButton).isEnabled())
    w.next()
    w.next()
    save = w.save_page
    save.profile_name.setText("Team mail")

    asked: list[str] = []
    monkeypatch.setattr(SavePage, "ask_overwrite", lambda self, name: asked.append(name) or dialog_loop() or False)
    save.save(store_secret=True)
    qtbot.waitUntil(lambda: "Not saved" in save.status.text() and not save.is_saving(), timeout=15000)
    assert asked == ["Team mail"]
    kept = ProfileStore().get("Team mail")
    assert kept.settings.host == "smtp.old.example" and "oauth" not in kept.extra
    assert SecretStore().get("Team mail") == "old-password"
    assert SecretStore().get("Team mail", service="MailSetup OAuth") == grant_before  # never touched

    monkeypatch.setattr(SavePage, "ask_overwrite", lambda self, name: asked.append(name) or dialog_loop() or True)
    save.save(store_secret=True)
    qtbot.waitUntil(lambda: save.saved_profile is not None, timeout=15000)
    assert asked == ["Team mail", "Team mail"]
    replaced = ProfileStore().get("Team mail")
    assert replaced.extra["oauth"]["client_id"] == CID and replaced.settings.host != "smtp.old.example"
    assert SecretStore().get("Team mail") is None  # the replaced account's password went with it
    assert json.loads(SecretStore().get("Team mail", service="MailSetup OAuth"))["refresh_token"].startswith("rt-")
