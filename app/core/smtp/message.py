"""Building the test message: addresses, headers, text/HTML body, attachments.

``build_message`` returns a real ``EmailMessage``. Bcc recipients are kept in a ``Bcc`` header
so the envelope can be derived from the message; ``send_message`` removes that header before
transmission (as ``smtplib.send_message`` does), so Bcc never reaches any recipient.
Bodies are encoded 7-bit clean (quoted-printable for non-ASCII text), so the message passes any
server; non-ASCII display names and subjects are RFC 2047 encoded when serialized.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from typing import Union

from app.core.model import AddressError, ParsedAddress, check_header_value, check_line, parse_address, parse_addresses

log = logging.getLogger(__name__)

AddressInput = Union[str, Sequence[str]]  # noqa: UP007 - a runtime alias on Python 3.10

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
MAX_RECIPIENTS = 100  # To + Cc + Bcc of one test message
MAX_SUBJECT_CHARS = 900  # one header line of at most 998 octets once encoded would need less; folded, 900 is ample
MAX_LIST_CHARS = MAX_RECIPIENTS * 330  # refuse a huge recipient field before parsing it
MAX_BODY_CHARS = 10 * 1024 * 1024
BODY_ALLOWED = "\t\r\n"


class MessageError(ValueError):
    """An unusable message field; ``field`` names it (from, to, cc, bcc, subject, body, attachments)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class MessageSpec:
    """What the user typed for the test message. Address lists may be strings ("a@x; b@y") or sequences."""

    from_addr: str
    to: AddressInput = ()
    from_name: str = ""
    cc: AddressInput = ()
    bcc: AddressInput = ()
    subject: str = ""
    text: str | None = None
    html: str | None = None
    attachments: Sequence[str] = field(default_factory=tuple)


def is_valid_address(addr: str) -> bool:
    """A bare addr-spec (local@domain) by the one strict parser, non-ASCII allowed."""
    try:
        parsed = parse_address(addr)
    except AddressError:
        return False
    return not parsed.name and parsed.addr == addr.strip()


def _check_line(field: str, value: str, what: str = "the value") -> None:
    try:
        check_header_value(value, what)
    except ValueError as exc:
        raise MessageError(field, str(exc)) from None


def parse_recipients(text: AddressInput, field: str = "to") -> list[ParsedAddress]:
    """The parsed addresses of one recipient field; MessageError(field, ...) with the reason otherwise."""
    items = [text] if isinstance(text, str) else list(text or ())
    if sum(len(i) for i in items if isinstance(i, str)) > MAX_LIST_CHARS:
        raise MessageError(field, f"too many recipients: a test message goes to at most {MAX_RECIPIENTS} addresses")
    try:
        return parse_addresses(items, limit=MAX_RECIPIENTS)
    except AddressError as exc:
        if str(exc).startswith("more than"):
            raise MessageError(
                field, f"too many recipients: a test message goes to at most {MAX_RECIPIENTS} addresses"
            ) from None
        raise MessageError(field, str(exc)) from None


def parse_address_list(text: AddressInput, field: str = "to") -> list[str]:
    """Parse "a@x.org; Name <b@y.org>, ..." (or a list of such) into addresses, each as "Name <addr>" or "addr".

    Raises MessageError(field, ...) for control characters, an invalid or ambiguous address, or too many.
    """
    return [str(a) for a in parse_recipients(text, field)]


def addr_spec(entry: str) -> str:
    """The bare address of "Name <addr>" or "addr"."""
    return parseaddr(entry)[1] or entry


def envelope_recipients(message: EmailMessage) -> list[str]:
    """Bare addresses from To, Cc and Bcc, in order, without duplicates."""
    seen, out = set(), []
    for header in ("To", "Cc", "Bcc"):
        values = [str(v) for v in message.get_all(header, [])]
        for _name, addr in getaddresses(values):
            if addr and addr.lower() not in seen:
                seen.add(addr.lower())
                out.append(addr)
    return out


def envelope_sender(message: EmailMessage) -> str:
    """The bare address of Sender (if present) or From."""
    value = message.get("Sender") or message.get("From") or ""
    return parseaddr(str(value))[1]


def _set_body(msg: EmailMessage, text: str | None, html: str | None) -> None:
    def cte(s: str) -> str:
        return (
            "7bit" if s.isascii() and max((len(ln) for ln in s.splitlines()), default=0) < 990 else "quoted-printable"
        )

    if text is not None and html is not None:
        msg.set_content(text, cte=cte(text))
        msg.add_alternative(html, subtype="html", cte=cte(html))
    elif html is not None:
        msg.set_content(html, subtype="html", cte=cte(html))
    else:
        body = text or ""
        msg.set_content(body, cte=cte(body))


def _check_body(text: str | None) -> None:
    if text is None:
        return
    if len(text) > MAX_BODY_CHARS:
        raise MessageError("body", f"the text is longer than {MAX_BODY_CHARS // (1024 * 1024)} million characters")
    try:
        check_line(text, "the text", allow=BODY_ALLOWED)
    except ValueError as exc:
        raise MessageError("body", str(exc)) from None


def _read_attachment(path: str) -> bytes:
    _check_line("attachments", str(path), "the file name")
    if not os.path.isfile(path):
        raise MessageError("attachments", f"no such file: {path}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_ATTACHMENT_BYTES + 1)
    except OSError as exc:
        raise MessageError("attachments", f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise MessageError("attachments", f"{path} is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
    return data


def _attach(msg: EmailMessage, paths: Iterable[str]) -> None:
    total = 0
    for path in paths:
        data = _read_attachment(str(path))
        total += len(data)
        if total > MAX_ATTACHMENT_BYTES:
            raise MessageError(
                "attachments", f"the attachments together are larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"
            )
        ctype, encoding = mimetypes.guess_type(str(path))
        if ctype is None or encoding is not None:
            ctype = "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=os.path.basename(path))


def _sender(spec: MessageSpec) -> ParsedAddress:
    _check_line("from_name", spec.from_name or "", "the sender name")
    if not (spec.from_addr or "").strip():
        raise MessageError("from", "the sender address is empty")
    try:
        parsed = parse_address(spec.from_addr)
    except AddressError as exc:
        raise MessageError("from", str(exc)) from None
    name = " ".join((spec.from_name or "").split()) or parsed.name
    if len(name) > 200:
        raise MessageError("from_name", "the sender name is longer than 200 characters")
    return ParsedAddress(parsed.addr, name)


def build_message(spec: MessageSpec) -> EmailMessage:
    """A complete message for ``spec`` (From, To/Cc, Bcc for the envelope, Subject, Date, Message-ID, body, files).

    Raises MessageError naming the field for control characters in headers (also hidden in RFC 2047
    encoded words), invalid or ambiguous addresses, too many recipients, unusable text or files.
    """
    sender = _sender(spec)
    subject = spec.subject or ""
    _check_line("subject", subject, "the subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise MessageError("subject", f"the subject is longer than {MAX_SUBJECT_CHARS} characters")
    lists = {
        name: parse_recipients(value, name) for name, value in (("to", spec.to), ("cc", spec.cc), ("bcc", spec.bcc))
    }
    count = sum(len(v) for v in lists.values())
    if not count:
        raise MessageError("to", "at least one recipient is needed")
    if count > MAX_RECIPIENTS:
        raise MessageError("to", f"too many recipients: a test message goes to at most {MAX_RECIPIENTS} addresses")
    _check_body(spec.text)
    _check_body(spec.html)

    msg = EmailMessage()
    try:
        msg["From"] = str(sender)
    except (ValueError, IndexError) as exc:
        raise MessageError("from", f"the address cannot be written into the message ({exc})") from None
    for header, values in lists.items():
        if values:
            try:
                msg[header.capitalize()] = ", ".join(str(a) for a in values)
            except (ValueError, IndexError) as exc:
                raise MessageError(header, f"an address cannot be written into the message ({exc})") from None
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=_msgid_domain(sender.domain))
    _set_body(msg, spec.text, spec.html)
    _attach(msg, spec.attachments or ())
    log.debug("built a message with %d recipient(s)", count)
    return msg


def _msgid_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "mailsetup.invalid"
