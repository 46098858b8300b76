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
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from typing import Union

log = logging.getLogger(__name__)

AddressInput = Union[str, Sequence[str]]  # noqa: UP007 - a runtime alias on Python 3.10

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024

# local@domain; no spaces or specials outside a quoted name. Non-ASCII allowed (SMTPUTF8).
_ADDR_RE = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@(?:[^@\s<>()\[\],;:\"\\.]+\.)*[^@\s<>()\[\],;:\"\\.]+$")


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


def _split(text: str) -> list[str]:
    """Split on ',' or ';' outside quotes and angle brackets."""
    parts, cur, quoted, angle, escape = [], [], False, False, False
    for ch in text:
        if escape:
            cur.append(ch)
            escape = False
            continue
        if ch == "\\" and quoted:
            escape = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        elif ch in ",;" and not quoted and not angle:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def is_valid_address(addr: str) -> bool:
    """A plausible addr-spec (local@domain), non-ASCII allowed."""
    return bool(addr) and len(addr) <= 320 and bool(_ADDR_RE.match(addr))


def _check_line(field: str, value: str) -> None:
    if any(c in value for c in "\r\n\0"):
        raise MessageError(field, "must not contain line breaks")


def parse_address_list(text: AddressInput, field: str = "to") -> list[str]:
    """Parse "a@x.org; Name <b@y.org>, ..." (or a list of such) into addresses, each as "Name <addr>" or "addr".

    Raises MessageError(field, ...) for line breaks or an invalid address.
    """
    items = [text] if isinstance(text, str) else list(text or ())
    out: list[str] = []
    for item in items:
        _check_line(field, item)
        for piece in _split(item):
            name, addr = parseaddr(piece, strict=True) if _parseaddr_strict else parseaddr(piece)
            if not addr or not is_valid_address(addr) or ("<" in piece and not piece.rstrip().endswith(">")):
                raise MessageError(field, f"'{piece}' is not a valid email address")
            out.append(formataddr((name, addr)) if name else addr)
    return out


def _parseaddr_supports_strict() -> bool:
    try:
        parseaddr("a@b.c", strict=True)
        return True
    except TypeError:
        return False


_parseaddr_strict = _parseaddr_supports_strict()


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


def _attach(msg: EmailMessage, paths: Iterable[str]) -> None:
    for path in paths:
        _check_line("attachments", str(path))
        if not os.path.isfile(path):
            raise MessageError("attachments", f"no such file: {path}")
        size = os.path.getsize(path)
        if size > MAX_ATTACHMENT_BYTES:
            raise MessageError("attachments", f"{path} is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB")
        ctype, encoding = mimetypes.guess_type(str(path))
        if ctype is None or encoding is not None:
            ctype = "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        with open(path, "rb") as fh:
            data = fh.read()
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=os.path.basename(path))


def build_message(spec: MessageSpec) -> EmailMessage:
    """A complete message for ``spec`` (From, To/Cc, Bcc for the envelope, Subject, Date, Message-ID, body, files).

    Raises MessageError naming the field for line breaks in headers, invalid addresses, no
    recipients or missing attachment files.
    """
    _check_line("from", spec.from_addr or "")
    _check_line("from_name", spec.from_name or "")
    _check_line("subject", spec.subject or "")
    sender = (spec.from_addr or "").strip()
    if not sender:
        raise MessageError("from", "the sender address is empty")
    if not is_valid_address(sender):
        raise MessageError("from", f"'{sender}' is not a valid email address")
    to = parse_address_list(spec.to, "to")
    cc = parse_address_list(spec.cc, "cc")
    bcc = parse_address_list(spec.bcc, "bcc")
    if not (to or cc or bcc):
        raise MessageError("to", "at least one recipient is needed")

    msg = EmailMessage()
    _local, _, domain = sender.rpartition("@")
    try:
        msg["From"] = Address(display_name=(spec.from_name or "").strip(), addr_spec=sender)
    except (ValueError, IndexError) as exc:
        raise MessageError("from", f"'{sender}' is not a valid email address ({exc})") from None
    for header, values in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if values:
            try:
                msg[header] = ", ".join(values)
            except (ValueError, IndexError) as exc:
                raise MessageError(header.lower(), str(exc)) from None
    msg["Subject"] = spec.subject or ""
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=_msgid_domain(domain))
    _set_body(msg, spec.text, spec.html)
    _attach(msg, spec.attachments or ())
    log.debug("built a message with %d recipient(s)", len(to) + len(cc) + len(bcc))
    return msg


def _msgid_domain(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "mailsetup.invalid"
