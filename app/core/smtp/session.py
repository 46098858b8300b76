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
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from app.core import net
from app.core.catalog import Provider
from app.core.diagnosis import QT_TRANSLATE_NOOP, Action, Code, DiagnosedError, Diagnosis, diagnose
from app.core.diagnosis import classify as rc
from app.core.diagnosis import mismatch as modes
from app.core.model import (
    AuthMechanism,
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
    TlsDetails,
    TlsEstablished,
    TlsMinimum,
    TranscriptLine,
    ignore,
    normalize_fingerprint,
    secret_problem,
)
from app.core.smtp import mismatch
from app.core.smtp import tls as tls_info
from app.core.smtp.connection import MASK, Reply, SmtpConnection, SmtpProtocolError

log = logging.getLogger(__name__)

T = TypeVar("T")

AUTO_ORDER = ("CRAM-MD5", "PLAIN", "LOGIN")  # strongest first; XOAUTH2 only when chosen
_STAGE_ORDER = list(Stage)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``run_check``."""

    ok: bool
    diagnosis: Diagnosis | None
    settings: SmtpSettings
    elapsed_ms: float
    tls: TlsDetails | None = None
    capabilities: tuple[str, ...] = ()
    auth_mechanism: str | None = None
    auth_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret)."""
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary(),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "tls": _tls_dict(self.tls),
            "capabilities": list(self.capabilities),
            "auth_mechanism": self.auth_mechanism,
            "auth_verified": self.auth_verified,
        }


def _tls_dict(tls: TlsDetails | None) -> dict | None:
    if tls is None:
        return None
    d = {k: getattr(tls, k) for k in tls.__dataclass_fields__}
    d["sans"] = list(tls.sans)
    return d


class _StageFailed(Exception):
    """Internal: a stage ended with a diagnosis that was already reported."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(diagnosis.code.value)


# The public name of a stage that ended with a reported diagnosis: sessions built on SmtpSession
# (app.core.incoming) catch it to end their run.
StageAborted = _StageFailed


def credentials_problem(settings: SmtpSettings, password: str | None) -> Diagnosis | None:
    """INVALID_INPUT when the settings are unusable or only one of login / password is given."""
    errs = settings.errors()
    if errs:
        e = errs[0]
        return diagnose(Code.INVALID_INPUT, "", field=e.field, message=e.message)
    problem = secret_problem(password)
    if problem is not None:
        return diagnose(Code.INVALID_INPUT, "", field="password", message=problem)
    if bool(settings.username) != bool(password):
        missing = "password" if settings.username else "username"
        variant = "credentials" if settings.username else "credentials_user"
        return diagnose(Code.INVALID_INPUT, variant, field=missing, message="")
    return None


class SmtpSession:
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

    def info(self, text: str, level: LogLevel = LogLevel.INFO) -> None:
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
            return await asyncio.wait_for(aw, limit)
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
            self.emit(
                StageFailed(
                    stage, _ms(t0), diagnose(Code.CANCELLED, stage=stage.value, **rc.base_params(self.settings))
                )
            )
            raise
        except DiagnosedError as exc:
            diag = self.finalize(exc.diagnosis)
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise _StageFailed(diag) from None
        except SmtpProtocolError as exc:
            diag = self.finalize(rc.protocol_error(self.settings, exc.kind, exc.detail, stage.value, exc.reply))
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise _StageFailed(diag) from None
        except Exception as exc:  # a bug or an unforeseen OS error: still a diagnosis, never a crash
            log.exception("unexpected failure in stage %s", stage.value)
            diag = rc.protocol_error(self.settings, "unexpected", f"{type(exc).__name__}: {exc}", stage.value)
            self.close()
            self.emit(StageFailed(stage, _ms(t0), diag))
            raise _StageFailed(diag) from None
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
    async def open(self, stop_after: Stage | None = None) -> bool:
        """Run the stages up to AUTH (or ``stop_after``); False when stopped early on purpose."""
        s = self.settings
        plan: list[tuple[Stage, Callable[[], Awaitable[str]]]] = [
            (Stage.RESOLVE, self._resolve),
            (Stage.CONNECT, self._connect),
        ]
        if s.security is Security.SSL:
            plan.append((Stage.TLS, self._implicit_tls))
        plan += [(Stage.GREETING, self._greeting), (Stage.EHLO, self._ehlo)]
        if s.security is Security.STARTTLS:
            plan.append((Stage.STARTTLS, self._starttls))
        plan.append((Stage.AUTH, self._auth))
        for stage, body in plan:
            if stage is Stage.RESOLVE and s.proxy:
                self.emit(StageSkipped(stage, "the proxy resolves the server name"))
                continue
            if stage is Stage.AUTH and not s.username and not self._password:
                self.emit(StageSkipped(stage, "no login given: connectivity check only"))
            else:
                await self.stage(stage, body)
            if stop_after is not None and _STAGE_ORDER.index(stage) >= _STAGE_ORDER.index(stop_after):
                return False
        return True

    async def _resolve(self) -> str:
        s = self.settings
        host = s.host.strip("[]")
        try:
            infos = await self.timed(
                self.loop.getaddrinfo(host, s.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP),
                s.timeouts.connect,
                lambda secs: diagnose(
                    Code.DNS_FAILED, "timeout", detail=f"no answer within {secs:.3g} s", **rc.base_params(s)
                ),
            )
        except socket.gaierror as exc:
            raise DiagnosedError(rc.dns_failed(s, exc)) from None
        seen = set()
        for family, type_, proto, _canon, sockaddr in infos:
            key = (family, sockaddr[0])
            if key not in seen:
                seen.add(key)
                self.addresses.append((family, type_, proto, sockaddr))
        if not self.addresses:
            raise DiagnosedError(diagnose(Code.DNS_FAILED, "", detail="no addresses", **rc.base_params(s)))
        shown = ", ".join(a[3][0] for a in self.addresses)
        self.info(f"{s.host} resolves to {shown}", LogLevel.DETAIL)
        return shown

    async def _connect(self) -> str:
        s = self.settings
        if s.proxy:
            from app.core.net import open_via_proxy

            timeout = min(s.timeouts.connect, self.remaining())
            sock = await self.timed(
                open_via_proxy(s.proxy, s.host, s.port, timeout),
                s.timeouts.connect,
                lambda secs: diagnose(
                    Code.PROXY_FAILED,
                    "timeout",
                    reason=f"no answer within {secs:.3g} s",
                    proxy=_redacted_proxy(s.proxy),
                    target=f"{s.host}:{s.port}",
                ),
            )
            self.conn = await SmtpConnection.from_socket(sock, self._transcript)
            self.info(f"Connected to {s.host}:{s.port} through the proxy", LogLevel.DETAIL)
            return f"{s.host}:{s.port} via proxy"
        sock, address = await self._connect_direct(quiet=False)
        self.conn = await SmtpConnection.from_socket(sock, self._transcript)
        return address

    async def _connect_direct(self, quiet: bool) -> tuple[socket.socket, str]:
        """Happy Eyeballs over the resolved addresses (``quiet``: a probe, to the address already used)."""
        s = self.settings
        addresses = [self.address_used] if quiet and self.address_used else self.addresses
        limit = min(s.timeouts.connect, self.remaining())
        if limit <= 0:
            raise DiagnosedError(rc.connect_timeout(s, s.host, 0.0))
        try:
            sock, address, attempts = await net.race(addresses, limit)
        except net.ConnectFailed as failed:
            if not quiet:
                for a in failed.attempts:
                    why = "no answer" if a.error == "timeout" else getattr(a.error, "strerror", None) or a.error
                    self.info(f"Connecting to {a.address} failed: {why}", LogLevel.DETAIL)
            raise DiagnosedError(rc.connect_failure(s, failed.attempts, limit)) from None
        self.address_used = address
        shown = net.show(address[3])
        if not quiet:
            for a in attempts:
                if a.error is not None:
                    self.info(f"{a.address} did not answer first ({a.error}); another address did", LogLevel.DETAIL)
            self.info(f"Connected to {shown}", LogLevel.DETAIL)
        return sock, shown

    # TLS ----------------------------------------------------------------------------------------
    async def _implicit_tls(self) -> str:
        await self._handshake(implicit=True)
        assert self.tls is not None
        return f"{self.tls.protocol} {self.tls.cipher}"

    async def _handshake(self, *, implicit: bool) -> None:
        s = self.settings
        assert self.conn is not None
        ctx = tls_info.make_context(s.tls)
        server_hostname = s.host.strip("[]")
        timeout = s.timeouts.command

        # a plaintext SMTP greeting that arrived before our ClientHello: the port is not implicit TLS
        early = self.conn.peek(4) if implicit else b""
        if early[:3].isdigit():  # a plaintext greeting instead of a ServerHello: certain, nothing to wait for
            self.info("The server sent a plaintext greeting before the TLS handshake", LogLevel.DETAIL)
            greeting = self.conn.peek(120).split(b"\r\n")[0].decode("utf-8", "replace")
            raise DiagnosedError(modes.plaintext_greeting(s, greeting))

        def on_timeout(secs: float) -> Diagnosis:
            if early[:3].isdigit():
                return rc.tls_handshake_failed(
                    s, "timeout_after_data", "the server greeted in plaintext", implicit=True
                )
            return rc.tls_handshake_failed(s, "timeout", f"no TLS answer within {secs:.3g} s", implicit=implicit)

        try:
            await self.timed(
                self.conn.start_tls(ctx, server_hostname, min(timeout, self.remaining())), timeout, on_timeout
            )
        except ssl.SSLCertVerificationError as exc:
            code, variant = tls_info.cert_failure(exc)
            details = await self._probe_certificate(implicit=implicit)
            raise DiagnosedError(self._cert_diagnosis(Code(code), variant, details, exc)) from None
        except ssl.SSLError as exc:
            kind = tls_info.handshake_failure_kind(exc) or ("plaintext" if early[:3].isdigit() else "")
            kind = kind or await self._version_probe(implicit)
            raise DiagnosedError(rc.tls_handshake_failed(s, kind, exc.reason or str(exc), implicit=implicit)) from None
        except (ConnectionError, OSError) as exc:
            if isinstance(exc, ConnectionAbortedError) and "longer than" in str(exc):
                raise DiagnosedError(on_timeout(timeout)) from None
            kind = "plaintext" if early[:3].isdigit() else await self._version_probe(implicit)
            raise DiagnosedError(
                rc.tls_handshake_failed(s, kind, str(exc) or type(exc).__name__, implicit=implicit)
            ) from None
        ssl_object = self.conn.ssl_object
        pinned = normalize_fingerprint(s.tls.pinned_sha256) if s.tls.pinned_sha256 else None
        details = tls_info.details_from(ssl_object, verified=s.tls.verify and not pinned)
        if details is None:
            raise DiagnosedError(rc.tls_handshake_failed(s, "", "the server sent no certificate", implicit=implicit))
        if pinned:
            if details.sha256 != pinned:
                self.tls = details
                self.emit(TlsEstablished(details))
                raise DiagnosedError(self._cert_diagnosis(Code.CERT_UNTRUSTED, "pin_mismatch", details, None))
            details = TlsDetails(**{**_fields(details), "verified": True})
            self.info("The certificate matches the pinned SHA-256 fingerprint", LogLevel.DETAIL)
        elif not s.tls.verify:
            self.info("Certificate verification is turned off (--insecure)", LogLevel.INFO)
        self.tls = details
        self.emit(TlsEstablished(details))
        self.info(f"TLS {details.protocol}, {details.cipher}; certificate {details.subject}", LogLevel.DETAIL)

    def _cert_diagnosis(self, code: Code, variant: str, details: TlsDetails | None, exc: Exception | None) -> Diagnosis:
        s = self.settings
        params = dict(rc.base_params(s))
        params["detail"] = (getattr(exc, "verify_message", None) or str(exc)) if exc else ""
        actions: list[Action] = []
        if details is not None:
            params.update(
                subject=details.subject,
                issuer=details.issuer,
                not_before=details.not_before,
                not_after=details.not_after,
                sha256=details.sha256,
                sans=", ".join(details.sans),
            )
            if code is Code.CERT_UNTRUSTED:
                actions.append(
                    Action(
                        "trust_certificate",
                        QT_TRANSLATE_NOOP("Diagnosis", "Trust this certificate ({sha256})"),
                        {"sha256": details.sha256},
                    )
                )
            if code is Code.CERT_UNTRUSTED and variant == "":
                # the GUI's file chooser; the CLI names --cafile in its own fix text
                actions.append(Action("choose_cafile", QT_TRANSLATE_NOOP("Diagnosis", "Choose CA file…")))
            if code is Code.CERT_HOSTNAME_MISMATCH:
                names = [n[4:] for n in details.sans if n.startswith("DNS:") and "*" not in n]
                if names:
                    actions.append(
                        Action(
                            "switch_settings",
                            QT_TRANSLATE_NOOP("Diagnosis", "Use the name {host}"),
                            {"host": names[0], "port": s.port, "security": s.security.value},
                        )
                    )
        return Diagnosis(code, variant, params, actions=tuple(actions))

    async def _version_probe(self, implicit: bool) -> str:
        """With TLS 1.3 required, an unexplained failure is 'version' if the server completes a TLS 1.2 handshake."""
        if self.settings.tls.minimum is not TlsMinimum.TLS1_3:
            return ""
        details = await self._probe_certificate(implicit=implicit, report=False)
        return "version" if details is not None and details.protocol != "TLSv1.3" else ""

    async def _probe_certificate(self, *, implicit: bool, report: bool = True) -> TlsDetails | None:
        """Second, non-verifying handshake (TLS 1.2 allowed) on a fresh connection, only to read the certificate."""
        s = self.settings
        if self.conn is not None:
            self.conn.close()
        probe: SmtpConnection | None = None
        self.quiet = True
        try:
            if s.proxy:
                from app.core.net import open_via_proxy

                sock = await asyncio.wait_for(
                    open_via_proxy(s.proxy, s.host, s.port, self.remaining()), max(self.remaining(), 0.01)
                )
            else:
                sock, _ = await self._connect_direct(quiet=True)
            probe = await SmtpConnection.from_socket(sock, self._transcript)
            limit = max(min(s.timeouts.command, self.remaining()), 0.01)
            if not implicit:
                await asyncio.wait_for(self._probe_starttls(probe), limit)
            ctx = tls_info.make_context(replace(s.tls, minimum=TlsMinimum.TLS1_2), verify=False)
            await asyncio.wait_for(probe.start_tls(ctx, s.host.strip("[]"), limit), limit)
            details = tls_info.details_from(probe.ssl_object, verified=False)
        except (OSError, ssl.SSLError, asyncio.TimeoutError, DiagnosedError, SmtpProtocolError) as exc:
            log.info("could not fetch the certificate for details: %s", exc)
            return None
        finally:
            self.quiet = False
            if probe is not None:
                probe.close()
        if details is not None and report:
            self.tls = details
            self.emit(TlsEstablished(details))
        return details

    async def _probe_starttls(self, probe: SmtpConnection) -> None:
        await probe.read_reply()
        r = await probe.command(f"EHLO {self.ehlo_name(probe)}")
        if not r.ok:
            raise SmtpProtocolError("garbage", "EHLO refused")
        r = await probe.command("STARTTLS")
        if r.code != 220:
            raise SmtpProtocolError("garbage", "STARTTLS refused")

    # greeting / EHLO ----------------------------------------------------------------------------
    async def _greeting(self) -> str:
        s = self.settings
        conn = self.conn
        assert conn is not None
        before = conn.bytes_received
        self.greeting_from = time.monotonic()
        probe_failed = False

        def on_timeout(secs: float) -> Diagnosis:
            started = conn.bytes_received > before
            if probe_failed and not started:
                return modes.silent_server(s, s.timeouts.greeting)
            return rc.greeting_timeout(s, secs, started=started)

        read = asyncio.ensure_future(conn.read_reply())
        try:
            if s.security is not Security.SSL:
                probe_failed = await self._mismatch_probe(read, before)
            reply = await self.timed(read, s.timeouts.greeting - self._greeting_waited(), on_timeout)
        finally:
            read.cancel()
        if reply.code != 220:
            raise DiagnosedError(rc.greeting_refused(s, reply))
        return reply.message[:120]

    def _greeting_waited(self) -> float:
        """Seconds since the greeting wait began."""
        return time.monotonic() - self.greeting_from

    async def _mismatch_probe(self, read: asyncio.Future, before: int) -> bool:
        """Silence after a short grace: race a TLS handshake on the same port against the greeting.

        Raises DiagnosedError(implicit_tls) when the handshake completes first; returns True when it
        failed (the server is silent, not TLS), False when the greeting (or its first byte) came first.
        """
        s = self.settings
        conn = self.conn
        assert conn is not None
        grace = min(mismatch.grace_for(s.timeouts.greeting), self.remaining())
        await asyncio.wait({read}, timeout=max(grace - self._greeting_waited(), 0))
        if read.done() or conn.bytes_received > before:
            return False
        left = min(s.timeouts.greeting - self._greeting_waited(), self.remaining())
        self.info("No greeting yet: checking whether the port expects SSL/TLS", LogLevel.DETAIL)
        # the probe ends a little before the greeting wait, so a silent non-TLS port is named as such
        probe = asyncio.ensure_future(mismatch.speaks_tls(self._fresh_socket, s.host.strip("[]"), left * 0.9))
        try:
            await asyncio.wait({read, probe}, timeout=max(left, 0), return_when=asyncio.FIRST_COMPLETED)
            if not read.done() and conn.bytes_received == before and probe.done() and probe.result():
                raise DiagnosedError(modes.implicit_tls_port(s, self._greeting_waited()))
            return probe.done() and not probe.result()
        finally:
            probe.cancel()

    async def _fresh_socket(self) -> socket.socket:
        """A second connection to the address (or through the proxy) the session uses."""
        s = self.settings
        limit = max(min(s.timeouts.connect, self.remaining()), 0.01)
        if s.proxy:
            from app.core.net import open_via_proxy

            return await open_via_proxy(s.proxy, s.host, s.port, limit)
        sock, _ = await self._connect_direct(quiet=True)
        return sock

    def ehlo_name(self, conn: SmtpConnection | None = None) -> str:
        if self.settings.ehlo_name and self.settings.ehlo_name.strip():
            return self.settings.ehlo_name.strip()
        name = socket.gethostname()
        if name and "." in name and all(c.isalnum() or c in "-." for c in name):
            return name
        current = conn or self.conn
        local = current.local if current is not None else None
        if local:
            try:
                ip = ipaddress.ip_address(local[0])
                return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"
            except ValueError:
                pass
        return "localhost"

    async def _ehlo(self) -> str:
        return await self._say_ehlo(Stage.EHLO)

    async def _say_ehlo(self, stage: Stage) -> str:
        s = self.settings
        name = self.ehlo_name()
        reply = await self.command(f"EHLO {name}", stage)
        if reply.ok:
            self.capabilities = _parse_capabilities(reply)
            caps = " ".join(self.capabilities)
            self.info(f"Server capabilities: {caps}", LogLevel.DETAIL)
            return f"{len(self.capabilities)} capabilities"
        if reply.code == 421:
            raise DiagnosedError(rc.greeting_refused(s, reply))
        self.info("The server rejected EHLO; falling back to HELO", LogLevel.DETAIL)
        helo = await self.command(f"HELO {name}", stage)
        if not helo.ok:
            raise DiagnosedError(
                Diagnosis(
                    Code.PROTOCOL_ERROR,
                    "helo_rejected",
                    dict(rc.base_params(s), reply=helo.message, stage=stage.value),
                    server_reply=helo.text,
                )
            )
        self.capabilities = {}
        return "HELO accepted (no extensions)"

    async def _starttls(self) -> str:
        s = self.settings
        assert self.conn is not None
        if "STARTTLS" not in self.capabilities:
            actions = (
                rc.switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port 465"), 465, Security.SSL),
                Action("autodetect", QT_TRANSLATE_NOOP("Diagnosis", "Find working settings automatically")),
            )
            raise DiagnosedError(Diagnosis(Code.STARTTLS_UNSUPPORTED, "", rc.base_params(s), actions=actions))
        reply = await self.command("STARTTLS", Stage.STARTTLS)
        if reply.code != 220:
            if reply.code == 421:
                raise DiagnosedError(rc.greeting_refused(s, reply))
            raise DiagnosedError(
                Diagnosis(
                    Code.STARTTLS_UNSUPPORTED,
                    "refused",
                    dict(rc.base_params(s), reply=reply.message),
                    server_reply=reply.text,
                )
            )
        if self.conn.pending_bytes:
            raise SmtpProtocolError(
                "garbage", "the server sent data right after agreeing to STARTTLS (possible injection)"
            )
        await self._handshake(implicit=False)
        await self._say_ehlo(Stage.STARTTLS)
        assert self.tls is not None
        return f"{self.tls.protocol} {self.tls.cipher}"

    # AUTH ---------------------------------------------------------------------------------------
    def choose_mechanism(self) -> str:
        """The mechanism to use: allowed ∩ advertised, strongest first; DiagnosedError if none."""
        s = self.settings
        offered = self.auth_offered()
        wanted = AUTO_ORDER if s.auth is AuthMechanism.AUTO else (s.auth.value.upper(),)
        for mech in wanted:
            if mech in offered:
                return mech
        p = dict(rc.base_params(s), wanted=", ".join(wanted), offered=", ".join(sorted(offered)) or "-")
        variant = "none_offered" if not offered else ""
        raise DiagnosedError(Diagnosis(Code.AUTH_MECHANISM_UNSUPPORTED, variant, p))

    def auth_offered(self) -> set[str]:
        mechs = set(self.capabilities.get("AUTH", "").upper().split())
        return mechs

    async def _auth(self) -> str:
        s = self.settings
        assert self.conn is not None
        if not self.conn.tls and not s.allow_plain_auth:
            actions: list[Action] = []
            if "STARTTLS" in self.capabilities:
                actions.append(
                    rc.switch_action(
                        QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port {port}"), s.port, Security.STARTTLS
                    )
                )
            else:
                actions.append(
                    rc.switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port 465"), 465, Security.SSL)
                )
            variant = "" if ("STARTTLS" in self.capabilities and not self.auth_offered()) else "plain_refused"
            if variant:
                actions.append(
                    Action("allow_plain", QT_TRANSLATE_NOOP("Diagnosis", "Send the password unencrypted anyway"))
                )
            raise DiagnosedError(Diagnosis(Code.AUTH_REQUIRES_TLS, variant, rc.base_params(s), actions=tuple(actions)))
        mech = self.choose_mechanism()
        self.auth_mechanism = mech
        self.info(f"Logging in as {s.username} with {mech}", LogLevel.DETAIL)
        reply = await self._auth_exchange(mech)
        if reply.code != 235:
            raise DiagnosedError(rc.auth_reply(s, reply, mech, self.provider, getattr(self, "bearer_challenge", None)))
        self.auth_verified = True
        return f"{mech} accepted"

    async def _auth_exchange(self, mech: str) -> Reply:
        user = self.settings.username
        password = self._password or ""
        b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
        if mech == "PLAIN":
            token = b64(f"\0{user}\0{password}".encode())
            return await self.command(f"AUTH PLAIN {token}", Stage.AUTH, shown=f"AUTH PLAIN {MASK}")
        if mech == "XOAUTH2":
            token = b64(f"user={user}\x01auth=Bearer {password}\x01\x01".encode())
            reply = await self.command(f"AUTH XOAUTH2 {token}", Stage.AUTH, shown=f"AUTH XOAUTH2 {MASK}")
            if reply.code == 334:  # error details as a challenge; an empty line ends the exchange
                self.bearer_challenge = reply.message[:4096]
                reply = await self.command("", Stage.AUTH, shown="")
            return reply
        if mech == "LOGIN":
            reply = await self.command("AUTH LOGIN", Stage.AUTH)
            if reply.code != 334:
                return reply
            reply = await self.command(b64(user.encode("utf-8")), Stage.AUTH, shown=MASK)
            if reply.code != 334:
                return reply
            return await self.command(b64(password.encode("utf-8")), Stage.AUTH, shown=MASK)
        if mech == "CRAM-MD5":
            reply = await self.command("AUTH CRAM-MD5", Stage.AUTH)
            if reply.code != 334:
                return reply
            try:
                challenge = base64.b64decode(reply.message.strip(), validate=True)
            except (ValueError, binascii.Error):
                if self.conn is not None:
                    self.conn.send_line("*")  # cancel the exchange (RFC 4954)
                raise SmtpProtocolError("garbage", "the CRAM-MD5 challenge is not base64") from None
            digest = hmac.new(password.encode("utf-8"), challenge, hashlib.md5).hexdigest()
            return await self.command(b64(f"{user} {digest}".encode()), Stage.AUTH, shown=MASK)
        raise DiagnosedError(
            diagnose(Code.AUTH_MECHANISM_UNSUPPORTED, "", wanted=mech, offered=mech, **rc.base_params(self.settings))
        )

    # QUIT ---------------------------------------------------------------------------------------
    async def quit(self) -> None:
        """QUIT politely (its failure does not fail the check), then close."""

        async def body() -> str:
            assert self.conn is not None
            try:
                reply = await asyncio.wait_for(
                    self.conn.command("QUIT"), max(min(self.settings.timeouts.command, self.remaining(), 2.0), 0.01)
                )
                return reply.message[:80]
            except (asyncio.TimeoutError, SmtpProtocolError, OSError) as exc:
                self.info(f"No clean answer to QUIT ({exc}); closing anyway", LogLevel.DETAIL)
                return "closed"
            finally:
                self.close()

        await self.stage(Stage.QUIT, body)


def _parse_capabilities(reply: Reply) -> dict[str, str]:
    caps: dict[str, str] = {}
    for line in reply.lines[1:]:
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        key = parts[0].upper()
        value = parts[1] if len(parts) > 1 else ""
        if key.startswith("AUTH="):  # old-style "AUTH=LOGIN PLAIN"
            key, value = "AUTH", (key[5:] + " " + value).strip() + " " + caps.get("AUTH", "")
        elif key == "AUTH" and "AUTH" in caps:
            value = value + " " + caps["AUTH"]
        caps[key] = value.strip()
    return caps


def _safe_emit(on_event: EventCallback, event: Any) -> None:
    try:
        on_event(event)
    except Exception:
        log.exception("event callback failed for %r", type(event).__name__)


def _redacted_proxy(url: str | None) -> str:
    try:
        from app.core.net import parse_proxy_url

        return parse_proxy_url(url or "").redacted()
    except Exception:  # never show a URL that may hold a password
        return "(proxy)"


def _fields(obj: Any) -> dict:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


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
        _safe_emit(on_event, LogLine(LogLevel.INFO, problem.title))
        return CheckResult(False, problem, settings, _ms(t0))
    session = SmtpSession(settings, password, on_event, provider)
    try:
        await session.open(stop_after)
        await session.quit()
    except _StageFailed as failed:
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
