"""The audit's data: what to audit (``AuditRequest``), one ``Finding`` per check and the ``AuditReport``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.core.model import Text


class Status(str, Enum):
    """How a finding reads: fine, worth fixing, broken, or just for information."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    INFO = "info"


# the order findings are sorted in when shown worst first
SEVERITY = {Status.FAIL: 0, Status.WARN: 1, Status.INFO: 2, Status.OK: 3}


@dataclass(frozen=True)
class AuditRequest:
    """What to audit: the From domain, and what the account sends with (each optional).

    ``smtp_host``: the SMTP server the mail is submitted to (is it authorised by SPF?);
    ``from_address`` / ``login``: compared for the provider's From rule; ``provider_id``: the catalogue
    entry (known DKIM selectors, SPF include, From rule); ``dkim_selectors``: more selectors to try
    (e.g. the one the round trip found in the delivered message); ``front_end``: "cli" or "gui", for the
    wording of advice (a command-line flag there, a field here).
    """

    domain: str
    smtp_host: str = ""
    from_address: str = ""
    login: str = ""
    provider_id: str = ""
    dkim_selectors: tuple[str, ...] = ()
    mail_from: str = ""  # the envelope sender (MAIL FROM) when it is not the From address
    timeout: float = 10.0
    front_end: str = "cli"  # "cli" or "gui": how a finding tells the user to give what is missing


@dataclass(frozen=True)
class Finding:
    """One result: ``check`` (mx, spf, spf_authorised, dkim, dmarc, dmarc_alignment, mta_sts, tls_rpt,
    dnssec, from_login, dns), a ``Status``, a translatable title and explanation, the DNS record to
    publish or fix (``record_to_publish``, "" when nothing to publish) and plain ``details``."""

    check: str
    status: Status
    title: Text
    explanation: Text
    record_to_publish: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status.value,
            "title": str(self.title),
            "explanation": str(self.explanation),
            "record_to_publish": self.record_to_publish,
            "details": self.details,
        }


@dataclass(frozen=True)
class AuditReport:
    """Every finding for one domain, in check order, and how long the audit took."""

    domain: str
    findings: tuple[Finding, ...]
    elapsed_ms: int = 0
    timed_out: bool = False

    @property
    def worst(self) -> Status:
        if not self.findings:
            return Status.INFO
        return min((f.status for f in self.findings), key=lambda s: SEVERITY[s])

    @property
    def ok(self) -> bool:
        """No finding failed (warnings and notes are allowed)."""
        return all(f.status is not Status.FAIL for f in self.findings)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.status is s) for s in Status}

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "ok": self.ok,
            "worst": self.worst.value,
            "counts": self.counts(),
            "elapsed_ms": self.elapsed_ms,
            "timed_out": self.timed_out,
            "findings": [f.to_dict() for f in self.findings],
        }
