"""Keyboard and accessibility rules: unique mnemonics per page, labelled inputs, stable names, lazy pages."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QWizard,
)

from app.ui.wizard.ids import PageId
from tests.fixtures.ui import make_wizard

_MNEMONIC = re.compile(r"&([^&\s])")


def _mnemonic(text: str) -> str | None:
    m = _MNEMONIC.search(text.replace("&&", ""))
    return m.group(1).lower() if m else None


def _wizard_buttons(w, pid: PageId) -> list[QAbstractButton]:
    which = [QWizard.WizardButton.BackButton, QWizard.WizardButton.CancelButton]
    which.append(QWizard.WizardButton.FinishButton if pid == PageId.SAVE else QWizard.WizardButton.NextButton)
    return [w.button(b) for b in which]


@pytest.mark.parametrize("pid", list(PageId))
def test_mnemonics_unique_on_each_page(qtbot, pid):
    w = make_wizard(qtbot)
    w.build_all_pages()
    page = w.page(int(pid))
    texts: list[tuple[str, str]] = []
    for label in page.findChildren(QLabel):
        if label.buddy() is not None:
            texts.append((label.objectName() or label.text(), label.text()))
    for button in page.findChildren(QAbstractButton) + _wizard_buttons(w, pid):
        texts.append((button.objectName(), button.text()))
    texts.append(("language", w.side_bar.language_label.text()))
    seen: dict[str, str] = {}
    for name, text in texts:
        key = _mnemonic(text)
        if key is None:
            continue
        assert key not in seen, f"{pid.name}: '&{key}' used by {seen[key]!r} and {name!r} ({text!r})"
        seen[key] = name


def test_inputs_have_accessible_names_and_labels(qtbot):
    w = make_wizard(qtbot)
    w.build_all_pages()
    missing = []
    for cls in (QLineEdit, QComboBox, QListWidget, QPlainTextEdit):
        for widget in w.findChildren(cls):
            if (
                isinstance(widget.parent(), QComboBox)
                or not widget.objectName()
                or widget.objectName().startswith("qt_")
            ):
                continue  # a combo's own line edit / Qt internals
            if not widget.accessibleName():
                missing.append(widget.objectName())
    assert not missing, missing
    buddies = {lbl.buddy().objectName() for lbl in w.findChildren(QLabel) if lbl.buddy() is not None}
    for name in (
        "email",
        "provider_list",
        "from_address",
        "username",
        "password",
        "host",
        "port",
        "security",
        "to",
        "cc",
        "bcc",
        "subject",
        "body",
        "profile_name",
        "language",
        "log_level",
    ):
        assert name in buddies, name


def test_pages_are_built_in_the_background_after_showing(qtbot):
    w = make_wizard(qtbot)
    assert w.provider_page.isVisible()
    qtbot.waitUntil(
        lambda: all(w.page(int(p)) is not None and w.page(int(p)).built for p in PageId if p != PageId.PROVIDER),
        timeout=5000,
    )


def test_keyboard_only_first_steps(qtbot):
    from PySide6.QtCore import Qt

    w = make_wizard(qtbot)
    page = w.provider_page
    page.email.setFocus()
    qtbot.keyClicks(page.email, "someone@gmail.com")
    qtbot.keyClick(page.email, Qt.Key.Key_Return)  # the default button is Next
    assert w.currentId() == PageId.GUIDE
    guide = w.guide_page
    guide.confirm.setFocus()
    qtbot.keyClick(guide.confirm, Qt.Key.Key_Space)
    assert guide.confirm.isChecked()
    qtbot.keyClick(guide.confirm, Qt.Key.Key_Return)  # Enter presses the default button (Next)
    assert w.currentId() == PageId.ACCOUNT


def test_create_wizard_uses_saved_language_and_settings_file_under_xdg(qtbot, isolated_user_dirs):
    import os
    from pathlib import Path

    from app.ui.app import create_wizard
    from app.ui.desktop import settings_store

    store = settings_store()
    assert Path(store.fileName()).is_relative_to(Path(os.environ["XDG_CONFIG_HOME"]))
    store.setValue("language", "en")
    store.sync()
    w = create_wizard()
    qtbot.addWidget(w)
    assert w.lang == "en" and w.side_bar.language.currentData() == "en"
