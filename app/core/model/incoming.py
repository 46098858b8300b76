"""The incoming side's protocols (IMAP, POP3) and their usual ports.

An incoming check reuses ``SmtpSettings`` for what every one of our TLS line protocols needs (host,
port, security, login, TLS policy, timeouts, proxy, the explicit permission for a cleartext login);
``auth`` and ``ehlo_name`` mean nothing there and are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from app.core.model.settings import Security, SmtpSettings


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


@dataclass(frozen=True)
class IncomingServer:
    """An account's incoming server as a profile keeps it (the login and TLS policy are the SMTP side's)."""

    protocol: IncomingProtocol
    host: str
    port: int
    security: Security

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol.value, "host": self.host, "port": self.port, "security": self.security.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IncomingServer:
        """Inverse of to_dict; ValueError naming the problem for anything unusable."""
        if not isinstance(data, Mapping):
            raise ValueError("incoming: not a table")
        try:
            server = cls(
                IncomingProtocol(data.get("protocol")),
                str(data.get("host") or "").strip(),
                int(data.get("port") or 0),
                Security(data.get("security")),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"incoming: {exc}") from None
        errors = server.settings_from(SmtpSettings(host="localhost", port=1, security=Security.SSL)).errors()
        if errors:
            raise ValueError(f"incoming: {errors[0]}")
        return server

    def settings_from(self, smtp: SmtpSettings) -> SmtpSettings:
        """Settings to check this server with: the login, TLS policy (not the SMTP server's pin), proxy and
        time limits of ``smtp``."""
        tls = replace(smtp.tls, pinned_sha256=None)
        return smtp.with_(host=self.host, port=self.port, security=self.security, tls=tls)
