"""The "Sign in with <provider>" dialog, driven with qtbot while the test plays the browser."""

from __future__ import annotations

import asyncio
import threading

import pytest
from PySide6.QtWidgets import QDialog

from app.core.catalog import ClientPreset, ClientSecretUse, Provider, ProviderKind, load_catalogue
from app.core.diagnosis import Code
from app.core.model import AuthMechanism
from app.core.smtp import run_check
from app.ui.bridge import EngineBridge
from app.ui.dialogs import oauth_sign_in
from app.ui.dialogs.oauth_sign_in import OAuthSignInDialog
from tests.fixtures.oauth_server import USER, browse

CID = "00001111-aaaa-2222-bbbb-3333cccc4444"


@pytest.fixture
def bridge(qtbot):
    b = EngineBridge()
    yield b
    b.shutdown()


@pytest.fixture
def browser(monkeypatch):
    """Replaces the system browser: each opened URL is browsed in a thread (like a real browser process)."""
    opened: list[str] = []
    options: dict = {}
    threads: list[threading.Thread] = []

    def fake_open(url: str) -> bool:
        opened.append(url)
        if options.get("ignore"):
            return True
        t = threading.Thread(target=lambda: asyncio.run(browse(url, **options)), daemon=True)
        t.start()
        threads.append(t)
        return True

    monkeypatch.setattr(oauth_sign_in, "open_url", fake_open)
    yield opened, options
    for t in threads:
        t.join(5)


def _provider(server, **spec) -> Provider:
    return Provider("teststyle", ProviderKind.PRESET, {"en": "Test ID", "ru": "Тест"}, oauth=server.spec(**spec))


def _dialog(qtbot, server, bridge, **kwargs) -> OAuthSignInDialog:
    server.register(CID)
    d = OAuthSignInDialog(_provider(server, **kwargs.pop("spec", {})), bridge, user=USER, timeout=10, **kwargs)
    qtbot.addWidget(d)
    d.show()
    return d


def test_sign_in_through_the_dialog_then_check(qtbot, oauth_server, xoauth2_smtp, bridge, browser):
    opened, _ = browser
    d = _dialog(qtbot, oauth_server, bridge, preset=ClientPreset("teststyle", CID, "contoso.example"))
    assert d.client_id.text() == CID and d.tenant.text() == "contoso.example"
    assert not d.secret.isVisible()  # a public client: no secret field
    with qtbot.waitSignal(d.accepted, timeout=10000):
        d.sign_in_button.click()
    assert "/contoso.example/authorize" in opened[0]
    assert d.account.client_id == CID and d.account.tenant == "contoso.example"
    assert oauth_server.valid(d.tokens.access_token, USER)
    smtp, _ = xoauth2_smtp(oauth_server)
    result = asyncio.run(run_check(smtp.settings(username=USER, auth=AuthMechanism.XOAUTH2), d.tokens.access_token))
    assert result.ok


def test_bad_client_id_is_explained_and_kept(qtbot, oauth_server, bridge, browser):
    opened, _ = browser
    d = _dialog(qtbot, oauth_server, bridge)
    d.client_id.setText("bad id ✓")
    d.sign_in_button.click()
    assert "not a client id" in d.status.text() and d.client_id.text() == "bad id ✓"
    assert d.job is None and opened == []


def test_secret_field_for_a_google_style_client(qtbot, oauth_server, bridge, browser):
    d = _dialog(
        qtbot, oauth_server, bridge, spec={"client_secret": ClientSecretUse.REQUIRED, "default_tenant": "common"}
    )
    d.client_id.setText(CID)
    assert d.secret.isVisible() and d.secret.echoMode() == d.secret.EchoMode.Password
    d.sign_in_button.click()
    assert "client secret" in d.status.text() and d.job is None


def test_forged_answer_shows_the_diagnosis_and_sign_in_again(qtbot, oauth_server, bridge, browser):
    _, options = browser
    options["state"] = "forged"
    d = _dialog(qtbot, oauth_server, bridge)
    d.client_id.setText(CID)
    d.sign_in_button.click()
    qtbot.waitUntil(lambda: d.panel.diagnosis is not None, timeout=10000)
    assert d.panel.diagnosis.code is Code.OAUTH_STATE_MISMATCH and d.result() != QDialog.DialogCode.Accepted
    again = d.panel.button_for("oauth_sign_in")
    assert again is not None and again.text()
    options.pop("state")
    with qtbot.waitSignal(d.accepted, timeout=10000):
        again.click()  # one click: a fresh attempt, this time answered properly
    assert oauth_server.valid(d.tokens.access_token, USER)


def test_cancel_at_any_time(qtbot, oauth_server, bridge, browser):
    opened, options = browser
    options["ignore"] = True  # the user never finishes in the browser
    d = _dialog(qtbot, oauth_server, bridge)
    d.client_id.setText(CID)
    d.sign_in_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert d.cancel_button.isEnabled() and d.client_id.isReadOnly()
    with qtbot.waitSignal(d.job.done, timeout=5000):
        d.cancel_button.click()
    assert "cancelled" in d.status.text() and d.sign_in_button.isEnabled() and not d.client_id.isReadOnly()
    assert not oauth_server.access


def test_shipped_providers_open_the_dialog_with_their_guide(qtbot, bridge):
    cat = load_catalogue()
    for pid, has_tenant, has_secret in (("outlook", True, False), ("gmail", False, True), ("yandex", False, True)):
        d = OAuthSignInDialog(cat.by_id(pid), bridge, lang="ru")
        qtbot.addWidget(d)
        d.show()
        assert d.tenant.isVisible() == has_tenant and d.secret.isVisible() == has_secret, pid
        assert "<ol>" in d.guide.text() and d.client_id.text() == ""  # no shipped client id


def test_sign_in_again_works_before_the_failed_attempt_has_wound_down(qtbot, oauth_server, bridge, browser):
    """The diagnosis (and its "Sign in again") can show while the failed job is still closing its listener:
    a click then must start a new attempt, not be swallowed because the old job still counts as running."""
    from app.core.diagnosis import DiagnosedError, diagnose

    opened, options = browser
    options["ignore"] = True  # the first attempt stays open in the "browser"
    d = _dialog(qtbot, oauth_server, bridge)
    d.client_id.setText(CID)
    d.sign_in_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    first = d.job
    assert first is not None and first.running
    d._failed(DiagnosedError(diagnose(Code.OAUTH_STATE_MISMATCH)))  # the outcome arrives before done
    assert d.sign_in_button.isEnabled() and d.panel.diagnosis is not None
    d.sign_in_button.click()  # what "Sign in again" does too (start())
    assert d.job is not None and d.job is not first and d.job.running
    with qtbot.waitSignal(first.done, timeout=5000, raising=False):
        first.cancel()
    assert d.job.running and not d.sign_in_button.isEnabled()  # the old job's late done leaves the new one alone
    d.cancel()
