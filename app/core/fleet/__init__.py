"""Many saved accounts at once: a bounded concurrent check of every profile, and its JUnit XML."""

from __future__ import annotations

from app.core.fleet.junit import render_junit, write_junit
from app.core.fleet.runner import (
    DEFAULT_DEADLINE,
    DEFAULT_PARALLEL,
    MAX_PARALLEL,
    FleetResult,
    FleetSummary,
    check_fleet,
    check_profile,
    validate_parallel,
)

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_PARALLEL",
    "MAX_PARALLEL",
    "FleetResult",
    "FleetSummary",
    "check_fleet",
    "check_profile",
    "render_junit",
    "validate_parallel",
    "write_junit",
]
