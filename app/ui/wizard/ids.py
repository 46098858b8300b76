"""The wizard's page ids: one place, imported by the wizard and every page."""

from __future__ import annotations

from enum import IntEnum


class PageId(IntEnum):
    PROVIDER = 0
    GUIDE = 1
    ACCOUNT = 2
    CHECK = 3
    SEND = 4
    SAVE = 5
