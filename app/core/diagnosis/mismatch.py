"""Diagnoses for a port that speaks another mode than the one chosen, or that says nothing at all."""

from __future__ import annotations

from app.core.diagnosis.classify import IMPLICIT_TLS_PORT, SUBMISSION_PORT, base_params, switch_action
from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis
from app.core.model import Security, SmtpSettings


def implicit_tls_port(settings: SmtpSettings, seconds: float) -> Diagnosis:
    """A TLS handshake on the same port completed while our plaintext connection heard nothing: certain."""
    p = dict(base_params(settings), seconds=f"{seconds:.2g}")
    acts = (switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Use SSL/TLS on port {port}"), settings.port, Security.SSL),)
    return Diagnosis(Code.GREETING_TIMEOUT, "implicit_tls", p, actions=acts)


def silent_server(settings: SmtpSettings, seconds: float) -> Diagnosis:
    """No greeting, and the port does not speak TLS either: the server (or something in between) is silent."""
    p = dict(base_params(settings), seconds=f"{seconds:g}")
    acts: list[Action] = []
    if settings.port != SUBMISSION_PORT:
        acts.append(
            switch_action(
                QT_TRANSLATE_NOOP("Diagnosis", "Try port 587 with STARTTLS"), SUBMISSION_PORT, Security.STARTTLS
            )
        )
    if settings.port != IMPLICIT_TLS_PORT:
        acts.append(
            switch_action(QT_TRANSLATE_NOOP("Diagnosis", "Try port 465 with SSL/TLS"), IMPLICIT_TLS_PORT, Security.SSL)
        )
    acts.append(Action("autodetect", QT_TRANSLATE_NOOP("Diagnosis", "Find working settings automatically")))
    return Diagnosis(Code.GREETING_TIMEOUT, "silent", p, actions=tuple(acts))


def plaintext_greeting(settings: SmtpSettings, greeting: str) -> Diagnosis:
    """An SSL/TLS client got a plaintext SMTP greeting instead of a ServerHello: certain."""
    from app.core.diagnosis.classify import tls_handshake_failed

    return tls_handshake_failed(settings, "plaintext", f"the server greeted in plaintext: {greeting}", implicit=True)


__all__ = ["implicit_tls_port", "plaintext_greeting", "silent_server"]
