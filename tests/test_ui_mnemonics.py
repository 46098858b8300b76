"""Item 13 of issue 13: mnemonics. On every page, in English and Russian, no two controls share an Alt key,
none takes a wizard button's key, and Alt+<a wizard button's key> never types into a field (not even
while that button is disabled)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QLineEdit, QWizard

from tests.fixtures.ui import make_wizard, wait_check_done

MNEMONIC = re.compile(r"&([^&\s])")
BUTTONS = (
    QWizard.WizardButton.NextButton,
    QWizard.WizardButton.BackButton,
    QWizard.WizardButton.FinishButton,
    QWizard.WizardButton.CancelButton,
)


def key_of(text: str) -> str | None:
    m = MNEMONIC.search(text.replace("&&", ""))
    return m.group(1).lower() if m else None


def page_keys(page) -> dict[str, list[str]]:
    """Alt keys of the page's visible controls: buttons, group boxes, labels that have a buddy."""
    out: dict[str, list[str]] = {}
    for w in page.findChildren(QAbstractButton) + page.findChildren(QLabel) + page.findChildren(QGroupBox):
        if not w.isVisible() or (isinstance(w, QLabel) and w.buddy() is None):
            continue
        text = w.title() if isinstance(w, QGroupBox) else w.text()
        key = key_of(text)
        if key:
            out.setdefault(key, []).append(text)
    return out


def wizard_keys(w) -> dict[str, str]:
    out = {}
    for which in BUTTONS:
        b = w.button(which)
        key = key_of(b.text())
        if b.isVisible() and key:
            out[key] = b.text()
    return out


def collisions(w) -> list[tuple[str, list[str]]]:
    keys, buttons = page_keys(w.currentPage()), wizard_keys(w)
    bad = [(k, texts) for k, texts in keys.items() if len(texts) > 1]
    bad += [(k, [*texts, buttons[k]]) for k, texts in keys.items() if k in buttons]
    return bad


def next_enabled(w) -> bool:
    return w.button(QWizard.WizardButton.NextButton).isEnabled()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_no_mnemonic_collides_on_any_page(qtbot, lang):
    w = make_wizard(qtbot, lang)
    try:
        seen = {}
        page = w.provider_page
        seen["provider"] = collisions(w)
        assert page.select_provider("gmail")
        w.next()
        seen["guide"] = collisions(w)
        w.back()
        sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
        assert page.select_provider(sandbox.id)
        w.next()
        qtbot.waitUntil(lambda: w.account_page.host.text() != "" and next_enabled(w), timeout=10000)
        seen["account"] = collisions(w)
        w.account_page.advanced.setChecked(True)  # the server fields too
        seen["account, advanced"] = collisions(w)
        # a Custom account shows all its fields at once
        w.back()
        custom = next(p for p in page.providers() if p.kind.value == "custom")
        assert page.select_provider(custom.id)
        w.next()
        seen["account, custom"] = collisions(w)
        w.back()
        assert page.select_provider(sandbox.id)
        w.next()
        qtbot.waitUntil(lambda: w.account_page.host.text() != "" and next_enabled(w), timeout=10000)
        w.next()
        assert wait_check_done(qtbot, w).ok
        qtbot.waitUntil(lambda: next_enabled(w))
        seen["check"] = collisions(w)
        w.next()
        seen["send"] = collisions(w)
        w.next()
        seen["save"] = collisions(w)
        assert {name: bad for name, bad in seen.items() if bad} == {}
        assert len(seen) == 8
    finally:
        w.set_language("en")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_alt_with_a_wizard_buttons_key_never_types_into_a_field(qtbot, lang):
    w = make_wizard(qtbot, lang)
    try:
        page = w.provider_page
        sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
        assert page.select_provider(sandbox.id)
        w.next()
        acc = w.account_page
        qtbot.waitUntil(lambda: acc.host.text() != "" and next_enabled(w), timeout=10000)
        host, port = acc.host.text(), acc.port.text()
        # the keys of the wizard's buttons that do nothing on this page (Finish is hidden, Cancel has none,
        # and in Russian the Latin N and B are not Next and Back): Alt+key must not type a letter
        keys = ["f", "c"] + (["n", "b"] if lang == "ru" else [])
        for field in (acc.port, acc.host):
            field.setFocus()
            for key in keys:
                qtbot.keyClick(field, key, Qt.KeyboardModifier.AltModifier)
        assert w.currentPage() is acc
        assert acc.port.text() == port and acc.host.text() == host
        acc.host.clear()
        qtbot.keyClicks(acc.host, "smtp.example.org")  # plain typing still works
        assert acc.host.text() == "smtp.example.org"
        assert all(isinstance(f, QLineEdit) for f in (acc.port, acc.host))
    finally:
        w.set_language("en")


def test_the_guard_follows_the_focus_and_survives_a_deleted_editor(qtbot):
    from PySide6.QtWidgets import QApplication, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget
    from shiboken6 import isValid

    from app.ui.widgets.alt_keys import AltKeyGuard

    window = QWidget()
    qtbot.addWidget(window)
    lay = QVBoxLayout(window)
    doomed, line, text, button = QLineEdit(), QLineEdit(), QPlainTextEdit(), QPushButton("Go")
    for widget in (doomed, line, text, button):
        lay.addWidget(widget)
    AltKeyGuard(QApplication.instance(), window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    doomed.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is doomed)
    doomed.deleteLater()  # deleted while it has the focus (and the guard's filter)
    qtbot.waitUntil(lambda: not isValid(doomed))
    for editor in (line, text):
        editor.setFocus()
        qtbot.waitUntil(lambda editor=editor: QApplication.focusWidget() is editor)
        qtbot.keyClick(editor, "n", Qt.KeyboardModifier.AltModifier)  # swallowed
        qtbot.keyClick(editor, "7")  # typed
    assert (line.text(), text.toPlainText()) == ("7", "7")
