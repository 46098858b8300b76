"""build_report: a Report from the Verdict of ``run_pipeline`` and what ran beside it.

Redaction by construction: this function is never given a password, a token or a proxy
password. It reads allowlisted fields of each result (never serialises a whole object), cleans
every value (``Cleaner``) and masks the transcript again (``mask_transcript``).
"""

from __future__ import annotations

import platform
import sys
from datetime import datetime, timezone
from typing import Any

from app.core.report.extras import audit_section, delivery_section, incoming_section, send_section
from app.core.report.model import NEVER_INCLUDED, Report, Section
from app.core.report.parts import (
    SECURITY_LABELS,
    alternatives_section,
    certificate_section,
    diagnosis_section,
    log_section,
    second_opinion_section,
    settings_section,
    stages_section,
    tls_fields,
    transcript_section,
)
from app.core.report.recorder import ReportRecorder
from app.core.report.redact import Cleaner


def default_app_version() -> str:
    from app import __version__

    return __version__


def default_os() -> str:
    return f"{platform.system()} {platform.release()} ({platform.machine()}), Python {sys.version.split()[0]}"


def build_report(
    verdict: Any,
    *,
    recorder: ReportRecorder | None = None,
    incoming: Any = None,
    send: Any = None,
    delivery: Any = None,
    audit: Any = None,
    profile: str = "",
    provider: str = "",
    mask_addresses: bool = False,
    identities: tuple[str, ...] = (),
    app_version: str | None = None,
    os_name: str | None = None,
    now: datetime | None = None,
) -> Report:
    """The report of one check (``verdict``: app.core.detect.Verdict) and, when given, the incoming check
    (IncomingResult), a test send (SendResult), the delivery round trip (DeliveryResult) and a sender-domain
    audit (anything with ``to_dict()``, or a dict). ``identities``: logins and addresses to mask with
    ``mask_addresses`` (the account's own login is always among them)."""
    settings = verdict.settings
    c = Cleaner(mask_addresses=mask_addresses, identities=(settings.username, *identities))
    created = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    ok = bool(verdict.ok) and _side_ok(incoming, send, delivery)
    headline = _headline(verdict, incoming, send, delivery, c)
    where = f"{c.line(settings.host)}:{int(settings.port)}"
    sections: list[Section | None] = [
        _summary(verdict, ok, created, c, profile=profile),
        diagnosis_section("diagnosis", "Diagnosis", verdict.diagnosis, c) if verdict.diagnosis is not None else None,
        settings_section(settings, c, auth_mechanism=verdict.auth_mechanism, profile=profile, provider=provider),
        stages_section(recorder, c),
        _server_section(verdict, c),
        certificate_section(tls_fields(verdict.tls) or _recorded_tls(recorder, "SMTP"), c),
        second_opinion_section(verdict.second_opinion, c),
        alternatives_section(tuple(verdict.alternatives), c),
        _notes_section(verdict, c),
        send_section(send, c) if send is not None else None,
        delivery_section(delivery, c) if delivery is not None else None,
        incoming_section(incoming, c) if incoming is not None else None,
        audit_section(audit, c) if audit is not None else None,
        transcript_section(recorder, c),
        log_section(recorder, c),
        _environment(app_version, os_name, created, c),
        Section("privacy", "What is not in this report", text=NEVER_INCLUDED),
    ]
    return Report(
        title=f"MailSetup report: {where}",
        ok=ok,
        headline=headline,
        created=created,
        sections=tuple(s for s in sections if s is not None),
        masked_addresses=mask_addresses,
    )


def _side_ok(incoming: Any, send: Any, delivery: Any) -> bool:
    if incoming is not None and not incoming.ok:
        return False
    if send is not None and not send.ok:
        return False
    return not (delivery is not None and (not delivery.found or delivery.in_spam))


def _headline(verdict: Any, incoming: Any, send: Any, delivery: Any, c: Cleaner) -> str:
    """One sentence: what works, or the first problem."""
    if not verdict.ok:
        return c.line(verdict.diagnosis.title) if verdict.diagnosis is not None else "The check failed"
    for part, result in (("Test message", send), ("Delivery", delivery), ("Incoming mail", incoming)):
        diagnosis = getattr(result, "diagnosis", None) if result is not None else None
        if diagnosis is not None:
            return f"{part}: {c.line(diagnosis.title)}"
    if verdict.by == "second_client":
        return "The settings work (shown by a second client; the first one failed)"
    return "The settings work"


def _summary(verdict: Any, ok: bool, created: str, c: Cleaner, *, profile: str) -> Section:
    s = verdict.settings
    rows = [
        ("Result", "works" if ok else "FAILED"),
        ("Server", f"{c.line(s.host)}:{int(s.port)}, {SECURITY_LABELS.get(s.security.value, '')}"),
        ("Login", c.line(s.username) if s.username else "(none)"),
        ("Login accepted", "yes" if verdict.auth_verified else ("no" if s.username else "not tried (no login)")),
        (
            "Time",
            f"{verdict.elapsed_ms:.0f} ms" + (" (the overall time limit was reached)" if verdict.deadline_hit else ""),
        ),
        ("Created", created),
    ]
    if profile:
        rows.insert(0, ("Profile", c.line(profile)))
    return Section("summary", "Summary", status="ok" if ok else "failed", rows=tuple(rows))


def _server_section(verdict: Any, c: Cleaner) -> Section | None:
    caps = tuple(verdict.capabilities)[:100]
    if not caps:
        return None
    return Section("server", "What the server offers (EHLO)", items=tuple(c.line(x) for x in caps))


def _recorded_tls(recorder: ReportRecorder | None, part: str) -> dict[str, Any] | None:
    return recorder.tls.get(part) if recorder is not None else None


def _notes_section(verdict: Any, c: Cleaner) -> Section | None:
    if not verdict.notes:
        return None
    return Section("notes", "Notes", items=tuple(c.line(n) for n in verdict.notes[:30]))


def _environment(app_version: str | None, os_name: str | None, created: str, c: Cleaner) -> Section:
    rows = (
        ("MailSetup", c.line(app_version or default_app_version())),
        ("System", c.line(os_name or default_os())),
        ("Created", created),
    )
    return Section("environment", "Environment", rows=rows)


__all__ = ["build_report", "default_app_version", "default_os"]
