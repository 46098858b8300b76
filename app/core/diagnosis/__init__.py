"""The one diagnosis table (code, title, explanation, fixes) and the classifier that builds every
Diagnosis from a failure."""

from __future__ import annotations

from app.core.diagnosis import classify, detection, dsn, explain, incoming, mismatch, oauth, stages
from app.core.diagnosis.alternatives import SECURITY_LABELS, drop_failed_switches, offer_switch, security_label
from app.core.diagnosis.dsn import MAX_INPUT as EXPLAIN_MAX_INPUT
from app.core.diagnosis.explain import ExplainInputError, Explanation, Finding, explain_input
from app.core.diagnosis.model import (
    QT_TRANSLATE_NOOP,
    Action,
    Code,
    DiagnosedError,
    Diagnosis,
    diagnose,
    entry_for,
)
from app.core.diagnosis.table import TABLE

# One table: the OAuth rows are kept in diagnosis/oauth.py and joined here, before anyone reads TABLE.
TABLE.update(oauth.OAUTH_ROWS)
TABLE.update(incoming.INCOMING_ROWS)
TABLE.update(explain.EXPLAIN_ROWS)

__all__ = [
    "EXPLAIN_MAX_INPUT",
    "QT_TRANSLATE_NOOP",
    "SECURITY_LABELS",
    "TABLE",
    "Action",
    "Code",
    "DiagnosedError",
    "Diagnosis",
    "ExplainInputError",
    "Explanation",
    "Finding",
    "classify",
    "detection",
    "diagnose",
    "drop_failed_switches",
    "dsn",
    "entry_for",
    "explain",
    "explain_input",
    "incoming",
    "mismatch",
    "oauth",
    "offer_switch",
    "security_label",
    "stages",
]
