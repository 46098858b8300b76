"""Making every value safe for a shareable report: bounded, no control characters, no credential.

The report is built only from allowlisted fields and never receives a password, a token or a
proxy password (redaction by construction). What this module adds is the second line of defence
for the two kinds of text that pass through as they are:

- transcripts: the engine already masks every AUTH payload; ``mask_transcript`` masks again
  every client line of an AUTH/AUTHENTICATE exchange, ``PASS``/``LOGIN`` arguments and any bare
  base64 blob a client sent, so a future engine change cannot leak one into a report;
- proxy URLs: only scheme, host and port are shown, never the user information.

``Cleaner`` bounds every value, makes control characters visible (a server's CR, LF, ESC or a
bidirectional override is shown as ``\\x0d``, never acted on) and, when asked, masks e-mail
addresses and the account's own login.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MASK = "****"
MAX_VALUE = 2000  # characters of one value (a reply, an explanation)
MAX_LINE = 500  # characters of one transcript or log line

# C0 (except tab/newline handled by the caller), DEL, C1, line/paragraph separators, bidi controls
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ADDRESS = re.compile(
    r"([A-Za-z0-9._%+\-!#$&'*/=?^`{|}~\u0080-\uffff]+)@([A-Za-z0-9\-\u0080-\uffff]+(?:\.[A-Za-z0-9\-\u0080-\uffff]+)*)"
)
_BLOB = re.compile(r"^[A-Za-z0-9+/]{12,}={0,2}$")  # a bare base64 value on a client line
_AUTH_START = re.compile(r"^((?:\S+ )?)(AUTH|AUTHENTICATE)(\s+\S+)(\s+\S.*)?$", re.I)
_LOGIN = re.compile(r"^(\S+ LOGIN)\s.*$", re.I)  # IMAP: tag LOGIN user password
_PASS = re.compile(r"^(PASS|APOP\s+\S+)\s.*$", re.I)  # POP3


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters not shown)"


def proxy_display(url: str | None) -> str:
    """A proxy URL as scheme://host:port: the user name and password are never shown."""
    if not url:
        return "none"
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        login = " (with a login)" if parts.username or parts.password or "@" in parts.netloc else ""
    except ValueError:
        return "(a proxy URL that could not be read)"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme or 'proxy'}://{host}{port}{login}"


def mask_address(local: str, domain: str) -> str:
    """``j***@example.com``: the first character of the mailbox, the domain as it is."""
    return f"{local[:1]}***@{domain}"


class Cleaner:
    """Makes values safe for the report: bounded, control characters visible, addresses masked on request."""

    def __init__(self, *, mask_addresses: bool = False, identities: Iterable[str] = ()):
        self.mask_addresses = mask_addresses
        # logins that are not addresses (e.g. "jsmith") are masked as whole words when masking is on
        self._identities = sorted({i for i in identities if i and "@" not in i and len(i) >= 2}, key=len, reverse=True)

    def line(self, value: object, limit: int = MAX_VALUE) -> str:
        """One line: CR, LF and tab are shown as escapes too."""
        text = self._masked(str(value) if value is not None else "")
        text = clip(text, limit)
        return _UNSAFE.sub(lambda m: _visible(m.group()), text.replace("\t", " ").replace("\n", "\\x0a"))

    def block(self, value: object, limit: int = MAX_VALUE) -> str:
        """A paragraph: line breaks kept (CRLF becomes LF), other control characters shown as escapes."""
        text = self._masked(str(value) if value is not None else "")
        text = clip(text.replace("\r\n", "\n"), limit)
        return _UNSAFE.sub(lambda m: _visible(m.group()), text.replace("\t", " "))

    def _masked(self, text: str) -> str:
        if not self.mask_addresses:
            return text
        text = _ADDRESS.sub(lambda m: mask_address(m.group(1), m.group(2)), text)
        for ident in self._identities:
            text = re.sub(rf"(?<![\w.@-]){re.escape(ident)}(?![\w@-])", mask_address(ident, "").rstrip("@"), text)
        return text


def mask_transcript(lines: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(direction, text) lines with every credential the client sent replaced by ``****`` (again)."""
    out: list[tuple[str, str]] = []
    in_auth = False
    for direction, text in lines:
        if direction != "C":
            # an AUTH exchange goes on while the server sends challenges (SMTP 334, IMAP/POP3 '+')
            if in_auth and not (text.startswith("334") or text.startswith("+")):
                in_auth = False
            out.append((direction, text))
            continue
        out.append((direction, _mask_client_line(text, in_auth)))
        if _AUTH_START.match(text):
            in_auth = True
    return out


def _mask_client_line(text: str, in_auth: bool) -> str:
    stripped = text.strip()
    if in_auth and stripped not in ("", "*", MASK):
        return MASK
    m = _AUTH_START.match(stripped)
    if m:
        return f"{m.group(1)}{m.group(2)}{m.group(3)}" + (f" {MASK}" if m.group(4) else "")
    m = _LOGIN.match(stripped) or _PASS.match(stripped)
    if m:
        return f"{m.group(1)} {MASK}"
    if _BLOB.match(stripped) and stripped.upper() not in _VERBS:
        return MASK
    return text


# client commands that look like base64 but are not a credential
_VERBS = frozenset({"QUIT", "DATA", "RSET", "NOOP", "STARTTLS", "CAPABILITY", "LOGOUT", "CAPA", "STLS", "NAMESPACE"})

__all__ = ["MASK", "MAX_LINE", "MAX_VALUE", "Cleaner", "clip", "mask_address", "mask_transcript", "proxy_display"]
