"""The staged SMTP check: resolve -> connect -> TLS -> greeting -> EHLO -> STARTTLS -> AUTH -> QUIT.

``run_check`` drives one ``SmtpSession`` (also used by ``app.core.smtp.send``) and reports every
stage as typed events. Every wait is bounded by its own timeout *and* the overall deadline
``settings.timeouts.total``; cancelling the task closes the socket at once, emits
``StageFailed(Code.CANCELLED)`` and re-raises ``CancelledError``.

AUTH mechanism order (``auth=auto``): CRAM-MD5, then PLAIN, then LOGIN, among those the server
advertises. CRAM-MD5 never sends the password itself; PLAIN is preferred to LOGIN because it is one
round trip and carries UTF-8 passwords unambiguously. XOAUTH2 is used only when explicitly chosen.

Certificates: the handshake uses a verifying context (unless the user turned verification off or
pinned a fingerprint). If verification fails, a second, non-verifying handshake on a fresh
connection fetches the certificate so its details (subject, issuer, dates, SHA-256) can be shown
and offered for pinning. With a pin, the handshake does not verify against CAs; the engine accepts
exactly the certificate whose SHA-256 matches.

Layout: this module is the stage runner (events, timers, EHLO, STARTTLS, QUIT); login.py the AUTH stage, reach.py holds
resolve/connect/greeting (with the mode-mismatch probe), handshake.py the TLS stages, sasl.py and
esmtp.py the pure encoders and parsers, result.py what a check returns. Every Diagnosis they raise
is built in app.core.diagnosis (classify, stages, mismatch).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError, Diagnosis, stages
from app.core.diagnosis import classify as rc
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    LogLevel,
    LogLine,
    Security,
    SmtpSettings,
    Stage,
    StageFailed,
    StageFinished,
    StageSkipped,
    StageStarted,
    Text,
    TlsDetails,
    TranscriptLine,
    ignore,
    log_text,
)
from app.core.model import wait_for as _wait_for
from app.core.smtp import esmtp
from app.core.smtp.connection import Reply, SmtpConnection, SmtpProtocolError
from app.core.smtp.handshake import TlsStages
from app.core.smtp.login import AuthStages
from app.core.smtp.reach import ReachStages
from app.core.smtp.result import CheckResult, StageAborted, credentials_problem

log = logging.getLogger(__name__)

T = TypeVar("T")

_STAGE_ORDER = list(Stage)


class SmtpSession(ReachStages, TlsStages, AuthStages):
    """One connection's worth of stages; ``run_check`` and ``send_message`` drive it."""

    def __init__(
        self, settings: SmtpSettings, password: str | None, on_event: EventCallback, provider: Provider | None
    ):
        self.settings = settings
        self._password = password
        if password and provider is not None and provider.strip_password_spaces:
            self._password = password.replace(" ", "")
        self.provider = provider
        self._on_event = on_event
        self.loop = asyncio.get_running_loop()
        self.started = time.monotonic()
        self.deadline = self.loop.time() + settings.timeouts.total
        self.conn: SmtpConnection | None = None
        self.addresses: list[tuple] = []
        self.address_used: tuple | None = None
        self.tls: TlsDetails | None = None
        self.capabilities: dict[str, str] = {}
        self.auth_mechanism: str | None = None
        self.auth_verified = False
        self.quiet = False  # suppress the transcript (the certificate probe)
        self.greeting_from = time.monotonic()

    # -- plumbing --------------------------------------------------------------------------------
    def emit(self, event: Any) -> None:
        try:
            self._on_event(event)
        except Exception:  # a broken observer must not break the check
            log.exception("event callback failed for %r", type(event).__name__)

    def info(self, text: Text, level: LogLevel = LogLevel.INFO) -> None:
        self.emit(LogLine(level, text))

    def _transcript(self, line: TranscriptLine) -> None:
        if not self.quiet:
            self.emit(line)

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000.0

    def remaining(self) -> float:
        return self.deadline - self.loop.time()

    async def timed(self, aw: Awaitable[T], timeout: float, on_timeout: Callable[[float], Diagnosis]) -> T:
        """Await ``aw`` for at most min(timeout, time left before the overall deadline)."""
        limit = min(timeout, self.remaining())
        if limit <= 0:
            if asyncio.iscoroutine(aw):
                aw.close()
            raise DiagnosedError(on_timeout(0.0))
        try:
            return await _wait_for(aw, limit)
        except asyncio.TimeoutError:
            raise DiagnosedError(on_timeout(limit)) from None

    def finalize(self, diagnosis: Diagnosis) -> Diagnosis:
        return rc.apply_provider_hints(diagnosis, self.provider)

    async def stage(self, stage: Stage, body: Callable[[], Awaitable[str]]) -> None:
        """Run one stage: StageStarted, then StageFinished(summary) or StageFailed(diagnosis)."""
        self.emit(StageStarted(stage))
        t0 = time.monotonic()
        try:
            summary = await body()
        except asyncio.CancelledError:
            self.close()
            self.emit(StageFailed(stage, _ms(t0), stages.cancelled(self.settings, stage.value)))
            raise
        except DiagnosedError as exc:
            diag = self.finalize(exc.diagnosis)
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise StageAborted(diag) from None
        except SmtpProtocolError as exc:
            diag = self.finalize(rc.protocol_error(self.settings, exc.kind, exc.detail, stage.value, exc.reply))
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise StageAborted(diag) from None
        except Exception as exc:  # a bug or an unforeseen OS error: still a diagnosis, never a crash
            log.exception("unexpected failure in stage %s", stage.value)
            diag = rc.protocol_error(self.settings, "unexpected", f"{type(exc).__name__}: {exc}", stage.value)
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise StageAborted(diag) from None
        self.emit(StageFinished(stage, _ms(t0), summary))

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def command_timeout(self, stage: str) -> Callable[[float], Diagnosis]:
        def make(secs: float) -> Diagnosis:
            partial = self.conn is not None and self.conn.has_partial_reply()
            return rc.protocol_error(
                self.settings,
                "reply_timeout",
                f"no complete answer within {secs:.3g} s" + (" (the reply was still coming in)" if partial else ""),
                stage,
            )

        return make

    async def command(self, line: str, stage: Stage, *, shown: str | None = None) -> Reply:
        assert self.conn is not None
        return await self.timed(
            self.conn.command(line, shown=shown), self.settings.timeouts.command, self.command_timeout(stage.value)
        )

    async def read_reply(self, stage: Stage) -> Reply:
        assert self.conn is not None
        return await self.timed(
            self.conn.read_reply(), self.settings.timeouts.command, self.command_timeout(stage.value)
        )

    # -- the stages --------------------------------------------------------------------------------
    def _plan(self) -> list[tuple[Stage, Callable[[], Awaitable[str]]]]:
        """The stages this protocol runs, in order, for the chosen security mode (the incoming side overrides it)."""
        s = self.settings
        plan: list[tuple[Stage, Callable[[], Awaitable[str]]]] = [
            (Stage.RESOLVE, self._resolve),
            (Stage.CONNECT, self._connect),
        ]
        if s.security is Security.SSL:
            plan.append((Stage.TLS, self._implicit_tls))
        plan += [(Stage.GREETING, self._greeting), self._hello_stage()]
        if s.security is Security.STARTTLS:
            plan.append((Stage.STARTTLS, self._starttls))
        plan.append((Stage.AUTH, self._auth))
        return plan

    def _hello_stage(self) -> tuple[Stage, Callable[[], Awaitable[str]]]:
        """The stage after the greeting that learns the server's extensions: EHLO here (CAPABILITY/CAPA incoming)."""
        return (Stage.EHLO, self._ehlo)

    def _stops_after(self, stage: Stage, stop_after: Stage) -> bool:
        return _STAGE_ORDER.index(stage) >= _STAGE_ORDER.index(stop_after)

    async def open(self, stop_after: Stage | None = None) -> bool:
        """Run the stages up to AUTH (or ``stop_after``); False when stopped early on purpose."""
        s = self.settings
        for stage, body in self._plan():
            if stage is Stage.RESOLVE and s.proxy:
                self.emit(StageSkipped(stage, "the proxy resolves the server name"))
                continue
            if stage is Stage.AUTH and not s.username and not self._password:
                self.emit(StageSkipped(stage, "no login given: connectivity check only"))
            else:
                await self.stage(stage, body)
            if stop_after is not None and self._stops_after(stage, stop_after):
                return False
        return True

    def ehlo_name(self, conn: SmtpConnection | None = None) -> str:
        current = conn or self.conn
        return esmtp.ehlo_name(self.settings.ehlo_name, current.local if current is not None else None)

    async def _ehlo(self) -> str:
        return await self._say_ehlo(Stage.EHLO)

    async def _say_ehlo(self, stage: Stage) -> str:
        s = self.settings
        name = self.ehlo_name()
        reply = await self.command(f"EHLO {name}", stage)
        if reply.ok:
            self.capabilities = esmtp.parse_capabilities(reply)
            caps = " ".join(self.capabilities)
            self.info(log_text(QT_TRANSLATE_NOOP("Log", "Server capabilities: {caps}"), caps=caps), LogLevel.DETAIL)
            return f"{len(self.capabilities)} capabilities"
        if reply.code == 421:
            raise DiagnosedError(rc.greeting_refused(s, reply))
        self.info(
            log_text(QT_TRANSLATE_NOOP("Log", "The server rejected EHLO; falling back to HELO.")), LogLevel.DETAIL
        )
        helo = await self.command(f"HELO {name}", stage)
        if not helo.ok:
            raise DiagnosedError(stages.helo_rejected(s, helo, stage.value))
        self.capabilities = {}
        return "HELO accepted (no extensions)"

    async def _starttls(self) -> str:
        s = self.settings
        assert self.conn is not None
        if "STARTTLS" not in self.capabilities:
            raise DiagnosedError(stages.starttls_missing(s))
        reply = await self.command("STARTTLS", Stage.STARTTLS)
        if reply.code != 220:
            if reply.code == 421:
                raise DiagnosedError(rc.greeting_refused(s, reply))
            raise DiagnosedError(stages.starttls_refused(s, reply))
        if self.conn.pending_bytes:
            raise SmtpProtocolError(
                "garbage", "the server sent data right after agreeing to STARTTLS (possible injection)"
            )
        await self._handshake(implicit=False)
        await self._say_ehlo(Stage.STARTTLS)
        assert self.tls is not None
        return f"{self.tls.protocol} {self.tls.cipher}"

    # QUIT ---------------------------------------------------------------------------------------
    async def quit(self) -> None:
        """QUIT politely (its failure does not fail the check), then close."""

        async def body() -> str:
            assert self.conn is not None
            try:
                reply = await _wait_for(
                    self.conn.command("QUIT"), max(min(self.settings.timeouts.command, self.remaining(), 2.0), 0.01)
                )
                return reply.message[:80]
            except (asyncio.TimeoutError, SmtpProtocolError, OSError) as exc:
                self.info(
                    log_text(
                        QT_TRANSLATE_NOOP("Log", "No clean answer to QUIT ({error}); closing anyway."), error=str(exc)
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


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000.0, 1)


async def run_check(
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    stop_after: Stage | None = None,
) -> CheckResult:
    """Check ``settings`` stage by stage; never raises for server or network trouble (see CheckResult).

    Without username and password AUTH is skipped. ``stop_after`` ends after that stage
    (QUIT still runs). Cancellation propagates after closing the socket.
    """
    t0 = time.monotonic()
    problem = credentials_problem(settings, password)
    if problem is not None:
        safe_emit(on_event, LogLine(LogLevel.INFO, problem.title_text()))
        return CheckResult(False, problem, settings, _ms(t0))
    session = SmtpSession(settings, password, on_event, provider)
    try:
        await session.open(stop_after)
        await session.quit()
    except StageAborted as failed:
        return session_result(session, failed.diagnosis)
    finally:
        session.close()
    return session_result(session, None)


def session_result(session: SmtpSession, diagnosis: Diagnosis | None) -> CheckResult:
    caps = tuple(f"{k} {v}".strip() for k, v in session.capabilities.items())
    return CheckResult(
        ok=diagnosis is None,
        diagnosis=diagnosis,
        settings=session.settings,
        elapsed_ms=round(session.elapsed_ms(), 1),
        tls=session.tls,
        capabilities=caps,
        auth_mechanism=session.auth_mechanism,
        auth_verified=session.auth_verified,
    )
