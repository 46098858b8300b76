"""Diagnoses refined by what the run pipeline learned: an alternative that works, or ones that do not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis
from app.core.model import Security, SmtpSettings

SECURITY_LABELS = {Security.SSL: "SSL/TLS", Security.STARTTLS: "STARTTLS", Security.NONE: "no encryption"}


def security_label(security: Security) -> str:
    """The user-facing name of a security mode (as the diagnosis texts spell it)."""
    return SECURITY_LABELS[security]


def offer_switch(diagnosis: Diagnosis, working: SmtpSettings) -> Diagnosis:
    """``diagnosis`` with "{port} with {security} works: switch?" as its first action (other switches dropped)."""
    act = Action(
        "switch_settings",
        QT_TRANSLATE_NOOP("Diagnosis", "{port} with {security_label} works: switch?"),
        {
            "host": working.host,
            "port": working.port,
            "security": working.security.value,
            "security_label": security_label(working.security),
        },
    )
    return replace(diagnosis, actions=(act,) + tuple(a for a in diagnosis.actions if a.kind != "switch_settings"))


def drop_failed_switches(diagnosis: Diagnosis, failed: Iterable[SmtpSettings]) -> Diagnosis:
    """``diagnosis`` without the switch actions to settings that were just tried and failed."""
    tried = {(s.host, s.port, s.security.value) for s in failed}
    if not tried:
        return diagnosis
    host = diagnosis.params.get("host")

    def useless(a: Action) -> bool:
        if a.kind != "switch_settings":
            return False
        p = a.params
        return (p.get("host", host), p.get("port"), p.get("security")) in tried

    kept = tuple(a for a in diagnosis.actions if not useless(a))
    variant = diagnosis.variant
    if diagnosis.code is Code.CONNECT_REFUSED:  # its advice must not name a port that was just tried
        from app.core.diagnosis.classify import refused_variant

        ports = {port for _host, port, _sec in tried}
        if isinstance(diagnosis.params.get("port"), int):
            ports.add(diagnosis.params["port"])
        variant = refused_variant(ports)
    if len(kept) == len(diagnosis.actions) and variant == diagnosis.variant:
        return diagnosis
    return replace(diagnosis, actions=kept, variant=variant)


__all__ = ["SECURITY_LABELS", "drop_failed_switches", "offer_switch", "security_label"]
