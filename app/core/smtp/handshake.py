"""The TLS stages of the staged check: the handshake (implicit TLS or after STARTTLS), certificate pinning,
and the second, non-verifying handshake that fetches a certificate's details when verification failed.

``TlsStages`` is a mixin of ``SmtpSession`` (session.py): it uses the session's connection, timers and
events, and keeps the method names the IMAP/POP3 sessions (app.core.incoming) override or call.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from app.core.diagnosis import Code, DiagnosedError, Diagnosis, stages
from app.core.diagnosis import classify as rc
from app.core.diagnosis import mismatch as modes
from app.core.model import (
    QT_TRANSLATE_NOOP,
    LogLevel,
    SmtpSettings,
    Text,
    TlsDetails,
    TlsEstablished,
    TlsMinimum,
    TranscriptLine,
    log_text,
    normalize_fingerprint,
)
from app.core.model import wait_for as _wait_for
from app.core.smtp import tls as tls_info
from app.core.smtp.connection import SmtpConnection, SmtpProtocolError

log = logging.getLogger(__name__)

T = TypeVar("T")


class TlsStages:
    """The TLS part of SmtpSession (what it uses of the session is declared here for the type checker)."""

    settings: SmtpSettings
    conn: SmtpConnection | None
    tls: TlsDetails | None
    quiet: bool

    if TYPE_CHECKING:

        def emit(self, event: Any) -> None: ...
        def info(self, text: Text, level: LogLevel = LogLevel.INFO) -> None: ...
        def remaining(self) -> float: ...
        def ehlo_name(self, conn: SmtpConnection | None = None) -> str: ...
        def _transcript(self, line: TranscriptLine) -> None: ...
        async def timed(self, aw: Awaitable[T], timeout: float, on_timeout: Callable[[float], Diagnosis]) -> T: ...
        async def _connect_direct(self, quiet: bool) -> tuple[socket.socket, str]: ...

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
            self.info(
                log_text(QT_TRANSLATE_NOOP("Log", "The server sent a plaintext greeting before the TLS handshake.")),
                LogLevel.DETAIL,
            )
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
            raise DiagnosedError(
                stages.certificate(s, Code(code), variant, details, tls_info.verify_reason(exc))
            ) from None
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
        self._accept_certificate(implicit)

    def _accept_certificate(self, implicit: bool) -> None:
        """After the handshake: the certificate's details, the pin compared; TlsEstablished emitted."""
        s = self.settings
        assert self.conn is not None
        ssl_object = self.conn.ssl_object
        pinned = normalize_fingerprint(s.tls.pinned_sha256) if s.tls.pinned_sha256 else None
        details = tls_info.details_from(ssl_object, verified=s.tls.verify and not pinned)
        if details is None:
            raise DiagnosedError(rc.tls_handshake_failed(s, "", "the server sent no certificate", implicit=implicit))
        if pinned:
            if details.sha256 != pinned:
                self.tls = details
                self.emit(TlsEstablished(details))
                raise DiagnosedError(stages.certificate(s, Code.CERT_UNTRUSTED, "pin_mismatch", details, ""))
            details = replace(details, verified=True)
            self.info(
                log_text(QT_TRANSLATE_NOOP("Log", "The certificate matches the pinned SHA-256 fingerprint.")),
                LogLevel.DETAIL,
            )
        elif not s.tls.verify:
            self.info(log_text(QT_TRANSLATE_NOOP("Log", "Certificate verification is turned off.")), LogLevel.INFO)
        self.tls = details
        self.emit(TlsEstablished(details))
        self.info(
            log_text(
                QT_TRANSLATE_NOOP("Log", "TLS {protocol}, {cipher}; certificate {subject}."),
                protocol=details.protocol,
                cipher=details.cipher,
                subject=details.subject,
            ),
            LogLevel.DETAIL,
        )

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

                sock = await _wait_for(
                    open_via_proxy(s.proxy, s.host, s.port, self.remaining()), max(self.remaining(), 0.01)
                )
            else:
                sock, _ = await self._connect_direct(quiet=True)
            probe = await SmtpConnection.from_socket(sock, self._transcript)
            limit = max(min(s.timeouts.command, self.remaining()), 0.01)
            if not implicit:
                await _wait_for(self._probe_starttls(probe), limit)
            ctx = tls_info.make_context(replace(s.tls, minimum=TlsMinimum.TLS1_2), verify=False)
            await _wait_for(probe.start_tls(ctx, s.host.strip("[]"), limit), limit)
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
