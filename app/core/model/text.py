"""Translatable text for the Qt-free core: templates marked for lupdate, values filled after translation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark ``text`` for translation in ``context`` without translating it now."""
    return text


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(template: str, params: Mapping[str, Any]) -> str:
    """``template.format(**params)``, leaving unknown placeholders as they are."""
    try:
        return template.format_map(_Missing(params))
    except (ValueError, IndexError):
        return template


@dataclass(frozen=True)
class Text:
    """A sentence or a run of sentences: (context, template, params) parts; a param may be a Text itself.

    ``str(text)`` is the English text; ``render(translate)`` translates each template with
    ``translate(context, template)`` first and fills the values after.
    """

    parts: tuple[tuple[str, str, Mapping[str, Any]], ...]

    @classmethod
    def of(cls, context: str, template: str, **params: Any) -> Text:
        return cls(((context, template, params),))

    def render(self, translate: Callable[[str, str], str] | None = None) -> str:
        tr = translate or (lambda _c, s: s)

        def values(p: Mapping[str, Any]) -> Mapping[str, Any]:
            return {k: v.render(translate) if isinstance(v, Text) else v for k, v in p.items()}

        return "".join(fill(tr(c, t) if c else t, values(p)) for c, t, p in self.parts)

    def __add__(self, other: Text | str) -> Text:
        if isinstance(other, str):
            other = Text((("", other, {}),)) if other else Text(())
        return Text(self.parts + other.parts)

    def __radd__(self, other: str) -> Text:
        return Text((("", other, {}),)) + self if other else self

    def __str__(self) -> str:
        return self.render()


LOG = "Log"


def log_text(template: str, **params: Any) -> Text:
    """A log line or reason for people: ``template`` is marked with ``QT_TRANSLATE_NOOP("Log", ...)`` at the call.

    Values (host names, server text, OpenSSL's own words) stay values: they are never translated.
    """
    return Text.of(LOG, template, **params)


def plain(text: str) -> Text:
    """A value shown as it is (a server's reply, a protocol line): nothing to translate."""
    return Text((("", "{0}", {"0": text}),)) if text else Text(())
