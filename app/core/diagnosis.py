"""The one diagnosis table: failure code -> title, plain explanation, concrete fixes.

Texts are English templates with ``{name}`` placeholders. They are marked with
``QT_TRANSLATE_NOOP("Diagnosis", ...)`` (a no-op here, so this module stays
Qt-free) so that pyside6-lupdate collects them; the GUI translates the template
first and fills the values after (``Diagnosis.render(translate)``), never the
other way round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Mapping

log = logging.getLogger(__name__)

CONTEXT = "Diagnosis"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - name lupdate looks for
    """Mark ``text`` for translation in ``context`` without translating it now."""
    return text


class Code(str, Enum):
    """Stable failure codes (part of the CLI's JSON contract)."""

    DNS_FAILED = "dns_failed"
    NETWORK_UNREACHABLE = "network_unreachable"
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"
    GREETING_TIMEOUT = "greeting_timeout"
    TLS_HANDSHAKE_FAILED = "tls_handshake_failed"
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_HOSTNAME_MISMATCH = "cert_hostname_mismatch"
    CERT_EXPIRED = "cert_expired"
    STARTTLS_UNSUPPORTED = "starttls_unsupported"
    AUTH_FAILED = "auth_failed"
    AUTH_MECHANISM_UNSUPPORTED = "auth_mechanism_unsupported"
    AUTH_REQUIRES_TLS = "auth_requires_tls"
    APP_PASSWORD_REQUIRED = "app_password_required"
    SENDER_REJECTED = "sender_rejected"
    RECIPIENT_REJECTED = "recipient_rejected"
    MESSAGE_REJECTED = "message_rejected"
    PROTOCOL_ERROR = "protocol_error"
    SERVER_UNAVAILABLE = "server_unavailable"
    PROXY_FAILED = "proxy_failed"
    CANCELLED = "cancelled"
    # not from the network: the input itself is unusable (caught before connecting)
    INVALID_INPUT = "invalid_input"


@dataclass(frozen=True)
class Entry:
    """Templates for one (code, variant) row of the table."""

    title: str
    explanation: str
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    """A one-click remedy the GUI can offer.

    kinds: "switch_settings" (params: port, security[, host]), "open_url" (params: url),
    "autodetect", "trust_certificate" (params: sha256), "allow_plain", "retry".
    ``label`` is an English template marked for translation like the table texts.
    """

    kind: str
    label: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": _fill(self.label, self.params), "params": dict(self.params)}


def _T(text: str) -> str:
    return QT_TRANSLATE_NOOP(CONTEXT, text)


# (code, variant) -> Entry. Variant "" is the general case of a code.
TABLE: dict[tuple[Code, str], Entry] = {}


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, params: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Missing(params))
    except (ValueError, IndexError):
        return template


def entry_for(code: Code, variant: str = "") -> Entry:
    """The table row for (code, variant), falling back to the code's general row."""
    return TABLE.get((code, variant)) or TABLE.get((code, "")) or Entry(code.value, code.value)


@dataclass(frozen=True)
class Diagnosis:
    """The single result of any failure: code + variant select the table row, params fill it."""

    code: Code
    variant: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    server_reply: str | None = None  # the server's last reply, verbatim (never contains secrets)
    provider_fixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lang -> fixes from the catalogue
    actions: tuple[Action, ...] = ()

    def render(self, translate: Callable[[str], str] = lambda s: s, lang: str = "en") -> tuple[str, str, list[str]]:
        """(title, explanation, fixes): translate each template, then fill in the values."""
        e = entry_for(self.code, self.variant)
        fixes = [_fill(translate(f), self.params) for f in e.fixes]
        extra = self.provider_fixes.get(lang) or self.provider_fixes.get("en") or ()
        return _fill(translate(e.title), self.params), _fill(translate(e.explanation), self.params), list(extra) + fixes

    @property
    def title(self) -> str:
        return self.render()[0]

    @property
    def explanation(self) -> str:
        return self.render()[1]

    @property
    def fixes(self) -> list[str]:
        return self.render()[2]

    def to_dict(self) -> dict[str, Any]:
        title, explanation, fixes = self.render()
        return {
            "code": self.code.value,
            "variant": self.variant,
            "title": title,
            "explanation": explanation,
            "fix": fixes,
            "server_reply": self.server_reply,
            "actions": [a.to_dict() for a in self.actions],
        }


def diagnose(code: Code, variant: str = "", server_reply: str | None = None, **params: Any) -> Diagnosis:
    """Build a Diagnosis for ``code`` (and optional ``variant``) with template values."""
    return Diagnosis(code=code, variant=variant, params=params, server_reply=server_reply)


class DiagnosedError(Exception):
    """Raised inside the engine to end a stage with a diagnosis; its text never holds a secret."""

    def __init__(self, diagnosis: Diagnosis):
        self.diagnosis = diagnosis
        super().__init__(f"{diagnosis.code.value}: {diagnosis.title}")
