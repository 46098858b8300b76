"""What a staged check returns (CheckResult), the input check before it, and the stage-abort signal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.diagnosis import Diagnosis, stages
from app.core.model import SmtpSettings, TlsDetails, secret_problem


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``run_check``."""

    ok: bool
    diagnosis: Diagnosis | None
    settings: SmtpSettings
    elapsed_ms: float
    tls: TlsDetails | None = None
    capabilities: tuple[str, ...] = ()
    auth_mechanism: str | None = None
    auth_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret)."""
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary(),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "tls": tls_dict(self.tls),
            "capabilities": list(self.capabilities),
            "auth_mechanism": self.auth_mechanism,
            "auth_verified": self.auth_verified,
        }


def tls_dict(tls: TlsDetails | None) -> dict | None:
    if tls is None:
        return None
    d = {k: getattr(tls, k) for k in tls.__dataclass_fields__}
    d["sans"] = list(tls.sans)
    return d


class StageAborted(Exception):
    """Internal: a stage ended with a diagnosis that was already reported."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(diagnosis.code.value)


# The public name of a stage that ended with a reported diagnosis: sessions built on SmtpSession
# (app.core.incoming) catch it to end their run.
StageAborted = StageAborted


def credentials_problem(settings: SmtpSettings, password: str | None) -> Diagnosis | None:
    """INVALID_INPUT when the settings are unusable or only one of login / password is given."""
    errs = settings.errors()
    if errs:
        e = errs[0]
        return stages.invalid_input(e.field, e.message)
    problem = secret_problem(password)
    if problem is not None:
        return stages.invalid_input("password", problem)
    if bool(settings.username) != bool(password):
        missing = "password" if settings.username else "username"
        variant = "credentials" if settings.username else "credentials_user"
        return stages.invalid_input(missing, "", variant)
    return None


__all__ = ["CheckResult", "StageAborted", "credentials_problem"]
