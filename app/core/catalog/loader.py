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
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from app.core.catalog.model import (
    Endpoint,
    ErrorHint,
    Guide,
    GuideStep,
    OAuthSpec,
    PasswordKind,
    Provider,
    ProviderKind,
    Region,
    UsernameRule,
)
from app.core.model import AddressError, Code, Security, parse_address
from app.core.resources import resource_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

LANGS = ("ru", "en")  # languages every preset must provide (name and guide)
DEFAULT_ORDER = 1000  # presets without ``order`` come after the shipped ones
_KIND_RANK = {ProviderKind.PRESET: 0, ProviderKind.CUSTOM: 1, ProviderKind.SANDBOX: 2}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")
_MX_PATTERN_RE = re.compile(r"^[a-z0-9*?.\-]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_CODES = {c.value for c in Code}
_SECURITIES = {s.value for s in Security}

_TOP_KEYS = {
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


class _Checker:
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
            self.err(path, f"must be {_type_name(kind)}, not {_type_name(type(value))}")
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
            if not _LANG_RE.match(lang):
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


def _type_name(kind: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "an array", dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def _parse_provider(data: Mapping[str, Any], file: Path) -> tuple[Provider | None, int, list[CatalogueError]]:
    """Validate one decoded TOML document: (provider or None, order, errors)."""
    c = _Checker(file)
    for key in data:
        if key not in _TOP_KEYS:
            c.err(key, "unknown field (typo?)")

    pid = c.text(data, "id", "id", required=True)
    if pid is not None and not _ID_RE.match(pid):
        c.err("id", "must be lowercase letters, digits, '-' or '_' (at most 64)")
        pid = None

    kind = c.choice(data, "kind", ProviderKind, ProviderKind.PRESET)
    preset = kind is ProviderKind.PRESET

    order = c.get(data, "order", int, "order")
    order = DEFAULT_ORDER if order is None else order

    name = c.lang_table(data, "name", "name", required_langs=LANGS)

    domains = _domain_list(c, data, "domains")
    mx_patterns = _mx_pattern_list(c, data, "mx_patterns")

    dynamic_ports = bool(c.get(data, "dynamic_ports", bool, "dynamic_ports"))
    endpoints: dict[str, tuple[Endpoint, ...]] = {}
    for proto in ("smtp", "imap", "pop3"):
        endpoints[proto] = tuple(_endpoints(c, data, proto, dynamic_ports))
    if preset and not endpoints["smtp"] and "smtp" not in {e.field.split("[")[0] for e in c.errors}:
        c.err("smtp", "a preset needs at least one SMTP endpoint")

    username_rule = c.choice(data, "username_rule", UsernameRule, UsernameRule.EMAIL)
    username_literal = c.text(data, "username_literal", "username_literal")
    if username_rule is UsernameRule.LITERAL and not username_literal and "username_literal" not in data:
        c.err("username_literal", 'is required when username_rule = "literal"')

    password_kind = c.choice(data, "password_kind", PasswordKind, PasswordKind.APP_PASSWORD)
    strip_spaces = bool(c.get(data, "strip_password_spaces", bool, "strip_password_spaces"))

    links: dict[str, str] = {}
    raw_links = c.get(data, "links", dict, "links") or {}
    for role, url in raw_links.items():
        if not isinstance(url, str):
            c.err(f"links.{role}", "must be an https URL")
        elif c.check_https(url.strip(), f"links.{role}"):
            links[role] = url.strip()

    guide = _guides(c, data, links, required=preset)
    tips = _tips(c, data)
    hints = _error_hints(c, data, links)
    oauth = _oauth(c, data, links)
    facts = _facts(c, data, preset=preset)
    domains = _with_ispdb_domains(domains, facts["ispdb"], facts["provider_db"])
    regions = _regions(c, data)

    if c.errors or pid is None:
        return None, order, c.errors
    provider = Provider(
        id=pid,
        kind=kind,
        name=name,
        domains=tuple(domains),
        mx_patterns=tuple(mx_patterns),
        smtp=endpoints["smtp"],
        imap=endpoints["imap"],
        pop3=endpoints["pop3"],
        username_rule=username_rule,
        username_literal=username_literal,
        password_kind=password_kind,
        strip_password_spaces=strip_spaces,
        guide=guide,
        links=links,
        tips=tips,
        error_hints=tuple(hints),
        source_file=str(file),
        dynamic_ports=dynamic_ports,
        oauth=oauth,
        **facts,
        regions=regions,
    )
    return provider, order, []


def _oauth(c: _Checker, data: Mapping[str, Any], links: Mapping[str, str]) -> OAuthSpec | None:
    """The optional ``[oauth]`` table (parsed in app.core.catalog.oauth)."""
    from app.core.catalog.oauth import parse_oauth

    return parse_oauth(c, data, links)


def _facts(c: _Checker, data: Mapping[str, Any], *, preset: bool) -> dict[str, Any]:
    """sources, notices, limits, audience, ispdb (parsed in app.core.catalog.facts)."""
    from app.core.catalog.facts import parse_facts

    return parse_facts(c, data, preset=preset)


def _with_ispdb_domains(domains: list[str], ispdb: tuple[str, ...], provider_db: tuple[str, ...]) -> list[str]:
    """The file's own domains, then those of its ISPDB / provider-db files (bundled snapshot) not yet listed."""
    from app.core.catalog.facts import ispdb_domains

    extra = ispdb_domains(ispdb) + ispdb_domains(provider_db, "provider_db")
    return domains + [d for i, d in enumerate(extra) if d not in domains and d not in extra[:i]]


def _regions(c: _Checker, data: Mapping[str, Any]) -> tuple[Region, ...]:
    """The optional ``[[regions]]`` (parsed in app.core.catalog.regions)."""
    from app.core.catalog.regions import parse_regions

    return parse_regions(c, data)


def _domain_list(c: _Checker, table: Mapping[str, Any], path: str) -> list[str]:
    """The mail domains at ``path`` (its last part is the key), lower-cased, each once."""
    domains: list[str] = []
    for i, d in enumerate(c.str_list(table, path.rsplit(".", 1)[-1], path)):
        d = d.lower().rstrip(".")
        if not _DOMAIN_RE.match(d):
            c.err(f"{path}[{i}]", f"{d!r} is not a domain name")
        elif d in domains:
            c.err(f"{path}[{i}]", f"{d!r} is listed twice")
        else:
            domains.append(d)
    return domains


def _mx_pattern_list(c: _Checker, table: Mapping[str, Any], path: str) -> list[str]:
    patterns: list[str] = []
    for i, p in enumerate(c.str_list(table, path.rsplit(".", 1)[-1], path)):
        p = p.lower().rstrip(".")
        if not _MX_PATTERN_RE.match(p) or "." not in p:
            c.err(f"{path}[{i}]", f"{p!r} is not a host pattern such as '*.example.net'")
        else:
            patterns.append(p)
    return patterns


def _endpoints(c: _Checker, data: Mapping[str, Any], proto: str, dynamic_ports: bool) -> list[Endpoint]:
    out: list[Endpoint] = []
    raw = c.get(data, proto, list, proto)
    for i, item in enumerate(raw or []):
        path = f"{proto}[{i}]"
        if not isinstance(item, dict):
            c.err(path, "must be a table with host, port and security")
            continue
        for key in item:
            if key not in ("host", "port", "security"):
                c.err(f"{path}.{key}", "unknown field (typo?)")
        host = c.text(item, "host", f"{path}.host", required=True)
        if host is not None and not _HOST_RE.match(host):
            c.err(f"{path}.host", f"{host!r} is not a host name")
            host = None
        port = c.get(item, "port", int, f"{path}.port", required=True)
        if port is not None:
            low = 0 if dynamic_ports else 1
            if not low <= port <= 65535:
                c.err(f"{path}.port", "must be 1..65535" if low else "must be 0..65535 (0: chosen at start)")
                port = None
        security = c.text(item, "security", f"{path}.security", required=True)
        if security is not None and security not in _SECURITIES:
            c.err(f"{path}.security", f"must be one of {', '.join(sorted(_SECURITIES))}")
            security = None
        if host is not None and port is not None and security is not None:
            out.append(Endpoint(host=host, port=port, security=security))
    return out


def _guides(c: _Checker, data: Mapping[str, Any], links: Mapping[str, str], *, required: bool) -> dict[str, Guide]:
    raw = c.get(data, "guide", dict, "guide", required=required)
    out: dict[str, Guide] = {}
    if raw is None:
        return out
    for lang, body in raw.items():
        path = f"guide.{lang}"
        if not _LANG_RE.match(lang):
            c.err(path, "is not a language code such as 'ru' or 'en'")
            continue
        if not isinstance(body, dict):
            c.err(path, "must be a table with steps")
            continue
        for key in body:
            if key not in ("steps", "prerequisites", "result"):
                c.err(f"{path}.{key}", "unknown field (typo?)")
        steps: list[GuideStep] = []
        raw_steps = c.get(body, "steps", list, f"{path}.steps", required=True)
        if raw_steps is not None and not raw_steps:
            c.err(f"{path}.steps", "needs at least one step")
        for i, step in enumerate(raw_steps or []):
            spath = f"{path}.steps[{i}]"
            if not isinstance(step, dict):
                c.err(spath, "must be a table with text (and optional link, link_label)")
                continue
            for key in step:
                if key not in ("text", "link", "link_label"):
                    c.err(f"{spath}.{key}", "unknown field (typo?)")
            text = c.text(step, "text", f"{spath}.text", required=True)
            link = c.url(step["link"], f"{spath}.link", links) if "link" in step else None
            label = c.text(step, "link_label", f"{spath}.link_label")
            if text is not None:
                steps.append(GuideStep(text=text, link=link, link_label=label))
        prereq = tuple(c.str_list(body, "prerequisites", f"{path}.prerequisites"))
        result = c.text(body, "result", f"{path}.result") or ""
        out[lang] = Guide(steps=tuple(steps), prerequisites=prereq, result_hint=result)
    if required:
        for lang in LANGS:
            if lang not in raw:
                c.err(f"guide.{lang}", "is required")
    return out


def _tips(c: _Checker, data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    raw = c.get(data, "tips", dict, "tips")
    out: dict[str, tuple[str, ...]] = {}
    for lang in raw or {}:
        if not _LANG_RE.match(lang):
            c.err(f"tips.{lang}", "is not a language code such as 'ru' or 'en'")
            continue
        out[lang] = tuple(c.str_list(raw, lang, f"tips.{lang}"))
    return out


def _error_hints(c: _Checker, data: Mapping[str, Any], links: Mapping[str, str]) -> list[ErrorHint]:
    out: list[ErrorHint] = []
    raw = c.get(data, "errors", list, "errors")
    for i, item in enumerate(raw or []):
        path = f"errors[{i}]"
        if not isinstance(item, dict):
            c.err(path, "must be a table with pattern, code and fix")
            continue
        for key in item:
            if key not in ("pattern", "code", "fix", "link"):
                c.err(f"{path}.{key}", "unknown field (typo?)")
        pattern = c.text(item, "pattern", f"{path}.pattern", required=True)
        if pattern is not None:
            try:
                re.compile(pattern, re.IGNORECASE | re.DOTALL)
            except re.error as exc:
                c.err(f"{path}.pattern", f"is not a valid regular expression: {exc}")
                pattern = None
        code = c.text(item, "code", f"{path}.code", required=True)
        if code is not None and code not in _CODES:
            c.err(f"{path}.code", f"{code!r} is not a diagnosis code ({', '.join(sorted(_CODES))})")
            code = None
        fix = c.lang_table(item, "fix", f"{path}.fix", required_langs=LANGS)
        link = c.url(item["link"], f"{path}.link", links) if "link" in item else None
        if pattern is not None and code is not None:
            out.append(ErrorHint(pattern=pattern, code=code, fix=fix, link=link))
    return out


# --- the catalogue ---------------------------------------------------------------------------------


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
            loaded.append((_KIND_RANK[provider.kind], order, provider))
    loaded.sort(key=lambda t: (t[0], t[1]))  # stable: same order keeps file-name order
    for e in errors:
        log.info("provider catalogue: %s", e)
    return Catalogue(providers=tuple(p for _, _, p in loaded), errors=errors)


def _load_file(file: Path) -> tuple[Provider | None, int, list[CatalogueError]]:
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        return None, 0, [CatalogueError(file.name, "", f"not valid TOML: {exc}", str(file))]
    except (OSError, UnicodeDecodeError) as exc:
        return None, 0, [CatalogueError(file.name, "", f"cannot be read: {exc}", str(file))]
    return _parse_provider(data, file)


def _check_unique(
    provider: Provider, file: Path, ids: Mapping[str, str], domains: Mapping[str, str]
) -> list[CatalogueError]:
    """Errors for an id or domain already taken by an earlier file (the later file is the one reported)."""
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


def user_providers_dir() -> Path:
    """``<user config dir>/mailsetup/providers``: drop a TOML file there to add a provider."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("mailsetup", appauthor=False)) / "providers"


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue plus the user's providers folder (if it exists); loaded once and cached
    (``default_catalogue.cache_clear()`` reloads)."""
    user_dir = user_providers_dir()
    return load_catalogue([user_dir] if user_dir.is_dir() else [])


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


# --- serialisation -----------------------------------------------------------------------------------


def endpoint_to_dict(e: Endpoint) -> dict[str, Any]:
    return {"host": e.host, "port": e.port, "security": e.security}


def _oauth_dict(spec: OAuthSpec | None) -> dict[str, Any] | None:
    from app.core.catalog.oauth import oauth_to_dict

    return oauth_to_dict(spec) if spec is not None else None


def _regions_list(p: Provider) -> list[dict[str, Any]]:
    from app.core.catalog.regions import region_names

    return region_names(p.regions)


def _facts_dict(p: Provider) -> dict[str, Any]:
    from app.core.catalog.facts import facts_to_dict

    return facts_to_dict(p)


def provider_to_dict(p: Provider, lang: str = "en", *, full: bool = False) -> dict[str, Any]:
    """JSON-ready description; ``full`` adds guide, tips and error hints (all languages)."""
    d: dict[str, Any] = {
        "id": p.id,
        "kind": p.kind.value,
        "name": p.display_name(lang),
        "names": dict(p.name),
        "domains": list(p.domains),
        "mx_patterns": list(p.mx_patterns),
        "smtp": [endpoint_to_dict(e) for e in p.smtp],
        "imap": [endpoint_to_dict(e) for e in p.imap],
        "pop3": [endpoint_to_dict(e) for e in p.pop3],
        "dynamic_ports": p.dynamic_ports,
        "username_rule": p.username_rule.value,
        "username_literal": p.username_literal,
        "password_kind": p.password_kind.value,
        "strip_password_spaces": p.strip_password_spaces,
        "links": dict(p.links),
        "oauth": _oauth_dict(p.oauth),
        "audience": p.audience,
    }
    if full:
        d["guide"] = {
            g_lang: {
                "prerequisites": list(g.prerequisites),
                "steps": [{"text": s.text, "link": s.link, "link_label": s.link_label} for s in g.steps],
                "result": g.result_hint,
            }
            for g_lang, g in p.guide.items()
        }
        d["tips"] = {t_lang: list(t) for t_lang, t in p.tips.items()}
        d["errors"] = [
            {"pattern": h.pattern, "code": h.code, "fix": dict(h.fix), "link": h.link} for h in p.error_hints
        ]
        d["source_file"] = p.source_file
        d.update(_facts_dict(p))
        d["regions"] = _regions_list(p)
    return d
