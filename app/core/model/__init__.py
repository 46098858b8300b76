"""Data shared by every part of the engine: settings, progress events, failure codes, SMTP replies,
translatable text."""

from __future__ import annotations

from app.core.model.codes import Code
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
from app.core.model.reply import Reply
from app.core.model.settings import (
    DEFAULT_PORTS,
    AuthMechanism,
    Security,
    SettingsError,
    SmtpSettings,
    Timeouts,
    TlsMinimum,
    TlsOptions,
    normalize_fingerprint,
)
from app.core.model.text import QT_TRANSLATE_NOOP, Text, fill

__all__ = [
    "DEFAULT_PORTS",
    "QT_TRANSLATE_NOOP",
    "AuthMechanism",
    "Code",
    "EventCallback",
    "LogLevel",
    "LogLine",
    "ProbeFinished",
    "ProbeStarted",
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
