"""Helpers shared by the audit checks: translatable text (context "Audit") and finding builders."""

from __future__ import annotations

from typing import Any

from app.core.audit.model import Finding, Status
from app.core.model import QT_TRANSLATE_NOOP, Text

CONTEXT = "Audit"


def T(template: str, **params: Any) -> Text:
    """A translatable sentence; mark the literal with ``QT_TRANSLATE_NOOP("Audit", ...)`` at the call."""
    return Text.of(CONTEXT, template, **params)


def finding(check: str, status: Status, title: Text, explanation: Text, record: str = "", /, **details: Any) -> Finding:
    return Finding(check, status, title, explanation, record, dict(details))


def timeout_finding(check: str, name: str) -> Finding:
    return finding(
        check,
        Status.WARN,
        T(QT_TRANSLATE_NOOP("Audit", "No DNS answer in time for {name}"), name=name),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "The DNS server did not answer before the audit's time ran out, so this check could not be made. "
                "Check the network or the DNS server and run the audit again.",
            )
        ),
        name=name,
    )


def txt(name: str, value: str) -> str:
    """A TXT record in zone-file form: ``NAME. IN TXT "value"`` (long values split in 255-byte strings)."""
    parts = [value[i : i + 255] for i in range(0, len(value), 255)] or [""]
    quoted = " ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in parts)
    return f"{name}. IN TXT {quoted}"


__all__ = ["CONTEXT", "T", "finding", "timeout_finding", "txt"]
