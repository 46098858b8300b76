"""Which incoming server belongs to an account: the provider's IMAP endpoint (POP3 where it has no IMAP)."""

from __future__ import annotations

from app.core.catalog import Provider
from app.core.model import IncomingProtocol, IncomingServer, Security, SmtpSettings


def incoming_for(
    provider: Provider | None, smtp: SmtpSettings, *, imap_only: bool = False
) -> tuple[IncomingProtocol, SmtpSettings] | None:
    """The incoming protocol and settings for an account checked with ``smtp`` at ``provider``.

    The login, TLS policy (CA file, minimum version; not the SMTP server's pin), proxy and timeouts
    follow the SMTP side. None when the provider lists no usable incoming endpoint (custom servers,
    the sandbox, API-key services) or ``smtp`` is not one of the provider's own SMTP servers.
    """
    if provider is None or provider.dynamic_ports:
        return None
    # the catalogue's incoming server belongs to the catalogue's outgoing one: a server typed by hand
    # (another host) says nothing about where that mailbox is read
    if provider.smtp and smtp.host.strip().lower() not in {ep.host.lower() for ep in provider.smtp}:
        return None
    choices = [(IncomingProtocol.IMAP, provider.imap)]
    if not imap_only:
        choices.append((IncomingProtocol.POP3, provider.pop3))
    for protocol, endpoints in choices:
        for ep in endpoints:
            if not ep.host or not ep.port:
                continue
            try:
                security = Security(ep.security)
            except ValueError:
                continue
            server = IncomingServer(protocol, ep.host, ep.port, security)
            return protocol, server.settings_from(smtp)
    return None


def incoming_server_for(provider: Provider | None, smtp: SmtpSettings | None) -> IncomingServer | None:
    """What a profile saves as the account's incoming server (see ``incoming_for``)."""
    found = incoming_for(provider, smtp) if smtp is not None else None
    if found is None:
        return None
    protocol, settings = found
    return IncomingServer(protocol, settings.host, settings.port, settings.security)
