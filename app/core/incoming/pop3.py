"""The staged POP3 check: resolve -> connect -> TLS -> greeting -> CAPA -> STLS -> login -> QUIT.

A POP3 login locks the maildrop, so QUIT follows the login at once (nothing is listed or read). Login:
AUTH PLAIN with an initial response (RFC 5034) when the server lists SASL PLAIN, else USER/PASS; both
carry a UTF-8 password as it is and are masked in the transcript.
"""

from __future__ import annotations

import base64

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError
from app.core.diagnosis import incoming as dx
from app.core.incoming.base import IncomingResult, IncomingSession, run_incoming_check
from app.core.model import EventCallback, IncomingProtocol, SmtpSettings, Stage, ignore
from app.core.smtp import MASK, SmtpConnection, SmtpProtocolError

MAX_CAPA_LINES = 200


class Pop3Session(IncomingSession):
    protocol = IncomingProtocol.POP3

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.capa_answered = False

    async def ask(self, line: str, stage: Stage, *, shown: str | None = None) -> str:
        """Send one command; the status line (``+OK …``, ``-ERR …`` or a ``+ `` continuation)."""
        assert self.conn is not None
        self.conn.send_line(line, shown=shown)
        answer = await self.line(stage)
        if not answer.startswith(("+OK", "-ERR", "+ ", "+")):
            raise self.garbage(stage, "not a POP3 status", answer)
        return answer

    async def _greeting(self) -> str:
        line = await self.read_greeting()
        if line.startswith("-ERR"):
            raise DiagnosedError(dx.greeting_refused(self.settings, self.protocol, line))
        if not line.startswith("+OK"):
            raise self.garbage(Stage.GREETING, "not a POP3 greeting", line)
        return line[3:].strip()[:120]

    async def _capabilities(self, stage: Stage = Stage.CAPABILITY) -> str:
        answer = await self.ask("CAPA", stage)
        self.caps = set()
        if not answer.startswith("+OK"):
            self.capa_answered = False
            return "no CAPA (an old server)"
        self.capa_answered = True
        for _ in range(MAX_CAPA_LINES):
            line = await self.line(stage)
            if line == ".":
                return f"{len(self.caps)} capabilities"
            self.caps.add(line.strip().upper())
        raise SmtpProtocolError("too_many_lines", f"a CAPA list longer than {MAX_CAPA_LINES} lines", True)

    async def _starttls(self) -> str:
        assert self.conn is not None
        if self.capa_answered and "STLS" not in self.caps:
            raise DiagnosedError(dx.starttls_missing(self.settings, self.protocol))
        answer = await self.ask("STLS", Stage.STARTTLS)
        if not answer.startswith("+OK"):
            raise DiagnosedError(dx.starttls_refused(self.settings, self.protocol, answer))
        if self.conn.pending_bytes:
            raise SmtpProtocolError("garbage", "the server sent data right after agreeing to STLS (possible injection)")
        await self._handshake(implicit=False)
        await self._capabilities(Stage.STARTTLS)
        assert self.tls is not None
        return f"{self.tls.protocol} {self.tls.cipher}"

    async def _probe_starttls(self, probe: SmtpConnection) -> None:
        await probe.read_line()
        probe.send_line("STLS")
        if not (await probe.read_line()).startswith(b"+OK"):
            raise SmtpProtocolError("garbage", "STLS refused")

    def _sasl(self) -> set[str]:
        for cap in self.caps:
            if cap.startswith("SASL "):
                return set(cap[5:].split())
        return set()

    async def _auth(self) -> str:
        self.require_tls_for_login()
        s = self.settings
        user, password = s.username.encode("utf-8"), self.password.encode("utf-8")
        if "PLAIN" in self._sasl():
            self.auth_mechanism = "PLAIN"
            token = base64.b64encode(b"\0" + user + b"\0" + password).decode()
            answer = await self.ask(f"AUTH PLAIN {token}", Stage.AUTH, shown=f"AUTH PLAIN {MASK}")
            if answer.startswith("+") and not answer.startswith("+OK"):
                answer = await self.ask("*", Stage.AUTH)  # an unexpected challenge: cancel
        else:
            self.auth_mechanism = "USER"
            answer = await self.ask(f"USER {s.username}", Stage.AUTH, shown=f"USER {MASK}")
            if answer.startswith("+OK"):
                assert self.conn is not None
                self.conn.send_raw(b"PASS " + password + b"\r\n", shown=f"PASS {MASK}")
                answer = await self.line(Stage.AUTH)
        if not answer.startswith("+OK"):
            raise DiagnosedError(dx.login_refused(s, self.protocol, answer, self.provider))
        self.auth_verified = True
        return f"{self.auth_mechanism} accepted"

    async def goodbye(self) -> None:
        await self.quit()

    async def quit(self) -> None:
        await self.polite_close(lambda: self.ask("QUIT", Stage.QUIT))


async def check_pop3(
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    stop_after: Stage | None = None,
) -> IncomingResult:
    """Check a POP3 server stage by stage (QUIT right after the login); never raises for server trouble."""
    return await run_incoming_check(
        Pop3Session,
        IncomingProtocol.POP3,
        settings,
        password,
        on_event=on_event,
        provider=provider,
        stop_after=stop_after,
    )
