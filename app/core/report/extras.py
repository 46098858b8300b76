"""Report sections for what may run beside the check: the incoming check, a test send, the delivery round
trip and a sender-domain audit. Allowlisted fields only, every value cleaned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.report.model import Section
from app.core.report.parts import MAX_ROWS, SECURITY_LABELS, yes_no
from app.core.report.redact import MAX_LINE, Cleaner

MAX_FINDINGS = 100
# how an audit finding's status is shown (anything else is neutral)
_AUDIT_STATUS = {
    "ok": "ok",
    "pass": "ok",
    "good": "ok",
    "warn": "warn",
    "warning": "warn",
    "missing": "warn",
    "info": "",
    "fail": "failed",
    "failed": "failed",
    "error": "failed",
    "bad": "failed",
}


def _diagnosis_rows(diagnosis: Any, c: Cleaner) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    if diagnosis is None:
        return [], ()
    title, explanation, fixes = diagnosis.render()
    rows = [("Problem", c.line(title)), ("Why", c.block(explanation))]
    if getattr(diagnosis, "server_reply", None):
        rows.append(("The server said", c.block(diagnosis.server_reply)))
    return rows, tuple(c.line(f) for f in fixes[:30])


def incoming_section(result: Any, c: Cleaner) -> Section:
    """The IMAP/POP3 check: where, the outcome and its diagnosis."""
    s = result.settings
    rows = [
        ("Protocol", c.line(result.protocol.value.upper())),
        ("Server", f"{c.line(s.host)}:{int(s.port)}"),
        ("Security", SECURITY_LABELS.get(s.security.value, c.line(s.security.value))),
        ("Result", "works" if result.ok else "failed"),
        ("Login accepted", yes_no(result.auth_verified)),
        ("Time", f"{result.elapsed_ms:.0f} ms"),
    ]
    extra, fixes = _diagnosis_rows(result.diagnosis, c)
    return Section(
        "incoming",
        "Incoming mail check",
        status="ok" if result.ok else "failed",
        rows=tuple(rows + extra),
        items=fixes,
        items_title="What to do",
    )


def send_section(result: Any, c: Cleaner) -> Section:
    """A test send: the server's answer, accepted and refused recipients."""
    rows = [
        ("Result", "sent" if result.ok else "not sent"),
        ("Queue id", c.line(result.queue_id)) if result.queue_id else None,
        ("The server said", c.block(result.server_reply)) if result.server_reply else None,
        ("Accepted", c.line(", ".join(list(result.accepted)[:MAX_ROWS])) or "(none)"),
        ("Time", f"{result.elapsed_ms:.0f} ms"),
    ]
    refused = list(dict(result.refused).items())[:MAX_ROWS]
    table: tuple[tuple[str, ...], ...] = ()
    if refused:
        table = (("Refused recipient", "Server reply"), *((c.line(a), c.line(r, MAX_LINE)) for a, r in refused))
    extra, fixes = _diagnosis_rows(result.diagnosis, c)
    return Section(
        "send",
        "Test message",
        status="ok" if result.ok else "failed",
        rows=tuple(r for r in rows if r is not None) + tuple(extra),
        table=table,
        table_status=tuple("failed" for _ in refused),
        items=fixes,
        items_title="What to do",
    )


def delivery_section(result: Any, c: Cleaner) -> Section:
    """The round trip: whether the test message arrived, where, how fast, and the receiver's verdicts."""
    ar = result.authentication_results
    rows = [
        ("Arrived", yes_no(result.found)),
        ("Folder", c.line(result.folder)) if result.folder else None,
        ("In spam", yes_no(result.in_spam)),
        ("Took", f"{result.seconds:.1f} s") if result.seconds is not None else None,
        ("Receiver's checks", c.line(ar.summary())) if ar is not None else None,
        ("Test message deleted", yes_no(result.deleted)),
    ]
    extra, fixes = _diagnosis_rows(result.diagnosis, c)
    ok = result.found and not result.in_spam
    return Section(
        "delivery",
        "Delivery round trip",
        status="ok" if ok else ("warn" if result.found else "failed"),
        rows=tuple(r for r in rows if r is not None) + tuple(extra),
        items=fixes,
        items_title="What to do",
    )


def audit_section(audit: Any, c: Cleaner) -> Section | None:
    """A sender-domain audit, rendered generically: findings of {check, status, explanation, record_to_publish}
    (``record`` is read too).

    ``audit`` is an object with ``to_dict()`` or a plain dict (``{"domain", "findings": [...]}``),
    or a list of findings. Only those keys are read."""
    data = audit.to_dict() if hasattr(audit, "to_dict") else audit
    if isinstance(data, Mapping):
        findings, domain = data.get("findings") or (), data.get("domain") or ""
    elif isinstance(data, (list, tuple)):
        findings, domain = data, ""
    else:
        return None
    header = ("Check", "Status", "Explanation", "Record to publish")
    rows, status = [], []
    for f in list(findings)[:MAX_FINDINGS]:
        if not isinstance(f, Mapping):
            continue
        raw_status = str(f.get("status") or "")
        rows.append(
            (
                c.line(f.get("check") or ""),
                c.line(raw_status),
                c.block(f.get("explanation") or ""),
                c.block(f.get("record_to_publish") or f.get("record") or ""),  # app.core.audit: record_to_publish
            )
        )
        status.append(_AUDIT_STATUS.get(raw_status.lower(), ""))
    title = f"Sender domain audit: {c.line(domain)}" if domain else "Sender domain audit"
    worst = "failed" if "failed" in status else ("warn" if "warn" in status else ("ok" if status else ""))
    return Section("audit", title, status=worst, table=(header, *rows) if rows else (), table_status=tuple(status))


__all__ = ["audit_section", "delivery_section", "incoming_section", "send_section"]
