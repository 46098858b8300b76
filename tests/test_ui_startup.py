"""What a cold start does before the first page shows (the work tests/bench/bench_gui.py times).

Each start runs in a fresh interpreter, as a user's does: the first one parses the catalogue and
writes its cache; the next one must show the same first page from the cache without parsing TOML,
without importing the engine's event and check modules (nor the search-results table, nor the catalogue's
and the settings' models: the list comes from the cache's entries), and without building the Qt namespace's
enums (~15 ms), while every provider's badge is ready for the list's first paint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from app.ui.app import create_wizard
w = create_wizard("en")
w.show()

def report():
    import PySide6.QtCore as core
    page = w.provider_page
    items = [page.provider_list.item(i) for i in range(page.provider_list.count())]
    print(json.dumps({
        "qt_namespace_built": "Qt" in core.__dict__,
        "toml_parsed": "tomllib" in sys.modules,
        "deferred_modules": sorted(m for m in ("app.core.model.events", "app.core.smtp", "app.core.detect",
                                               "app.core.catalog.sections", "subprocess",
                                               "app.core.catalog.model", "app.core.model.settings",
                                               "app.ui.widgets.probe_table") if m in sys.modules),
        "providers": len(items),
        # badges are drawn as rows are painted (BadgeDelegate): each row's, at the list's icon size
        "badges": sum(not page.badges.badge(it.data(0x0100), 24).isNull() for it in items),
        "providers_loaded": w._catalogue_source.loaded,
        "current_page": w.currentId(),
    }), flush=True)
    w.shutdown()
    app.quit()

QTimer.singleShot(0, report)
app.exec()
"""


def start(env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=env, cwd=str(ROOT)
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("{")), None)
    assert line is not None, out.stderr[-2000:]
    return json.loads(line)


def test_a_second_start_shows_the_first_page_from_the_cache_without_heavy_work(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        (tmp_path / var.lower()).mkdir()
        env[var] = str(tmp_path / var.lower())
    first = start(env)
    assert first["toml_parsed"] is True  # nothing cached yet: parsed, then written
    assert (tmp_path / "xdg_cache_home" / "mailsetup" / "catalogue.pickle").is_file()
    second = start(env)
    assert second == {
        "qt_namespace_built": False,
        "toml_parsed": False,
        "deferred_modules": [],
        "providers": first["providers"],
        "badges": first["providers"],
        "providers_loaded": False,  # listed from the cache's entries; the providers load once the page is idle
        "current_page": 0,
    }
    assert first["providers"] >= 20 and first["badges"] == first["providers"]


def test_the_collector_paused_for_the_start_runs_again_once_the_loop_does(qtbot):
    import gc

    from app.ui.app import create_wizard

    assert gc.isenabled()
    w = create_wizard("en")
    qtbot.addWidget(w, before_close_func=lambda w: setattr(w.model, "dirty", False))
    assert not gc.isenabled()  # paused while the first page is built
    qtbot.waitUntil(gc.isenabled, timeout=5000)


def test_a_failed_start_does_not_leave_the_collector_paused(qtbot, monkeypatch):
    import gc

    import pytest

    from app.ui import app as ui_app
    from app.ui.wizard import wizard as wizard_module

    def broken(*_a, **_k):
        raise RuntimeError("no wizard today")

    monkeypatch.setattr(wizard_module, "SetupWizard", broken)
    with pytest.raises(RuntimeError):
        ui_app.create_wizard("en")
    assert gc.isenabled()  # at once: a host that never runs Qt's loop must not be left without it
