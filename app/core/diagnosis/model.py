"""A Diagnosis: a row of the one table (code + variant) with its values, rendered translate-then-fill."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.core.diagnosis.entry import CONTEXT, Action, Entry
from app.core.diagnosis.table import PARAM_WORDS, TABLE
from app.core.model import QT_TRANSLATE_NOOP, Code, Text
from app.core.model import fill as _fill

__all__ = ["QT_TRANSLATE_NOOP", "Action", "Code", "DiagnosedError", "Diagnosis", "Entry", "diagnose", "entry_for"]


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

    def render(
        self, translate: Callable[[str], str] = lambda s: s, lang: str = "en", front_end: str = "cli"
    ) -> tuple[str, str, list[str]]:
        """(title, explanation, fixes): translate each template, then fill in the values.

        ``front_end`` ("cli" or "gui") picks the fixes worded for it (a flag there, a button here).
        """
        e = entry_for(self.code, self.variant)
        # a value may itself be our own phrase (a Text, e.g. a certificate verify error): translated too
        params = {k: v.render(lambda _c, s: translate(s)) if isinstance(v, Text) else v for k, v in self.params.items()}
        for key, words in PARAM_WORDS.items():
            value = params.get(key, "")
            if isinstance(value, Enum):
                value = value.value
            if isinstance(value, str) and value in words:
                params[key] = translate(words[value])
        fixes = [_fill(translate(f), params) for f in e.fixes_for.get(front_end, e.fixes)]
        extra = self.provider_fixes.get(lang) or self.provider_fixes.get("en") or ()
        return _fill(translate(e.title), params), _fill(translate(e.explanation), params), list(extra) + fixes

    @property
    def title(self) -> str:
        return self.render()[0]

    def title_text(self) -> Text:
        """The title as a translatable Text (for a log line): the template, then its values."""
        params: dict[str, Any] = {}
        for k, v in self.params.items():
            name = v.value if isinstance(v, Enum) else v
            if isinstance(name, str) and name in PARAM_WORDS.get(k, {}):
                v = Text.of(CONTEXT, PARAM_WORDS[k][name])
            params[k] = v
        return Text.of(CONTEXT, entry_for(self.code, self.variant).title, **params)

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
