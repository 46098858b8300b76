"""The staged IMAP check: resolve -> connect -> TLS -> greeting -> CAPABILITY -> STARTTLS -> login -> LOGOUT.

Login: AUTHENTICATE PLAIN (with SASL-IR when offered) carries a UTF-8 password as it is; LOGIN with
literals is the fallback when PLAIN is not offered. LOGINDISABLED is honoured. Every response is bounded:
line length (wire layer), untagged lines per command, literal sizes, and time (command timeout and the
overall deadline).
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError
from app.core.diagnosis import incoming as dx
from app.core.incoming.base import IncomingResult, IncomingSession, run_incoming_check
from app.core.model import AuthMechanism, EventCallback, IncomingProtocol, SmtpSettings, Stage, TranscriptLine, ignore
from app.core.smtp import MASK, SmtpConnection, SmtpProtocolError

MAX_UNTAGGED = 1000  # untagged lines per command: a server that never ends is cut off
MAX_LITERAL = 256 * 1024  # bytes per literal (we only fetch header fields)

_LITERAL = re.compile(r"\{(\d+)\+?\}$")
_CAPS_CODE = re.compile(r"\[CAPABILITY ([^\]]*)\]", re.I)


@dataclass
class ImapLine:
    """One untagged response line with its literals (in order) and the text around them joined."""

    text: str
    literals: list[bytes] = field(default_factory=list)


@dataclass
class ImapResponse:
    status: str  # OK, NO, BAD
    text: str  # the tagged line's text after the status
    untagged: list[ImapLine]

    @property
    def ok(self) -> bool:
        return self.status == "OK"

    def all_text(self) -> str:
        """The tagged text with any untagged [ALERT]/NO/BAD lines (what a refusal says)."""
        notes = [u.text for u in self.untagged if re.match(r"^\* (NO|BAD|BYE)\b|.*\[ALERT\]", u.text, re.I)]
        return " ".join(notes + [self.text]).strip()


class ImapSession(IncomingSession):
    protocol = IncomingProtocol.IMAP

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tags = itertools.count(1)

    # -- responses -------------------------------------------------------------------------------
    async def _read_item(self) -> ImapLine:
        """One logical line: a line whose end announces a literal continues after the literal's bytes."""
        assert self.conn is not None
        item = ImapLine("")
        parts: list[str] = []
        while True:
            text = await self.next_line()
            parts.append(text)
            m = _LITERAL.search(text)
            if not m:
                item.text = "".join(parts)
                return item
            size = int(m.group(1))
            if size > MAX_LITERAL or len(item.literals) >= 16:
                raise SmtpProtocolError("too_many_lines", f"a literal of {size} bytes", True)
            item.literals.append(await self.conn.read_exact(size))
            self._transcript_note(f"({size} bytes)")

    def _transcript_note(self, text: str) -> None:
        self._transcript(TranscriptLine("S", text))

    async def _response(self, tag: str, continuations: Sequence[tuple[bytes, str]] = ()) -> ImapResponse:
        assert self.conn is not None
        pending = list(continuations)
        untagged: list[ImapLine] = []
        while True:
            item = await self._read_item()
            text = item.text
            if text.startswith(tag + " "):
                rest = text[len(tag) + 1 :]
                status, _, tail = rest.partition(" ")
                if status.upper() not in ("OK", "NO", "BAD"):
                    raise self.garbage(Stage.CAPABILITY, "not an IMAP status", text)
                return ImapResponse(status.upper(), tail, untagged)
            if text.startswith("+"):
                data, shown = pending.pop(0) if pending else (b"*", "*")  # '*' cancels an AUTHENTICATE
                self.conn.send_raw(data + b"\r\n", shown=shown)
                continue
            if not text.startswith("* "):
                raise self.garbage(Stage.CAPABILITY, "not an IMAP response", text)
            untagged.append(item)
            if len(untagged) > MAX_UNTAGGED:
                raise SmtpProtocolError("too_many_lines", f"more than {MAX_UNTAGGED} untagged lines", True)

    async def ask(
        self,
        line: str,
        stage: Stage,
        *,
        shown: str | None = None,
        continuations: Sequence[tuple[bytes, str]] = (),
        timeout: float | None = None,
    ) -> ImapResponse:
        """Send ``TAG line`` and read everything up to the tagged status, within the command timeout."""
        assert self.conn is not None
        tag = f"m{next(self._tags)}"
        self.conn.send_line(f"{tag} {line}", shown=None if shown is None else f"{tag} {shown}")
        return await self.timed(
            self._response(tag, continuations),
            timeout or self.settings.timeouts.command,
            self.command_timeout(stage.value),
        )

    # -- stages ----------------------------------------------------------------------------------
    async def _greeting(self) -> str:
        line = await self.read_greeting()
        m = re.match(r"^\* (OK|PREAUTH|BYE)\b ?(.*)$", line, re.I)
        if not m:
            raise self.garbage(Stage.GREETING, "not an IMAP greeting", line)
        if m.group(1).upper() == "BYE":
            raise DiagnosedError(dx.greeting_refused(self.settings, self.protocol, line))
        self.preauth = m.group(1).upper() == "PREAUTH"
        return m.group(2)[:120]

    def _take_caps(self, text: str) -> None:
        m = _CAPS_CODE.search(text)
        if m:
            self.caps = {c.upper() for c in m.group(1).split()}

    async def _capabilities(self, stage: Stage = Stage.CAPABILITY) -> str:
        r = await self.ask("CAPABILITY", stage)
        caps: set[str] = set()
        for item in r.untagged:
            if item.text.upper().startswith("* CAPABILITY "):
                caps |= {c.upper() for c in item.text[13:].split()}
        if not r.ok or ("IMAP4REV1" not in caps and "IMAP4REV2" not in caps):
            raise self.garbage(stage, "no IMAP capabilities", r.text or "")
        self.caps = caps
        return f"{len(caps)} capabilities"

    async def _starttls(self) -> str:
        assert self.conn is not None
        if "STARTTLS" not in self.caps:
            raise DiagnosedError(dx.starttls_missing(self.settings, self.protocol))
        r = await self.ask("STARTTLS", Stage.STARTTLS)
        if not r.ok:
            raise DiagnosedError(dx.starttls_refused(self.settings, self.protocol, f"{r.status} {r.text}"))
        if self.conn.pending_bytes:
            raise SmtpProtocolError(
                "garbage", "the server sent data right after agreeing to STARTTLS (possible injection)"
            )
        await self._handshake(implicit=False)
        await self._capabilities(Stage.STARTTLS)  # RFC 3501: forget what was said before TLS
        assert self.tls is not None
        return f"{self.tls.protocol} {self.tls.cipher}"

    async def _probe_starttls(self, probe: SmtpConnection) -> None:
        """The certificate probe's STARTTLS (on a fresh, quiet connection)."""
        await probe.read_line()
        probe.send_line("p1 STARTTLS")
        for _ in range(MAX_UNTAGGED):
            line = (await probe.read_line()).decode("utf-8", "replace")
            if line.startswith("p1 "):
                if not line[3:].upper().startswith("OK"):
                    raise SmtpProtocolError("garbage", "STARTTLS refused")
                return
        raise SmtpProtocolError("too_many_lines", "STARTTLS")

    async def _auth(self) -> str:
        if self.preauth:
            return "already logged in (PREAUTH)"
        self.require_tls_for_login(login_disabled="LOGINDISABLED" in self.caps)
        s = self.settings
        user, password = s.username.encode("utf-8"), self.password.encode("utf-8")
        if s.auth is AuthMechanism.XOAUTH2:
            if "AUTH=XOAUTH2" not in self.caps:
                raise DiagnosedError(dx.no_mechanism(s, self.protocol, self._offered()))
            token = base64.b64encode(b"user=" + user + b"\x01auth=Bearer " + password + b"\x01\x01").decode()
            mech, r = "XOAUTH2", await self._authenticate("XOAUTH2", token)
        elif "AUTH=PLAIN" in self.caps:
            token = base64.b64encode(b"\0" + user + b"\0" + password).decode()
            mech, r = "PLAIN", await self._authenticate("PLAIN", token)
        else:
            # LOGIN with synchronizing literals: any byte of a UTF-8 login or password goes as it is
            mech = "LOGIN"
            r = await self.ask(
                f"LOGIN {{{len(user)}}}",
                Stage.AUTH,
                continuations=[
                    (user + f" {{{len(password)}}}".encode(), f"{MASK} {{{len(password)}}}"),
                    (password, MASK),
                ],
            )
        self.auth_mechanism = mech
        if not r.ok:
            if r.status == "BAD" and mech != "LOGIN":
                raise DiagnosedError(dx.no_mechanism(s, self.protocol, self._offered()))
            raise DiagnosedError(dx.login_refused(s, self.protocol, r.all_text(), self.provider))
        self.auth_verified = True
        self._take_caps(r.text)
        for item in r.untagged:  # post-login capabilities, as Dovecot sends them
            if item.text.upper().startswith("* CAPABILITY "):
                self.caps = {c.upper() for c in item.text[13:].split()}
        return f"{mech} accepted"

    async def _authenticate(self, mech: str, token: str) -> ImapResponse:
        if "SASL-IR" in self.caps:
            return await self.ask(f"AUTHENTICATE {mech} {token}", Stage.AUTH, shown=f"AUTHENTICATE {mech} {MASK}")
        return await self.ask(f"AUTHENTICATE {mech}", Stage.AUTH, continuations=[(token.encode(), MASK)])

    def _offered(self) -> str:
        return ", ".join(sorted(c[5:] for c in self.caps if c.startswith("AUTH="))) or "LOGIN"

    async def goodbye(self) -> None:
        await self.logout()

    async def logout(self) -> None:
        await self.polite_close(lambda: self._response_after("LOGOUT"))

    async def _response_after(self, line: str) -> ImapResponse:
        assert self.conn is not None
        tag = f"m{next(self._tags)}"
        self.conn.send_line(f"{tag} {line}")
        return await self._response(tag)


async def check_imap(
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    stop_after: Stage | None = None,
) -> IncomingResult:
    """Check an IMAP server stage by stage; never raises for server or network trouble."""
    return await run_incoming_check(
        ImapSession,
        IncomingProtocol.IMAP,
        settings,
        password,
        on_event=on_event,
        provider=provider,
        stop_after=stop_after,
    )
