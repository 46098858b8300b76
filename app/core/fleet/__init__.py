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
from app.core.fleet.saved import SavedCheck, SavedProblem, prepare_saved

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_PARALLEL",
    "MAX_PARALLEL",
    "FleetResult",
    "FleetSummary",
    "SavedCheck",
    "SavedProblem",
    "check_fleet",
    "check_profile",
    "prepare_saved",
    "render_junit",
    "validate_parallel",
    "write_junit",
]
