"""Shared test setup: offscreen Qt, isolated user dirs, no real keyring unless a test asks for one."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fixture plugins: real SMTP servers and misbehaving sockets, a real Secret Service, DNS and proxies,
# and the wizard helpers (tests/fixtures/ui.py).
pytest_plugins = [
    "tests.fixtures.keyring_service",
    "tests.fixtures.network",
    "tests.fixtures.smtp_servers",
    "tests.fixtures.dovecot",
    "tests.fixtures.oauth_server",
    "tests.fixtures.ui",
]


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Point config/data/cache/state dirs at a fresh temp folder and disable the real keyring."""
    base = tmp_path_factory.mktemp("userdirs")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        path = base / var.lower()
        path.mkdir()
        monkeypatch.setenv(var, str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    yield base


GUI_FIXTURES = {"qtbot", "qapp"}
KEYRING_FIXTURES = {"secret_service", "secret_service_daemon"}


def pytest_collection_modifyitems(config, items):
    """Mark by what a test uses, so that `-m "not gui"` is a headless run and `-m keyring` the keyring set."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & GUI_FIXTURES or item.path.name.startswith("test_ui_"):
            item.add_marker(pytest.mark.gui)
        if used & KEYRING_FIXTURES:
            item.add_marker(pytest.mark.keyring)


# PySide6 6.12 with httpx2 installed (checkdmarc's dnspython[doh] brings it) can abort the interpreter while it
# tears down after the last test ("Fatal Python error: bool_dealloc"), turning a green run red. Once pytest has
# reported everything, the process ends with pytest's own exit status and skips that teardown.
_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _EXIT_STATUS and not os.environ.get("MAILSETUP_NORMAL_EXIT"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
