"""Connection settings of one SMTP account, with validation.

The password is never part of these settings: callers pass it to the engine
separately, and only the keyring wrapper ever stores it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

from app.core.model.inputs import describe_char, forbidden_char

log = logging.getLogger(__name__)


class Security(str, Enum):
    """How the connection is protected."""

    SSL = "ssl"  # implicit TLS from the first byte (usually port 465)
    STARTTLS = "starttls"  # plaintext greeting, then STARTTLS (usually 587, 25, 2525)
    NONE = "none"  # no encryption at all


class AuthMechanism(str, Enum):
    """Which SASL mechanism to log in with; AUTO picks the strongest advertised one."""

    AUTO = "auto"
    PLAIN = "plain"
    LOGIN = "login"
    CRAM_MD5 = "cram-md5"
    XOAUTH2 = "xoauth2"  # the "password" is an OAuth2 bearer token


class TlsMinimum(str, Enum):
    """Lowest TLS protocol version accepted."""

    TLS1_2 = "1.2"
    TLS1_3 = "1.3"


DEFAULT_PORTS = {Security.SSL: 465, Security.STARTTLS: 587, Security.NONE: 25}


@dataclass(frozen=True)
class Timeouts:
    """Timeouts in seconds. ``total`` bounds the whole check, whatever a server does."""

    connect: float = 10.0
    greeting: float = 5.0
    command: float = 15.0
    total: float = 45.0


@dataclass(frozen=True)
class TlsOptions:
    """Certificate and protocol policy. Verification is on unless the user turns it off."""

    verify: bool = True
    minimum: TlsMinimum = TlsMinimum.TLS1_2
    cafile: str | None = None
    pinned_sha256: str | None = None  # lowercase hex, no colons (see normalize_fingerprint)


@dataclass(frozen=True)
class FieldError:
    """One validation problem, naming the settings field it belongs to."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class SettingsError(ValueError):
    """Settings that cannot be used; ``errors`` names every offending field."""

    def __init__(self, errors: list[FieldError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    @property
    def field(self) -> str:
        return self.errors[0].field if self.errors else ""


_HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?$")
_FPR_RE = re.compile(r"^[0-9a-f]{64}$")


def normalize_fingerprint(value: str) -> str:
    """Accept ``AB:CD:...`` or plain hex SHA-256 and return lowercase hex without separators."""
    return re.sub(r"[\s:]", "", value or "").lower()


def _valid_host(host: str) -> bool:
    if _HOST_RE.match(host):
        return True
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class SmtpSettings:
    """Everything needed to reach and log in to one SMTP server, except the secret."""

    host: str
    port: int
    security: Security
    username: str = ""
    auth: AuthMechanism = AuthMechanism.AUTO
    timeouts: Timeouts = field(default_factory=Timeouts)
    tls: TlsOptions = field(default_factory=TlsOptions)
    ehlo_name: str | None = None
    proxy: str | None = None  # socks5://user:pass@host:port, socks4://, socks4a://, http://
    allow_plain_auth: bool = False  # the user explicitly allows credentials over no encryption

    # -- validation -------------------------------------------------------------
    def errors(self) -> list[FieldError]:
        """Every problem with these settings (empty when they are usable)."""
        errs: list[FieldError] = []
        host = (self.host or "").strip()
        if not host:
            errs.append(FieldError("host", "The server name is empty."))
        elif not _valid_host(host):
            errs.append(FieldError("host", f"'{host}' is not a valid server name or IP address."))
        if not isinstance(self.port, int) or isinstance(self.port, bool) or not 1 <= self.port <= 65535:
            errs.append(FieldError("port", f"Port must be a whole number from 1 to 65535, not {self.port!r}."))
        if not isinstance(self.security, Security):
            errs.append(FieldError("security", f"Unknown security mode {self.security!r}; use ssl, starttls or none."))
        if not isinstance(self.auth, AuthMechanism):
            errs.append(FieldError("auth", f"Unknown auth mechanism {self.auth!r}."))
        t = self.timeouts
        for name in ("connect", "greeting", "command", "total"):
            v = getattr(t, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 < v <= 600:  # nan fails too
                errs.append(FieldError(f"timeouts.{name}", f"Timeout must be between 0 and 600 seconds, not {v!r}."))
        if not isinstance(self.tls.minimum, TlsMinimum):
            errs.append(FieldError("tls.minimum", f"TLS minimum must be 1.2 or 1.3, not {self.tls.minimum!r}."))
        if self.tls.pinned_sha256 and not _FPR_RE.match(normalize_fingerprint(self.tls.pinned_sha256)):
            errs.append(FieldError("tls.pinned_sha256", "A pinned fingerprint must be a SHA-256 hash: 64 hex digits."))
        if self.ehlo_name is not None and self.ehlo_name.strip() and not _valid_host(self.ehlo_name.strip()):
            errs.append(FieldError("ehlo_name", f"'{self.ehlo_name}' is not a valid EHLO name."))
        bad = forbidden_char(self.username or "")
        if bad is not None:
            what = "line breaks" if bad in "\r\n" else describe_char(bad)
            if 0xD800 <= ord(bad) <= 0xDFFF:
                errs.append(FieldError("username", "The login is not valid UTF-8 text."))
            else:
                errs.append(FieldError("username", f"The login must not contain {what}."))
        return errs

    def validate(self) -> SmtpSettings:
        """Raise SettingsError naming every bad field; return self when valid."""
        errs = self.errors()
        if errs:
            raise SettingsError(errs)
        return self

    # -- conversions --------------------------------------------------------------
    def with_(self, **changes: Any) -> SmtpSettings:
        """Copy with some fields changed (``tls`` and ``timeouts`` take whole objects)."""
        return replace(self, **changes)

    def summary(self) -> dict[str, Any]:
        """host, port, security: what the CLI's result line reports as ``settings``."""
        return {"host": self.host, "port": self.port, "security": self.security.value}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no secret is ever part of it)."""
        d = asdict(self)
        d["security"] = self.security.value
        d["auth"] = self.auth.value
        d["tls"]["minimum"] = self.tls.minimum.value
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SmtpSettings:
        """Inverse of to_dict; unknown keys are ignored, bad values raise SettingsError."""
        try:
            t = dict(data.get("timeouts") or {})
            tl = dict(data.get("tls") or {})
            return cls(
                host=str(data.get("host", "")).strip(),
                port=int(data.get("port", 0)),
                security=Security(data.get("security", "starttls")),
                username=str(data.get("username", "") or ""),
                auth=AuthMechanism(data.get("auth", "auto")),
                timeouts=Timeouts(**{k: float(v) for k, v in t.items() if k in Timeouts.__dataclass_fields__}),
                tls=TlsOptions(
                    verify=bool(tl.get("verify", True)),
                    minimum=TlsMinimum(str(tl.get("minimum", "1.2"))),
                    cafile=tl.get("cafile") or None,
                    pinned_sha256=normalize_fingerprint(tl["pinned_sha256"]) if tl.get("pinned_sha256") else None,
                ),
                ehlo_name=data.get("ehlo_name") or None,
                proxy=data.get("proxy") or None,
                allow_plain_auth=bool(data.get("allow_plain_auth", False)),
            )
        except (TypeError, ValueError) as exc:
            raise SettingsError([FieldError("settings", f"Saved settings are not valid: {exc}")]) from None
