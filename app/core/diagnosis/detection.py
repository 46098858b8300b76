"""Diagnoses of autodetect (no candidate, no such domain, only unencrypted servers) and of proxies."""

from __future__ import annotations

from dataclasses import replace

from app.core.diagnosis.model import QT_TRANSLATE_NOOP, Action, Code, Diagnosis, diagnose


def with_allow_plain(d: Diagnosis) -> Diagnosis:
    """``d`` with the "allow the password without encryption" action (once)."""
    if any(a.kind == "allow_plain" for a in d.actions):
        return d
    act = Action(
        "allow_plain", QT_TRANSLATE_NOOP("Diagnosis", "Allow the password without encryption (not recommended)")
    )
    return replace(d, actions=tuple(d.actions) + (act,))


def only_unencrypted(host: str, port: int) -> Diagnosis:
    """Every candidate is unencrypted and plain connections were not allowed."""
    return with_allow_plain(diagnose(Code.STARTTLS_UNSUPPORTED, "", host=host, port=port, security="none"))


def nothing_answered(host: str, port: int) -> Diagnosis:
    return diagnose(Code.CONNECT_REFUSED, "", host=host, port=port)


def no_such_domain(domain: str) -> Diagnosis:
    return diagnose(Code.DNS_FAILED, "", host=domain, port=0, security="", detail="the domain does not exist")


def no_candidates(domain: str) -> Diagnosis:
    detail = "no SRV records and no smtp., mail. or MX host for this domain"
    return diagnose(Code.DNS_FAILED, "", host=domain, port=0, security="", detail=detail)


def invalid_field(field: str, message: str) -> Diagnosis:
    return diagnose(Code.INVALID_INPUT, "", field=field, message=message)


def proxy_failed(variant: str, reason: str, proxy: str, proxy_host: str, proxy_port: int, target: str) -> Diagnosis:
    """A proxy problem; ``reason`` must already be scrubbed of the proxy password."""
    return diagnose(
        Code.PROXY_FAILED,
        variant,
        reason=reason,
        proxy=proxy,
        proxy_host=proxy_host,
        proxy_port=proxy_port,
        target=target,
    )


def invalid_proxy_url(reason: str) -> Diagnosis:
    return diagnose(Code.PROXY_FAILED, "invalid_url", reason=reason, proxy="", target="")


__all__ = [
    "invalid_field",
    "invalid_proxy_url",
    "no_candidates",
    "no_such_domain",
    "nothing_answered",
    "only_unencrypted",
    "proxy_failed",
    "with_allow_plain",
]
