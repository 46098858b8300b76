"""The incoming side: staged IMAP and POP3 checks on the SMTP check's engine shape, and the delivery
round trip (find the test message in the mailbox)."""

from __future__ import annotations

from app.core.catalog import Provider
from app.core.incoming.base import IncomingResult
from app.core.incoming.endpoints import incoming_for, incoming_server_for
from app.core.incoming.imap import ImapSession, check_imap
from app.core.incoming.pop3 import Pop3Session, check_pop3
from app.core.incoming.roundtrip import (
    TOKEN_HEADER,
    AuthResults,
    DeliveryResult,
    confirm_delivery,
    decode_mutf7,
    find_in_messages,
    mark_message,
    new_token,
    parse_authentication_results,
)
from app.core.model import EventCallback, IncomingProtocol, SmtpSettings, Stage, ignore


async def run_incoming_check(
    protocol: IncomingProtocol,
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    stop_after: Stage | None = None,
) -> IncomingResult:
    """Check the IMAP or POP3 server in ``settings`` (see check_imap / check_pop3)."""
    run = check_imap if protocol is IncomingProtocol.IMAP else check_pop3
    return await run(settings, password, on_event=on_event, provider=provider, stop_after=stop_after)


__all__ = [
    "TOKEN_HEADER",
    "AuthResults",
    "DeliveryResult",
    "ImapSession",
    "IncomingResult",
    "Pop3Session",
    "check_imap",
    "check_pop3",
    "confirm_delivery",
    "decode_mutf7",
    "find_in_messages",
    "incoming_for",
    "incoming_server_for",
    "mark_message",
    "new_token",
    "parse_authentication_results",
    "run_incoming_check",
]
