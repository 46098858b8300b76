"""Finding working settings: candidate discovery, parallel probes, the second opinion."""

from __future__ import annotations

from app.core.detect.discovery import (
    AddressError,
    discover,
    host_exists,
    lookup_mx,
    lookup_srv,
    modes_for_port,
    split_email,
)
from app.core.detect.fallback import (
    check_with_fallback,
    confirm_with_stdlib,
    is_definitive,
    paired_alternative,
    stdlib_check,
)
from app.core.detect.probe import detect, detect_mode

__all__ = [
    "AddressError",
    "check_with_fallback",
    "confirm_with_stdlib",
    "detect",
    "detect_mode",
    "discover",
    "host_exists",
    "is_definitive",
    "lookup_mx",
    "lookup_srv",
    "modes_for_port",
    "paired_alternative",
    "split_email",
    "stdlib_check",
]
