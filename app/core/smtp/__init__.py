"""The staged SMTP client: wire, TLS, the check session, messages and test sends."""

from __future__ import annotations

from app.core.smtp.connection import MASK, Reply, SmtpConnection, SmtpProtocolError
from app.core.smtp.message import (
    MessageError,
    MessageSpec,
    build_message,
    envelope_recipients,
    is_valid_address,
    parse_address_list,
    parse_recipients,
)
from app.core.smtp.result import CheckResult, StageAborted, credentials_problem
from app.core.smtp.send import SendResult, queue_id_from, send_message, send_spec
from app.core.smtp.session import SmtpSession, run_check

__all__ = [
    "MASK",
    "CheckResult",
    "MessageError",
    "MessageSpec",
    "Reply",
    "SendResult",
    "SmtpConnection",
    "SmtpProtocolError",
    "SmtpSession",
    "StageAborted",
    "build_message",
    "credentials_problem",
    "envelope_recipients",
    "is_valid_address",
    "parse_address_list",
    "parse_recipients",
    "queue_id_from",
    "run_check",
    "send_message",
    "send_spec",
]
