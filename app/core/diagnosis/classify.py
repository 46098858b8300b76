"""Map server replies and low-level failures to a Diagnosis, including provider-specific hints."""

from __future__ import annotations

import errno
import logging
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import replace

from app.core.catalog import PasswordKind, Provider
from app.core.diagnosis import oauth
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis, diagnose
from app.core.model import Reply, Security, SmtpSettings

log = logging.getLogger(__name__)

SUBMISSION_PORT = 587
IMPLICIT_TLS_PORT = 465


def switch_action(label: str, port: int, security: Security) -> Action:
    return Action("switch_settings", label, {"port": port, "security": security.value})


def base_params(settings: SmtpSettings) -> dict:
    """Template values every diagnosis can use."""
    return {"host": settings.host, "port": settings.port, "security": settings.security.value}


# -- connection-level failures -------------------------------------------------------------------


def dns_failed(settings: SmtpSettings, exc: BaseException) -> Diagnosis:
    detail = getattr(exc, "strerror", None) or str(exc)
    variant = "temporary" if getattr(exc, "errno", None) == socket.EAI_AGAIN else ""
    return diagnose(Code.DNS_FAILED, variant, detail=detail, **base_params(settings))


def connect_error(settings: SmtpSettings, exc: OSError, address: str) -> Diagnosis:
    """connect_refused / network_unreachable / connect_timeout for an OSError from connect()."""
    p = dict(base_params(settings), address=address, detail=exc.strerror or str(exc))
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return Diagnosis(
            Code.CONNECT_REFUSED, refused_variant({settings.port}), p, actions=_port_alternatives(settings)
        )
    if exc.errno in (errno.ETIMEDOUT,):
        return connect_timeout(settings, address)
    return Diagnosis(Code.NETWORK_UNREACHABLE, "", p)


def connect_timeout(settings: SmtpSettings, address: str, seconds: float | None = None) -> Diagnosis:
    p = dict(
        base_params(settings),
        address=address,
        seconds=_secs(seconds if seconds is not None else settings.timeouts.connect),
    )
    variant = "port25" if settings.port == 25 else ""
    return Diagnosis(Code.CONNECT_TIMEOUT, variant, p, actions=_port_alternatives(settings))


def connect_failure(settings: SmtpSettings, attempts: Iterable, seconds: float) -> Diagnosis:
    """The diagnosis for a connect where no address answered (``attempts``: net.Attempt per address).

    A refusal is the most telling answer, then a timeout, then any other error.
    """
    attempts = list(attempts)
    for a in attempts:
        if isinstance(a.error, OSError):
            d = connect_error(settings, a.error, a.address)
            if d.code is Code.CONNECT_REFUSED:
                return d
    for a in attempts:
        if not isinstance(a.error, OSError):
            return connect_timeout(settings, a.address, seconds)
    for a in attempts:
        return connect_error(settings, a.error, a.address)
    return connect_timeout(settings, settings.host, 0.0)


def refused_variant(tried_ports: set[int]) -> str:
    """The CONNECT_REFUSED variant whose advice does not send the user to a port already tried."""
    if {SUBMISSION_PORT, IMPLICIT_TLS_PORT} <= tried_ports:
        return "tried_both"
    if SUBMISSION_PORT in tried_ports:
        return "tried_587"
    if IMPLICIT_TLS_PORT in tried_ports:
        return "tried_465"
    return ""


def _port_alternatives(settings: SmtpSettings) -> tuple[Action, ...]:
    acts = []
    if not (settings.port == SUBMISSION_PORT and settings.security is Security.STARTTLS):
        acts.append(
            switch_action(
                QT_TRANSLATE_NOOP("Diagnosis", "Try port 587 with STARTTLS"), SUBMISSION_PORT, Security.STARTTLS
            )
        )
    if not (settings.port == IMPLICIT_TLS_PORT and settings.security is Security.SSL):
        acts.append(
            switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Try port 465 with SSL/TLS"), IMPLICIT_TLS_PORT, Security.SSL)
        )
    acts.append(Action("autodetect", QT_TRANSLATE_NOOP("Diagnosis", "Find working settings automatically")))
    return tuple(acts)


def greeting_timeout(settings: SmtpSettings, seconds: float, started: bool) -> Diagnosis:
    """No (complete) greeting in time. A silent server on a plain/STARTTLS connection usually wants implicit TLS."""
    p = dict(base_params(settings), seconds=_secs(seconds))
    if started:
        return Diagnosis(Code.GREETING_TIMEOUT, "slow", p)
    if settings.security is Security.SSL:
        return Diagnosis(Code.GREETING_TIMEOUT, "", p)
    acts = [switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {port}"), settings.port, Security.SSL)]
    if settings.port != IMPLICIT_TLS_PORT:
        acts.append(
            switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port 465"), IMPLICIT_TLS_PORT, Security.SSL)
        )
    return Diagnosis(Code.GREETING_TIMEOUT, "expects_tls", p, actions=tuple(acts))


def tls_handshake_failed(settings: SmtpSettings, kind: str, detail: str, *, implicit: bool) -> Diagnosis:
    """A TLS handshake that failed for a non-certificate reason; ``kind`` from tls_info.handshake_failure_kind."""
    p = dict(base_params(settings), detail=detail)
    if implicit and kind in ("plaintext", "timeout_after_data"):
        acts = [
            switch_action(
                QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port {port}"), settings.port, Security.STARTTLS
            )
        ]
        if settings.port != SUBMISSION_PORT:
            acts.append(
                switch_action(
                    QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port 587"), SUBMISSION_PORT, Security.STARTTLS
                )
            )
        return Diagnosis(Code.TLS_HANDSHAKE_FAILED, "plaintext_port", p, actions=tuple(acts))
    if kind == "version":
        return Diagnosis(Code.TLS_HANDSHAKE_FAILED, "version", p)
    if kind == "timeout":
        return Diagnosis(Code.TLS_HANDSHAKE_FAILED, "timeout", p)
    return Diagnosis(Code.TLS_HANDSHAKE_FAILED, "", p)


def protocol_error(settings: SmtpSettings, kind: str, detail: str, stage: str, reply: str | None = None) -> Diagnosis:
    """protocol_error with a variant per kind: garbage, line_too_long, too_many_lines, closed, reply_timeout."""
    variant = {"garbage": "garbage", "line_too_long": "too_long", "too_many_lines": "too_long", "closed": "closed"}.get(
        kind, kind
    )
    return Diagnosis(
        Code.PROTOCOL_ERROR, variant, dict(base_params(settings), detail=detail, stage=stage), server_reply=reply
    )


def _secs(v: float) -> str:
    return f"{v:g}"


# -- replies -------------------------------------------------------------------------------------


def server_busy(settings: SmtpSettings, reply: Reply) -> Diagnosis | None:
    """421 at any stage (greeting, EHLO, AUTH, MAIL, RCPT, DATA): the server is closing the session.

    RFC 5321 4.2.3: 421 means "service not available, closing transmission channel" whatever the
    command was, so it is never a verdict about the sender, a recipient or the message.
    """
    if reply.code != 421:
        return None
    return Diagnosis(
        Code.SERVER_UNAVAILABLE, "busy", dict(base_params(settings), reply=reply.message), server_reply=reply.text
    )


def greeting_refused(settings: SmtpSettings, reply: Reply) -> Diagnosis:
    variant = "busy" if reply.code == 421 else ""
    return Diagnosis(
        Code.SERVER_UNAVAILABLE, variant, dict(base_params(settings), reply=reply.message), server_reply=reply.text
    )


_MS_BASIC_OFF = re.compile(r"5\.7\.139|SmtpClientAuthentication is disabled|basic authentication is disabled", re.I)
_APP_PW = re.compile(r"5\.7\.9\b|application-specific password|app password", re.I)
_WEB_LOGIN = re.compile(r"5\.7\.14|web browser|InvalidSecondFactor", re.I)
_NEED_TLS = re.compile(r"STARTTLS|5\.7\.0 .*(TLS|encrypt)|must issue", re.I)


def auth_reply(
    settings: SmtpSettings, reply: Reply, mechanism: str, provider: Provider | None, challenge: str | None = None
) -> Diagnosis:
    """Diagnosis for a failed AUTH exchange (535, 534-5.7.9, 5.7.139, 530 STARTTLS first, 504, ...);
    ``challenge`` is the 334 payload an XOAUTH2 server sent before refusing."""
    busy = server_busy(settings, reply)
    if busy is not None:
        return busy
    if mechanism in ("XOAUTH2", "OAUTHBEARER") and reply.code not in (421, 454, 502, 504, 530):
        return oauth.bearer_auth_reply(settings, reply, mechanism, provider, challenge)
    p = dict(base_params(settings), mechanism=mechanism, reply=reply.message, user=settings.username)
    text = reply.text
    if _MS_BASIC_OFF.search(text):
        d = Diagnosis(Code.AUTH_FAILED, "ms_basic_auth_disabled", p, server_reply=text)
    elif reply.code == 534 or _APP_PW.search(text):
        d = Diagnosis(Code.APP_PASSWORD_REQUIRED, "", p, server_reply=text)
    elif _WEB_LOGIN.search(text):
        d = Diagnosis(Code.AUTH_FAILED, "web_login", p, server_reply=text)
    elif reply.code == 530 and _NEED_TLS.search(text):
        d = Diagnosis(Code.AUTH_REQUIRES_TLS, "", p, server_reply=text)
    elif reply.code in (504, 502) or re.search(r"unrecognized authentication type|mechanism not supported", text, re.I):
        d = Diagnosis(Code.AUTH_MECHANISM_UNSUPPORTED, "refused", p, server_reply=text)
    elif reply.code == 454:
        d = Diagnosis(Code.SERVER_UNAVAILABLE, "temporary", p, server_reply=text)
    elif oauth.basic_auth_unsupported(text):
        d = Diagnosis(Code.AUTH_FAILED, "ms_basic_auth_unsupported", p, server_reply=text)
    else:
        wants_app_pw = provider is not None and provider.password_kind is PasswordKind.APP_PASSWORD
        variant = "app_password" if wants_app_pw else ""
        if provider is not None and provider.password_kind is PasswordKind.API_KEY:
            variant = "api_key"
        if provider is not None:
            p["provider"] = provider.display_name()
        actions: tuple[Action, ...] = ()
        if provider is not None and provider.links.get("app_passwords"):
            actions = (
                Action(
                    "open_url",
                    QT_TRANSLATE_NOOP("Diagnosis", "Create an app password"),
                    {"url": provider.links["app_passwords"]},
                ),
            )
        d = Diagnosis(Code.AUTH_FAILED, variant, p, server_reply=text, actions=actions)
    return d


def sender_rejected(settings: SmtpSettings, reply: Reply, address: str) -> Diagnosis:
    busy = server_busy(settings, reply)
    if busy is not None:
        return busy
    variant = (
        "not_owner"
        if re.search(
            r"5\.7\.1|5\.7\.60|not owned|not allowed|send as|sender address rejected|does not match", reply.text, re.I
        )
        else ""
    )
    if reply.code in (450, 451, 452):
        variant = "temporary"
    elif reply.code == 530 and re.search(r"STARTTLS|TLS|encrypt", reply.text, re.I):
        variant = "needs_tls"
    elif reply.code == 530 or re.search(r"authentication required|5\.7\.0 .*auth", reply.text, re.I):
        variant = "auth_required"
    p = dict(base_params(settings), address=address, reply=reply.message, user=settings.username)
    return Diagnosis(Code.SENDER_REJECTED, variant, p, server_reply=reply.text)


def recipients_rejected(
    settings: SmtpSettings, refused: Mapping[str, Reply], accepted: Iterable[str], *, authenticated: bool = False
) -> Diagnosis:
    """Refused recipients. ``authenticated``: the session had logged in, so "log in" is no advice for a relay denial."""
    accepted = list(accepted)
    for reply in refused.values():
        busy = server_busy(settings, reply)
        if busy is not None:
            return busy
    addresses = ", ".join(refused)
    last = list(refused.values())[-1]
    variant = "partial" if accepted else ""
    if not accepted and re.search(r"relay|5\.7\.1", last.text, re.I):
        variant = "relay_authenticated" if authenticated else "relay"
    p = dict(
        base_params(settings),
        addresses=addresses,
        address=addresses,
        reply=last.message,
        accepted=", ".join(accepted),
        user=settings.username,
    )
    return Diagnosis(Code.RECIPIENT_REJECTED, variant, p, server_reply="\n".join(r.text for r in refused.values()))


def message_rejected(settings: SmtpSettings, reply: Reply) -> Diagnosis:
    busy = server_busy(settings, reply)
    if busy is not None:
        return busy
    variant = ""
    if reply.code == 552 or re.search(r"5\.3\.4|size|too (big|large)", reply.text, re.I):
        variant = "too_big"
    elif re.search(r"spam|5\.7\.1|policy|dmarc|spf|dkim", reply.text, re.I):
        variant = "policy"
    return Diagnosis(
        Code.MESSAGE_REJECTED, variant, dict(base_params(settings), reply=reply.message), server_reply=reply.text
    )


# -- provider hints ------------------------------------------------------------------------------


def apply_provider_hints(diagnosis: Diagnosis, provider: Provider | None) -> Diagnosis:
    """Match the provider's error hints against the server reply: add fixes, maybe override the code."""
    if provider is None or not diagnosis.server_reply or not provider.error_hints:
        return diagnosis
    if diagnosis.variant.startswith("oauth_"):  # the provider's hints speak of passwords, not tokens
        return diagnosis
    fixes: dict[str, list[str]] = {}
    code = diagnosis.code
    variant = diagnosis.variant
    actions = list(diagnosis.actions)
    matched = False
    for hint in provider.error_hints:
        try:
            if not re.search(hint.pattern, diagnosis.server_reply, re.I):
                continue
        except re.error as exc:
            log.warning("provider %s: bad error hint pattern %r: %s", provider.id, hint.pattern, exc)
            continue
        if not matched:
            try:
                new = Code(hint.code)
            except ValueError:
                new = code
            if new is not code:
                code, variant = new, ""
            matched = True
        for lang, text in (hint.fix or {}).items():
            fixes.setdefault(lang, []).append(text)
        if hint.link:
            actions.append(
                Action("open_url", QT_TRANSLATE_NOOP("Diagnosis", "Open the provider's page"), {"url": hint.link})
            )
    if not matched:
        return diagnosis
    merged = {k: tuple(v) for k, v in diagnosis.provider_fixes.items()}
    for lang, items in fixes.items():
        merged[lang] = tuple(items) + merged.get(lang, ())
    params = dict(diagnosis.params)
    params.setdefault("provider", provider.display_name())
    return replace(diagnosis, code=code, variant=variant, provider_fixes=merged, actions=tuple(actions), params=params)
