"""The staged SMTP client: wire, TLS, the check session, messages and test sends."""

from __future__ import annotations

from app.core.smtp.connection import Reply
from app.core.smtp.message import (
    MessageError,
    MessageSpec,
    build_message,
    envelope_recipients,
    parse_address_list,
)
from app.core.smtp.send import queue_id_from, send_message
from app.core.smtp.session import SmtpSession, run_check

__all__ = [
    "MessageError",
    "MessageSpec",
    "Reply",
    "SmtpSession",
    "build_message",
    "envelope_recipients",
    "parse_address_list",
    "queue_id_from",
    "run_check",
    "send_message",
]
