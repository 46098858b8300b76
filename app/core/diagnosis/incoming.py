"""The incoming side's rows of the one diagnosis table (IMAP, POP3, the delivery round trip) and the
functions that read an IMAP/POP3 server's answers.

The rows are merged into ``table.TABLE`` by the package (as the OAuth rows are), so there is still one
table. Server text is cleaned of control characters and cut short before it reaches a Diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import replace

from app.core.catalog import PasswordKind, Provider
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis, Entry
from app.core.model import IncomingProtocol, Security, SmtpSettings, incoming_port

MAX_REPLY = 300


INCOMING_ROWS: dict[tuple[Code, str], Entry] = {
    (Code.INCOMING_DISABLED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{protocol_name} access is switched off for this mailbox"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} refused {protocol_name} for {user}: {reply}. Many providers (Gmail, Yandex, Mail.ru) have a separate switch for mail programs, and it is often off.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Turn on {protocol_name} access in the mailbox's web settings (the section about mail programs), then check again.",
            ),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "A company mailbox: ask the administrator whether mail programs are allowed."
            ),
        ),
    ),
    (Code.AUTH_FAILED, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The {protocol_name} server rejected the login or password"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} did not accept the login {user} over {protocol_name}: {reply}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Check the login (usually the full address) and the password."),
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "If sending works with the same password, {protocol_name} access may be switched off in the mailbox's settings.",
            ),
        ),
    ),
    (Code.AUTH_FAILED, "incoming_app_password"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{provider} rejected the {protocol_name} login"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} did not accept the login {user} over {protocol_name}: {reply}. {provider} needs an app password, not the account password, and {protocol_name} access switched on.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Create an app password and use it here (not your normal password)."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Turn on {protocol_name} access in the mailbox's settings for mail programs."
            ),
        ),
    ),
    (Code.SERVER_UNAVAILABLE, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The {protocol_name} server refused the session"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host}:{port} answered but ended the session: {reply}"),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Try again in a few minutes."),
            QT_TRANSLATE_NOOP("Diagnosis", "If it persists, contact the mail server's administrator."),
        ),
    ),
    (Code.SERVER_UNAVAILABLE, "locked"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The mailbox is in use by another POP3 session"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host} says another program holds the mailbox open over POP3 ({reply}). The login itself was accepted or was not tried.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Close other mail programs that use POP3 for this mailbox, wait a minute, and check again."
            ),
        ),
    ),
    (Code.PROTOCOL_ERROR, "wrong_protocol"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host}:{port} is a {found} server, not {protocol_name}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server greeted with '{reply}', which is {found}. The port belongs to another service: {protocol_name} uses port {ssl_port} (SSL/TLS) or {plain_port} (STARTTLS).",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use port {ssl_port} with SSL/TLS or {plain_port} with STARTTLS."),
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the host name is the incoming-mail server (imap… or pop…)."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The answer from {host}:{port} is not {protocol_name}"),
        QT_TRANSLATE_NOOP("Diagnosis", "During {stage} the conversation with {host}:{port} broke off: {detail}"),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the host and port: {protocol_name} uses {ssl_port} (SSL/TLS) or {plain_port}."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Try again; if it persists, contact the server's administrator."),
        ),
    ),
    (Code.PROTOCOL_ERROR, "incoming_closed"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The {protocol_name} server closed the connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} dropped the connection during {stage}. It may limit connections, block your address, or expect a different security mode.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Check the security mode: port {ssl_port} is SSL/TLS, port {plain_port} is STARTTLS."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Wait a few minutes and try again."),
        ),
    ),
    (Code.CONNECT_REFUSED, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "{host} refused the connection on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "Nothing accepts connections on port {port} ({address}). The port is probably wrong."
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "{protocol_name} uses port {ssl_port} with SSL/TLS or {plain_port} with STARTTLS."
            ),
        ),
    ),
    (Code.CONNECT_TIMEOUT, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "No answer from {host} on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {address} got no answer within {seconds} s. A firewall or the server is silently dropping connections to this port.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "{protocol_name} uses port {ssl_port} with SSL/TLS or {plain_port} with STARTTLS."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check firewalls and VPNs on this computer and network."),
        ),
    ),
    (Code.GREETING_TIMEOUT, "incoming_expects_tls"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port {port} is probably waiting for an encrypted (SSL/TLS) connection"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The connection to {host}:{port} was made, but no {protocol_name} greeting came within {seconds} s: an SSL/TLS port waits for a handshake while the client waits for a greeting.",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {ssl_port}."),),
    ),
    (Code.TLS_HANDSHAKE_FAILED, "incoming_plaintext_port"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "Port {port} does not use SSL/TLS from the start"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server on {host}:{port} answered in plain text, so SSL/TLS from the first byte does not work here ({detail}).",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port {plain_port}, or SSL/TLS on port {ssl_port}."),),
    ),
    (Code.STARTTLS_UNSUPPORTED, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The {protocol_name} server does not offer STARTTLS on port {port}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "{host}:{port} does not announce STARTTLS. Either it cannot encrypt on this port, or something on the network removed the offer (STARTTLS stripping). The login was not sent.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {ssl_port}: it cannot be stripped."),
            QT_TRANSLATE_NOOP("Diagnosis", "If this network is not yours, do not log in over it without encryption."),
        ),
    ),
    (Code.STARTTLS_UNSUPPORTED, "incoming_refused"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The {protocol_name} server refused to start TLS"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host}:{port} announced STARTTLS but refused it: {reply}"),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {ssl_port}."),),
    ),
    (Code.AUTH_REQUIRES_TLS, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The password would be sent unencrypted"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The {protocol_name} connection to {host}:{port} is not encrypted, so the password could be read on the way. It was not sent.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {ssl_port} or STARTTLS on port {plain_port}."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Only on a trusted network: explicitly allow sending the password without encryption."
            ),
        ),
    ),
    (Code.AUTH_REQUIRES_TLS, "incoming_disabled"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The server allows a login only after encryption"),
        QT_TRANSLATE_NOOP(
            "Diagnosis", "{host}:{port} announces LOGINDISABLED: it takes no password on an unencrypted connection."
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {ssl_port} or STARTTLS on port {plain_port}."),),
    ),
    (Code.AUTH_MECHANISM_UNSUPPORTED, "incoming"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "No common way to log in"),
        QT_TRANSLATE_NOOP("Diagnosis", "{host} offers no login method this program can use ({offered})."),
        (QT_TRANSLATE_NOOP("Diagnosis", "Ask the server's administrator to allow PLAIN or LOGIN over TLS."),),
    ),
    (Code.DELIVERY_IN_SPAM, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The test message landed in {folder}"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The message arrived after {seconds} s but the receiving server filed it as spam. Authentication results: {verdicts}.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis",
                "Make sure SPF, DKIM and DMARC pass for the sender's domain (ask whoever runs its DNS).",
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Use a From address of the mailbox you log in with."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Mark the message as 'not spam'; a real text instead of a test text also helps."
            ),
        ),
    ),
    (Code.DELIVERY_NOT_CONFIRMED, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "The test message has not arrived within {seconds} s"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The server accepted the message, but it was in neither the Inbox nor the spam folder of {user} on {host} within {seconds} s.",
        ),
        (
            QT_TRANSLATE_NOOP(
                "Diagnosis", "Wait a few minutes and look in the mailbox yourself: some providers delay new senders."
            ),
            QT_TRANSLATE_NOOP("Diagnosis", "Check that the recipient is the mailbox being checked here."),
            QT_TRANSLATE_NOOP("Diagnosis", "Look for a bounce message in the sender's mailbox."),
        ),
    ),
}

_FOUND_NAMES = {"smtp": "SMTP", "imap": "IMAP", "pop3": "POP3", "http": "HTTP"}


def clean(text: str, limit: int = MAX_REPLY) -> str:
    """Server text fit for a Diagnosis: no control characters, at most ``limit`` characters."""
    out = re.sub(r"[\x00-\x1f\x7f]", " ", text or "").strip()
    return out if len(out) <= limit else out[: limit - 1] + "…"


def params(settings: SmtpSettings, protocol: IncomingProtocol, **extra: object) -> dict:
    """Template values of every incoming diagnosis."""
    return {
        "host": settings.host,
        "port": settings.port,
        "security": settings.security.value,
        "protocol_name": protocol.name,
        "ssl_port": incoming_port(protocol, Security.SSL),
        "plain_port": incoming_port(protocol, Security.STARTTLS),
        **extra,
    }


def switch(protocol: IncomingProtocol, security: Security) -> Action:
    port = incoming_port(protocol, security)
    label = (
        QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {port}")
        if security is Security.SSL
        else QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port {port}")
    )
    return Action("switch_settings", label, {"port": port, "security": security.value})


_ADAPT = {
    (Code.CONNECT_REFUSED, ""): "incoming",
    (Code.CONNECT_TIMEOUT, ""): "incoming",
    (Code.CONNECT_TIMEOUT, "port25"): "incoming",
    (Code.GREETING_TIMEOUT, "expects_tls"): "incoming_expects_tls",
    (Code.TLS_HANDSHAKE_FAILED, "plaintext_port"): "incoming_plaintext_port",
    (Code.PROTOCOL_ERROR, ""): "incoming",
    (Code.PROTOCOL_ERROR, "garbage"): "incoming",
    (Code.PROTOCOL_ERROR, "too_long"): "incoming",
    (Code.PROTOCOL_ERROR, "closed"): "incoming_closed",
}


def adapt(diagnosis: Diagnosis, settings: SmtpSettings, protocol: IncomingProtocol) -> Diagnosis:
    """Turn a diagnosis from the shared connection machinery (worded for SMTP's 465/587) into the incoming
    protocol's row, with its own ports in the fixes and actions."""
    p = dict(params(settings, protocol), **diagnosis.params)
    variant = _ADAPT.get((diagnosis.code, diagnosis.variant))
    if variant is None:
        return replace(diagnosis, params=p)
    actions = [a for a in diagnosis.actions if a.kind not in ("switch_settings", "autodetect")]
    if diagnosis.code in (Code.CONNECT_REFUSED, Code.CONNECT_TIMEOUT):
        actions += [switch(protocol, sec) for sec in (Security.SSL, Security.STARTTLS) if sec is not settings.security]
    elif diagnosis.code is Code.GREETING_TIMEOUT:
        actions.append(switch(protocol, Security.SSL))
    elif diagnosis.code is Code.TLS_HANDSHAKE_FAILED:
        actions.append(switch(protocol, Security.STARTTLS))
    return replace(diagnosis, variant=variant, params=p, actions=tuple(actions))


def wrong_protocol(settings: SmtpSettings, protocol: IncomingProtocol, line: str) -> Diagnosis | None:
    """protocol_error/wrong_protocol when a greeting is another protocol's (SMTP 220, IMAP '* OK', POP3 '+OK')."""
    found = ""
    if re.match(r"^[2-5]\d\d[ -]", line):
        found = "smtp"
    elif re.match(r"^HTTP/\d", line, re.I):
        found = "http"
    elif protocol is IncomingProtocol.POP3 and re.match(r"^\* (OK|PREAUTH|BYE)\b", line, re.I):
        found = "imap"
    elif protocol is IncomingProtocol.IMAP and re.match(r"^[+-](OK|ERR)\b", line, re.I):
        found = "pop3"
    if not found:
        return None
    p = params(settings, protocol, found=_FOUND_NAMES[found], reply=clean(line, 120), stage="greeting")
    actions = (switch(protocol, Security.SSL), switch(protocol, Security.STARTTLS))
    return Diagnosis(Code.PROTOCOL_ERROR, "wrong_protocol", p, server_reply=clean(line), actions=actions)


_DISABLED = re.compile(
    r"not enabled for (IMAP|POP)|(IMAP|POP3?)( access)? (is )?(disabled|not enabled|switched off|turned off)|"
    r"enable (IMAP|POP)|web login required.*(IMAP|POP)",
    re.I,
)
_TEMPORARY = re.compile(r"\[(UNAVAILABLE|SYS/TEMP|INUSE)\]", re.I)
_LOCKED = re.compile(r"\[IN-USE\]|mailbox (is )?(locked|in use)|unable to lock maildrop", re.I)
_NEEDS_TLS = re.compile(r"\[PRIVACYREQUIRED\]|plaintext authentication disallowed|requires? (SSL|TLS)", re.I)


def login_refused(
    settings: SmtpSettings, protocol: IncomingProtocol, reply: str, provider: Provider | None
) -> Diagnosis:
    """The diagnosis for a refused IMAP LOGIN/AUTHENTICATE or POP3 USER/PASS/AUTH."""
    text = clean(reply)
    p = params(settings, protocol, user=settings.username, reply=text)
    if provider is not None:
        p["provider"] = provider.display_name()
    if _DISABLED.search(text):
        return Diagnosis(Code.INCOMING_DISABLED, "", p, server_reply=text, actions=_provider_links(provider))
    if _LOCKED.search(text):
        return Diagnosis(Code.SERVER_UNAVAILABLE, "locked", p, server_reply=text)
    if _TEMPORARY.search(text):
        return Diagnosis(Code.SERVER_UNAVAILABLE, "incoming", p, server_reply=text)
    if _NEEDS_TLS.search(text):
        actions = (switch(protocol, Security.SSL), switch(protocol, Security.STARTTLS))
        return Diagnosis(Code.AUTH_REQUIRES_TLS, "incoming", p, server_reply=text, actions=actions)
    wants_app_pw = provider is not None and provider.password_kind is PasswordKind.APP_PASSWORD
    variant = "incoming_app_password" if wants_app_pw else "incoming"
    return Diagnosis(Code.AUTH_FAILED, variant, p, server_reply=text, actions=_provider_links(provider))


def _provider_links(provider: Provider | None) -> tuple[Action, ...]:
    if provider is None:
        return ()
    out: list[Action] = []
    for role, label in (
        ("mail_clients", QT_TRANSLATE_NOOP("Diagnosis", "Open the mail-program settings")),
        ("client_settings", QT_TRANSLATE_NOOP("Diagnosis", "Open the mail-program settings")),
        ("app_passwords", QT_TRANSLATE_NOOP("Diagnosis", "Create an app password")),
    ):
        url = provider.links.get(role)
        if url and not any(a.params.get("url") == url for a in out):
            out.append(Action("open_url", label, {"url": url}))
    return tuple(out)


def greeting_refused(settings: SmtpSettings, protocol: IncomingProtocol, line: str) -> Diagnosis:
    text = clean(line)
    return Diagnosis(Code.SERVER_UNAVAILABLE, "incoming", params(settings, protocol, reply=text), server_reply=text)


def starttls_missing(settings: SmtpSettings, protocol: IncomingProtocol) -> Diagnosis:
    return Diagnosis(
        Code.STARTTLS_UNSUPPORTED, "incoming", params(settings, protocol), actions=(switch(protocol, Security.SSL),)
    )


def starttls_refused(settings: SmtpSettings, protocol: IncomingProtocol, line: str) -> Diagnosis:
    text = clean(line)
    p = params(settings, protocol, reply=text)
    return Diagnosis(
        Code.STARTTLS_UNSUPPORTED, "incoming_refused", p, server_reply=text, actions=(switch(protocol, Security.SSL),)
    )


def plain_login_refused(settings: SmtpSettings, protocol: IncomingProtocol, *, login_disabled: bool) -> Diagnosis:
    actions = [switch(protocol, Security.SSL), switch(protocol, Security.STARTTLS)]
    if not login_disabled:
        actions.append(Action("allow_plain", QT_TRANSLATE_NOOP("Diagnosis", "Send the password unencrypted anyway")))
    variant = "incoming_disabled" if login_disabled else "incoming"
    return Diagnosis(Code.AUTH_REQUIRES_TLS, variant, params(settings, protocol), actions=tuple(actions))


def no_mechanism(settings: SmtpSettings, protocol: IncomingProtocol, offered: str) -> Diagnosis:
    return Diagnosis(Code.AUTH_MECHANISM_UNSUPPORTED, "incoming", params(settings, protocol, offered=offered or "-"))


def protocol_error(
    settings: SmtpSettings, protocol: IncomingProtocol, stage: str, detail: str, reply: str = ""
) -> Diagnosis:
    p = params(settings, protocol, stage=stage, detail=clean(detail))
    return Diagnosis(Code.PROTOCOL_ERROR, "incoming", p, server_reply=clean(reply) or None)


def keep_own_code(diagnosis: Diagnosis, hinted: Diagnosis) -> Diagnosis:
    """After the provider's hints: an incoming_disabled verdict stays (an SMTP-minded hint must not turn it
    back into auth_failed); the hint's fixes and links are kept."""
    if diagnosis.code is Code.INCOMING_DISABLED and hinted.code is not Code.INCOMING_DISABLED:
        return replace(hinted, code=diagnosis.code, variant=diagnosis.variant)
    return hinted
