"""A second opinion when a check fails without a definitive server answer.

The classic "async failed, retry with smtplib" fallback, done so that it helps instead of
hiding problems: when ``run_check`` ends in a timeout, a TLS or a connection error, two
things run at the same time, each within the same timeouts as the first check:

- a second, independent client (the standard library's ``smtplib``, in a worker thread)
  repeats the check, which tells "the network/server really does this" from "our client
  has a problem";
- the paired alternative on the same host (465/SSL <-> 587/STARTTLS) is checked with the
  engine; if it works, the diagnosis gains a ``switch_settings`` action.

A definitive answer (a 5xx reply such as 535, a certificate the server really presents,
a domain that does not exist) is never retried and never costs a second wait.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass, replace
from typing import Any

from app.core.catalog import Provider
from app.core.diagnosis import QT_TRANSLATE_NOOP, Action, Code, DiagnosedError, Diagnosis
from app.core.model import EventCallback, LogLevel, LogLine, Security, SmtpSettings, TlsMinimum, ignore

log = logging.getLogger(__name__)

# failures that are not a definitive server answer: worth a second opinion
RETRYABLE = frozenset(
    {
        Code.CONNECT_TIMEOUT,
        Code.GREETING_TIMEOUT,
        Code.CONNECT_REFUSED,
        Code.NETWORK_UNREACHABLE,
        Code.TLS_HANDSHAKE_FAILED,
        Code.PROTOCOL_ERROR,
    }
)


def is_definitive(diagnosis: Diagnosis | None) -> bool:
    """True for answers a retry cannot change (5xx replies, certificates, a name that does not exist)."""
    if diagnosis is None:
        return True
    if diagnosis.code is Code.DNS_FAILED:
        return diagnosis.variant not in ("temporary", "timeout")
    return diagnosis.code not in RETRYABLE


def paired_alternative(settings: SmtpSettings) -> SmtpSettings | None:
    """465/SSL <-> 587/STARTTLS on the same host (other ports map to the other standard mode)."""
    if settings.security is Security.SSL:
        alt = settings.with_(port=587, security=Security.STARTTLS)
    elif settings.security is Security.STARTTLS:
        alt = settings.with_(port=465, security=Security.SSL)
    else:
        return None
    if (alt.port, alt.security) == (settings.port, settings.security):
        return None
    return alt


@dataclass(frozen=True)
class Confirmation:
    """What the second client (smtplib) saw. ``agrees``: it failed too, so the failure is real."""

    ok: bool
    agrees: bool
    stage: str  # where it stopped: connect, tls, greeting, ehlo, starttls, auth, done
    detail: str
    elapsed_ms: float
    client: str = "python smtplib"

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "ok": self.ok,
            "agrees": self.agrees,
            "stage": self.stage,
            "detail": self.detail,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass(frozen=True)
class FallbackResult:
    """run_check's result plus the second opinion and the alternative, when they ran.

    ``ok``: the given settings work (by the engine, or by the second client).
    ``diagnosis``: the engine's diagnosis, with a ``switch_settings`` action when the
    alternative works. ``notes``: plain sentences for the log and the result.
    """

    ok: bool
    check: Any  # CheckResult of the given settings
    diagnosis: Diagnosis | None
    confirmation: Confirmation | None = None
    alternative: Any = None  # CheckResult of the paired alternative
    notes: tuple[str, ...] = ()
    elapsed_ms: float = 0.0

    @property
    def settings(self) -> SmtpSettings:
        return self.check.settings

    @property
    def alternative_works(self) -> bool:
        return bool(self.alternative is not None and self.alternative.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary(),
            "check": self.check.to_dict(),
            "confirmation": self.confirmation.to_dict() if self.confirmation else None,
            "alternative": self.alternative.to_dict() if self.alternative is not None else None,
            "notes": list(self.notes),
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


# --------------------------------------------------------------------------- the second client
def _client_context(settings: SmtpSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=settings.tls.cafile)
    ctx.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if settings.tls.minimum is TlsMinimum.TLS1_3 else ssl.TLSVersion.TLSv1_2
    )
    if not settings.tls.verify or settings.tls.pinned_sha256:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _proxy_socket(settings: SmtpSettings, timeout: float) -> socket.socket:
    from app.core.net import connect_via_proxy_sync

    return connect_via_proxy_sync(settings.proxy or "", settings.host, settings.port, timeout)


def _make_client(settings: SmtpSettings, ctx: ssl.SSLContext, timeout: float, connected) -> smtplib.SMTP:
    """An smtplib client for ``settings`` (through the proxy when one is set); not yet connected.

    ``connected(sock)`` is called once the socket (and, for implicit TLS, the handshake) is up.
    """
    name = settings.ehlo_name or None
    if settings.security is Security.SSL:

        class _SSL(smtplib.SMTP_SSL):
            def _get_socket(self, host, port, timeout):
                if settings.proxy:
                    raw = _proxy_socket(settings, timeout)
                    sock = self.context.wrap_socket(raw, server_hostname=host)
                else:
                    sock = super()._get_socket(host, port, timeout)
                connected(sock)
                return sock

        return _SSL(local_hostname=name, timeout=timeout, context=ctx)

    class _Plain(smtplib.SMTP):
        def _get_socket(self, host, port, timeout):
            sock = _proxy_socket(settings, timeout) if settings.proxy else super()._get_socket(host, port, timeout)
            connected(sock)
            return sock

    return _Plain(local_hostname=name, timeout=timeout)


def stdlib_check(settings: SmtpSettings, password: str | None) -> Confirmation:
    """Check ``settings`` with the standard library's smtplib (blocking; run it in a thread)."""
    t0 = time.monotonic()
    t = settings.timeouts
    # the same waits as the engine: connect timeout, then the greeting timeout, then the command timeout
    waits = {"connect": max(t.connect, 0.05), "greeting": max(t.greeting, 0.05)}
    timeout = waits["connect"]
    ctx = _client_context(settings)
    progress = {"stage": "connect"}
    client: smtplib.SMTP | None = None

    def done(ok: bool, detail: str) -> Confirmation:
        return Confirmation(ok, not ok, progress["stage"], detail, (time.monotonic() - t0) * 1000)

    def connected(sock: socket.socket) -> None:
        progress["stage"] = "greeting"
        sock.settimeout(waits["greeting"])

    def waited() -> float:
        return waits.get(progress["stage"], max(t.command, 0.05))

    try:
        client = _make_client(settings, ctx, timeout, connected)
        client._host = settings.host  # what smtplib's constructor sets; used as the TLS server name
        code, msg = client.connect(settings.host, settings.port)
        progress["stage"] = "greeting"
        if settings.security is Security.SSL and not _pin_ok(client, settings):
            return done(False, "the certificate does not match the pinned fingerprint")
        if code != 220:
            return done(False, f"greeting {code} {_text(msg)}")
        if client.sock is not None:
            client.sock.settimeout(max(t.command, 0.05))
        progress["stage"] = "ehlo"
        client.ehlo_or_helo_if_needed()
        if settings.security is Security.STARTTLS:
            progress["stage"] = "starttls"
            if not client.has_extn("starttls"):
                return done(False, "the server offers no STARTTLS")
            client.starttls(context=ctx)
            if not _pin_ok(client, settings):
                return done(False, "the certificate does not match the pinned fingerprint")
            client.ehlo()
        login = bool(settings.username and password)
        note = ""
        if login and not (settings.username + (password or "")).isascii():
            login, note = False, " (login not tried: smtplib sends only ASCII logins and passwords)"
        if login:
            if settings.security is Security.NONE and not settings.allow_plain_auth:
                return done(False, "login over an unencrypted connection not allowed")
            progress["stage"] = "auth"
            client.login(settings.username, password)
        progress["stage"] = "done"
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        return done(True, "connected" + (" and logged in" if login else note))
    except smtplib.SMTPAuthenticationError as exc:
        return done(False, f"login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    except smtplib.SMTPResponseException as exc:
        return done(False, f"{exc.smtp_code} {_text(exc.smtp_error)}")
    except ssl.SSLCertVerificationError as exc:
        return done(False, f"certificate not trusted: {exc.verify_message or exc.reason}")
    except ssl.SSLError as exc:
        return done(False, f"TLS failed: {exc.reason or exc}")
    except TimeoutError:
        return done(False, f"no answer within {waited():g} s")
    except ConnectionRefusedError:
        return done(False, "connection refused")
    except smtplib.SMTPServerDisconnected as exc:
        if "timed out" in str(exc):  # smtplib reports a read timeout as a disconnect
            return done(False, f"no answer within {waited():g} s")
        return done(False, f"the server closed the connection ({exc})")
    except smtplib.SMTPException as exc:
        return done(False, f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return done(False, exc.strerror or str(exc) or type(exc).__name__)
    except DiagnosedError as exc:  # the proxy failed; its reason never holds the proxy password
        return done(False, f"proxy: {exc.diagnosis.params.get('reason', exc.diagnosis.code.value)}")
    except Exception as exc:
        return done(False, type(exc).__name__)
    finally:
        if client is not None:
            try:
                client.close()
            except OSError:
                pass


def _pin_ok(client: smtplib.SMTP, settings: SmtpSettings) -> bool:
    if not settings.tls.pinned_sha256:
        return True
    import hashlib

    from app.core.model import normalize_fingerprint

    der = client.sock.getpeercert(binary_form=True) if isinstance(client.sock, ssl.SSLSocket) else None
    return bool(der) and hashlib.sha256(der).hexdigest() == normalize_fingerprint(settings.tls.pinned_sha256)


def _text(msg: Any) -> str:
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return " ".join(str(msg).split())


async def confirm_with_stdlib(settings: SmtpSettings, password: str | None) -> Confirmation:
    """``stdlib_check`` in a worker thread, bounded by the settings' total timeout."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(stdlib_check, settings, password), settings.timeouts.total)
    except asyncio.TimeoutError:
        return Confirmation(
            False, True, "timeout", f"no result within {settings.timeouts.total:g} s", settings.timeouts.total * 1000
        )


# --------------------------------------------------------------------------- the fallback
def _label(s: SmtpSettings) -> str:
    return {Security.SSL: "SSL/TLS", Security.STARTTLS: "STARTTLS", Security.NONE: "no encryption"}[s.security]


async def check_with_fallback(
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    alternative: SmtpSettings | str | None = "paired",
) -> FallbackResult:
    """run_check, plus a second client and the 465<->587 alternative when the failure is not definitive.

    ``alternative``: "paired" (465/SSL <-> 587/STARTTLS on the same host), explicit settings
    to try instead, or None for no alternative.
    """
    from app.core.smtp import run_check

    t0 = time.monotonic()
    first = await run_check(settings, password, on_event=on_event, provider=provider)
    if first.ok or is_definitive(first.diagnosis):
        return FallbackResult(first.ok, first, first.diagnosis, elapsed_ms=(time.monotonic() - t0) * 1000)

    alt_settings = paired_alternative(settings) if alternative == "paired" else alternative
    if isinstance(alt_settings, str):
        raise ValueError(f"alternative must be 'paired', SmtpSettings or None, not {alternative!r}")
    on_event(
        LogLine(
            LogLevel.INFO,
            f"Not a definitive answer ({first.diagnosis.code.value}); asking a second client"
            + (f" and trying {alt_settings.port} with {_label(alt_settings)}" if alt_settings else ""),
        )
    )

    def quiet(_e: Any) -> None:
        return None

    confirm_task = asyncio.ensure_future(confirm_with_stdlib(settings, password))
    alt_task = (
        asyncio.ensure_future(run_check(alt_settings, password, on_event=quiet, provider=provider))
        if alt_settings is not None
        else None
    )
    try:
        confirmation = await confirm_task
        alternative = await alt_task if alt_task is not None else None
    except BaseException:
        for t in (confirm_task, alt_task):
            if t is not None:
                t.cancel()
        raise

    notes: list[str] = []
    diagnosis = first.diagnosis
    if confirmation.agrees:
        notes.append(f"Confirmed by a second client (Python smtplib): {confirmation.detail}.")
    else:
        notes.append(
            f"A second client (Python smtplib) succeeded where the first failed ({confirmation.detail}); "
            "the settings work, the first client had a problem."
        )
    if alternative is not None:
        where = f"{alternative.settings.port} with {_label(alternative.settings)}"
        if alternative.ok:
            notes.append(f"{where} works: switch?")
            act = Action(
                "switch_settings",
                QT_TRANSLATE_NOOP("Diagnosis", "{port} with {security_label} works: switch?"),
                {
                    "host": alternative.settings.host,
                    "port": alternative.settings.port,
                    "security": alternative.settings.security.value,
                    "security_label": _label(alternative.settings),
                },
            )
            diagnosis = replace(
                diagnosis, actions=(act,) + tuple(a for a in diagnosis.actions if a.kind != "switch_settings")
            )
        else:
            notes.append(f"{where} does not work either: {alternative.diagnosis.title}.")
    for n in notes:
        on_event(LogLine(LogLevel.INFO, n))
    ok = first.ok or confirmation.ok
    return FallbackResult(
        ok, first, None if ok else diagnosis, confirmation, alternative, tuple(notes), (time.monotonic() - t0) * 1000
    )


__all__ = [
    "RETRYABLE",
    "Confirmation",
    "FallbackResult",
    "check_with_fallback",
    "confirm_with_stdlib",
    "is_definitive",
    "paired_alternative",
    "stdlib_check",
]
