"""Proof of delivery: after a test send, find the message in the mailbox over IMAP.

The send marks the message with a unique token (``X-MailSetup-Token`` header and the subject). Here we
log in with the account's IMAP endpoint, look for the token in INBOX and in the Junk/Spam folder
(found by its SPECIAL-USE ``\\Junk`` attribute, else by the usual names), with IDLE on INBOX between
rounds where the server offers it and bounded polling otherwise. We report where the message landed,
how long it took and the receiving side's Authentication-Results (only from the receiver's own
authserv-id: the topmost header, which the receiving server added last; anything a sender put lower
down is ignored). Deleting the test message afterwards is optional (the caller asks; default keep).
Everything runs under one deadline: the stages' own timeouts plus the delivery timeout.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from app.core.catalog import Provider
from app.core.diagnosis import Code, Diagnosis
from app.core.diagnosis import incoming as dx
from app.core.incoming.imap import ImapResponse, ImapSession
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    IncomingProtocol,
    LogLevel,
    SmtpSettings,
    Stage,
    ignore,
    log_text,
)
from app.core.model import wait_for as _wait_for
from app.core.smtp import SmtpProtocolError, StageAborted

TOKEN_HEADER = "X-MailSetup-Token"
JUNK_NAMES = ("junk", "spam", "junk e-mail", "junk email", "bulk mail", "[gmail]/spam", "спам", "нежелательная почта")
MAX_FOLDERS = 1000
_TOKEN_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_LIST_RE = re.compile(r'^\* (?:X?LIST) \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$', re.I)


def new_token() -> str:
    """A unique, search-friendly token (letters, digits and dashes only)."""
    return "mailsetup-" + secrets.token_hex(8)


def mark_message(message: EmailMessage, token: str) -> None:
    """Put ``token`` into the message's header and subject (the round trip finds it by either)."""
    if not _TOKEN_RE.match(token):
        raise ValueError("a round-trip token is 8-64 letters, digits or dashes")
    del message[TOKEN_HEADER]
    message[TOKEN_HEADER] = token
    subject = str(message.get("Subject", "") or "")
    del message["Subject"]
    message["Subject"] = f"{subject} [{token}]".strip()


@dataclass(frozen=True)
class AuthResults:
    """The receiver's verdicts from its own Authentication-Results header (RFC 8601)."""

    authserv_id: str
    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None
    dkim_selector: str | None = None  # header.s of the passing DKIM signature (the sender-domain audit tries it)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "authserv_id": self.authserv_id,
            "spf": self.spf,
            "dkim": self.dkim,
            "dmarc": self.dmarc,
        }
        if self.dkim_selector:
            data["dkim_selector"] = self.dkim_selector
        return data

    def summary(self) -> str:
        return ", ".join(f"{k.upper()} {getattr(self, k) or '-'}" for k in ("spf", "dkim", "dmarc"))


def _strip_comments(text: str) -> str:
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def parse_authentication_results(values: Iterable[str], trusted_ids: Iterable[str] = ()) -> AuthResults | None:
    """Verdicts from the Authentication-Results headers ``values`` (top first, as in the message).

    Only headers whose authserv-id is trusted count: ``trusted_ids`` when given, else the topmost
    header's id (the receiving server prepends its own last; a sender's forgery sits below it).
    """
    headers = [" ".join(_strip_comments(str(v)).split())[:4096] for v in values]
    trusted = {t.lower() for t in trusted_ids}
    if not headers:
        return None
    if not trusted:
        trusted = {headers[0].split(";", 1)[0].split()[0].lower()} if headers[0].split() else set()
    verdicts: dict[str, str] = {}
    selector: str | None = None
    authserv = ""
    for header in headers:
        parts = [p.strip() for p in header.split(";")]
        ident = parts[0].split()[0].lower() if parts[0].split() else ""
        if ident not in trusted:
            continue
        authserv = authserv or ident
        for part in parts[1:]:
            m = re.match(r"^(spf|dkim|dmarc)\s*=\s*([A-Za-z]+)", part, re.I)
            if m:
                method, result = m.group(1).lower(), m.group(2).lower()
                if method not in verdicts or (method == "dkim" and result == "pass"):
                    verdicts[method] = result
                sel = re.search(r"\bheader\.s=([A-Za-z0-9][A-Za-z0-9._-]{0,62})(?:\s|$)", part)
                if method == "dkim" and result == "pass" and sel and selector is None:
                    selector = sel.group(1)
    if not authserv:
        return None
    return AuthResults(authserv, verdicts.get("spf"), verdicts.get("dkim"), verdicts.get("dmarc"), selector)


@dataclass(frozen=True)
class DeliveryResult:
    """Where the test message landed. ``diagnosis``: why not found / in spam / the login failed."""

    found: bool
    folder: str | None = None  # the server's name, decoded for display
    in_spam: bool = False
    seconds: float | None = None  # from the send (or from the start of the search) to the find
    authentication_results: AuthResults | None = None
    deleted: bool = False
    diagnosis: Diagnosis | None = None

    def to_dict(self) -> dict[str, Any]:
        ar = self.authentication_results
        return {
            "found": self.found,
            "folder": self.folder,
            "in_spam": self.in_spam,
            "seconds": round(self.seconds, 2) if self.seconds is not None else None,
            "authentication_results": ar.to_dict() if ar else {},
            "deleted": self.deleted,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }


def decode_mutf7(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3) to text; the name as it is when it is not valid."""
    out, i = [], 0
    try:
        while i < len(name):
            if name[i] == "&":
                j = name.index("-", i)
                chunk = name[i + 1 : j]
                if not chunk:
                    out.append("&")
                else:
                    b64 = chunk.replace(",", "/")
                    out.append(base64.b64decode(b64 + "=" * (-len(b64) % 4)).decode("utf-16-be"))
                i = j + 1
            else:
                out.append(name[i])
                i += 1
    except (ValueError, UnicodeDecodeError):
        return name
    return "".join(out)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: str) -> str:
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


class _Search:
    """One round trip on an open, logged-in ImapSession."""

    def __init__(self, session: ImapSession, token: str, delete: bool):
        self.s = session
        self.token = token
        self.delete = delete
        self.junk: str | None = None
        self.found_uid: str | None = None
        self.headers: EmailMessage | None = None
        self.folder: str | None = None  # where it was found (the server's name)
        self.seconds = 0.0
        self.deleted = False

    async def run(self, timeout: float, start: float) -> str:
        """The DELIVERY stage: INBOX and Junk each round, IDLE or a growing pause between rounds."""
        self.junk = await self.find_junk()
        folders = ["INBOX"] + ([self.junk] if self.junk else [])
        self.s.info(
            log_text(
                QT_TRANSLATE_NOOP("Log", "Looking for {token} in {folders}."),
                token=self.token,
                folders=", ".join(decode_mutf7(f) for f in folders),
            ),
            LogLevel.DETAIL,
        )
        deadline = time.monotonic() + timeout
        pause = 0.25
        while True:
            for folder in folders:
                if await self.look(folder):
                    self.folder, self.seconds = folder, time.monotonic() - start
                    if self.delete:
                        self.deleted = await self.remove()
                    return f"found in {decode_mutf7(folder)}"
            left = deadline - time.monotonic()
            if left <= 0:
                return "not found"
            await self.wait(min(pause, left))
            pause = min(pause * 2, 2.0)

    async def find_junk(self) -> str | None:
        r = await self.s.ask('LIST "" "*"', Stage.DELIVERY)
        names: list[tuple[str, set[str]]] = []
        for item in r.untagged[:MAX_FOLDERS]:
            m = _LIST_RE.match(item.text)
            if not m:
                continue
            attrs = {a.lower() for a in m.group(1).split()}
            raw = m.group(3)
            name = item.literals[0].decode("utf-8", "replace") if item.literals else _unquote(raw)
            if "\\noselect" not in attrs and "\\nonexistent" not in attrs and not re.search(r"[\r\n\0]", name):
                names.append((name, attrs))
        for name, attrs in names:
            if "\\junk" in attrs:
                return name
        for name, _attrs in names:
            if decode_mutf7(name).lower() in JUNK_NAMES or name.lower() in JUNK_NAMES:
                return name
        return None

    async def look(self, folder: str) -> bool:
        verb = "SELECT" if self.delete else "EXAMINE"
        r = await self.s.ask(f"{verb} {_quoted(folder)}", Stage.DELIVERY)
        if not r.ok:
            return False
        r = await self.s.ask(f"UID SEARCH OR HEADER {TOKEN_HEADER} {self.token} SUBJECT {self.token}", Stage.DELIVERY)
        uids = [u for item in r.untagged if item.text.upper().startswith("* SEARCH") for u in item.text.split()[2:]]
        for uid in uids[-20:]:
            if not uid.isdigit():
                continue
            f = await self.s.ask(f"UID FETCH {uid} (BODY.PEEK[HEADER])", Stage.DELIVERY)
            raw = next((lit for item in f.untagged for lit in item.literals), b"")
            headers = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)
            if str(headers.get(TOKEN_HEADER, "")).strip() == self.token or self.token in str(
                headers.get("Subject", "")
            ):
                self.found_uid, self.headers = uid, headers
                return True
        return False

    async def wait(self, seconds: float) -> None:
        """IDLE on INBOX until something arrives or ``seconds`` pass; a plain pause where IDLE is not offered."""
        if seconds <= 0:
            return
        if "IDLE" not in self.s.caps:
            await asyncio.sleep(seconds)
            return
        conn = self.s.conn
        assert conn is not None
        await self.s.ask("EXAMINE INBOX", Stage.DELIVERY)
        tag = f"i{id(self) % 10000}"
        conn.send_line(f"{tag} IDLE")
        first = await self.s.line(Stage.DELIVERY)
        if not first.startswith("+"):
            return  # refused: the next round polls
        try:
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                line = await _wait_for(self.s.next_line(), left)
                if re.match(r"^\* \d+ (EXISTS|RECENT)\b", line, re.I):
                    break
        except asyncio.TimeoutError:
            pass
        conn.send_line("DONE")
        for _ in range(1000):
            line = await self.s.line(Stage.DELIVERY)
            if line.startswith(tag + " "):
                return
        raise SmtpProtocolError("too_many_lines", "an endless answer to IDLE", True)

    async def remove(self) -> bool:
        if self.found_uid is None or "UIDPLUS" not in self.s.caps:
            self.s.info(
                log_text(QT_TRANSLATE_NOOP("Log", "The server has no UIDPLUS: the test message is kept.")),
                LogLevel.DETAIL,
            )
            return False
        r: ImapResponse = await self.s.ask(f"UID STORE {self.found_uid} +FLAGS.SILENT (\\Deleted)", Stage.DELIVERY)
        if r.ok:
            r = await self.s.ask(f"UID EXPUNGE {self.found_uid}", Stage.DELIVERY)
        return r.ok


async def confirm_delivery(
    settings: SmtpSettings,
    password: str | None,
    token: str,
    *,
    timeout: float = 60.0,
    sent_at: float | None = None,
    delete: bool = False,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    trusted_authserv_ids: Iterable[str] = (),
) -> DeliveryResult:
    """Log in over IMAP and look for the message carrying ``token`` for at most ``timeout`` seconds.

    ``sent_at`` (``time.monotonic()`` at the send) makes ``seconds`` the delivery time. Never raises for
    server trouble: a failed login is a DeliveryResult with that diagnosis.
    """
    if not _TOKEN_RE.match(token):
        raise ValueError("a round-trip token is 8-64 letters, digits or dashes")
    start = sent_at if sent_at is not None else time.monotonic()
    t = settings.timeouts
    session = ImapSession(settings.with_(timeouts=replace(t, total=t.total + timeout)), password, on_event, provider)
    search = _Search(session, token, delete)
    try:
        await session.open()
        await session.stage(Stage.DELIVERY, lambda: search.run(timeout, start))
        await session.logout()
    except StageAborted as failed:
        return DeliveryResult(False, diagnosis=failed.diagnosis)
    finally:
        session.close()
    return _verdict(search, settings, timeout, trusted_authserv_ids)


def _verdict(search: _Search, settings: SmtpSettings, timeout: float, trusted: Iterable[str]) -> DeliveryResult:
    """Where the search found the message (or that it did not), as a DeliveryResult."""
    if search.folder is None:
        p = dx.params(settings, IncomingProtocol.IMAP, user=settings.username, seconds=f"{timeout:g}")
        return DeliveryResult(False, diagnosis=Diagnosis(Code.DELIVERY_NOT_CONFIRMED, "", p))
    headers = search.headers
    ar = parse_authentication_results(
        headers.get_all("Authentication-Results") or [] if headers is not None else [], trusted
    )
    folder = decode_mutf7(search.folder)
    in_spam = search.folder != "INBOX"
    diagnosis = None
    if in_spam:
        verdicts = ar.summary() if ar else "-"
        p = dx.params(
            settings, IncomingProtocol.IMAP, folder=folder, seconds=f"{search.seconds:.1f}", verdicts=verdicts
        )
        diagnosis = Diagnosis(Code.DELIVERY_IN_SPAM, "", p)
    return DeliveryResult(
        True,
        folder=folder,
        in_spam=in_spam,
        seconds=search.seconds,
        authentication_results=ar,
        deleted=search.deleted,
        diagnosis=diagnosis,
    )


def find_in_messages(
    messages: Iterable[EmailMessage], token: str, settings: SmtpSettings, *, folder: str, seconds: float
) -> DeliveryResult:
    """The round trip against messages already at hand (the sandbox's own inbox, offline): the newest
    message carrying ``token`` in its header, with the receiver's Authentication-Results if any."""
    for message in reversed(list(messages)):
        if str(message.get(TOKEN_HEADER, "")).strip() == token:
            ar = parse_authentication_results(message.get_all("Authentication-Results") or [])
            return DeliveryResult(True, folder=folder, seconds=seconds, authentication_results=ar)
    p = dx.params(settings, IncomingProtocol.IMAP, user=settings.username, seconds=f"{seconds:g}")
    return DeliveryResult(False, diagnosis=Diagnosis(Code.DELIVERY_NOT_CONFIRMED, "", p))
