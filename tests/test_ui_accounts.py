"""The wizard's save, overwrite, re-test and delete paths against the same AccountStore and a real keyring."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard

from app.core.model import Security, SmtpSettings
from app.core.store import SERVICE, AccountStore, SecretStore
from tests.fixtures.ui import PASSWORD, make_wizard, pass_check, wait_check_done


def ours(info) -> set[tuple[str, str]]:
    """This module's entries in the real keyring (other tests may leave entries under other names)."""
    return {item for item in info.items() if item[1] in {"Office", "Gone", "Sandbox"}}


def dialog_loop() -> None:
    """A modal dialog's own event loop, for as long as it takes to deliver what is already queued."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(0, loop.quit)
    loop.exec()


def save_as(qtbot, w, name: str, *, store_secret: bool = True, overwrite: bool | None = None) -> list[str]:
    """Save on the Save page; ``overwrite`` answers the overwrite question (None: must not be asked)."""
    save = w.save_page
    asked: list[str] = []

    def answer(n: str) -> bool:
        asked.append(n)
        assert overwrite is not None, "asked to overwrite unexpectedly"
        dialog_loop()  # as QMessageBox.question does: queued signals are delivered while it is open
        return overwrite

    save.ask_overwrite = answer
    save.saved_profile = None
    save.profile_name.setText(name)
    save.save(store_secret=store_secret)
    qtbot.waitUntil(
        lambda: (
            save.saved_profile is not None
            or (bool(asked) and not save.is_saving() and "Not saved" in save.status.text())
        ),
        timeout=15000,
    )
    # as a user would: the next save only once the Save button is back (the job has wound down)
    qtbot.waitUntil(lambda: not save.is_saving() and save.save_profile.isEnabled(), timeout=15000)
    return asked


def to_save_page(qtbot, w, server) -> None:
    pass_check(qtbot, w, server)
    w.next()
    assert w.save_page.isVisible()


def test_save_overwrite_retest_delete_leave_no_orphan(qtbot, starttls_server, secret_service):
    w = make_wizard(qtbot)
    to_save_page(qtbot, w, starttls_server)
    assert save_as(qtbot, w, "Office") == []
    assert SecretStore().get("Office") == PASSWORD

    w2 = make_wizard(qtbot)
    to_save_page(qtbot, w2, starttls_server)
    # the name is taken: asked, "No" keeps the saved account as it was
    assert save_as(qtbot, w2, "Office", store_secret=False, overwrite=False) == ["Office"]
    assert "kept as it was" in w2.save_page.status.text()
    assert AccountStore().require("Office").has_secret and SecretStore().get("Office") == PASSWORD
    # "Yes" replaces it; the new account has no stored password, so the old one is removed
    assert save_as(qtbot, w2, "Office", store_secret=False, overwrite=True) == ["Office"]
    assert not AccountStore().require("Office").has_secret
    assert ours(secret_service) == set()
    # saving again from the same wizard is an edit of that account: not asked again, password stored
    assert save_as(qtbot, w2, "Office", store_secret=True) == []
    assert ours(secret_service) == {(SERVICE, "Office")}

    w3 = make_wizard(qtbot)
    page = w3.provider_page
    page.open_saved_accounts()
    dialog = page.saved_dialog
    assert "Office" in dialog.profile_list.item(0).text() and "password stored" in dialog.profile_list.item(0).text()
    dialog.ask_password = lambda profile: pytest.fail("the stored password must be used")
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in dialog.status.text() or "failed" in dialog.status.text(), timeout=15000)
    assert "works" in dialog.status.text(), dialog.status.text()
    qtbot.waitUntil(lambda: dialog.delete.isEnabled(), timeout=5000)
    dialog.delete_selected(confirm=False)
    qtbot.waitUntil(lambda: dialog.profile_list.count() == 0, timeout=15000)
    assert ours(secret_service) == set() and AccountStore().list() == []


def test_missing_stored_password_is_asked_not_skipped(qtbot, starttls_server, secret_service):
    w = make_wizard(qtbot)
    to_save_page(qtbot, w, starttls_server)
    save_as(qtbot, w, "Gone")
    SecretStore().delete("Gone")  # e.g. removed in the keyring manager
    w2 = make_wizard(qtbot)
    w2.provider_page.open_saved_accounts()
    dialog = w2.provider_page.saved_dialog
    asked = []
    dialog.ask_password = lambda profile: asked.append(profile.name)
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Not tested" in dialog.status.text(), timeout=15000)
    assert asked == ["Gone"]


def test_sandbox_profile_works_after_the_sandbox_restarts(qtbot, secret_service):
    w = make_wizard(qtbot)
    page = w.provider_page
    sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
    page.select_provider(sandbox.id)
    w.next()
    qtbot.waitUntil(lambda: w.sandbox_info is not None and w.account_page.host.text() != "", timeout=10000)
    qtbot.waitUntil(lambda: w.button(QWizard.WizardButton.NextButton).isEnabled(), timeout=5000)
    w.next()
    assert wait_check_done(qtbot, w).ok
    w.next()
    w.next()
    first_port = w.sandbox_info.ssl_port
    save_as(qtbot, w, "Sandbox")
    assert AccountStore().require("Sandbox").sandbox
    w.close()  # the sandbox stops with its wizard

    w2 = make_wizard(qtbot)
    w2.provider_page.open_saved_accounts()
    dialog = w2.provider_page.saved_dialog
    qtbot.mouseClick(dialog.retest, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "works" in dialog.status.text() or "failed" in dialog.status.text(), timeout=15000)
    assert "works" in dialog.status.text(), dialog.status.text()
    assert w2.sandbox_info is not None and w2.sandbox_info.ssl_port != first_port
    dialog.delete_selected(confirm=False)
    qtbot.waitUntil(lambda: dialog.profile_list.count() == 0, timeout=15000)
    assert ours(secret_service) == set()


def test_log_is_never_saved_onto_a_fifo_or_through_a_link(qtbot, tmp_path):
    import os

    from app.core.store import TargetError
    from app.ui.widgets.log_view import LogView

    view = LogView()
    qtbot.addWidget(view)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "other.txt").write_text("keep", encoding="utf-8")
    (tmp_path / "link").symlink_to(tmp_path / "other.txt")
    for bad in ("fifo", "link"):
        with pytest.raises(TargetError):
            view.save_to(tmp_path / bad)
    assert (tmp_path / "other.txt").read_text(encoding="utf-8") == "keep"
    saved = view.save_to(tmp_path / "log.txt")
    assert saved.read_text(encoding="utf-8").endswith("\n") and (saved.stat().st_mode & 0o777) == 0o600


def test_saved_accounts_opens_with_a_corrupt_entry_and_lists_the_others(qtbot):
    from app.core.store import Profile, ProfileStore

    store = ProfileStore()
    store.save(Profile("good", SmtpSettings(host="smtp.example.com", port=587, security=Security.STARTTLS)))
    text = store.path.read_text(encoding="utf-8").replace('"profiles": {', '"profiles": {"x": {"settings": [1]},', 1)
    store.path.write_text(text, encoding="utf-8")
    w = make_wizard(qtbot)
    w.provider_page.open_saved_accounts()
    dialog = w.provider_page.saved_dialog
    assert dialog.profile_list.count() == 1 and dialog.profile_list.item(0).text().startswith("good")
    assert 'profiles.json: profile "x": settings: expected an object, found a list' in dialog.status.text()
    assert store.path.read_text(encoding="utf-8") == text  # opening it rewrote nothing
