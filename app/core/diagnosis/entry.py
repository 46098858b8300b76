"""The row type of the diagnosis table (Entry) and the one-click remedies a diagnosis can offer (Action)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.model import fill as _fill

CONTEXT = "Diagnosis"  # the translation context of every table text


@dataclass(frozen=True)
class Entry:
    """Templates for one (code, variant) row of the table."""

    title: str
    explanation: str
    fixes: tuple[str, ...] = ()
    # front end -> fixes that replace ``fixes`` there (e.g. "gui": a button instead of a CLI flag)
    fixes_for: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
