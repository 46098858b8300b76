"""The one diagnosis table (code, title, explanation, fixes) and the classifier that builds every
Diagnosis from a failure."""

from __future__ import annotations

from app.core.diagnosis.table import (
    Action,
    Code,
    DiagnosedError,
    Diagnosis,
    QT_TRANSLATE_NOOP,
    TABLE,
    diagnose,
    entry_for,
)
from app.core.diagnosis import classify

__all__ = [
    "Action",
    "Code",
    "DiagnosedError",
    "Diagnosis",
    "QT_TRANSLATE_NOOP",
    "TABLE",
    "classify",
    "diagnose",
    "entry_for",
]
