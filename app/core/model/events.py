"""Typed progress events the engine emits while it checks, sends or detects.

Every engine entry point takes ``on_event: EventCallback`` and calls it with
these frozen dataclasses. The GUI bridge re-emits them as Qt signals; the CLI
prints them (``event_to_dict`` gives the ``--json`` form).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Union

from app.core.model.text import Text

if TYPE_CHECKING:  # pragma: no cover
    from app.core.diagnosis import Diagnosis


class Stage(str, Enum):
    """Stages of a check / send, in the order they run."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    TLS = "tls"  # implicit TLS handshake
    GREETING = "greeting"
    EHLO = "ehlo"
    STARTTLS = "starttls"  # STARTTLS + TLS handshake + second EHLO
    AUTH = "auth"
    MAIL_FROM = "mail_from"
    RCPT_TO = "rcpt_to"
    DATA = "data"
    QUIT = "quit"  # QUIT (SMTP, POP3) or LOGOUT (IMAP)
    CAPABILITY = "capability"  # IMAP CAPABILITY / POP3 CAPA (the incoming side's EHLO)
    DELIVERY = "delivery"  # the round trip: looking for the test message in the mailbox


class LogLevel(str, Enum):
    """Log verbosity: INFO for everyone, DETAIL for -v, PROTOCOL (transcript) for -vv."""

    INFO = "info"
    DETAIL = "detail"
    PROTOCOL = "protocol"


@dataclass(frozen=True)
class StageStarted:
    stage: Stage


@dataclass(frozen=True)
class StageFinished:
    stage: Stage
    elapsed_ms: float
    summary: str = ""


@dataclass(frozen=True)
class StageFailed:
    stage: Stage
    elapsed_ms: float
    diagnosis: Diagnosis


@dataclass(frozen=True)
class StageSkipped:
    stage: Stage
    reason: str = ""


@dataclass(frozen=True)
class LogLine:
    """A line for people: ``message`` is a translatable template plus its values (``log_text``).

    The GUI translates the template and fills the values after; ``text`` is the English line (CLI).
    """

    level: LogLevel
    message: Text

    @property
    def text(self) -> str:
        m: Any = self.message  # a plain str (from a caller mypy does not see) is shown as it is
        return m if isinstance(m, str) else m.render()


@dataclass(frozen=True)
class TranscriptLine:
    """One protocol line; ``direction`` is "C" (client) or "S" (server). AUTH payloads are masked."""

    direction: str
    text: str


@dataclass(frozen=True)
class TlsDetails:
    protocol: str  # e.g. "TLSv1.3"
    cipher: str
    subject: str
    issuer: str
    sans: tuple[str, ...]
    not_before: str  # ISO 8601, UTC
    not_after: str
    sha256: str  # lowercase hex, no colons
    verified: bool = True


@dataclass(frozen=True)
class TlsEstablished:
    details: TlsDetails


@dataclass(frozen=True)
class ProbeStarted:
    """Autodetect started probing one candidate."""

    host: str
    port: int
    security: str  # Security value


@dataclass(frozen=True)
class ProbeFinished:
    """Autodetect's verdict on one candidate.

    ``outcome``: "ok" (server answered in this mode), "failed" (see ``code``),
    "cancelled" (a better answer made it unnecessary) or "skipped".
    """

    host: str
    port: int
    security: str
    outcome: str
    elapsed_ms: float
    code: str | None = None
    detail: str = ""


Event = Union[  # noqa: UP007 - a runtime alias on Python 3.10
    StageStarted,
    StageFinished,
    StageFailed,
    StageSkipped,
    LogLine,
    TranscriptLine,
    TlsEstablished,
    ProbeStarted,
    ProbeFinished,
]
EventCallback = Callable[[Any], None]

_EVENT_NAMES = {
    StageStarted: "stage_started",
    StageFinished: "stage_finished",
    StageFailed: "stage_failed",
    StageSkipped: "stage_skipped",
    LogLine: "log",
    TranscriptLine: "transcript",
    TlsEstablished: "tls",
    ProbeStarted: "probe_started",
    ProbeFinished: "probe_finished",
}


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return value.render()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def event_name(event: Any) -> str:
    """Stable snake_case name of an event type (the ``event`` key of --json lines)."""
    return _EVENT_NAMES.get(type(event), type(event).__name__.lower())


def event_to_dict(event: Any) -> dict[str, Any]:
    """JSON-ready dict: ``{"event": name, ...fields}``."""
    out = {"event": event_name(event)}
    out.update({f.name: _plain(getattr(event, f.name)) for f in fields(event)})
    if isinstance(event, LogLine):  # the JSON keeps its "text" key: the English line
        out["text"] = out.pop("message")
    return out


def ignore(_event: Any) -> None:
    """An EventCallback that drops everything."""
