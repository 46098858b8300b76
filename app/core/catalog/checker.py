"""Validation helpers for provider files: the error record, the field checker and the shared patterns."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from app.core.catalog.model import (
    ProviderKind,
)
from app.core.model import Code, Security

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on Python 3.10 only
    pass


LANGS = ("ru", "en")  # languages every preset must provide (name and guide)
DEFAULT_ORDER = 1000  # presets without ``order`` come after the shipped ones
KIND_RANK = {ProviderKind.PRESET: 0, ProviderKind.CUSTOM: 1, ProviderKind.SANDBOX: 2}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
MX_PATTERN_RE = re.compile(r"^[a-z0-9*?.\-]+$")
HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
LANG_RE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
CODES = {c.value for c in Code}
SECURITIES = {s.value for s in Security}

TOP_KEYS = {
    "id", "kind", "order", "name", "domains", "mx_patterns", "smtp", "imap", "pop3", "username_rule",
    "username_literal", "password_kind", "strip_password_spaces", "dynamic_ports", "links", "guide", "tips",
    "errors", "oauth",
    "sources", "notices", "limits", "audience", "ispdb", "provider_db",  # dated facts: app.core.catalog.facts
    "regions",  # regional servers: app.core.catalog.regions
    "sending",  # DKIM selectors, SPF include, From rule: app.core.catalog.facts
}  # fmt: skip


@dataclass(frozen=True)
class CatalogueError:
    """One problem found in a provider file: ``file`` (name), ``field`` (path such as ``smtp[0].port``)."""

    file: str
    field: str
    message: str
    path: str = ""  # full path of the file, when known

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}" if self.field else f"{self.file}: {self.message}"


E = TypeVar("E", bound=Enum)


class Checker:
    """Collects errors for one file while converting its TOML table into a Provider."""

    def __init__(self, file: Path):
        self.file = file
        self.errors: list[CatalogueError] = []

    def err(self, fld: str, message: str) -> None:
        self.errors.append(CatalogueError(self.file.name, fld, message, str(self.file)))

    # --- typed getters: each returns None (after reporting) when the value is unusable -------------

    def get(
        self, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str, *, required: bool = False
    ) -> Any:
        if key not in table:
            if required:
                self.err(path, "is required")
            return None
        value = table[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            self.err(path, f"must be {type_name(kind)}, not {type_name(type(value))}")
            return None
        return value

    def text(self, table: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
        value = self.get(table, key, str, path, required=required)
        if value is not None and not value.strip():
            self.err(path, "must not be empty")
            return None
        return value.strip() if value is not None else None

    def choice(self, table: Mapping[str, Any], key: str, enum_type: type[E], default: E) -> E:
        """A value of ``enum_type`` named by the string at ``key`` (``default`` when absent or wrong)."""
        text = self.text(table, key, key)
        if text is None:
            return default
        try:
            return enum_type(text)
        except ValueError:
            self.err(key, f"must be one of {', '.join(m.value for m in enum_type)}")
            return default

    def str_list(self, table: Mapping[str, Any], key: str, path: str) -> list[str]:
        value = self.get(table, key, list, path)
        out: list[str] = []
        for i, item in enumerate(value or []):
            if not isinstance(item, str) or not item.strip():
                self.err(f"{path}[{i}]", "must be a non-empty string")
            else:
                out.append(item.strip())
        return out

    def lang_table(
        self, table: Mapping[str, Any], key: str, path: str, *, required_langs: Iterable[str] = ()
    ) -> dict[str, str]:
        value = self.get(table, key, dict, path, required=bool(required_langs))
        out: dict[str, str] = {}
        for lang, text in (value or {}).items():
            if not LANG_RE.match(lang):
                self.err(f"{path}.{lang}", "is not a language code such as 'ru' or 'en'")
            elif not isinstance(text, str) or not text.strip():
                self.err(f"{path}.{lang}", "must be a non-empty string")
            else:
                out[lang] = text.strip()
        if value is not None:
            for lang in required_langs:
                if lang not in value:
                    self.err(f"{path}.{lang}", "is required")
        return out

    def url(self, value: Any, path: str, links: Mapping[str, str]) -> str | None:
        """An https URL, or the name of an entry of the ``links`` table."""
        if not isinstance(value, str) or not value.strip():
            self.err(path, "must be an https URL or a key of [links]")
            return None
        value = value.strip()
        if "://" not in value:
            if value in links:
                return links[value]
            self.err(path, f"'{value}' is neither an https URL nor a key of [links]")
            return None
        return value if self.check_https(value, path) else None

    def check_https(self, value: str, path: str) -> bool:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
            self.err(path, f"must be an https URL, got {value!r}")
            return False
        return True


def type_name(kind: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "an array", dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, getattr(kind, "__name__", str(kind)))
