"""What autodetect reports: one outcome per probe and the overall result (JSON-ready)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.detect.discovery import Discovery
from app.core.diagnosis import Diagnosis
from app.core.model import SmtpSettings


@dataclass(frozen=True)
class ProbeOutcome:
    """What one candidate (host, port, mode) did. ``outcome``: ok, failed, cancelled, skipped."""

    host: str
    port: int
    security: str
    outcome: str
    elapsed_ms: float
    code: str | None = None
    detail: str = ""
    plain_only: bool = False  # answered, but offers no STARTTLS (usable only without encryption)
    auth_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "outcome": self.outcome,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "code": self.code,
            "detail": self.detail,
            "plain_only": self.plain_only,
            "auth_verified": self.auth_verified,
        }


@dataclass(frozen=True)
class DetectResult:
    """The verdict of autodetect.

    ``ok``: a working setting was found (and, when a password was given, the login worked).
    ``settings`` is the chosen setting even when only the login failed. ``reasons`` explain
    why it won and why the others lost; ``warnings`` flag risky choices (no encryption).
    """

    ok: bool
    settings: SmtpSettings | None
    diagnosis: Diagnosis | None
    provider: str | None
    probes: list[ProbeOutcome]
    reasons: list[str]
    elapsed_ms: float
    auth_verified: bool = False
    warnings: list[str] = field(default_factory=list)
    discovery: Discovery | None = None
    check: Any = None  # the CheckResult of the verifying check, when one ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary() if self.settings else None,
            "username": self.settings.username if self.settings else None,
            "provider": self.provider,
            "auth_verified": self.auth_verified,
            "probes": [p.to_dict() for p in self.probes],
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "discovery": self.discovery.to_dict() if self.discovery else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
