"""ReportRecorder: the part of a run that is not in its result (stage timings, transcript, log), kept for a report.

It is an EventCallback that copies a few allowlisted fields of each event (never the event object)
and forwards the event unchanged, so a front end chains it in front of its own printer or signal
bridge. Memory is bounded whatever a server sends: the first and the last lines of a transcript
are kept, the lines in between are counted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from app.core.model import (
    EventCallback,
    LogLevel,
    LogLine,
    StageFailed,
    StageFinished,
    StageSkipped,
    TlsEstablished,
    TranscriptLine,
    ignore,
)
from app.core.report.redact import MAX_LINE, clip

HEAD_LINES = 120  # transcript lines kept from the start of a run
TAIL_LINES = 280  # ... and from its end (where a failure is)
MAX_STAGES = 100
MAX_LOG = 200


@dataclass(frozen=True)
class StageRecord:
    part: str  # "SMTP", "IMAP", "POP3", "Send", ...
    stage: str
    status: str  # "ok", "failed", "skipped"
    elapsed_ms: float | None
    detail: str


@dataclass(frozen=True)
class TranscriptRecord:
    part: str
    direction: str  # "C" or "S"
    text: str


class ReportRecorder:
    """Records stage timings, the (masked) transcript, log lines and TLS details of one or more runs."""

    def __init__(self, forward: EventCallback = ignore):
        self.forward = forward
        self.part = "SMTP"
        self.stages: list[StageRecord] = []
        self.log: list[str] = []
        self.tls: dict[str, dict[str, Any]] = {}  # part -> allowlisted TLS details
        self._head: list[TranscriptRecord] = []
        self._tail: deque[TranscriptRecord] = deque(maxlen=TAIL_LINES)
        self.omitted_lines = 0

    def begin(self, part: str) -> None:
        """What the following events belong to (a heading in the report)."""
        self.part = part

    @property
    def transcript(self) -> list[TranscriptRecord]:
        """The kept lines in order (head, then tail); ``omitted_lines`` says how many were left out between."""
        return self._head + list(self._tail)

    @property
    def omitted_at(self) -> int:
        """Where in ``transcript`` the left-out lines were (the end of the head)."""
        return len(self._head)

    def __call__(self, event: Any) -> None:
        self.record(event)
        self.forward(event)

    def record(self, event: Any) -> None:
        if isinstance(event, TranscriptLine):
            self._line(TranscriptRecord(self.part, "C" if event.direction == "C" else "S", clip(event.text, MAX_LINE)))
        elif isinstance(event, StageFinished):
            self._stage(event.stage.value, "ok", event.elapsed_ms, event.summary)
        elif isinstance(event, StageFailed):
            self._stage(event.stage.value, "failed", event.elapsed_ms, event.diagnosis.title)
        elif isinstance(event, StageSkipped):
            self._stage(event.stage.value, "skipped", None, event.reason)
        elif isinstance(event, LogLine) and event.level is not LogLevel.PROTOCOL:
            if len(self.log) < MAX_LOG:
                self.log.append(clip(event.text, MAX_LINE))
        elif isinstance(event, TlsEstablished):
            d = event.details
            fields = ("protocol", "cipher", "subject", "issuer", "not_before", "not_after", "sha256", "verified")
            info: dict[str, Any] = {k: getattr(d, k) for k in fields}
            info["sans"] = tuple(d.sans)[:50]
            self.tls[self.part] = info

    def _stage(self, stage: str, status: str, elapsed: float | None, detail: str) -> None:
        if len(self.stages) < MAX_STAGES:
            self.stages.append(StageRecord(self.part, stage, status, elapsed, clip(str(detail or ""), MAX_LINE)))

    def _line(self, rec: TranscriptRecord) -> None:
        if len(self._head) < HEAD_LINES:
            self._head.append(rec)
            return
        if len(self._tail) == self._tail.maxlen:
            self.omitted_lines += 1
        self._tail.append(rec)


def merge_recorders(*recorders: ReportRecorder | None) -> ReportRecorder:
    """One recorder holding the runs of ``recorders`` in order (a check, then a test send), within the same bounds."""
    merged = ReportRecorder()
    for rec in recorders:
        if rec is None:
            continue
        for stage in rec.stages:
            if len(merged.stages) < MAX_STAGES:
                merged.stages.append(stage)
        merged.log.extend(rec.log[: max(MAX_LOG - len(merged.log), 0)])
        merged.tls.update(rec.tls)
        for line in rec.transcript:
            merged._line(line)
        merged.omitted_lines += rec.omitted_lines
    return merged


__all__ = ["ReportRecorder", "StageRecord", "TranscriptRecord", "merge_recorders"]
