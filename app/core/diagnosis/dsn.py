"""Reading what a user pastes into the reply decoder: an SMTP reply, or a whole bounce message.

A bounce is parsed with the standard library's ``email`` package (``policy.default``): an RFC 3464
delivery status notification (multipart/report with message/delivery-status: one block per
recipient), or a non-standard bounce (Exchange, Gmail, Yandex, Mail.ru, Postfix, Exim) where the
server's reply is only quoted in the human-readable text. The SMTP reply inside is found by the
shape RFC 5321 gives it (a three-digit code, ``-`` on continuation lines) and RFC 3463's enhanced
status code. Only the reply *lines* are recognised here, so the scanner is written by hand: no
library parses replies out of free text.

Everything is untrusted and bounded: the input size (MAX_INPUT), the lines of one reply
(MAX_REPLY_LINES), the findings (MAX_FINDINGS), the MIME parts walked (MAX_PARTS) and each field's
length. Header and DSN field values are checked after RFC 2047 decoding (Python before 3.11.10 lets
an encoded CR/LF through): control characters are shown as ``\\xNN`` escapes, so a hidden line break
can never forge a reply line.
"""

from __future__ import annotations

import email
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message

from app.core.model import Reply

log = logging.getLogger(__name__)

MAX_INPUT = 1_000_000  # bytes
MAX_REPLY_LINES = 50
MAX_FINDINGS = 100
MAX_PARTS = 200
MAX_FIELD = 2000  # characters kept of one DSN field
MAX_TEXT = 200_000  # characters of human-readable text scanned for replies

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ENHANCED = r"[245]\.\d{1,3}\.\d{1,3}"
# a reply line: code, separator, optional enhanced status code. With an enhanced code the reply may
# start anywhere after a space or quote ("Remote Server returned '550 5.1.10 ..."); without one only
# at the start of a line or after a colon ("host mxs.mail.ru [1.2.3.4]: 550 Message was not accepted").
_WITH_STATUS = re.compile(rf"(?:^|(?<=[\s'\"(:;]))([245]\d\d)([ -])({_ENHANCED})(?=[\s;,.:]|$)(.*)$")
_BARE = re.compile(r"(?:^\s*|:\s+|\bsaid:?\s+)([245]\d\d)([ -]|$)(.*)$")
_ADDRESS = re.compile(r"<?([^\s<>@:;,'\"()\[\]]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})>?")
_HOST = re.compile(r"\b((?:[A-Za-z0-9-]{1,63}\.){1,10}[A-Za-z]{2,63})\b")


class ExplainInputError(ValueError):
    """The input cannot be decoded at all (empty, too large); the message says why in one line."""


@dataclass(frozen=True)
class Failure:
    """One failed (or delayed, or delivered) recipient as the bounce reports it, or one pasted reply."""

    reply: Reply | None  # the server's reply, when one was found
    status: str = ""  # the enhanced status code (RFC 3463), from the DSN or the reply
    recipient: str = ""
    action: str = ""  # DSN Action: failed, delayed, delivered, relayed, expanded
    remote_mta: str = ""


@dataclass(frozen=True)
class Parsed:
    """What the input holds: ``kind`` is "reply", "dsn" or "bounce"; ``hosts`` name the servers seen
    (remote first), for the provider guess; ``truncated`` when a bound cut something off."""

    kind: str
    failures: tuple[Failure, ...]
    hosts: tuple[str, ...] = ()
    truncated: bool = False


def clean(value: str, limit: int = MAX_FIELD) -> str:
    """A field value with control characters escaped (``\\x0d``) and at most ``limit`` characters."""
    value = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    return value[:limit]


def as_text(data: bytes | str) -> str:
    """The input as text; raises ExplainInputError when it is empty or larger than MAX_INPUT."""
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > MAX_INPUT:
        raise ExplainInputError(f"the input is {size} bytes; at most {MAX_INPUT} bytes (1 MB) are read")
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if not text.strip():
        raise ExplainInputError("the input is empty: paste an SMTP reply or a bounce message")
    return text


def parse(data: bytes | str) -> Parsed:
    """Read a pasted reply or a bounce message (see the module doc)."""
    text = as_text(data)
    # more MIME headers than parts are walked: a part bomb, read as plain text (the parser would take long)
    if _looks_like_message(text) and text.lower().count("content-type:") <= MAX_PARTS:
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        try:
            msg = email.message_from_bytes(raw, policy=policy.default)
            return _parse_message(msg)
        except (RecursionError, ValueError, TypeError, LookupError, AttributeError) as exc:
            # a hostile MIME structure: fall back to reading it as plain text
            log.info("bounce message not parsed as MIME (%s): scanning it as text", type(exc).__name__)
    failures, truncated = find_replies(text)
    return Parsed("reply", failures, hosts_in(text), truncated)


def _looks_like_message(text: str) -> bool:
    head = text.lstrip("\r\n")[:4000]
    first = head.split("\n", 1)[0]
    if not re.match(r"^[A-Za-z][A-Za-z0-9-]{0,76}:", first) or re.match(r"^\s*[245]\d\d[ -]", first):
        return False
    return bool(re.search(r"^(from|received|content-type|subject|return-path|mime-version|date):", head, re.I | re.M))


# -- replies in text -----------------------------------------------------------------------------


def parse_reply(text: str) -> tuple[Reply | None, bool]:
    """The first SMTP reply in ``text`` (one line, several lines, or a DSN field where the lines were
    folded into one: "550-5.7.1 a 550-5.7.1 b 550 5.7.1 c"); and whether MAX_REPLY_LINES cut it."""
    lines = [clean(ln, MAX_FIELD) for ln in text.splitlines()[: MAX_REPLY_LINES * 4]]
    for i, line in enumerate(lines):
        start = _reply_start(line)
        if start is None:
            continue
        code, sep, rest = start
        return _collect(code, sep, rest, lines[i + 1 :])
    return None, False


def _reply_start(line: str) -> tuple[int, str, str] | None:
    m = _WITH_STATUS.search(line)
    if m:
        return int(m.group(1)), m.group(2), (m.group(3) + m.group(4)).rstrip()
    m = _BARE.search(line)
    if m:
        return int(m.group(1)), m.group(2) or " ", m.group(3).rstrip()
    return None


def _collect(code: int, sep: str, first: str, following: list[str]) -> tuple[Reply, bool]:
    """The reply's lines from its first line on; continuation lines carry the same code."""
    parts = _unfold(code, first)
    truncated = False
    if sep == "-":
        cont = re.compile(rf"^\s*{code}([ -])(.*)$")
        for line in following:
            m = cont.match(line)
            if m is None:
                break
            parts += _unfold(code, m.group(2).rstrip())
            if m.group(1) == " " or len(parts) > MAX_REPLY_LINES:
                break
    if len(parts) > MAX_REPLY_LINES:
        parts, truncated = parts[:MAX_REPLY_LINES], True
    parts = [p.rstrip("'\"") if i == len(parts) - 1 else p for i, p in enumerate(parts)]
    return Reply(code, tuple(parts)), truncated


def _unfold(code: int, text: str) -> list[str]:
    """One line that holds several reply lines (a DSN Diagnostic-Code folds them): split before each
    "CODE-" or "CODE " that starts a line of the same reply."""
    pieces = re.split(rf"\s+{code}[ -](?=\S)", text, maxsplit=MAX_REPLY_LINES)
    return [p.strip() for p in pieces if p.strip()] or [""]


def find_replies(text: str) -> tuple[tuple[Failure, ...], bool]:
    """Every SMTP reply quoted in a human-readable text, each with the recipient named just before it."""
    lines = [clean(ln) for ln in text[:MAX_TEXT].splitlines()]
    found: list[Failure] = []
    seen: set[tuple[str, str]] = set()
    truncated = len(text) > MAX_TEXT
    i = 0
    while i < len(lines):
        start = _reply_start(lines[i])
        if start is None:
            i += 1
            continue
        first = start[2] + _wrapped(lines[i], lines[i + 1 : i + 11]) if start[1] == " " else start[2]
        reply, cut = _collect(start[0], start[1], first, lines[i + 1 :])
        truncated = truncated or cut
        recipient = _recipient_near(lines, i, reply)
        key = (recipient, reply.text)
        if key not in seen:
            seen.add(key)
            found.append(Failure(reply, reply.enhanced, recipient))
            if len(found) >= MAX_FINDINGS:
                return tuple(found), True
        i += 1
        if start[1] == "-":  # skip the reply's other lines (all of them when the bound cut it)
            while i < len(lines) and lines[i].lstrip().startswith(f"{reply.code}-"):
                i += 1
            if i < len(lines) and lines[i].lstrip().startswith(f"{reply.code} "):
                i += 1
    return tuple(found), truncated


def _wrapped(line: str, following: list[str]) -> str:
    """Postfix wraps a quoted reply ("... said: 550 5.7.1 No such" / "    user! (in reply to RCPT TO
    command)"): the indented lines after a "said:" line continue it."""
    if not re.search(r"\bsaid:", line):
        return ""
    extra = []
    for nxt in following:
        if not nxt[:1].isspace() or not nxt.strip() or _reply_start(nxt) is not None:
            break
        extra.append(nxt.strip())
        if "(in reply to" in nxt:
            break
    return "".join(" " + e for e in extra)


def _recipient_near(lines: list[str], i: int, reply: Reply) -> str:
    """The address on the reply's line (before the code) or on one of the three lines before it."""
    before = lines[i].split(str(reply.code), 1)[0]
    for line in [before] + lines[max(0, i - 3) : i][::-1]:
        matches = _ADDRESS.findall(line)
        if matches:
            return matches[-1]
    return ""


def hosts_in(text: str) -> tuple[str, ...]:
    hosts: list[str] = []
    for m in _HOST.finditer(text[:MAX_TEXT]):
        h = m.group(1).lower()
        if h not in hosts:
            hosts.append(h)
        if len(hosts) >= 50:
            break
    if re.search(r"\bgsmtp\b", text[:MAX_TEXT]):  # Gmail ends every reply with "- gsmtp"
        hosts.insert(0, "gsmtp")
    return tuple(hosts)


# -- bounce messages -----------------------------------------------------------------------------


def _parse_message(msg: Message) -> Parsed:
    blocks: list[Message] = []
    texts: list[str] = []
    reporting = ""
    for n, part in enumerate(_walk(msg)):
        if n >= MAX_PARTS:
            break
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            payload = part.get_payload()
            found = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
            if found:  # the per-message block, then one block per recipient
                reporting = reporting or _field(found[0], "Reporting-MTA")
                blocks += found[1:]
        elif ctype in ("text/plain", "text/html") and part.get_content_disposition() != "attachment":
            texts.append(_text_of(part, ctype))
    text = "\n".join(texts)[:MAX_TEXT]
    from_header = clean(str(msg.get("From", "") or ""))
    hosts_tail = [reporting] + [h for h in hosts_in(from_header)]
    if blocks:
        failures, truncated = _dsn_failures(blocks, text)
        remote = [f.remote_mta for f in failures if f.remote_mta]
        in_replies = [h for f in failures if f.reply for h in hosts_in(f.reply.text)]
        return Parsed("dsn", failures, _unique(in_replies + remote + list(hosts_in(text)) + hosts_tail), truncated)
    failures, truncated = find_replies(text)
    return Parsed("bounce", failures, _unique(list(hosts_in(text)) + hosts_tail), truncated)


def _walk(msg: Message) -> Iterator[Message]:
    """The parts of ``msg`` without descending into a returned original (message/rfc822), depth-first."""
    stack = [msg]
    while stack:
        part = stack.pop()
        yield part
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/global"):
            continue
        if part.is_multipart() and ctype != "message/delivery-status":
            children = part.get_payload()
            if isinstance(children, list):
                stack += [c for c in reversed(children) if isinstance(c, Message)][:MAX_PARTS]


def _text_of(part: Message, ctype: str) -> str:
    try:
        body = part.get_content() if isinstance(part, EmailMessage) else part.get_payload(decode=True)
    except (LookupError, ValueError, AssertionError):
        raw = part.get_payload(decode=True)
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    body = str(body)[:MAX_TEXT]
    if ctype == "text/html":
        body = html.unescape(re.sub(r"<br\s*/?>|</p>|</div>|</tr>", "\n", re.sub(r"<[^>]{0,2000}>", " ", body)))
    return body


def _field(block: Message, name: str) -> str:
    """A DSN field's value without its type ("rfc822; bob@x" -> "bob@x"), decoded, then cleaned."""
    value = block.get(name)
    if value is None:
        return ""
    text = clean(str(value))
    if ";" in text and name != "Status":
        text = text.split(";", 1)[1]
    return text.strip()


def _dsn_failures(blocks: list[Message], text: str) -> tuple[tuple[Failure, ...], bool]:
    failures: list[Failure] = []
    truncated = len(blocks) > MAX_FINDINGS
    text_replies, _ = find_replies(text) if text else ((), False)
    for block in blocks[:MAX_FINDINGS]:
        recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
        status = _field(block, "Status").split(" ", 1)[0]
        reply, cut = parse_reply(_field(block, "Diagnostic-Code"))
        truncated = truncated or cut
        if reply is None:  # the reply may be quoted only in the human-readable part
            near = [f for f in text_replies if f.recipient == recipient] or (
                list(text_replies) if len(text_replies) == 1 and len(blocks) == 1 else []
            )
            reply = near[0].reply if near else None
        if not re.fullmatch(_ENHANCED, status) or (status.endswith(".0.0") and reply and reply.enhanced):
            status = reply.enhanced if reply else ""  # the reply's own code is the more specific one
        remote = _field(block, "Remote-MTA").split(" ", 1)[0].rstrip(".")  # "mx.x.ru. (1.2.3.4)" -> mx.x.ru
        failures.append(Failure(reply, status, recipient, _field(block, "Action").lower(), remote))
    return tuple(failures), truncated


def _unique(items: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        item = item.strip().lower()
        if item and item not in out:
            out.append(item)
    return tuple(out)
