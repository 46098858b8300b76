"""Sections of a report, each built from allowlisted fields of one engine result (never the whole object).

Every value goes through the ``Cleaner``; nothing here reads a password, a token or a proxy
password, and no function is given one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.report.model import Section
from app.core.report.recorder import ReportRecorder
from app.core.report.redact import MAX_LINE, Cleaner, mask_transcript, proxy_display

MAX_ROWS = 200  # rows of any table (audit findings, refused recipients, capabilities)
SECURITY_LABELS = {
    "ssl": "SSL/TLS (implicit, usually 465)",
    "starttls": "STARTTLS (usually 587)",
    "none": "none (no encryption)",
}


def yes_no(value: Any) -> str:
    return "yes" if value else "no"


def diagnosis_section(key: str, title: str, diagnosis: Any, c: Cleaner) -> Section:
    """The diagnosis: its title, explanation, the server's reply and the fixes (English)."""
    head, explanation, fixes = diagnosis.render()
    actions = [c.line(a.to_dict().get("label", "")) for a in getattr(diagnosis, "actions", ())[:20]]
    reply = getattr(diagnosis, "server_reply", None)
    rows = [("Code", c.line(diagnosis.code.value)), ("Problem", c.line(head))]
    if getattr(diagnosis, "variant", ""):
        rows.insert(1, ("Variant", c.line(diagnosis.variant)))
    if actions:
        rows.append(("Offered in the program", "; ".join(actions)))
    return Section(
        key,
        title,
        status="failed",
        text=c.block(explanation),
        rows=tuple(rows),
        items=tuple(c.line(f) for f in fixes[:30]),
        items_title="What to do",
        lines=tuple(c.line(ln, MAX_LINE) for ln in c.block(reply).split("\n")[:60]) if reply else (),
        lines_title="The server said",
    )


def settings_section(settings: Any, c: Cleaner, *, auth_mechanism: str | None, profile: str, provider: str) -> Section:
    """The connection settings as the user gave them; the secret is named only as never included."""
    s = settings
    t = s.timeouts
    rows = [
        ("Profile", c.line(profile)) if profile else None,
        ("Provider", c.line(provider)) if provider else None,
        ("Server", c.line(s.host)),
        ("Port", str(int(s.port))),
        ("Security", SECURITY_LABELS.get(s.security.value, c.line(s.security.value))),
        ("Login", c.line(s.username) if s.username else "(none)"),
        ("Password", "never included in a report"),
        ("Login mechanism", c.line(s.auth.value) + (f" (used: {c.line(auth_mechanism)})" if auth_mechanism else "")),
        ("Certificate check", "on" if s.tls.verify else "OFF"),
        ("Lowest TLS version", c.line(s.tls.minimum.value)),
        ("Extra CA file", c.line(s.tls.cafile)) if s.tls.cafile else None,
        ("Pinned certificate (SHA-256)", c.line(s.tls.pinned_sha256)) if s.tls.pinned_sha256 else None,
        ("EHLO name", c.line(s.ehlo_name)) if s.ehlo_name else None,
        ("Proxy", c.line(proxy_display(s.proxy))),
        ("Password without encryption allowed", yes_no(s.allow_plain_auth)),
        (
            "Time limits",
            f"connect {t.connect:g} s, greeting {t.greeting:g} s, command {t.command:g} s, all {t.total:g} s",
        ),
    ]
    return Section("settings", "Settings", rows=tuple(r for r in rows if r is not None))


def certificate_section(tls: Mapping[str, Any] | None, c: Cleaner, title: str = "Certificate") -> Section | None:
    """The TLS session and the server certificate's summary."""
    if not tls:
        return None
    sans = ", ".join(str(n) for n in tuple(tls.get("sans") or ())[:50])
    rows = (
        ("Protocol", c.line(tls.get("protocol"))),
        ("Cipher", c.line(tls.get("cipher"))),
        ("Issued to", c.line(tls.get("subject"))),
        ("Names", c.line(sans) or "(none)"),
        ("Issued by", c.line(tls.get("issuer"))),
        ("Valid", f"{c.line(tls.get('not_before'))} to {c.line(tls.get('not_after'))}"),
        ("SHA-256", c.line(tls.get("sha256"))),
        ("Trusted", "yes" if tls.get("verified") else "NO (not verified by this computer)"),
    )
    return Section("certificate", title, status="ok" if tls.get("verified") else "warn", rows=rows)


def tls_fields(tls: Any) -> dict[str, Any] | None:
    """The allowlisted fields of a TlsDetails (or None)."""
    if tls is None:
        return None
    keys = ("protocol", "cipher", "subject", "issuer", "not_before", "not_after", "sha256", "verified")
    out = {k: getattr(tls, k, "") for k in keys}
    out["sans"] = tuple(getattr(tls, "sans", ()) or ())
    return out


def stages_section(recorder: ReportRecorder | None, c: Cleaner) -> Section | None:
    if recorder is None or not recorder.stages:
        return None
    header = ("Part", "Stage", "Result", "Time", "Detail")
    rows, status = [], []
    for r in recorder.stages:
        ms = f"{r.elapsed_ms:.0f} ms" if r.elapsed_ms is not None else ""
        rows.append((c.line(r.part), c.line(r.stage), r.status, ms, c.line(r.detail, MAX_LINE)))
        status.append(r.status)
    return Section("stages", "Stages and timings", table=(header, *rows), table_status=tuple(status))


def transcript_section(recorder: ReportRecorder | None, c: Cleaner) -> Section | None:
    if recorder is None or not recorder.transcript:
        return None
    records = recorder.transcript
    masked = mask_transcript((r.direction, r.text) for r in records)
    lines = []
    for i, (rec, (direction, text)) in enumerate(zip(records, masked)):
        if recorder.omitted_lines and i == recorder.omitted_at:
            lines.append(f"… {recorder.omitted_lines} lines not shown …")
        lines.append(f"[{c.line(rec.part)}] {direction}: {c.line(text, MAX_LINE)}")
    note = "C: what this program sent, S: what the server answered. Login payloads are shown as ****."
    return Section("transcript", "Protocol transcript", text=note, lines=tuple(lines))


def log_section(recorder: ReportRecorder | None, c: Cleaner) -> Section | None:
    if recorder is None or not recorder.log:
        return None
    return Section("log", "Log", lines=tuple(c.line(ln, MAX_LINE) for ln in recorder.log))


def second_opinion_section(opinion: Any, c: Cleaner) -> Section | None:
    if opinion is None:
        return None
    rows = (
        ("Client", c.line(opinion.client)),
        ("Result", "succeeded" if opinion.ok else "failed too"),
        ("Stopped at", c.line(opinion.stage)),
        ("Detail", c.line(opinion.detail)),
        ("Login tried", yes_no(opinion.login_wanted)),
        ("Login accepted", yes_no(opinion.login_verified)),
        ("Time", f"{opinion.elapsed_ms:.0f} ms"),
    )
    return Section("second_opinion", "Second opinion", status="ok" if opinion.ok else "failed", rows=rows)


def alternatives_section(alternatives: tuple[Any, ...], c: Cleaner) -> Section | None:
    if not alternatives:
        return None
    header = ("Settings", "Result", "Why not")
    rows, status = [], []
    for alt in alternatives[:20]:
        s = alt.settings
        where = f"{c.line(s.host)}:{int(s.port)} {SECURITY_LABELS.get(s.security.value, '')}"
        why = c.line(alt.diagnosis.title) if alt.diagnosis is not None else ""
        rows.append((where, "works" if alt.ok else "failed", why))
        status.append("ok" if alt.ok else "failed")
    return Section("alternatives", "Other settings tried", table=(header, *rows), table_status=tuple(status))


__all__ = [
    "SECURITY_LABELS",
    "alternatives_section",
    "certificate_section",
    "diagnosis_section",
    "log_section",
    "second_opinion_section",
    "settings_section",
    "stages_section",
    "tls_fields",
    "transcript_section",
    "yes_no",
]
