"""What the IMAP and POP3 checks share: the SMTP check's session machinery with other stages.

Why our own small client instead of ``imaplib``/``poplib``: ``imaplib.login()`` encodes the password as
ASCII (CPython issue 93548), neither library bounds reply sizes or line counts, neither gives per-stage
timing, a masked transcript or the certificate handling the SMTP check has (details of an untrusted
certificate, pinning, the 1.2 probe). Building on ``SmtpSession`` gives the incoming checks exactly the
same resolve/connect/proxy/TLS/deadline behaviour and events; only greeting, capabilities, STARTTLS/STLS,
login and logout are the protocol's own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError, Diagnosis
from app.core.diagnosis import classify as rc
from app.core.diagnosis import incoming as dx
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    IncomingProtocol,
    LogLevel,
    LogLine,
    SmtpSettings,
    Stage,
    TlsDetails,
    TranscriptLine,
    log_text,
)
from app.core.model import wait_for as _wait_for
from app.core.smtp import SmtpProtocolError, SmtpSession, StageAborted, credentials_problem

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 2048  # the wire layer's limit per line, CRLF included


@dataclass(frozen=True)
class IncomingResult:
    """Outcome of an IMAP or POP3 check."""

    ok: bool
    protocol: IncomingProtocol
    diagnosis: Diagnosis | None
    settings: SmtpSettings
    elapsed_ms: float
    tls: TlsDetails | None = None
    capabilities: tuple[str, ...] = ()
    auth_mechanism: str | None = None
    auth_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret), the same keys as the SMTP check's result plus ``protocol``."""
        tls = None
        if self.tls is not None:
            tls = {k: getattr(self.tls, k) for k in self.tls.__dataclass_fields__}
            tls["sans"] = list(self.tls.sans)
        return {
            "ok": self.ok,
            "protocol": self.protocol.value,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": dict(self.settings.summary(), protocol=self.protocol.value),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "tls": tls,
            "capabilities": list(self.capabilities),
            "auth_mechanism": self.auth_mechanism,
            "auth_verified": self.auth_verified,
        }


class IncomingSession(SmtpSession):
    """An SmtpSession whose protocol stages are IMAP's or POP3's (subclasses)."""

    protocol: ClassVar[IncomingProtocol]

    def __init__(
        self, settings: SmtpSettings, password: str | None, on_event: EventCallback, provider: Provider | None
    ):
        super().__init__(settings, password, on_event, provider)
        self.caps: set[str] = set()
        self.preauth = False

    async def goodbye(self) -> None:
        """Leave politely after the login (IMAP LOGOUT, POP3 QUIT: subclasses)."""
        raise NotImplementedError

    @property
    def password(self) -> str:
        return self._password or ""

    def finalize(self, diagnosis: Diagnosis) -> Diagnosis:
        own = dx.adapt(diagnosis, self.settings, self.protocol)
        return dx.keep_own_code(own, super().finalize(own))

    def _hello_stage(self) -> tuple[Stage, Callable[[], Awaitable[str]]]:
        """CAPABILITY (IMAP) / CAPA (POP3) where SMTP says EHLO; the SMTP runner runs the rest of the plan."""
        return (Stage.CAPABILITY, self._capabilities)

    def _stops_after(self, stage: Stage, stop_after: Stage) -> bool:
        return stage is stop_after

    # -- line reading (bounded by the wire layer: line length; by the caller: time) --------------
    async def next_line(self) -> str:
        """One server line without CRLF, shown in the transcript. No timeout here: callers bound it."""
        assert self.conn is not None
        raw = await self.conn.read_line()
        text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        self._transcript(TranscriptLine("S", text[:MAX_LINE_CHARS]))
        return text

    async def line(self, stage: Stage) -> str:
        """``next_line`` under the command timeout and the overall deadline."""
        return await self.timed(self.next_line(), self.settings.timeouts.command, self.command_timeout(stage.value))

    async def read_greeting(self) -> str:
        s = self.settings
        conn = self.conn
        assert conn is not None
        before = conn.bytes_received
        line = await self.timed(
            self.next_line(),
            s.timeouts.greeting,
            lambda secs: rc.greeting_timeout(s, secs, started=conn.bytes_received > before),
        )
        wrong = dx.wrong_protocol(s, self.protocol, line)
        if wrong is not None:
            raise DiagnosedError(wrong)
        return line

    def garbage(self, stage: Stage, what: str, line: str) -> SmtpProtocolError:
        return SmtpProtocolError("garbage", f"{what}: {line[:80]!r}", True, reply=line[:200])

    def require_tls_for_login(self, login_disabled: bool = False) -> None:
        """Never a password over an unencrypted connection unless the user explicitly allowed it."""
        assert self.conn is not None
        if not self.conn.tls and (not self.settings.allow_plain_auth or login_disabled):
            raise DiagnosedError(dx.plain_login_refused(self.settings, self.protocol, login_disabled=login_disabled))

    # -- the protocol's stages -----------------------------------------------------------------
    async def _capabilities(self) -> str:
        raise NotImplementedError

    async def polite_close(self, say: Callable[[], Awaitable[Any]]) -> None:
        """The QUIT stage: say goodbye within a short bound (its failure does not fail the check), then close."""

        async def body() -> str:
            try:
                await _wait_for(say(), max(min(self.settings.timeouts.command, self.remaining(), 2.0), 0.01))
                return "bye"
            except (asyncio.TimeoutError, SmtpProtocolError, DiagnosedError, OSError) as exc:
                self.info(
                    log_text(
                        QT_TRANSLATE_NOOP("Log", "No clean answer to the goodbye ({error}); closing anyway."),
                        error=str(exc),
                    ),
                    LogLevel.DETAIL,
                )
                return "closed"
            finally:
                self.close()

        await self.stage(Stage.QUIT, body)


def safe_emit(on_event: EventCallback, event: Any) -> None:
    try:
        on_event(event)
    except Exception:
        log.exception("event callback failed for %r", type(event).__name__)


def result_of(session: IncomingSession, diagnosis: Diagnosis | None) -> IncomingResult:
    return IncomingResult(
        ok=diagnosis is None,
        protocol=session.protocol,
        diagnosis=diagnosis,
        settings=session.settings,
        elapsed_ms=round(session.elapsed_ms(), 1),
        tls=session.tls,
        capabilities=tuple(sorted(session.caps)),
        auth_mechanism=session.auth_mechanism,
        auth_verified=session.auth_verified,
    )


def input_problem(
    settings: SmtpSettings, password: str | None, protocol: IncomingProtocol, on_event: EventCallback
) -> IncomingResult | None:
    t0 = time.monotonic()
    problem = credentials_problem(settings, password)
    if problem is None:
        return None
    safe_emit(on_event, LogLine(LogLevel.INFO, problem.title_text()))
    return IncomingResult(False, protocol, problem, settings, round((time.monotonic() - t0) * 1000, 1))


async def run_incoming_check(
    session_type: type[IncomingSession],
    protocol: IncomingProtocol,
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback,
    provider: Provider | None,
    stop_after: Stage | None,
) -> IncomingResult:
    """The one way an IMAP or POP3 check runs: input checks, the stages, the protocol's goodbye, the result."""
    problem = input_problem(settings, password, protocol, on_event)
    if problem is not None:
        return problem
    session = session_type(settings, password, on_event, provider)
    try:
        await session.open(stop_after)
        await session.goodbye()
    except StageAborted as failed:
        return result_of(session, failed.diagnosis)
    finally:
        session.close()
    return result_of(session, None)
