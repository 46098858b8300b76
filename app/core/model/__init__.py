"""Data shared by every part of the engine: settings, progress events, failure codes, SMTP replies,
translatable text.

Names are imported from their submodule on first use (app.core.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.lazy import lazy_exports

if TYPE_CHECKING:
    from app.core.model.aio import wait_for
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
    from app.core.model.incoming import INCOMING_PORTS, IncomingProtocol, IncomingServer, incoming_port
    from app.core.model.inputs import (
        AddressError,
        ParsedAddress,
        check_header_value,
        check_line,
        decoded_header,
        describe_char,
        forbidden_char,
        parse_address,
        parse_addresses,
        secret_problem,
        split_list,
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
    from app.core.model.text import LOG, QT_TRANSLATE_NOOP, Text, fill, log_text, plain

# where each public name lives: imported on first use (app.core.lazy)
_SOURCES = {
    "aio": ("wait_for",),
    "codes": ("Code",),
    "events": (
        "EventCallback",
        "LogLevel",
        "LogLine",
        "ProbeFinished",
        "ProbeStarted",
        "Stage",
        "StageFailed",
        "StageFinished",
        "StageSkipped",
        "StageStarted",
        "TlsDetails",
        "TlsEstablished",
        "TranscriptLine",
        "event_to_dict",
        "ignore",
    ),
    "incoming": (
        "INCOMING_PORTS",
        "IncomingProtocol",
        "IncomingServer",
        "incoming_port",
    ),
    "inputs": (
        "AddressError",
        "ParsedAddress",
        "check_header_value",
        "check_line",
        "decoded_header",
        "describe_char",
        "forbidden_char",
        "parse_address",
        "parse_addresses",
        "secret_problem",
        "split_list",
    ),
    "reply": ("Reply",),
    "settings": (
        "DEFAULT_PORTS",
        "AuthMechanism",
        "Security",
        "SettingsError",
        "SmtpSettings",
        "Timeouts",
        "TlsMinimum",
        "TlsOptions",
        "normalize_fingerprint",
    ),
    "text": (
        "LOG",
        "QT_TRANSLATE_NOOP",
        "Text",
        "fill",
        "log_text",
        "plain",
    ),
}
__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

__all__ = [
    "DEFAULT_PORTS",
    "INCOMING_PORTS",
    "LOG",
    "QT_TRANSLATE_NOOP",
    "AddressError",
    "AuthMechanism",
    "Code",
    "EventCallback",
    "IncomingProtocol",
    "IncomingServer",
    "LogLevel",
    "LogLine",
    "ParsedAddress",
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
    "check_header_value",
    "check_line",
    "decoded_header",
    "describe_char",
    "event_to_dict",
    "fill",
    "forbidden_char",
    "ignore",
    "incoming_port",
    "log_text",
    "normalize_fingerprint",
    "parse_address",
    "parse_addresses",
    "plain",
    "secret_problem",
    "split_list",
    "wait_for",
]
