"""Test send: the staged connection of ``run_check``, then MAIL FROM, RCPT TO and DATA.

SMTPUTF8 is requested only when an envelope address or header needs it (and refused up front when
the server lacks it); BODY=8BITMIME only when the serialized message has 8-bit bytes and the
server offers it; SIZE is declared when the server announces SIZE.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from app.core.catalog import Provider
from app.core.diagnosis import Code, DiagnosedError, Diagnosis, diagnose
from app.core.diagnosis import classify as rc
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    LogLevel,
    LogLine,
    SmtpSettings,
    Stage,
    TlsDetails,
    ignore,
    log_text,
)
from app.core.smtp.connection import Reply
from app.core.smtp.message import MessageError, MessageSpec, build_message, envelope_recipients, envelope_sender
from app.core.smtp.result import StageAborted, credentials_problem, tls_dict
from app.core.smtp.session import SmtpSession, safe_emit

log = logging.getLogger(__name__)

_QUEUE_ID_PATTERNS = (
    re.compile(r"queued as ([A-Za-z0-9._-]+)", re.I),  # Postfix, many others
    re.compile(r"queued on \S+ (\S+)", re.I),  # Yandex
    re.compile(r"OK\s+\d+\s+(\S+?)\s*-\s*gsmtp", re.I),  # Gmail
    re.compile(r"\bid=([A-Za-z0-9._-]+)", re.I),  # Exim (Mail.ru)
    re.compile(r"\bOK\s+<([^>\s]+)>", re.I),  # Exchange / Outlook (message id)
    re.compile(r"Message accepted.*?\b([A-Za-z0-9]{8,})\b", re.I),
)


@dataclass(frozen=True)
class SendResult:
    """Outcome of ``send_message``. ``refused`` maps each refused recipient to the server's reply."""

    ok: bool
    diagnosis: Diagnosis | None
    settings: SmtpSettings
    elapsed_ms: float
    server_reply: str | None = None
    queue_id: str | None = None
    accepted: tuple[str, ...] = ()
    refused: dict[str, str] = field(default_factory=dict)
    tls: TlsDetails | None = None
    delivered: bool = False  # the server took the message (for at least one recipient)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary(),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "server_reply": self.server_reply,
            "queue_id": self.queue_id,
            "accepted": list(self.accepted),
            "refused": dict(self.refused),
            "delivered": self.delivered,
            "tls": tls_dict(self.tls),
        }


def queue_id_from(reply_text: str) -> str | None:
    """The queue id in a final 250 reply, if the server names one."""
    for pattern in _QUEUE_ID_PATTERNS:
        m = pattern.search(reply_text)
        if m:
            return m.group(1)
    return None


def _dot_stuff(payload: bytes) -> bytes:
    payload = re.sub(rb"(?<!\r)\n", b"\r\n", payload)
    payload = re.sub(rb"(?m)^\.", b"..", payload)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload + b".\r\n"


def _envelope_problem(env_from: str | None, env_to: Sequence[str]) -> Diagnosis | None:
    """Why the message cannot be sent as it is: no sender, or no recipients."""
    if not env_from:
        return diagnose(Code.INVALID_INPUT, "message", field="from", message="the message has no sender address")
    if not env_to:
        return diagnose(Code.INVALID_INPUT, "message", field="to", message="the message has no recipients")
    return None


async def send_message(
    settings: SmtpSettings,
    password: str | None,
    message: EmailMessage,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    sender: str | None = None,
    recipients: Sequence[str] | None = None,
) -> SendResult:
    """Connect like ``run_check`` and send ``message``; never raises for server or network trouble.

    The envelope comes from From (or Sender) and To/Cc/Bcc unless ``sender``/``recipients`` are
    given; the Bcc header is removed before transmission.
    """
    t0 = time.monotonic()
    env_from = sender or envelope_sender(message)
    env_to = list(recipients) if recipients is not None else envelope_recipients(message)
    problem = credentials_problem(settings, password) or _envelope_problem(env_from, env_to)
    if problem is not None:
        safe_emit(on_event, LogLine(LogLevel.INFO, problem.title_text()))
        return SendResult(False, problem, settings, round((time.monotonic() - t0) * 1000, 1))

    outgoing = copy.copy(message)
    del outgoing["Bcc"]
    del outgoing["Resent-Bcc"]
    # what was understood, shown back before anything is sent
    safe_emit(
        on_event,
        LogLine(
            LogLevel.INFO,
            log_text(
                QT_TRANSLATE_NOOP("Log", "Envelope: from {sender} to {recipients}."),
                sender=f"<{env_from}>",
                recipients=", ".join(f"<{a}>" for a in env_to),
            ),
        ),
    )

    session = SmtpSession(settings, password, on_event, provider)
    state: dict[str, Any] = {"accepted": [], "refused": {}, "reply": None, "queue_id": None, "delivered": False}
    try:
        await session.open()
        await _mail_from(session, env_from, env_to, outgoing, state)
        await _rcpt_to(session, env_to, state)
        await _data(session, state)
        await session.quit()
    except StageAborted as failed:
        return _result(session, failed.diagnosis, state)
    finally:
        session.close()
    diagnosis = None
    if state["refused"]:
        refused = state["refused"]
        diagnosis = session.finalize(
            rc.recipients_rejected(settings, refused, state["accepted"], authenticated=session.auth_verified)
        )
    return _result(session, diagnosis, state)


async def send_spec(
    settings: SmtpSettings,
    password: str | None,
    spec: MessageSpec,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    prepare: Callable[[EmailMessage], None] | None = None,
) -> SendResult:
    """Build the message of ``spec`` in a worker thread (attachments are read there, not on the caller's
    thread), then ``send_message`` it. An unusable field is an INVALID_INPUT result naming the field.
    ``prepare`` may change the built message first (the round trip's token)."""
    t0 = time.monotonic()
    try:
        message = await asyncio.to_thread(build_message, spec)
    except MessageError as exc:
        problem = diagnose(Code.INVALID_INPUT, "message", field=exc.field, message=exc.message)
        safe_emit(on_event, LogLine(LogLevel.INFO, problem.title_text()))
        return SendResult(False, problem, settings, round((time.monotonic() - t0) * 1000, 1))
    if prepare is not None:
        prepare(message)
    return await send_message(settings, password, message, on_event=on_event, provider=provider)


def _result(session: SmtpSession, diagnosis: Diagnosis | None, state: dict) -> SendResult:
    return SendResult(
        ok=diagnosis is None,
        diagnosis=diagnosis,
        settings=session.settings,
        elapsed_ms=round(session.elapsed_ms(), 1),
        server_reply=state["reply"],
        queue_id=state["queue_id"],
        accepted=tuple(state["accepted"]),
        refused={a: r.text for a, r in state["refused"].items()},
        tls=session.tls,
        delivered=state["delivered"],
    )


def _needs_utf8(message: EmailMessage, addresses: Sequence[str]) -> bool:
    if any(not a.isascii() for a in addresses):
        return True
    for header in ("From", "To", "Cc", "Sender", "Reply-To"):
        for value in message.get_all(header, []):
            for addr in getattr(value, "addresses", ()):
                if not addr.addr_spec.isascii():
                    return True
    return False


def _serialize(message: EmailMessage, use_utf8: bool) -> bytes:
    pol = email_policy.SMTPUTF8 if use_utf8 else email_policy.SMTP
    return message.as_bytes(policy=pol)


async def _mail_from(
    session: SmtpSession, sender: str, recipients: Sequence[str], message: EmailMessage, state: dict
) -> None:

    async def body() -> str:
        s = session.settings
        caps = session.capabilities
        use_utf8 = _needs_utf8(message, [sender, *recipients])
        if use_utf8 and "SMTPUTF8" not in caps:
            bad = next((a for a in [sender, *recipients] if not a.isascii()), sender)
            code = Code.SENDER_REJECTED if bad == sender else Code.RECIPIENT_REJECTED
            raise DiagnosedError(Diagnosis(code, "needs_smtputf8", dict(rc.base_params(s), address=bad, addresses=bad)))
        started = session.loop.time()
        payload = await asyncio.to_thread(_serialize, message, use_utf8)  # megabytes: not on the event loop
        session.deadline += session.loop.time() - started  # local work on a size-bounded message
        state["payload"] = payload
        params = []
        if use_utf8:
            params.append("SMTPUTF8")
        if not payload.isascii():
            if "8BITMIME" in caps:
                params.append("BODY=8BITMIME")
            else:
                session.info(
                    log_text(
                        QT_TRANSLATE_NOOP(
                            "Log", "The message has 8-bit content but the server does not announce 8BITMIME."
                        )
                    ),
                    LogLevel.DETAIL,
                )
        if "SIZE" in caps:
            params.append(f"SIZE={len(payload)}")
        line = f"MAIL FROM:<{sender}>" + ("".join(" " + p for p in params))
        reply = await session.command(line, Stage.MAIL_FROM)
        if reply.code != 250:
            raise DiagnosedError(rc.sender_rejected(s, reply, sender))
        return f"{sender} accepted"

    await session.stage(Stage.MAIL_FROM, body)


async def _rcpt_to(session: SmtpSession, recipients: Sequence[str], state: dict) -> None:
    async def body() -> str:
        refused: dict[str, Reply] = {}
        for addr in recipients:
            reply = await session.command(f"RCPT TO:<{addr}>", Stage.RCPT_TO)
            if reply.code in (250, 251):
                state["accepted"].append(addr)
            else:
                refused[addr] = reply
                session.info(
                    log_text(
                        QT_TRANSLATE_NOOP("Log", "Recipient {address} refused: “{reply}”"),
                        address=addr,
                        reply=reply.message,
                    ),
                    LogLevel.INFO,
                )
        state["refused"] = refused
        if not state["accepted"]:
            raise DiagnosedError(
                rc.recipients_rejected(session.settings, refused, [], authenticated=session.auth_verified)
            )
        summary = f"{len(state['accepted'])} accepted"
        if refused:
            summary += f", refused: {', '.join(refused)}"
        return summary

    await session.stage(Stage.RCPT_TO, body)


async def _data(session: SmtpSession, state: dict) -> None:
    async def body() -> str:
        s = session.settings
        reply = await session.command("DATA", Stage.DATA)
        if reply.code != 354:
            state["reply"] = reply.text
            raise DiagnosedError(rc.message_rejected(s, reply))
        started = session.loop.time()
        payload = await asyncio.to_thread(_dot_stuff, state.pop("payload"))
        assert session.conn is not None
        # The upload takes as long as the link needs: it is bounded by progress (no chunk may stall
        # for longer than the command timeout), and the overall deadline is moved on by its duration
        # so that a large message on a slow link is not reported as a reply timeout.
        await session.conn.send_data(
            payload, summary=f'<message: {len(payload)} bytes, ending with ".">', stall_timeout=s.timeouts.command
        )
        upload = session.loop.time() - started
        session.deadline += upload
        if upload >= 1.0:
            session.info(
                log_text(
                    QT_TRANSLATE_NOOP("Log", "Uploaded {bytes} bytes in {seconds} s."),
                    bytes=len(payload),
                    seconds=f"{upload:.1f}",
                ),
                LogLevel.DETAIL,
            )
        final = await session.read_reply(Stage.DATA)
        state["reply"] = final.text
        if final.code != 250:
            raise DiagnosedError(rc.message_rejected(s, final))
        state["delivered"] = True
        state["queue_id"] = queue_id_from(final.text)
        return final.message[:120]

    await session.stage(Stage.DATA, body)
