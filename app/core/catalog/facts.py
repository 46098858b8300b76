"""Dated, sourced facts of a provider file: ``sources``, ``[[notices]]``, ``[[limits]]``, ``audience``, ``ispdb``.

Kept apart from the loader's other fields (like the ``[oauth]`` table) so the rules for facts that change
over time live in one place:

- ``sources = [...]``: where the file's facts come from (https URLs or citations such as
  "ISPDB hotmail.com.xml"); optional for a user's own file, every shipped preset lists some (a test checks).
- ``[[notices]]``: advice true only between ``since`` and ``valid_until`` (TOML dates, inclusive), with
  ``text.ru``/``text.en`` and a ``source``. A cut-off is two notices, so the app is right on both sides.
- ``[[limits]]``: ``kind`` (a LimitKind), ``value`` (a positive integer), ``scope``, ``text.ru``/``text.en``
  (each must state the number), ``source`` and ``checked`` (the date it was read there).
- ``ispdb = [...]``: Mozilla ISPDB files (names without ``.xml``) whose domains the provider serves; they
  come from the bundled snapshot ``resources/ispdb/snapshot.json`` (made by ``tools/ispdb_snapshot.py``).
- ``provider_db = [...]``: the same for Delta Chat's provider database (providers ISPDB lists only by MX).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from app.core.catalog.model import Limit, LimitKind, Notice, Sending
from app.core.resources import resource_path

if TYPE_CHECKING:
    from app.core.catalog.checker import Checker

log = logging.getLogger(__name__)

FACT_KEYS = ("sources", "notices", "limits", "audience", "ispdb", "provider_db")
AUDIENCES = ("personal", "business", "developer")
_CITATION_MAX = 300


@lru_cache(maxsize=1)
def ispdb_snapshot() -> Mapping[str, Any]:
    """The bundled ISPDB snapshot (``{"commit", "commit_date", "files": {name: {...}}}``); empty if absent."""
    path = resource_path("ispdb") / "snapshot.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ISPDB snapshot not readable (%s): %s", path, exc)
        return {"files": {}}
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else {"files": {}}


def parse_facts(c: Checker, data: Mapping[str, Any], *, preset: bool) -> dict[str, Any]:
    """Validate the fact fields; returns keyword arguments for Provider (only the valid parts)."""
    sources = _sources(c, data)
    audience = c.text(data, "audience", "audience") or ""
    if audience and audience not in AUDIENCES:
        c.err("audience", f"must be one of {', '.join(AUDIENCES)}")
        audience = ""
    return {
        "sources": tuple(sources),
        "audience": audience,
        "notices": tuple(_notices(c, data)),
        "limits": tuple(_limits(c, data)),
        "ispdb": tuple(snapshot_names(c, data, "ispdb")),
        "provider_db": tuple(snapshot_names(c, data, "provider_db")),
        "sending": _sending(c, data),
    }


FOREIGN_FROM = ("rewrite", "reject")
_LABEL_RE = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]{0,120}[a-z0-9])?$")


def _sending(c: Checker, data: Mapping[str, Any]) -> Sending:
    """The optional ``[sending]`` table: ``dkim_selectors``, ``spf_include``, ``foreign_from``."""
    table = c.get(data, "sending", dict, "sending") or {}
    for key in table:
        if key not in ("dkim_selectors", "spf_include", "foreign_from"):
            c.err(f"sending.{key}", "unknown field (typo?)")
    selectors = c.str_list(table, "dkim_selectors", "sending.dkim_selectors") if "dkim_selectors" in table else []
    for i, sel in enumerate(selectors):
        if not _LABEL_RE.match(sel.lower()):
            c.err(f"sending.dkim_selectors[{i}]", "must be a DNS label such as selector1")
    include = (c.text(table, "spf_include", "sending.spf_include") or "").strip().lower()
    if include and not _LABEL_RE.match(include):
        c.err("sending.spf_include", "must be a domain such as _spf.example.com")
    foreign = c.text(table, "foreign_from", "sending.foreign_from") or ""
    if foreign and foreign not in FOREIGN_FROM:
        c.err("sending.foreign_from", f"must be one of {', '.join(FOREIGN_FROM)}")
    return Sending(tuple(selectors), include, foreign)


def _snapshot_files(key: str) -> Mapping[str, Any]:
    """The files of the ISPDB (``ispdb``) or Delta Chat (``provider_db``) part of the snapshot."""
    snap = ispdb_snapshot()
    files = snap.get("files") if key == "ispdb" else (snap.get("deltachat") or {}).get("files")
    return files if isinstance(files, dict) else {}


def ispdb_domains(names: tuple[str, ...], key: str = "ispdb") -> list[str]:
    """The mail domains of these snapshot files (``key``: "ispdb" or "provider_db"), in file order."""
    files = _snapshot_files(key)
    out: list[str] = []
    for name in names:
        for d in files.get(name, {}).get("domains", ()):
            if isinstance(d, str) and d not in out:
                out.append(d)
    return out


def _sources(c: Checker, data: Mapping[str, Any]) -> list[str]:
    if "sources" not in data:
        return []
    out = c.str_list(data, "sources", "sources")
    for i, text in enumerate(out):
        if len(text) > _CITATION_MAX:
            c.err(f"sources[{i}]", f"is longer than {_CITATION_MAX} characters")
        elif "://" in text:
            c.check_https(text, f"sources[{i}]")
    if not out and not any(e.field.startswith("sources") for e in c.errors):
        c.err("sources", "needs at least one source")
    return out


def _date(c: Checker, table: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> date | None:
    if key not in table:
        if required:
            c.err(path, "is required (a TOML date such as 2026-12-31)")
        return None
    value = table[key]
    if isinstance(value, datetime) or not isinstance(value, date):
        c.err(path, "must be a TOML date such as 2026-12-31 (no quotes, no time)")
        return None
    return value


def _table_list(c: Checker, data: Mapping[str, Any], key: str, allowed: set[str]) -> list[tuple[str, dict]]:
    out = []
    for i, item in enumerate(c.get(data, key, list, key) or []):
        path = f"{key}[{i}]"
        if not isinstance(item, dict):
            c.err(path, "must be a table")
            continue
        for k in item:
            if k not in allowed:
                c.err(f"{path}.{k}", "unknown field (typo?)")
        out.append((path, item))
    return out


def _window(c: Checker, item: Mapping[str, Any], path: str) -> tuple[date | None, date | None, bool]:
    since = _date(c, item, "since", f"{path}.since")
    until = _date(c, item, "valid_until", f"{path}.valid_until")
    ok = not (since and until and until < since)
    if not ok:
        c.err(f"{path}.valid_until", f"{until} is before since ({since})")
    return since, until, ok


def _source(c: Checker, item: Mapping[str, Any], path: str) -> str | None:
    source = c.text(item, "source", path, required=True)
    if source is not None and "://" in source and not c.check_https(source, path):
        return None
    return source


def _notices(c: Checker, data: Mapping[str, Any]) -> list[Notice]:
    from app.core.catalog.checker import LANGS

    out = []
    for path, item in _table_list(c, data, "notices", {"text", "since", "valid_until", "source"}):
        text = c.lang_table(item, "text", f"{path}.text", required_langs=LANGS)
        since, until, ok = _window(c, item, path)
        if since is None and until is None and "since" not in item and "valid_until" not in item:
            c.err(path, "needs since or valid_until (undated advice belongs in [tips])")
            ok = False
        source = _source(c, item, f"{path}.source")
        if ok and text and source:
            out.append(Notice(text=text, since=since, valid_until=until, source=source))
    return out


def _digits(text: str) -> set[int]:
    """Numbers written in a sentence, with any thousands separator (1,000 / 1 000 / 1000)."""
    return {int(re.sub(r"[ ,\u00a0\u202f]", "", m)) for m in re.findall(r"\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+|\d+", text)}


def _limits(c: Checker, data: Mapping[str, Any]) -> list[Limit]:
    from app.core.catalog.checker import LANGS

    allowed = {"kind", "value", "scope", "text", "source", "checked", "since", "valid_until"}
    out = []
    for path, item in _table_list(c, data, "limits", allowed):
        kind = c.text(item, "kind", f"{path}.kind", required=True)
        if kind is not None and kind not in {k.value for k in LimitKind}:
            c.err(f"{path}.kind", f"must be one of {', '.join(k.value for k in LimitKind)}")
            kind = None
        value = c.get(item, "value", int, f"{path}.value", required=True)
        if value is not None and value <= 0:
            c.err(f"{path}.value", "must be a positive number")
            value = None
        text = c.lang_table(item, "text", f"{path}.text", required_langs=LANGS)
        for lang, sentence in text.items():
            if value is not None and value not in _digits(sentence):
                c.err(f"{path}.text.{lang}", f"does not state the value {value}")
        scope = c.text(item, "scope", f"{path}.scope") or ""
        source = _source(c, item, f"{path}.source")
        checked = _date(c, item, "checked", f"{path}.checked", required=True)
        since, until, ok = _window(c, item, path)
        if ok and kind and value is not None and text and source and checked:
            out.append(Limit(LimitKind(kind), value, text, source, checked, scope, since, until))
    return out


def snapshot_names(c: Checker, data: Mapping[str, Any], key: str, prefix: str = "") -> list[str]:
    files = _snapshot_files(key)
    what = "ISPDB" if key == "ispdb" else "Delta Chat provider-db"
    out = []
    for i, name in enumerate(c.str_list(data, key, f"{prefix}{key}")):
        if name not in files:
            c.err(f"{prefix}{key}[{i}]", f"{name!r} is not in the bundled {what} snapshot (tools/ispdb_snapshot.py)")
        elif name in out:
            c.err(f"{prefix}{key}[{i}]", f"{name!r} is listed twice")
        else:
            out.append(name)
    return out


def facts_to_dict(p: Any) -> dict[str, Any]:
    """JSON-ready form of a provider's dated facts (dates as ISO strings)."""

    def iso(d: date | None) -> str | None:
        return d.isoformat() if d else None

    return {
        "sources": list(p.sources),
        "audience": p.audience,
        "ispdb": list(p.ispdb),
        "provider_db": list(p.provider_db),
        "notices": [
            {"text": dict(n.text), "since": iso(n.since), "valid_until": iso(n.valid_until), "source": n.source}
            for n in p.notices
        ],
        "limits": [
            {
                "kind": lim.kind.value,
                "value": lim.value,
                "scope": lim.scope,
                "text": dict(lim.text),
                "source": lim.source,
                "checked": iso(lim.checked),
                "since": iso(lim.since),
                "valid_until": iso(lim.valid_until),
            }
            for lim in p.limits
        ],
    }
