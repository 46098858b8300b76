"""The incoming side's protocols (IMAP, POP3) and their usual ports.

An incoming check reuses ``SmtpSettings`` for what every one of our TLS line protocols needs (host,
port, security, login, TLS policy, timeouts, proxy, the explicit permission for a cleartext login);
``auth`` and ``ehlo_name`` mean nothing there and are ignored.
"""

from __future__ import annotations

from enum import Enum

from app.core.model.settings import Security


class IncomingProtocol(str, Enum):
    IMAP = "imap"
    POP3 = "pop3"


INCOMING_PORTS: dict[tuple[IncomingProtocol, Security], int] = {
    (IncomingProtocol.IMAP, Security.SSL): 993,
    (IncomingProtocol.IMAP, Security.STARTTLS): 143,
    (IncomingProtocol.IMAP, Security.NONE): 143,
    (IncomingProtocol.POP3, Security.SSL): 995,
    (IncomingProtocol.POP3, Security.STARTTLS): 110,
    (IncomingProtocol.POP3, Security.NONE): 110,
}


def incoming_port(protocol: IncomingProtocol, security: Security) -> int:
    """The usual port of ``protocol`` in ``security`` mode (993/143 for IMAP, 995/110 for POP3)."""
    return INCOMING_PORTS[(protocol, security)]
