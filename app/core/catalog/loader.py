"""The provider catalogue: one TOML file per provider in ``resources/providers/``, validated and indexed.

A file that fails validation is reported (file + field path + message) and skipped; the others still
load. Extra folders (``extra_dirs``, and the user's ``<config dir>/mailsetup/providers`` for
:func:`default_catalogue`) add providers without any code change.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.catalog.cache import default_source, user_providers_dir
from app.core.catalog.model import (
    ErrorHint,
    Provider,
    ProviderKind,
)
from app.core.model import AddressError, parse_address
from app.core.resources import resource_path

if TYPE_CHECKING:
    from app.core.catalog.checker import CatalogueError

log = logging.getLogger(__name__)

__all__ = [
    "Catalogue",
    "default_catalogue",
    "load_catalogue",
    "match_error_hint",
    "user_providers_dir",
]


@dataclass
class Catalogue:
    """Loaded providers in display order (presets, then custom, then sandbox) plus the problems found."""

    providers: tuple[Provider, ...] = ()
    errors: list[CatalogueError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.providers}
        self._by_domain: dict[str, Provider] = {}
        self._mx: list[tuple[str, Provider]] = []  # (pattern, provider or its regional variant)
        for p in self.providers:
            for d in p.domains:
                self._by_domain.setdefault(d, p)
            self._mx += [(pat, p) for pat in p.mx_patterns]
            for r in p.regions:  # a region's domains and MX hosts select the provider with its servers
                variant = p.in_region(r.id) or p
                for d in r.domains:
                    self._by_domain.setdefault(d, variant)
                self._mx += [(pat, variant) for pat in r.mx_patterns]

    @property
    def presets(self) -> tuple[Provider, ...]:
        return tuple(p for p in self.providers if p.kind is ProviderKind.PRESET)

    def by_id(self, provider_id: str) -> Provider | None:
        """The provider with this id, or None."""
        return self._by_id.get(provider_id.strip().lower())

    def by_domain(self, domain: str) -> Provider | None:
        """The provider serving mail for ``domain`` (case-insensitive; a subdomain matches its parent,
        only on a dot boundary, so ``notgmail.com`` is not ``gmail.com``)."""
        d = _normalize_domain(domain)
        while d:
            found = self._by_domain.get(d)
            if found is not None:
                return found
            _, dot, d = d.partition(".")
            if not dot or "." not in d:  # never match a bare top-level domain
                return None
        return None

    def by_email(self, address: str) -> Provider | None:
        """The provider for an address such as ``Name <user@yandex.ru>``, by its domain."""
        try:
            return self.by_domain(parse_address(address).domain)
        except AddressError:
            return None

    def by_mx(self, mx_host: str) -> Provider | None:
        """The provider whose MX patterns match ``mx_host`` (case-insensitive, trailing dot ignored)."""
        host = _normalize_domain(mx_host)
        if not host:
            return None
        # The most specific pattern wins (AOL's "*.gm0.yahoodns.net" over a broader Yahoo pattern), so
        # the answer never depends on file order; ties keep display order.
        best: tuple[int, Provider] | None = None
        for pat, p in self._mx:
            score = len(pat.replace("*", "").replace("?", ""))
            if fnmatch.fnmatchcase(host, pat) and (best is None or score > best[0]):
                best = (score, p)
        return best[1] if best else None


def _normalize_domain(domain: str) -> str:
    d = domain.strip().strip("[]").rstrip(".").lower()
    try:
        d = d.encode("idna").decode("ascii") if any(ord(ch) > 127 for ch in d) else d
    except UnicodeError:
        return ""
    return d


def load_catalogue(extra_dirs: Iterable[Path] = (), *, base_dir: Path | None = None) -> Catalogue:
    """Load every ``*.toml`` of ``base_dir`` (default: the shipped ``resources/providers``), then of each
    extra folder. Broken files are reported in ``Catalogue.errors`` and skipped; never raises for bad data."""
    # the checker (and the TOML parser, in _load_file) load only when files are parsed: a start served
    # from the catalogue cache (app.core.catalog.cache) needs neither
    from app.core.catalog.checker import KIND_RANK, CatalogueError

    base = Path(base_dir) if base_dir is not None else resource_path("providers")
    errors: list[CatalogueError] = []
    loaded: list[tuple[int, int, Provider]] = []  # (kind rank, order, provider); insertion keeps file order
    seen_ids: dict[str, str] = {}
    seen_domains: dict[str, str] = {}
    for folder in (base, *map(Path, extra_dirs)):
        if not folder.is_dir():
            message = f"provider folder not found: {folder}"
            errors.append(CatalogueError(folder.name or str(folder), "", message, str(folder)))
            continue
        for file in sorted(folder.glob("*.toml")):
            provider, order, file_errors = _load_file(file)
            if provider is not None:
                file_errors = _check_unique(provider, file, seen_ids, seen_domains)
            if file_errors:
                errors.extend(file_errors)
                continue
            assert provider is not None
            seen_ids[provider.id] = file.name
            seen_domains.update({d: provider.id for d in provider.domains})
            seen_domains.update({d: provider.id for r in provider.regions for d in r.domains})
            loaded.append((KIND_RANK[provider.kind], order, provider))
    loaded.sort(key=lambda t: (t[0], t[1]))  # stable: same order keeps file-name order
    for e in errors:
        log.info("provider catalogue: %s", e)
    return Catalogue(providers=tuple(p for _, _, p in loaded), errors=errors)


def _load_file(file: Path) -> tuple[Provider | None, int, list[CatalogueError]]:
    from app.core.catalog.checker import CatalogueError
    from app.core.catalog.sections import parse_provider

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        return None, 0, [CatalogueError(file.name, "", f"not valid TOML: {exc}", str(file))]
    except (OSError, UnicodeDecodeError) as exc:
        return None, 0, [CatalogueError(file.name, "", f"cannot be read: {exc}", str(file))]
    return parse_provider(data, file)


def _check_unique(
    provider: Provider, file: Path, ids: Mapping[str, str], domains: Mapping[str, str]
) -> list[CatalogueError]:
    """Errors for an id or domain already taken by an earlier file (the later file is the one reported)."""
    from app.core.catalog.checker import CatalogueError

    out = []
    if provider.id in ids:
        message = f"duplicate id {provider.id!r} (already defined in {ids[provider.id]})"
        out.append(CatalogueError(file.name, "id", message, str(file)))
    for i, d in enumerate(provider.domains):
        if d in domains:
            message = f"{d!r} already belongs to provider {domains[d]!r}"
            out.append(CatalogueError(file.name, f"domains[{i}]", message, str(file)))
    for r_i, region in enumerate(provider.regions):
        for i, d in enumerate(region.domains):
            if d in domains or d in provider.domains:
                message = f"{d!r} already belongs to provider {domains.get(d, provider.id)!r}"
                out.append(CatalogueError(file.name, f"regions[{r_i}].domains[{i}]", message, str(file)))
    return out


def default_catalogue() -> Catalogue:
    """The shipped catalogue plus the user's providers folder (if it exists); loaded once and cached
    (``default_catalogue.cache_clear()`` reloads). Served from the start-up cache when no provider file
    (nor the loader) changed since it was written."""
    return default_source().catalogue()


default_catalogue.cache_clear = default_source.cache_clear  # type: ignore[attr-defined]


# --- error hints -------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


def match_error_hint(provider: Provider | None, reply_text: str | None) -> ErrorHint | None:
    """The first of the provider's error hints whose pattern matches the server reply, or None."""
    if provider is None or not reply_text:
        return None
    for hint in provider.error_hints:
        try:
            if _compiled(hint.pattern).search(reply_text):
                return hint
        except re.error:  # a hand-built Provider with a bad pattern: ignore that hint
            log.debug("bad error-hint pattern in provider %s", provider.id)
    return None
