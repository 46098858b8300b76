"""Ranking the probes of autodetect: pure decisions, no I/O (unit-testable without a network).

What a probe is, how long probes wait, which failure tells the user most, and why a setting won or lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.results import ProbeOutcome
from app.core.diagnosis import SECURITY_LABELS, Code
from app.core.model import Security, Stage, Timeouts

DEFAULT_PORTS = (465, 587, 25, 2525)
GRACE_MIN = 0.3  # seconds a better-ranked silent probe still gets once a worse one answered
GRACE_FACTOR = 1.0  # ... or this many times the answer's own time, whichever is longer
STAGGER = 0.05  # the other probes start this long after the top-ranked one (or when it fails)

TIER = {Security.SSL: 0, Security.STARTTLS: 1, Security.NONE: 2}

# failures that say "the login/secret is wrong or refused": never try other ports with it
AUTH_CODES = frozenset(
    {Code.AUTH_FAILED, Code.APP_PASSWORD_REQUIRED, Code.AUTH_MECHANISM_UNSUPPORTED, Code.AUTH_REQUIRES_TLS}
)
# proxy failures that every candidate would hit the same way
PROXY_FATAL = frozenset({"auth_failed", "refused", "invalid_url", "protocol"})

# how much a failure tells the user (higher = reached further into the conversation)
DEPTH = {
    Code.PROXY_FAILED: 95,
    Code.APP_PASSWORD_REQUIRED: 90,
    Code.AUTH_FAILED: 90,
    Code.AUTH_REQUIRES_TLS: 88,
    Code.AUTH_MECHANISM_UNSUPPORTED: 88,
    Code.CERT_EXPIRED: 80,
    Code.CERT_HOSTNAME_MISMATCH: 80,
    Code.CERT_UNTRUSTED: 80,
    Code.STARTTLS_UNSUPPORTED: 70,
    Code.SERVER_UNAVAILABLE: 60,
    Code.TLS_HANDSHAKE_FAILED: 50,
    Code.PROTOCOL_ERROR: 45,
    Code.GREETING_TIMEOUT: 40,
    Code.CONNECT_TIMEOUT: 30,
    Code.NETWORK_UNREACHABLE: 25,
    Code.CONNECT_REFUSED: 20,
    Code.DNS_FAILED: 10,
}


def security_label(security: Security | str) -> str:
    """Human name of a security mode: SSL/TLS, STARTTLS, no encryption (the diagnosis texts' one table)."""
    return SECURITY_LABELS[Security(security)]


@dataclass
class Probe:
    endpoint: Endpoint
    security: Security
    full: bool  # a full check with the password (the speculative verification)
    started: float = 0.0
    task: asyncio.Task | None = None
    result: Any = None  # CheckResult
    failed_stage: Stage | None = None
    events: list[Any] = field(default_factory=list)
    done_at: float = 0.0

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.endpoint.host, self.endpoint.port, self.security.value)


@dataclass
class Slot:
    """One way to use a probed endpoint: in its own mode, or (STARTTLS probe) without encryption."""

    probe: Probe
    security: Security
    state: str = "pending"  # pending, ok, failed

    @property
    def name(self) -> str:
        e = self.probe.endpoint
        return f"{e.host}:{e.port} ({security_label(self.security)})"


def probe_timeouts(t: Timeouts) -> Timeouts:
    """Probes wait at most the greeting timeout for each step."""
    g = t.greeting
    return Timeouts(connect=min(t.connect, g), greeting=g, command=min(t.command, g), total=min(t.total, 3 * g + 0.5))


def is_auth_failure(probe: Probe) -> bool:
    d = probe.result.diagnosis if probe.result is not None else None
    return d is not None and (probe.failed_stage is Stage.AUTH or d.code in AUTH_CODES)


def reason_for_winner(slot: Slot, ranked_by_order: bool, provider: Provider | None) -> str:
    p = slot.probe
    took = p.result.elapsed_ms if p.result is not None else 0.0
    why = {
        Security.SSL: "implicit TLS is preferred: the connection is encrypted from the first byte",
        Security.STARTTLS: "STARTTLS is the best that answered: the session is encrypted before the login",
        Security.NONE: "it was the only answer, and unencrypted connections were explicitly allowed",
    }[slot.security]
    if ranked_by_order and provider is not None:
        why = f"it comes first in the {provider.display_name()} settings that answered"
    return f"Chosen {slot.name}: answered in {took:.0f} ms; {why}."


def _reason_for_loser(slot: Slot, winner: Slot | None, outcomes: dict[tuple, ProbeOutcome]) -> str | None:
    o = outcomes.get(slot.probe.key)
    if o is None or slot is winner:
        return None
    if slot.security is Security.NONE:
        if slot.state == "ok":
            return f"{slot.name} also answers, but only without encryption; an encrypted setting is preferred."
        return None
    if o.outcome == "ok":
        return f"{slot.name} answered too ({o.elapsed_ms:.0f} ms), but {winner.name if winner else 'another setting'} is preferred."
    if o.outcome == "failed":
        return f"{slot.name} did not work: {o.detail or o.code}."
    if o.outcome == "cancelled" and "not waited" not in o.detail:
        return f"{slot.name} was not needed: a better setting was already confirmed (probe stopped)."
    return None


def loser_reasons(
    slots: list[Slot], hidden_plain: list[Slot], winner: Slot | None, by_key: dict[tuple, ProbeOutcome]
) -> list[str]:
    """Why each other candidate did not win (and which answered only without encryption)."""
    out = []
    for s in slots:
        r = _reason_for_loser(s, winner, by_key)
        if r:
            out.append(r)
    for s in hidden_plain:
        o = by_key.get(s.probe.key)
        if o is not None and o.plain_only:
            out.append(
                f"{s.name} answers only without encryption; not offered because plain connections were not allowed."
            )
    return out
