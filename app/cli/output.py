"""Printing engine events for the CLI: a readable stage-by-stage report, or JSON lines.

``Reporter`` is an EventCallback. Human mode prints one line per finished stage (✓/✗ and ms),
details with ``-v`` and the protocol transcript with ``-vv``; ``--json`` prints
``event_to_dict(event)`` per line, filtered by the same verbosity (transcript lines only with -vv). ``finish`` prints the result (the diagnosis, in human mode)
and returns the exit code.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from enum import Enum
from typing import Any, TextIO

from app.cli.exits import Exit
from app.core.diagnosis import Diagnosis
from app.core.model import (
    LogLevel,
    LogLine,
    ProbeFinished,
    ProbeStarted,
    SmtpSettings,
    StageFailed,
    StageFinished,
    StageSkipped,
    StageStarted,
    TlsDetails,
    TlsEstablished,
    TranscriptLine,
    event_to_dict,
)

log = logging.getLogger(__name__)

_LOG_VERBOSITY = {LogLevel.INFO: 0, LogLevel.DETAIL: 1, LogLevel.PROTOCOL: 2}


# Terminal control sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \\), other ESC x, and
# the 8-bit CSI/OSC introducers. Server text is untrusted: it must not move the cursor, retitle the
# window, hide lines or write hyperlinks.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07]*\x07?"
)
# What is left that a terminal would act on: C0 (except tab and newline), DEL, C1, line/paragraph
# separators and bidirectional overrides (which can reorder what the reader sees).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with terminal control sequences removed and other control characters shown as '?'."""
    return _UNSAFE.sub("?", _ESCAPES.sub("", text))


def json_line(value: Any) -> str:
    """One JSON line; DEL and C1 controls are escaped too (json escapes only C0), so it is terminal-safe."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return re.sub("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", lambda m: f"\\u{ord(m.group()):04x}", text)


def to_plain(value: Any) -> Any:
    """JSON-ready form of results, dataclasses, enums and tuples."""
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    return value


def _can_encode(out: TextIO, text: str) -> bool:
    enc = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(enc)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


class Reporter:
    """EventCallback printing human lines or JSON lines; ``finish`` prints the result."""

    def __init__(self, json_mode: bool = False, verbosity: int = 0, out: TextIO | None = None):
        self.json_mode = json_mode
        self.verbosity = verbosity
        self.out = out if out is not None else sys.stdout
        fancy = _can_encode(self.out, "✓✗–")
        self.ok_mark, self.fail_mark, self.skip_mark = ("✓", "✗", "–") if fancy else ("OK", "FAIL", "-")

    # -- events ---------------------------------------------------------------------------------
    def wants(self, event: Any) -> bool:
        """Whether ``event`` is shown at this verbosity (log details need -v, the transcript -vv)."""
        if isinstance(event, LogLine):
            return self.verbosity >= _LOG_VERBOSITY.get(event.level, 1)
        if isinstance(event, TranscriptLine):
            return self.verbosity >= 2
        return True

    def __call__(self, event: Any) -> None:
        if not self.wants(event):
            return
        if self.json_mode:
            self._print(json_line(event_to_dict(event)))
            return
        if isinstance(event, StageStarted):
            if self.verbosity >= 1:
                self._print(f"  … {event.stage.value}")
        elif isinstance(event, StageFinished):
            self._print(f"{self.ok_mark} {event.stage.value:<10} {event.elapsed_ms:>7.0f} ms  {event.summary}".rstrip())
        elif isinstance(event, StageFailed):
            self._print(
                f"{self.fail_mark} {event.stage.value:<10} {event.elapsed_ms:>7.0f} ms  {event.diagnosis.title}".rstrip()
            )
        elif isinstance(event, StageSkipped):
            self._print(f"{self.skip_mark} {event.stage.value:<10} {'':>7}     skipped: {event.reason}".rstrip())
        elif isinstance(event, LogLine):
            self._print(f"    {event.text}")
        elif isinstance(event, TranscriptLine):
            self._print(f"    {event.direction}: {event.text}")
        elif isinstance(event, TlsEstablished):
            if self.verbosity >= 1:
                for line in describe_tls(event.details):
                    self._print(f"    {line}")
        elif isinstance(event, ProbeStarted):
            if self.verbosity >= 1:
                self._print(f"  probing {event.host}:{event.port} ({event.security})")
        elif isinstance(event, ProbeFinished):
            mark = (
                self.ok_mark
                if event.outcome == "ok"
                else (self.fail_mark if event.outcome == "failed" else self.skip_mark)
            )
            extra = f" {event.code}" if event.code else ""
            self._print(
                f"{mark} {event.host}:{event.port} {event.security:<8} {event.elapsed_ms:>7.0f} ms  {event.outcome}{extra}"
            )

    # -- result ---------------------------------------------------------------------------------
    def finish(
        self, ok: bool, diagnosis: Diagnosis | None, settings: SmtpSettings | None, elapsed_ms: float, **extra: Any
    ) -> int:
        """Print the final result line (JSON) or report (human); return 0 when ok, else 1."""
        if self.json_mode:
            title, explanation, fixes = diagnosis.render() if diagnosis else ("", "", [])
            line: dict[str, Any] = {
                "event": "result",
                "ok": bool(ok),
                "code": diagnosis.code.value if diagnosis else None,
                "title": title or None,
                "fix": fixes,
                "settings": settings.summary() if settings else None,
                "elapsed_ms": round(float(elapsed_ms), 1),
            }
            if diagnosis is not None:
                line["variant"] = diagnosis.variant
                line["explanation"] = explanation
                line["server_reply"] = diagnosis.server_reply
                line["actions"] = [a.to_dict() for a in diagnosis.actions]
            for key, value in extra.items():
                line[key] = to_plain(value)
            self._print(json_line(line))
            return Exit.OK if ok else Exit.FAILED
        where = f" ({settings.host}:{settings.port}, {settings.security.value})" if settings else ""
        if ok:
            self._print(f"\n{self.ok_mark} Success{where} in {elapsed_ms:.0f} ms")
            for key, value in extra.items():
                if value in (None, "", [], ()):
                    continue
                if key == "tls" and isinstance(value, TlsDetails):
                    if self.verbosity == 0:
                        self._print(f"  TLS: {value.protocol}, certificate for {value.subject or '?'}")
                    continue
                if key == "capabilities" and self.verbosity == 0:
                    continue
                if key in ("refused", "accepted") and isinstance(value, (list, tuple, dict)):
                    value = ", ".join(value)
                if isinstance(value, (list, tuple)):
                    value = ", ".join(str(v) for v in value)
                self._print(f"  {key.replace('_', ' ')}: {value}")
        else:
            self._print(f"\n{self.fail_mark} Failed{where} after {elapsed_ms:.0f} ms")
            if diagnosis is not None:
                for line in describe_diagnosis(diagnosis):
                    self._print(line)
        return Exit.OK if ok else Exit.FAILED

    def line(self, text: str) -> None:
        """Print one human line (server text in it is made terminal-safe)."""
        self._print(text)

    def _print(self, text: str) -> None:
        text = text if self.json_mode else terminal_safe(text)
        try:
            print(text, file=self.out, flush=True)
        except UnicodeEncodeError:
            enc = getattr(self.out, "encoding", None) or "ascii"
            print(text.encode(enc, "replace").decode(enc), file=self.out, flush=True)


def describe_tls(d: TlsDetails) -> list[str]:
    """Human lines about a TLS session and its certificate."""
    lines = [
        f"TLS: {d.protocol}, {d.cipher}",
        f"certificate: {d.subject}",
        f"issued by: {d.issuer}",
        f"valid: {d.not_before} .. {d.not_after}",
        f"SHA-256: {d.sha256}",
        f"verified: {'yes' if d.verified else 'NO'}",
    ]
    if d.sans:
        lines.insert(2, "names: " + ", ".join(d.sans))
    return lines


def describe_diagnosis(diagnosis: Diagnosis) -> list[str]:
    """Title, explanation, server reply and numbered fixes."""
    title, explanation, fixes = diagnosis.render()
    lines = [f"\n{title}", "", explanation]
    if diagnosis.server_reply:
        lines += ["", "Server said:"] + [f"  {ln}" for ln in diagnosis.server_reply.splitlines()]
    if fixes:
        lines += ["", "What to do:"] + [f"  {i}. {fix}" for i, fix in enumerate(fixes, 1)]
    for action in diagnosis.actions:
        if action.kind == "switch_settings" and "port" in action.params and "security" in action.params:
            label = action.to_dict()["label"]
            lines.append(f"  -> {label} (--port {action.params['port']} --security {action.params['security']})")
    return lines
