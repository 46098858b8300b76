"""The report as plain, already cleaned text: sections of rows, tables, lists and preformatted lines.

A ``Report`` holds only strings that went through ``Cleaner`` (bounded, control characters made
visible, addresses masked on request); the renderers escape them for their format and decide
nothing. ``status`` values are "ok", "failed", "warn", "skipped" or "" (neutral).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One part of a report. Any of ``text``, ``rows``, ``table``, ``items``, ``lines`` may be empty."""

    key: str  # stable id: "summary", "diagnosis", "settings", "stages", ...
    title: str
    status: str = ""
    text: str = ""  # a paragraph
    rows: tuple[tuple[str, str], ...] = ()  # label, value
    table: tuple[tuple[str, ...], ...] = ()  # the header first
    table_status: tuple[str, ...] = ()  # per data row of ``table``
    items: tuple[str, ...] = ()  # a list (fixes, notes)
    items_title: str = ""
    lines: tuple[str, ...] = ()  # preformatted (transcript, server reply)
    lines_title: str = ""


@dataclass(frozen=True)
class Report:
    """A shareable diagnostic report of one check (and what ran with it)."""

    title: str
    ok: bool
    headline: str
    created: str  # ISO 8601, UTC
    sections: tuple[Section, ...]
    masked_addresses: bool = False

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)


NEVER_INCLUDED = (
    "This report never contains a password, an app password, an OAuth token, a proxy password or "
    "any authentication payload (AUTH PLAIN, AUTH LOGIN, XOAUTH2): they are not given to the report "
    "at all, and the protocol transcript is masked."
)

__all__ = ["NEVER_INCLUDED", "Report", "Section"]
