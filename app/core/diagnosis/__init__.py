"""The one diagnosis table (code, title, explanation, fixes) and the classifier that builds every
Diagnosis from a failure."""

from __future__ import annotations

from app.core.diagnosis import classify, detection, incoming, mismatch, oauth, stages
from app.core.diagnosis.alternatives import SECURITY_LABELS, drop_failed_switches, offer_switch, security_label
from app.core.diagnosis.table import (
    QT_TRANSLATE_NOOP,
    TABLE,
    Action,
    Code,
    DiagnosedError,
    Diagnosis,
    diagnose,
    entry_for,
)

# One table: the OAuth rows are kept in diagnosis/oauth.py and joined here, before anyone reads TABLE.
TABLE.update(oauth.OAUTH_ROWS)
TABLE.update(incoming.INCOMING_ROWS)

__all__ = [
    "QT_TRANSLATE_NOOP",
    "SECURITY_LABELS",
    "TABLE",
    "Action",
    "Code",
    "DiagnosedError",
    "Diagnosis",
    "classify",
    "detection",
    "diagnose",
    "drop_failed_switches",
    "entry_for",
    "incoming",
    "mismatch",
    "oauth",
    "offer_switch",
    "security_label",
    "stages",
]
