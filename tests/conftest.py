"""Shared test setup: offscreen Qt, isolated user dirs, no real keyring unless a test asks for one."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fixture modules: real SMTP servers and misbehaving sockets, a real Secret Service, DNS and proxies.
from tests.fixtures.smtp_servers import *  # noqa: E402,F401,F403
from tests.fixtures.keyring_service import *  # noqa: E402,F401,F403
from tests.fixtures.network import *  # noqa: E402,F401,F403


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
