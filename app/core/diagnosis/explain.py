"""The reply and bounce decoder: a pasted SMTP reply or bounce message -> one Diagnosis per recipient.

The diagnosis comes from the same table and the same classifier the check uses (``classify``: login
replies, sender, recipient and message refusals) plus the provider's error hints from the catalogue,
so ``mailsetup explain`` and a live check say the same about the same reply. The provider is the one
given, or the one whose servers the reply or bounce names. A reply no case fits is said to be
unknown, with what its enhanced status code means by RFC 3463 (class and subject; the detail where
RFC 3463, 4954, 7372 or 7505 names it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from app.core.catalog import Catalogue, Provider, ProviderKind
from app.core.diagnosis import classify
from app.core.diagnosis.dsn import ExplainInputError, Failure, Parsed, parse
from app.core.diagnosis.dsn import hosts_in as dsn_hosts
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Code, Diagnosis, Entry
from app.core.diagnosis.table import PARAM_WORDS
from app.core.model import Reply, Security, SmtpSettings

__all__ = [
    "EXPLAIN_ROWS",
    "ExplainInputError",
    "Explanation",
    "Finding",
    "diagnose_reply",
    "explain_input",
    "guess_provider",
]

# RFC 3463 subjects and the details RFC 3463 / 4954 (auth) / 7372 (email auth) / 7505 (null MX) name.
STATUS_MEANINGS: dict[str, str] = {
    "x.0": QT_TRANSLATE_NOOP("Diagnosis", "a status without further detail"),
    "x.1": QT_TRANSLATE_NOOP("Diagnosis", "a problem with an address (the recipient's or the sender's)"),
    "x.2": QT_TRANSLATE_NOOP("Diagnosis", "a problem with the recipient's mailbox"),
    "x.3": QT_TRANSLATE_NOOP("Diagnosis", "a problem with the receiving mail system"),
    "x.4": QT_TRANSLATE_NOOP("Diagnosis", "a network or routing problem"),
    "x.5": QT_TRANSLATE_NOOP("Diagnosis", "a problem in the SMTP conversation (a command the server did not accept)"),
    "x.6": QT_TRANSLATE_NOOP("Diagnosis", "a problem with the message's content or format"),
    "x.7": QT_TRANSLATE_NOOP("Diagnosis", "a security or policy decision (permission, login, anti-spam)"),
    "x.1.1": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's mailbox does not exist"),
    "x.1.2": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's domain does not exist or takes no mail"),
    "x.1.3": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's address is not a valid address"),
    "x.1.6": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's mailbox has moved"),
    "x.1.7": QT_TRANSLATE_NOOP("Diagnosis", "the sender's address is not a valid address"),
    "x.1.8": QT_TRANSLATE_NOOP("Diagnosis", "the sender's domain is not valid"),
    "x.1.10": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's domain declares that it takes no mail (null MX)"),
    "x.2.1": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's mailbox is disabled"),
    "x.2.2": QT_TRANSLATE_NOOP("Diagnosis", "the recipient's mailbox is full"),
    "x.2.3": QT_TRANSLATE_NOOP("Diagnosis", "the message is longer than the recipient's mailbox accepts"),
    "x.3.4": QT_TRANSLATE_NOOP("Diagnosis", "the message is too big for the receiving system"),
    "x.4.1": QT_TRANSLATE_NOOP("Diagnosis", "the receiving server did not answer"),
    "x.4.4": QT_TRANSLATE_NOOP("Diagnosis", "no route to the recipient's mail server (a DNS or MX problem)"),
    "x.4.7": QT_TRANSLATE_NOOP("Diagnosis", "the delivery time ran out"),
    "x.5.1": QT_TRANSLATE_NOOP("Diagnosis", "the server did not accept a command"),
    "x.5.3": QT_TRANSLATE_NOOP("Diagnosis", "too many recipients"),
    "x.7.0": QT_TRANSLATE_NOOP("Diagnosis", "a security or policy reason the server does not name"),
    "x.7.1": QT_TRANSLATE_NOOP("Diagnosis", "delivery is not authorised: the message was refused"),
    "x.7.8": QT_TRANSLATE_NOOP("Diagnosis", "the login credentials are not valid"),
    "x.7.9": QT_TRANSLATE_NOOP("Diagnosis", "the login method is too weak for this account"),
    "x.7.23": QT_TRANSLATE_NOOP("Diagnosis", "the SPF check of the sender's domain failed"),
    "x.7.25": QT_TRANSLATE_NOOP("Diagnosis", "the reverse DNS check of the sending server failed"),
    "x.7.26": QT_TRANSLATE_NOOP("Diagnosis", "several sender authentication checks (SPF, DKIM, DMARC) failed"),
    "x.7.27": QT_TRANSLATE_NOOP("Diagnosis", "the sender's domain declares that it sends no mail (null MX)"),
}
PARAM_WORDS["status_meaning"] = STATUS_MEANINGS

EXPLAIN_ROWS: dict[tuple[Code, str], Entry] = {
    (Code.REPLY_UNKNOWN, ""): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "A failure MailSetup has no specific advice for"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The reply {reply_code} {status} matches no case MailSetup knows. By its status code it means {status_meaning}.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Read the server's own words below: they usually name the reason."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If the reason is unclear, send the whole bounce to the recipient's mail administrator."
            ),
        ),
    ),
    (Code.REPLY_UNKNOWN, "permanent"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "A permanent failure MailSetup has no specific advice for"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The reply {reply_code} {status} matches no case MailSetup knows. It is a permanent failure: sending the same message again fails the same way. By its status code it means {status_meaning}.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Read the server's own words below: they usually name the reason."),
            QT_TRANSLATE_NOOP(
                "Diagnosis", "If the reason is unclear, send the whole bounce to the recipient's mail administrator."
            ),
        ),
    ),
    (Code.REPLY_UNKNOWN, "temporary"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "A temporary failure MailSetup has no specific advice for"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The reply {reply_code} {status} matches no case MailSetup knows. It is a temporary failure: the server may accept the message later, and mail servers retry by themselves. By its status code it means {status_meaning}.",
        ),
        (
            QT_TRANSLATE_NOOP("Diagnosis", "Wait and try again later."),
            QT_TRANSLATE_NOOP("Diagnosis", "If it keeps failing, read the server's own words below for the reason."),
        ),
    ),
    (Code.REPLY_UNKNOWN, "accepted"): Entry(
        QT_TRANSLATE_NOOP("Diagnosis", "This reply is not a failure"),
        QT_TRANSLATE_NOOP(
            "Diagnosis",
            "The reply {reply_code} {status} means the server accepted the command or the message (or, for a 3xx reply, waits for more).",
        ),
        (QT_TRANSLATE_NOOP("Diagnosis", "If mail still goes missing, look for a bounce message and decode that."),),
    ),
}

_AUTH_STATUS = {"5.7.8", "5.7.9", "5.7.139", "5.7.3", "5.7.14", "5.7.30", "4.7.8", "5.7.11", "4.7.12", "5.7.12"}
_AUTH_TEXT = re.compile(
    r"authentication (unsuccessful|failed|credentials)|password not accepted|BadCredentials|invalid (user|login)|"
    r"SmtpClientAuthentication|basic authentication|application.specific password|app password|incorrect authentication",
    re.I,
)
_SENDER_STATUS = {"5.1.7", "5.1.8", "5.7.60", "5.7.57", "5.2.252", "4.1.8"}
_SENDER_TEXT = re.compile(
    r"sender address rejected|not owned by|SendAsDenied|not local sender|not allowed to send as|"
    r"client not authenticated|authentication required|must issue a STARTTLS",
    re.I,
)
_RECIPIENT_STATUS = re.compile(r"^[45]\.(1\.(1|2|3|6|10)|2\.(1|2|4))$")
_RECIPIENT_TEXT = re.compile(
    r"no such user|user unknown|unknown user|user not found|mailbox (unavailable|not found|is full|full)|"
    r"does not exist|RecipientNotFound|invalid mailbox|relay(ing)? (denied|not permitted|access denied)|"
    r"recipient address rejected|over ?quota|in reply to RCPT TO",
    re.I,
)
_MESSAGE_STATUS = re.compile(r"^[45]\.(3\.4|2\.3|6\.\d+|7\.(1|23|25|26|708|501|511|0))$|^[45]\.4\.5$")
_MESSAGE_TEXT = re.compile(
    r"spam|policy|dmarc|spf|dkim|message (rejected|refused|blocked)|size|too (big|large)|in reply to end of DATA", re.I
)
# names in replies that are in no provider's MX or domain list: Gmail ends its replies with "gsmtp",
# Exchange Online names its front ends *.prod.exchangelabs.com (a host or any name below it)
_MARKERS = {"gsmtp": "gmail", "exchangelabs.com": "outlook"}


@dataclass(frozen=True)
class Finding:
    """One recipient's (or one pasted reply's) outcome and its diagnosis."""

    diagnosis: Diagnosis
    recipient: str = ""
    action: str = ""
    status: str = ""
    remote_mta: str = ""
    reply: str | None = None
    provider: Provider | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider.id if self.provider else None,
            "recipient": self.recipient or None,
            "action": self.action or None,
            "status": self.status or None,
            "remote_mta": self.remote_mta or None,
            "reply": self.reply,
            "diagnosis": self.diagnosis.to_dict(),
        }


@dataclass(frozen=True)
class Explanation:
    """What the decoder found: ``kind`` "reply", "dsn" or "bounce"; no findings when it holds no reply."""

    kind: str
    findings: tuple[Finding, ...]
    provider: Provider | None = None
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "provider": self.provider.id if self.provider else None,
            "truncated": self.truncated,
            "findings": [f.to_dict() for f in self.findings],
        }


def explain_input(
    data: bytes | str, catalogue: Catalogue | None = None, provider: Provider | None = None
) -> Explanation:
    """Decode a reply or bounce (raises ExplainInputError for empty or over-large input)."""
    parsed: Parsed = parse(data)
    chosen = provider or (guess_provider(parsed.hosts, catalogue) if catalogue else None)
    findings = []
    for failure in parsed.failures:
        # a DSN may report several receiving servers: each recipient gets the hints of its own one
        hosts = _hosts_of(failure)
        own = provider or (guess_provider(hosts, catalogue) if catalogue and hosts else None)
        # a receiving server that is no known provider gets no provider's hints; no server named: the bounce's
        findings.append(_finding(failure, own or (None if failure.remote_mta else chosen)))
    return Explanation(parsed.kind, tuple(findings), chosen, parsed.truncated)


def _hosts_of(failure: Failure) -> list[str]:
    hosts = list(dsn_hosts(failure.reply.text)) if failure.reply else []
    return hosts + ([failure.remote_mta.lower()] if failure.remote_mta else [])


def guess_provider(hosts: Iterable[str], catalogue: Catalogue) -> Provider | None:
    """The first catalogue provider whose MX patterns, domains or SMTP servers match a host named."""
    for host in hosts:
        marker = next((m for m in _MARKERS if host == m or host.endswith("." + m)), None)
        if marker is not None:
            found = catalogue.by_id(_MARKERS[marker])
        else:
            found = catalogue.by_mx(host) or catalogue.by_domain(host) or _by_smtp_host(host, catalogue)
        if found is not None and found.kind is ProviderKind.PRESET:
            return found
    return None


def _by_smtp_host(host: str, catalogue: Catalogue) -> Provider | None:
    for p in catalogue.presets:
        if any(e.host and (host == e.host or host.endswith("." + e.host)) for e in p.smtp):
            return p
    return None


def _finding(failure: Failure, provider: Provider | None) -> Finding:
    reply = failure.reply
    status = failure.status or (reply.enhanced if reply else "")
    host = failure.remote_mta
    diagnosis = diagnose_reply(reply, status, provider, failure.recipient, host, failure.action)
    return Finding(
        diagnosis,
        failure.recipient,
        failure.action,
        status,
        failure.remote_mta,
        reply.text if reply else None,
        provider,
    )


def diagnose_reply(
    reply: Reply | None,
    status: str = "",
    provider: Provider | None = None,
    recipient: str = "",
    host: str = "",
    action: str = "",
) -> Diagnosis:
    """The diagnosis for one reply (or a DSN status without a reply): a known case, else REPLY_UNKNOWN."""
    status_only = reply is None
    if reply is None:  # a DSN block with a status code only
        code = {"2": 250, "4": 450, "5": 550}.get(status[:1], 550)
        reply = Reply(code, (status,) if status else ("",))
    if action in ("delivered", "relayed", "expanded") or reply.ok:
        return _unknown(reply, status, "accepted")
    settings = SmtpSettings(host="", port=587, security=Security.STARTTLS)
    known = _known_case(settings, reply, status, provider, recipient, status_only)
    d = known or _unknown(reply, status, "temporary" if reply.code < 500 else "permanent")
    params = dict(d.params)
    for key in ("port", "security"):
        params.pop(key, None)
    params["host"] = host
    d = replace(d, params=params)
    d = classify.apply_provider_hints(d, provider)
    return replace(d, actions=tuple(a for a in d.actions if a.kind == "open_url"))


def _known_case(
    settings: SmtpSettings, reply: Reply, status: str, provider: Provider | None, recipient: str, status_only: bool
) -> Diagnosis | None:
    text = reply.text
    busy = reply.code in (421, 450, 451, 452) and not status_only
    if busy and not _RECIPIENT_TEXT.search(text) and not status.startswith("4.2."):
        return Diagnosis(Code.SERVER_UNAVAILABLE, "temporary", {"reply": reply.message}, server_reply=text)
    if status in _SENDER_STATUS or _SENDER_TEXT.search(text):
        return classify.sender_rejected(settings, reply, "")
    if status in _AUTH_STATUS or reply.code in (534, 535) or _AUTH_TEXT.search(text):
        return classify.auth_reply(settings, reply, "PLAIN", provider)
    if _RECIPIENT_STATUS.match(status) or _RECIPIENT_TEXT.search(text):
        d = classify.recipients_rejected(settings, {recipient: reply}, [])
        if d.variant.startswith("relay") and not re.search(r"relay", text, re.I):  # Yandex: "5.7.1 No such user"
            d = replace(d, variant="")
        return d
    if _MESSAGE_STATUS.match(status) or _MESSAGE_TEXT.search(text) or reply.code in (552, 554):
        d = classify.message_rejected(settings, reply)
        if d.variant == "too_big" and status.startswith("5.7"):  # Gmail's "552-5.7.0 ... blocked": content
            d = replace(d, variant="policy")
        return d
    return None


def _unknown(reply: Reply, status: str, variant: str) -> Diagnosis:
    meaning = ""
    if status:
        _cls, _, rest = status.partition(".")
        subject = rest.split(".", 1)[0]
        meaning = f"x.{rest}" if f"x.{rest}" in STATUS_MEANINGS else f"x.{subject}"
    if meaning not in STATUS_MEANINGS:
        meaning = "x.0"
    params = {"reply_code": reply.code, "status": status, "status_meaning": meaning, "reply": reply.message}
    return Diagnosis(Code.REPLY_UNKNOWN, variant, params, server_reply=reply.text)
