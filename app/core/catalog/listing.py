"""The first page's view of the catalogue: one small record per provider, readable without the model.

Defining the catalogue's model (``app.core.catalog.model``: ~20 frozen dataclasses) and unpickling the
providers cost ~10 ms of a cold start; the wizard's first page only lists providers by name. The
start-up cache (app.core.catalog.cache) stores these entries beside the full catalogue, so the list
shows at once and the providers load when first needed (while the first page is idle, or at once when
something asks for one). Entries are derived from loaded providers, never written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple


def pick_name(names: Mapping[str, str], lang: str, fallback: str) -> str:
    """The name in ``lang``, else in English, else ``fallback`` (a provider's or a region's display name)."""
    return names.get(lang) or names.get("en") or fallback


class ProviderEntry(NamedTuple):
    """What the provider list shows of one provider, and where choosing it leads."""

    id: str
    kind: str  # a ProviderKind value: "preset", "custom", "sandbox"
    name: dict[str, str]  # lang -> display name, as Provider.name
    audience: str  # as Provider.audience
    regional: bool  # the provider has regional servers (the region box needs the full provider)
    guided: bool  # a preset with an app-password guide (the next page is the guide)

    def display_name(self, lang: str = "en") -> str:
        return pick_name(self.name, lang, self.id)


def entries_of(providers: Iterable[Any]) -> tuple[ProviderEntry, ...]:
    """The entries of loaded providers (``Provider`` objects), in their order."""
    return tuple(
        ProviderEntry(
            p.id, p.kind.value, dict(p.name), p.audience, bool(p.regions), p.kind.value == "preset" and bool(p.guide)
        )
        for p in providers
    )


def entries_from_plain(rows: Any) -> tuple[ProviderEntry, ...] | None:
    """Entries from the plain tuples a cache file stores, or None when they do not have that shape."""
    if not isinstance(rows, tuple):
        return None
    out: list[ProviderEntry] = []
    for row in rows:
        if not (isinstance(row, tuple) and len(row) == len(ProviderEntry._fields)):
            return None
        pid, kind, name, audience, regional, guided = row
        if not (
            isinstance(pid, str)
            and isinstance(kind, str)
            and isinstance(name, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in name.items())
            and isinstance(audience, str)
            and isinstance(regional, bool)
            and isinstance(guided, bool)
        ):
            return None
        out.append(ProviderEntry(pid, kind, name, audience, regional, guided))
    return tuple(out)
