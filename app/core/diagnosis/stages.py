"""Diagnoses of the staged check's own decisions (certificates, EHLO/HELO, STARTTLS, AUTH choice, DNS,
proxy timeouts, cancellation): built here so every Diagnosis comes from the diagnosis package."""

from __future__ import annotations

from collections.abc import Iterable

from app.core.diagnosis.classify import IMPLICIT_TLS_PORT, base_params, switch_action
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis, diagnose
from app.core.model import Reply, Security, SmtpSettings, Text, TlsDetails


def certificate(
    settings: SmtpSettings, code: Code, variant: str, details: TlsDetails | None, detail: Text | str
) -> Diagnosis:
    """A certificate problem with its details and the one-click fixes (trust it, choose a CA file, use its name)."""
    params = dict(base_params(settings), detail=detail)
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
                        {"host": names[0], "port": settings.port, "security": settings.security.value},
                    )
                )
    return Diagnosis(code, variant, params, actions=tuple(actions))


def helo_rejected(settings: SmtpSettings, reply: Reply, stage: str) -> Diagnosis:
    return Diagnosis(
        Code.PROTOCOL_ERROR,
        "helo_rejected",
        dict(base_params(settings), reply=reply.message, stage=stage),
        server_reply=reply.text,
    )


def starttls_missing(settings: SmtpSettings) -> Diagnosis:
    actions = (
        switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port 465"), IMPLICIT_TLS_PORT, Security.SSL),
        Action("autodetect", QT_TRANSLATE_NOOP("Diagnosis", "Find working settings automatically")),
    )
    return Diagnosis(Code.STARTTLS_UNSUPPORTED, "", base_params(settings), actions=actions)


def starttls_refused(settings: SmtpSettings, reply: Reply) -> Diagnosis:
    return Diagnosis(
        Code.STARTTLS_UNSUPPORTED, "refused", dict(base_params(settings), reply=reply.message), server_reply=reply.text
    )


def no_common_mechanism(settings: SmtpSettings, wanted: Iterable[str], offered: Iterable[str]) -> Diagnosis:
    offered = sorted(offered)
    p = dict(base_params(settings), wanted=", ".join(wanted), offered=", ".join(offered) or "-")
    return Diagnosis(Code.AUTH_MECHANISM_UNSUPPORTED, "none_offered" if not offered else "", p)


def auth_needs_tls(settings: SmtpSettings, starttls_offered: bool, auth_offered: bool) -> Diagnosis:
    """A login over an unencrypted connection that the user did not allow."""
    actions: list[Action] = []
    if starttls_offered:
        actions.append(
            switch_action(
                QT_TRANSLATE_NOOP("Diagnosis", "Use STARTTLS on port {port}"), settings.port, Security.STARTTLS
            )
        )
    else:
        actions.append(
            switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port 465"), IMPLICIT_TLS_PORT, Security.SSL)
        )
    variant = "" if (starttls_offered and not auth_offered) else "plain_refused"
    if variant:
        actions.append(Action("allow_plain", QT_TRANSLATE_NOOP("Diagnosis", "Send the password unencrypted anyway")))
    return Diagnosis(Code.AUTH_REQUIRES_TLS, variant, base_params(settings), actions=tuple(actions))


def dns_timeout(settings: SmtpSettings, seconds: float) -> Diagnosis:
    return diagnose(Code.DNS_FAILED, "timeout", detail=f"no answer within {seconds:.3g} s", **base_params(settings))


def no_addresses(settings: SmtpSettings) -> Diagnosis:
    return diagnose(Code.DNS_FAILED, "", detail="no addresses", **base_params(settings))


def proxy_timeout(settings: SmtpSettings, seconds: float, proxy_shown: str) -> Diagnosis:
    return diagnose(
        Code.PROXY_FAILED,
        "timeout",
        reason=f"no answer within {seconds:.3g} s",
        proxy=proxy_shown,
        target=f"{settings.host}:{settings.port}",
    )


def cancelled(settings: SmtpSettings, stage: str) -> Diagnosis:
    return diagnose(Code.CANCELLED, stage=stage, **base_params(settings))


def invalid_input(field: str, message: str, variant: str = "") -> Diagnosis:
    return diagnose(Code.INVALID_INPUT, variant, field=field, message=message)


__all__ = [
    "auth_needs_tls",
    "cancelled",
    "certificate",
    "dns_timeout",
    "helo_rejected",
    "invalid_input",
    "no_addresses",
    "no_common_mechanism",
    "proxy_timeout",
    "starttls_missing",
    "starttls_refused",
]
