"""Locate the read-only data folder (providers, translations, icons).

The same lookup serves a source checkout (``<repo>/resources``), an installed
wheel (shipped as the ``app.resources`` package) and a PyInstaller bundle
(``<_MEIPASS>/resources``).
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

ENV_OVERRIDE = "MAILSETUP_RESOURCES"


@cache
def resource_dir() -> Path:
    """Return the folder that holds ``providers/``, ``translations/`` and ``icons/``."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    checkout = Path(__file__).resolve().parents[2] / "resources"
    if (checkout / "providers").is_dir():
        return checkout
    try:
        import app.resources as packaged  # shipped by the wheel

        return Path(packaged.__file__).resolve().parent
    except ImportError:  # pragma: no cover - broken install
        log.error("resources folder not found; looked in %s", checkout)
        return checkout


def resource_path(*parts: str) -> Path:
    """Path of one file or folder under the resources folder."""
    return resource_dir().joinpath(*parts)
