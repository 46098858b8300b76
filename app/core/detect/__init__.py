"""Finding working settings: candidate discovery, parallel probes; the bounded run pipeline and its second opinion."""

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
from app.core.detect.pipeline import (
    RETRYABLE,
    Verdict,
    alternatives_for,
    decide,
    is_definitive,
    paired_alternative,
    run_pipeline,
)
from app.core.detect.probe import detect, detect_mode
from app.core.detect.ranking import DEFAULT_PORTS as PROBE_PORTS
from app.core.detect.results import DetectResult, ProbeOutcome
from app.core.detect.second_opinion import SecondOpinion, second_opinion

__all__ = [
    "PROBE_PORTS",
    "RETRYABLE",
    "AddressError",
    "DetectResult",
    "ProbeOutcome",
    "SecondOpinion",
    "Verdict",
    "alternatives_for",
    "decide",
    "detect",
    "detect_mode",
    "discover",
    "host_exists",
    "is_definitive",
    "lookup_mx",
    "lookup_srv",
    "modes_for_port",
    "paired_alternative",
    "run_pipeline",
    "second_opinion",
    "split_email",
]
