"""Input guards shared by the whole engine: forbidden characters and the one strict address parser.

Every address the program uses (the From address, recipients, a mailbox typed into ``detect`` or the
wizard, a provider lookup by address) goes through ``parse_address`` / ``parse_addresses``. It is
written here by hand because the standard library's parsers are lenient by design and differ
between Python versions: ``email.utils.parseaddr('evil@x.test <bob@example.test>')`` silently picks
one of the two addresses, and ``email.headerregistry`` accepts obsolete forms. Here anything that is
not clearly ``addr``, ``Name <addr>`` or ``"Quoted Name" <addr>`` is refused with a reason, and the
result says exactly what was understood so that the caller can show it back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_LENGTH = 64
MAX_DOMAIN_LENGTH = 253
MAX_NAME_LENGTH = 200

# Characters that end a line somewhere (Unicode line/paragraph separators, NEL) or are invisible
# controls. A header value, a command argument or a login never contains them.
_LINE_BREAKERS = {
    "\u0085": "NEL (next line)",
    "\u2028": "U+2028 (line separator)",
    "\u2029": "U+2029 (paragraph separator)",
}
_C0_NAMES = {
    "\0": "NUL",
    "\t": "a tab",
    "\n": "a line break (LF)",
    "\r": "a carriage return (CR)",
    "\x0b": "a vertical tab",
    "\x0c": "a form feed",
    "\x1b": "ESC",
    "\x7f": "DEL",
}
_SPECIALS = set('<>()[]\\,;:@"')
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class AddressError(ValueError):
    """An address that cannot be used; the message says why, in one line."""


def describe_char(ch: str) -> str:
    """A readable name for a forbidden character, e.g. 'a vertical tab' or 'U+0001'."""
    if ch in _C0_NAMES:
        return _C0_NAMES[ch]
    if ch in _LINE_BREAKERS:
        return _LINE_BREAKERS[ch]
    return f"the control character U+{ord(ch):04X}"


def forbidden_char(text: str, *, allow: str = "") -> str | None:
    """The first character of ``text`` that no single-line value may hold, or None.

    Forbidden: C0 controls, DEL, C1 controls (NEL among them), U+2028/U+2029, lone surrogates
    (invalid UTF-8 that was decoded with ``surrogateescape``). ``allow`` lists exceptions, e.g.
    "\\t" for a tab or "\\r\\n\\t" for a message body.
    """
    for ch in text:
        if ch in allow:
            continue
        o = ord(ch)
        if o < 0x20 or o == 0x7F or 0x80 <= o <= 0x9F or ch in _LINE_BREAKERS or 0xD800 <= o <= 0xDFFF:
            return ch
    return None


def check_line(text: str, what: str, *, allow: str = "") -> None:
    """Raise ValueError("<what> must not contain ...") when ``text`` holds a forbidden character."""
    bad = forbidden_char(text, allow=allow)
    if bad is not None:
        if 0xD800 <= ord(bad) <= 0xDFFF:
            raise ValueError(f"{what} is not valid UTF-8 text")
        raise ValueError(f"{what} must not contain {describe_char(bad)}")


def decoded_header(value: str) -> str:
    """``value`` with RFC 2047 encoded words (=?charset?q/b?...?=) decoded, as a reader would see it."""
    if "=?" not in value:
        return value
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, TypeError):
        return value


def check_header_value(text: str, what: str) -> None:
    """ValueError unless ``text`` is one line both as typed and after RFC 2047 decoding.

    Python before 3.11.10/3.12.5 writes a decoded CR/LF from an encoded word into the serialized
    header (CVE-2024-6923), so the decoded form is checked here rather than trusting the interpreter.
    """
    check_line(text, what, allow="\t")
    decoded = decoded_header(text)
    if decoded != text:
        bad = forbidden_char(decoded, allow="\t")
        if bad is not None:
            raise ValueError(f"{what} hides {describe_char(bad)} in an encoded word (=?…?=)")


def secret_problem(value: str | None, what: str = "The password") -> str | None:
    """Why a login or password cannot be sent to a server (controls, invalid UTF-8), or None."""
    bad = forbidden_char(value or "", allow="\t")
    if bad is None:
        return None
    if 0xD800 <= ord(bad) <= 0xDFFF:
        return f"{what} is not valid UTF-8 text."
    return f"{what} must not contain {describe_char(bad)}."


@dataclass(frozen=True)
class ParsedAddress:
    """What ``parse_address`` understood: the bare address and the display name (may be empty)."""

    addr: str
    name: str = ""

    @property
    def local(self) -> str:
        return self.addr.rpartition("@")[0]

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2]

    def __str__(self) -> str:
        if not self.name:
            return self.addr
        if any(c in _SPECIALS or c == "." for c in self.name):
            escaped = self.name.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{escaped}" <{self.addr}>'
        return f"{self.name} <{self.addr}>"


def parse_address(text: str) -> ParsedAddress:
    """Parse exactly one of ``addr``, ``Name <addr>``, ``"Quoted, Name" <addr>``; AddressError otherwise."""
    raw = text if isinstance(text, str) else ""
    bad = forbidden_char(raw, allow="\t")
    if bad is not None:
        raise AddressError(f"'{_shown(raw)}' contains {describe_char(bad)}")
    piece = raw.strip()
    if not piece:
        raise AddressError("the address is empty")
    if "<" not in piece and ">" not in piece:
        return ParsedAddress(_addr_spec(piece, piece))
    name_part, addr_part = _split_angle(piece)
    return ParsedAddress(_addr_spec(addr_part, piece), _display_name(name_part, piece))


def parse_addresses(text: str | Sequence[str], *, limit: int | None = None) -> list[ParsedAddress]:
    """Parse a list separated by ',' or ';' (or a sequence of such strings); empty input gives []."""
    items = [text] if isinstance(text, str) else list(text or ())
    out: list[ParsedAddress] = []
    for item in items:
        item = item if isinstance(item, str) else ""
        bad = forbidden_char(item, allow="\t")
        if bad is not None:
            raise AddressError(f"'{_shown(item)}' contains {describe_char(bad)}")
        for piece in split_list(item):
            out.append(parse_address(piece))
            if limit is not None and len(out) > limit:
                raise AddressError(f"more than {limit} addresses")
    return out


def split_list(text: str) -> list[str]:
    """Split on ',' or ';' outside double quotes and angle brackets; blank items are dropped."""
    parts: list[str] = []
    cur: list[str] = []
    quoted = angle = escape = False
    for ch in text:
        if escape:
            escape = False
        elif ch == "\\" and quoted:
            escape = True
        elif ch == '"' and not angle:
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


def _shown(text: str) -> str:
    """``text`` safe to put in a one-line message (controls made visible, length bounded)."""
    visible = "".join(ch if forbidden_char(ch) is None else f"\\u{ord(ch):04x}" for ch in text[:120])
    return visible + ("…" if len(text) > 120 else "")


def _split_angle(piece: str) -> tuple[str, str]:
    """('name part', 'addr') for 'Name <addr>'; the name may be a quoted string holding '<' or ','."""
    rest = piece
    name = ""
    if rest.startswith('"'):
        end = _quoted_end(rest)
        if end < 0:
            raise AddressError(f"'{_shown(piece)}' has an unclosed quote")
        name, rest = rest[: end + 1], rest[end + 1 :].lstrip()
        if not rest.startswith("<"):
            raise AddressError(f"'{_shown(piece)}': expected <address> after the quoted name")
    else:
        lt = rest.find("<")
        if lt < 0:
            raise AddressError(f"'{_shown(piece)}' has '>' without '<'")
        name, rest = rest[:lt], rest[lt:]
    if not rest.endswith(">") or rest.count("<") != 1 or rest.count(">") != 1:
        raise AddressError(f"'{_shown(piece)}' is not of the form Name <address>")
    return name.strip(), rest[1:-1].strip()


def _quoted_end(text: str) -> int:
    escape = False
    for i, ch in enumerate(text[1:], 1):
        if escape:
            escape = False
        elif ch == "\\":
            escape = True
        elif ch == '"':
            return i
    return -1


def _display_name(name: str, piece: str) -> str:
    if name.startswith('"'):
        inner = re.sub(r"\\(.)", r"\1", name[1:-1])
    else:
        if any(c in _SPECIALS for c in name):
            raise AddressError(
                f"'{_shown(piece)}': the name before <…> contains '@' or another special character; "
                'put it in double quotes ("…") if it is really a name'
            )
        inner = name
    try:
        check_header_value(inner, "the name")
    except ValueError as exc:
        raise AddressError(f"'{_shown(piece)}': {exc}") from None
    inner = " ".join(inner.split())
    if len(inner) > MAX_NAME_LENGTH:
        raise AddressError(f"'{_shown(piece)}': the name is longer than {MAX_NAME_LENGTH} characters")
    return inner


def _addr_spec(addr: str, piece: str) -> str:
    """Validate a bare local@domain (non-ASCII allowed, SMTPUTF8) and return it unchanged."""
    where = f"'{_shown(piece)}'"
    if not addr:
        raise AddressError(f"{where} has an empty address between < and >")
    if len(addr) > MAX_ADDRESS_LENGTH:
        raise AddressError(f"{where} is longer than {MAX_ADDRESS_LENGTH} characters")
    if any(ch.isspace() for ch in addr):
        raise AddressError(f"{where} is not an e-mail address (it contains a space)")
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(f"{where} is not an e-mail address (expected name@domain)")
    if any(c in _SPECIALS for c in local):
        raise AddressError(f"{where}: the part before @ contains a character that is not allowed there")
    if local.startswith(".") or local.endswith(".") or ".." in local or len(local.encode()) > MAX_LOCAL_LENGTH:
        raise AddressError(f"{where}: the part before @ is not valid")
    if not _valid_domain(domain):
        raise AddressError(f"{where}: '{_shown(domain)}' is not a valid domain")
    return addr


def _valid_domain(domain: str) -> bool:
    if len(domain) > MAX_DOMAIN_LENGTH or any(c in _SPECIALS for c in domain):
        return False
    for label in domain.split("."):
        if not label:
            return False
        if label.isascii():
            if not _LABEL_RE.match(label):
                return False
        elif not all(unicodedata.category(c)[0] in "LMN" or c == "-" for c in label):
            return False
    return True
