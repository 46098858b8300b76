"""Sender-domain audit: MX, SPF (syntax, lookup limit, is the SMTP server authorised), DKIM, DMARC policy
and alignment, MTA-STS, TLS-RPT and DNSSEC for the From domain, each as a ``Finding`` with a plain
explanation and the DNS record to publish. One bounded run (``run_audit``); DNS only.

Record parsing and the SPF lookup count come from checkdmarc (on dnspython); see each module for what
is ours and why.
"""

from __future__ import annotations

from app.core.audit.model import SEVERITY, AuditReport, AuditRequest, Finding, Status
from app.core.audit.records import valid_selector
from app.core.audit.resolver import MAX_QUERIES, DeadlineResolver
from app.core.audit.run import find_provider, parsers_self_test, run_audit
from app.core.audit.sender import audits_after_send, normalize_domain

__all__ = [
    "MAX_QUERIES",
    "SEVERITY",
    "AuditReport",
    "AuditRequest",
    "DeadlineResolver",
    "Finding",
    "Status",
    "audits_after_send",
    "find_provider",
    "normalize_domain",
    "parsers_self_test",
    "run_audit",
    "valid_selector",
]
