"""PySide6's "does this module use PySide6?" question, answered by a byte search instead of inspect.getsource:
the same answers, and the hook really is the quick one once the UI package is imported."""

from __future__ import annotations

import importlib
import inspect
import sys

import pytest


def _pyside_answer(module) -> bool:
    """What PySide's own check answers (shibokensupport.feature._mod_uses_pyside before it is replaced)."""
    try:
        return "PySide6" in inspect.getsource(module)
    except (TypeError, OSError, SyntaxError):
        return False


def test_the_quick_check_is_installed_and_idempotent():
    import PySide6.QtCore  # noqa: F401

    import app.ui  # noqa: F401
    from app.ui.pyside_hook import quicken_feature_hook

    feature = sys.modules["shibokensupport.feature"]
    installed = feature._mod_uses_pyside
    assert getattr(installed, "_mailsetup_quick", False) is True
    assert quicken_feature_hook() is True and feature._mod_uses_pyside is installed  # not wrapped twice


@pytest.mark.parametrize(
    "name",
    [
        "app.ui.wizard.wizard",  # uses PySide6
        "app.ui.desktop",
        "app.ui.pyside_hook",  # names PySide6 in its text only: PySide's own check says yes too
        "app.core.catalog.listing",  # no PySide
        "json",  # stdlib, plain source
        "sys",  # built in: no file
        "_pickle",  # an extension module
    ],
)
def test_the_quick_check_gives_pysides_answer(name):
    import PySide6.QtCore  # noqa: F401

    import app.ui  # noqa: F401

    module = importlib.import_module(name)
    quick = sys.modules["shibokensupport.feature"]._mod_uses_pyside
    assert quick(module) is _pyside_answer(module)


def test_an_unreadable_source_counts_as_no_pyside(tmp_path):
    import PySide6.QtCore  # noqa: F401

    import app.ui  # noqa: F401

    gone = type(sys)("gone_module")
    gone.__file__ = str(tmp_path / "deleted.py")
    assert sys.modules["shibokensupport.feature"]._mod_uses_pyside(gone) is False


def test_a_module_imported_from_a_zip_gets_pysides_own_answer(tmp_path, monkeypatch):
    import zipfile

    import PySide6.QtCore  # noqa: F401

    import app.ui  # noqa: F401

    archive = tmp_path / "mods.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_qt_user.py", "import PySide6.QtCore\n")
    monkeypatch.syspath_prepend(str(archive))
    module = importlib.import_module("zipped_qt_user")
    try:
        assert sys.modules["shibokensupport.feature"]._mod_uses_pyside(module) is _pyside_answer(module) is True
    finally:
        sys.modules.pop("zipped_qt_user", None)
