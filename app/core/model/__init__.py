"""Data shared by every part of the engine: settings, progress events, failure codes, SMTP replies,
translatable text."""

from __future__ import annotations

from app.core.model.text import QT_TRANSLATE_NOOP, Text, fill
from app.core.model.codes import Code
from app.core.model.reply import Reply
from app.core.model.settings import (
    AuthMechanism,
    DEFAULT_PORTS,
    Security,
    SettingsError,
    SmtpSettings,
    Timeouts,
    TlsMinimum,
    TlsOptions,
    normalize_fingerprint,
)
from app.core.model.events import (
    EventCallback,
    LogLevel,
    LogLine,
    ProbeFinished,
    ProbeStarted,
    Stage,
    StageFailed,
    StageFinished,
    StageSkipped,
    StageStarted,
    TlsDetails,
    TlsEstablished,
    TranscriptLine,
    event_to_dict,
    ignore,
)

__all__ = [
    "AuthMechanism",
    "Code",
    "DEFAULT_PORTS",
    "EventCallback",
    "LogLevel",
    "LogLine",
    "ProbeFinished",
    "ProbeStarted",
    "QT_TRANSLATE_NOOP",
    "Reply",
    "Security",
    "SettingsError",
    "SmtpSettings",
    "Stage",
    "StageFailed",
    "StageFinished",
    "StageSkipped",
    "StageStarted",
    "Text",
    "Timeouts",
    "TlsDetails",
    "TlsEstablished",
    "TlsMinimum",
    "TlsOptions",
    "TranscriptLine",
    "event_to_dict",
    "fill",
    "ignore",
    "normalize_fingerprint",
]
