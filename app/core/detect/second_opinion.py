"""The second opinion: an independent SMTP client (aiosmtplib) repeats a check the engine could not finish.

Why a second client at all: when our engine times out or a TLS handshake fails, an independent
implementation tells "the network/server really does this" from "our client has a problem".
aiosmtplib is async (cancelled with its task: no thread outlives the verdict), takes a connected
``sock=`` (our proxies), encodes logins as UTF-8 and bounds every reply (32 KiB). Every wait is
given explicitly and clipped to the caller's ``limit``; the whole run is also wrapped in one
``wait_for(limit)``, so nothing here can exceed it.

A login that was asked for but not tried (no mechanism in common, plaintext not allowed) is never
a verified login: ``SecondOpinion.login_verified`` stays False and ``complete`` is False.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from app.core.catalog import Provider
from app.core.diagnosis import DiagnosedError
from app.core.model import (
    QT_TRANSLATE_NOOP,
    AuthMechanism,
    Security,
    SmtpSettings,
    Text,
    TlsMinimum,
    log_text,
    normalize_fingerprint,
    plain,
)
from app.core.model import wait_for as _wait_for
from app.core.net import ConnectFailed

log = logging.getLogger(__name__)

CLIENT = "aiosmtplib"


@dataclass(frozen=True)
class SecondOpinion:
    """What the second client saw.

    ``ok``: it connected and finished every step asked of it (TLS, STARTTLS, the login when one
    was given). ``stage``: where it stopped (connect, greeting, ehlo, starttls, auth, done,
    deadline). ``login_verified``: the server accepted the login from this client.
    """

    ok: bool
    stage: str
    detail: str
    elapsed_ms: float
    login_wanted: bool = False
    login_verified: bool = False
    client: str = CLIENT
    reason: Text | None = field(default=None, compare=False)  # ``detail`` as a translatable Text (the UI's log)

    def reason_text(self) -> Text:
        return self.reason if self.reason is not None else plain(self.detail)

    @property
    def agrees(self) -> bool:
        """It failed too: the engine's failure is what the network/server really does."""
        return not self.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "ok": self.ok,
            "agrees": self.agrees,
            "stage": self.stage,
            "detail": self.detail,
            "login_wanted": self.login_wanted,
            "login_verified": self.login_verified,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def _context(settings: SmtpSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=settings.tls.cafile)
    ctx.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if settings.tls.minimum is TlsMinimum.TLS1_3 else ssl.TLSVersion.TLSv1_2
    )
    if not settings.tls.verify or settings.tls.pinned_sha256:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _pin_ok(client: Any, settings: SmtpSettings) -> bool:
    if not settings.tls.pinned_sha256:
        return True
    ssl_object = client.get_transport_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return der is not None and hashlib.sha256(der).hexdigest() == normalize_fingerprint(settings.tls.pinned_sha256)


class _Run:
    """One second-opinion run; ``stage`` tracks where it is for the report."""

    def __init__(self, settings: SmtpSettings, password: str | None, limit: float):
        self.settings = settings
        self.password = password or ""
        self.login_wanted = bool(settings.username and password)
        self.login_verified = False
        self.stage = "connect"
        self.t0 = time.monotonic()
        self.deadline = self.t0 + max(limit, 0.0)
        self.client: Any = None
        self.waited = 0.0  # the last wait given to aiosmtplib (for "no answer within ... s")

    def wait(self, own: float) -> float:
        """``own`` clipped to the time left (never 0: aiosmtplib treats 0 as no wait at all)."""
        self.waited = max(min(own, self.deadline - time.monotonic()), 0.01)
        return self.waited

    def result(self, ok: bool, reason: Text) -> SecondOpinion:
        elapsed = (time.monotonic() - self.t0) * 1000
        return SecondOpinion(
            ok, self.stage, str(reason), elapsed, self.login_wanted, self.login_verified, reason=reason
        )

    async def go(self) -> SecondOpinion:
        import aiosmtplib

        s, t = self.settings, self.settings.timeouts
        ctx = _context(s)
        sock = await self.open_socket()
        self.stage = "greeting"
        # the socket is ours (proxy or Happy Eyeballs); aiosmtplib then waits for TLS and the greeting as the
        # engine does: the greeting timeout (the command timeout for an implicit-TLS handshake)
        first_wait = max(t.greeting, t.command) if s.security is Security.SSL else t.greeting
        self.client = aiosmtplib.SMTP(
            hostname=s.host.strip("[]"),
            sock=sock,  # with sock= aiosmtplib takes no port
            local_hostname=_ehlo_name(s, sock),  # never aiosmtplib's default: getfqdn() can block for seconds
            use_tls=s.security is Security.SSL,
            start_tls=False,
            tls_context=ctx,
            timeout=self.wait(first_wait),
        )
        reply = await self.client.connect(timeout=self.wait(first_wait))
        self.stage = "greeting"
        if s.security is Security.SSL and not _pin_ok(self.client, s):
            return self.result(
                False, log_text(QT_TRANSLATE_NOOP("Log", "the certificate does not match the pinned fingerprint"))
            )
        if reply.code != 220:
            return self.result(
                False,
                log_text(QT_TRANSLATE_NOOP("Log", "greeting {reply}"), reply=f"{reply.code} {_text(reply.message)}"),
            )
        self.stage = "ehlo"
        await self.client.ehlo(timeout=self.wait(t.command))
        if s.security is Security.STARTTLS:
            refused = await self.starttls(ctx)
            if refused is not None:
                return self.result(False, refused)
        if self.login_wanted:
            refused = await self.login()
            if refused is not None:
                return self.result(False, refused)
        self.stage = "done"
        try:
            await self.client.quit(timeout=self.wait(min(t.command, 2.0)))
        except (aiosmtplib.SMTPException, OSError):
            pass
        return self.result(
            True,
            log_text(QT_TRANSLATE_NOOP("Log", "connected and logged in"))
            if self.login_verified
            else log_text(QT_TRANSLATE_NOOP("Log", "connected")),
        )

    async def open_socket(self) -> Any:
        """A connected socket of our own (through the proxy, or Happy Eyeballs) for aiosmtplib to use."""
        s, t = self.settings, self.settings.timeouts
        if s.proxy:
            from app.core.net import open_via_proxy

            return await open_via_proxy(s.proxy, s.host, s.port, self.wait(t.connect))
        from app.core.net import open_tcp

        sock, _addr, _attempts = await open_tcp(s.host, s.port, self.wait(t.connect))
        return sock

    async def starttls(self, ctx: Any) -> Text | None:
        """STARTTLS and EHLO again; None when done, else why the second opinion stops here."""
        s, t = self.settings, self.settings.timeouts
        self.stage = "starttls"
        if not self.client.supports_extension("starttls"):
            return log_text(QT_TRANSLATE_NOOP("Log", "the server offers no STARTTLS"))
        await self.client.starttls(tls_context=ctx, timeout=self.wait(t.command))
        if not _pin_ok(self.client, s):
            return log_text(QT_TRANSLATE_NOOP("Log", "the certificate does not match the pinned fingerprint"))
        await self.client.ehlo(timeout=self.wait(t.command))
        return None

    async def login(self) -> Text | None:
        """Log in as the settings say; None when accepted, else why the login was not verified."""
        s, t = self.settings, self.settings.timeouts
        self.stage = "auth"
        if s.security is Security.NONE and not s.allow_plain_auth:
            return log_text(QT_TRANSLATE_NOOP("Log", "login not tried: unencrypted connection not allowed"))
        if not self.client.supports_extension("auth"):
            return log_text(QT_TRANSLATE_NOOP("Log", "login not tried: the server offers no AUTH"))
        timeout = self.wait(t.command)
        if s.auth is AuthMechanism.AUTO:
            await self.client.login(s.username, self.password, timeout=timeout)
        else:
            method = {
                AuthMechanism.PLAIN: self.client.auth_plain,
                AuthMechanism.LOGIN: self.client.auth_login,
                AuthMechanism.CRAM_MD5: self.client.auth_crammd5,
                AuthMechanism.XOAUTH2: self.client.auth_xoauth2,
            }[s.auth]
            if s.auth.value.upper() not in self.client.server_auth_methods:
                return log_text(
                    QT_TRANSLATE_NOOP("Log", "login not tried: the server does not offer {mechanism}"),
                    mechanism=s.auth.value.upper(),
                )
            await method(s.username, self.password, timeout=timeout)
        self.login_verified = True
        return None

    def explain(self, exc: BaseException) -> SecondOpinion:
        """A failure as a plain sentence (never the password: aiosmtplib's errors do not carry it)."""
        import aiosmtplib

        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return self.result(
                False,
                log_text(QT_TRANSLATE_NOOP("Log", "login refused: {reply}"), reply=f"{exc.code} {_text(exc.message)}"),
            )
        if isinstance(exc, (aiosmtplib.SMTPTimeoutError, TimeoutError, asyncio.TimeoutError)):
            return self.result(
                False, log_text(QT_TRANSLATE_NOOP("Log", "no answer within {seconds} s"), seconds=f"{self.waited:.3g}")
            )
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            return self.result(False, plain(f"{exc.code} {_text(exc.message)}"))
        cause = exc.__cause__ if isinstance(exc, aiosmtplib.SMTPConnectError) else exc
        if isinstance(cause, ssl.SSLCertVerificationError):
            return self.result(
                False,
                log_text(
                    QT_TRANSLATE_NOOP("Log", "certificate not trusted: “{reason}”"),
                    reason=cause.verify_message or cause.reason,
                ),
            )
        if isinstance(cause, ssl.SSLError):
            return self.result(
                False, log_text(QT_TRANSLATE_NOOP("Log", "TLS failed: “{reason}”"), reason=cause.reason or str(cause))
            )
        if isinstance(cause, ConnectFailed):
            if cause.timed_out and not any(isinstance(a.error, OSError) for a in cause.attempts):
                return self.result(
                    False,
                    log_text(QT_TRANSLATE_NOOP("Log", "no answer within {seconds} s"), seconds=f"{self.waited:.3g}"),
                )
            refused = [a for a in cause.attempts if isinstance(a.error, ConnectionRefusedError)]
            if refused:
                return self.result(False, log_text(QT_TRANSLATE_NOOP("Log", "connection refused")))
            return self.result(False, plain(str(cause)))
        if isinstance(cause, ConnectionRefusedError):
            return self.result(False, log_text(QT_TRANSLATE_NOOP("Log", "connection refused")))
        if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
            return self.result(False, log_text(QT_TRANSLATE_NOOP("Log", "the server closed the connection")))
        if isinstance(exc, DiagnosedError):  # the proxy failed; its reason never holds the proxy password
            return self.result(
                False,
                log_text(
                    QT_TRANSLATE_NOOP("Log", "proxy: {reason}"),
                    reason=exc.diagnosis.params.get("reason", exc.diagnosis.code.value),
                ),
            )
        if isinstance(cause, OSError):
            return self.result(False, plain(cause.strerror or str(cause) or type(cause).__name__))
        return self.result(False, plain(type(exc).__name__))

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # closing a half-open transport must never mask the result
                log.debug("closing the second client failed", exc_info=True)


async def second_opinion(
    settings: SmtpSettings, password: str | None, *, limit: float, provider: Provider | None = None
) -> SecondOpinion:
    """Check ``settings`` with aiosmtplib within ``limit`` seconds; never raises (except on cancellation)."""
    if password and provider is not None and provider.strip_password_spaces:
        password = password.replace(" ", "")
    run = _Run(settings, password, limit)
    try:
        return await _wait_for(run.go(), max(limit, 0.01))
    except asyncio.TimeoutError as exc:
        if time.monotonic() < run.deadline:  # aiosmtplib's own timeout (a TimeoutError too), not our limit
            return run.explain(exc)
        return run.result(
            False, log_text(QT_TRANSLATE_NOOP("Log", "no result within {seconds} s"), seconds=f"{limit:.3g}")
        )
    except Exception as exc:
        return run.explain(exc)
    finally:
        run.close()


def _ehlo_name(settings: SmtpSettings, sock: socket.socket) -> str:
    """The EHLO name: the configured one, a dotted host name, else our address literal (RFC 5321 4.1.3)."""
    if settings.ehlo_name and settings.ehlo_name.strip():
        return settings.ehlo_name.strip()
    name = socket.gethostname()
    if name and "." in name and all(c.isalnum() or c in "-." for c in name):
        return name
    try:
        ip = ipaddress.ip_address(sock.getsockname()[0])
    except (OSError, ValueError, IndexError):
        return "localhost"
    return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"


def _text(msg: Any) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(str(msg).split())[:300]


__all__ = ["SecondOpinion", "second_opinion"]
