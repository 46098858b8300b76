"""One provider file, section by section: from a decoded TOML table to a validated Provider."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on Python 3.10 only
    pass

from app.core.catalog.checker import (
    CODES,
    DEFAULT_ORDER,
    DOMAIN_RE,
    HOST_RE,
    ID_RE,
    LANG_RE,
    LANGS,
    MX_PATTERN_RE,
    SECURITIES,
    TOP_KEYS,
    CatalogueError,
    Checker,
)


def parse_provider(data: Mapping[str, Any], file: Path) -> tuple[Provider | None, int, list[CatalogueError]]:
    """Validate one decoded TOML document: (provider or None, order, errors)."""
    c = Checker(file)
    for key in data:
        if key not in TOP_KEYS:
            c.err(key, "unknown field (typo?)")

    pid = c.text(data, "id", "id", required=True)
    if pid is not None and not ID_RE.match(pid):
        c.err("id", "must be lowercase letters, digits, '-' or '_' (at most 64)")
        pid = None

    kind = c.choice(data, "kind", ProviderKind, ProviderKind.PRESET)
    preset = kind is ProviderKind.PRESET
    order = c.get(data, "order", int, "order")
    order = DEFAULT_ORDER if order is None else order

    fields: dict[str, Any] = {"name": c.lang_table(data, "name", "name", required_langs=LANGS)}
    domains = _domain_list(c, data, "domains")
    fields["mx_patterns"] = tuple(_mx_pattern_list(c, data, "mx_patterns"))
    fields.update(_servers(c, data, preset=preset))
    fields.update(_login(c, data))
    links = _links(c, data)
    fields.update(
        links=links,
        guide=_guides(c, data, links, required=preset),
        tips=_tips(c, data),
        error_hints=tuple(_error_hints(c, data, links)),
        oauth=_oauth(c, data, links),
    )
    facts = _facts(c, data, preset=preset)
    fields["domains"] = tuple(_with_ispdb_domains(domains, facts["ispdb"], facts["provider_db"]))
    fields["regions"] = _regions(c, data)

    if c.errors or pid is None:
        return None, order, c.errors
    return Provider(id=pid, kind=kind, source_file=str(file), **fields, **facts), order, []


def _servers(c: Checker, data: Mapping[str, Any], *, preset: bool) -> dict[str, Any]:
    """smtp, imap and pop3 endpoints and ``dynamic_ports``; a preset needs at least one SMTP endpoint."""
    dynamic_ports = bool(c.get(data, "dynamic_ports", bool, "dynamic_ports"))
    out: dict[str, Any] = {"dynamic_ports": dynamic_ports}
    for proto in ("smtp", "imap", "pop3"):
        out[proto] = tuple(_endpoints(c, data, proto, dynamic_ports))
    if preset and not out["smtp"] and "smtp" not in {e.field.split("[")[0] for e in c.errors}:
        c.err("smtp", "a preset needs at least one SMTP endpoint")
    return out


def _login(c: Checker, data: Mapping[str, Any]) -> dict[str, Any]:
    """How the login is formed and what kind of password the provider wants."""
    username_rule = c.choice(data, "username_rule", UsernameRule, UsernameRule.EMAIL)
    username_literal = c.text(data, "username_literal", "username_literal")
    if username_rule is UsernameRule.LITERAL and not username_literal and "username_literal" not in data:
        c.err("username_literal", 'is required when username_rule = "literal"')
    return {
        "username_rule": username_rule,
        "username_literal": username_literal,
        "password_kind": c.choice(data, "password_kind", PasswordKind, PasswordKind.APP_PASSWORD),
        "strip_password_spaces": bool(c.get(data, "strip_password_spaces", bool, "strip_password_spaces")),
    }


def _links(c: Checker, data: Mapping[str, Any]) -> dict[str, str]:
    """``[links]``: role -> https URL."""
    links: dict[str, str] = {}
    for role, url in (c.get(data, "links", dict, "links") or {}).items():
        if not isinstance(url, str):
            c.err(f"links.{role}", "must be an https URL")
        elif c.check_https(url.strip(), f"links.{role}"):
            links[role] = url.strip()
    return links


def _oauth(c: Checker, data: Mapping[str, Any], links: Mapping[str, str]) -> OAuthSpec | None:
    """The optional ``[oauth]`` table (parsed in app.core.catalog.oauth)."""
    from app.core.catalog.oauth import parse_oauth

    return parse_oauth(c, data, links)


def _facts(c: Checker, data: Mapping[str, Any], *, preset: bool) -> dict[str, Any]:
    """sources, notices, limits, audience, ispdb (parsed in app.core.catalog.facts)."""
    from app.core.catalog.facts import parse_facts

    return parse_facts(c, data, preset=preset)


def _with_ispdb_domains(domains: list[str], ispdb: tuple[str, ...], provider_db: tuple[str, ...]) -> list[str]:
    """The file's own domains, then those of its ISPDB / provider-db files (bundled snapshot) not yet listed."""
    from app.core.catalog.facts import ispdb_domains

    extra = ispdb_domains(ispdb) + ispdb_domains(provider_db, "provider_db")
    return domains + [d for i, d in enumerate(extra) if d not in domains and d not in extra[:i]]


def _regions(c: Checker, data: Mapping[str, Any]) -> tuple[Region, ...]:
    """The optional ``[[regions]]`` (parsed in app.core.catalog.regions)."""
    from app.core.catalog.regions import parse_regions

    return parse_regions(c, data)


def _domain_list(c: Checker, table: Mapping[str, Any], path: str) -> list[str]:
    """The mail domains at ``path`` (its last part is the key), lower-cased, each once."""
    domains: list[str] = []
    for i, d in enumerate(c.str_list(table, path.rsplit(".", 1)[-1], path)):
        d = d.lower().rstrip(".")
        if not DOMAIN_RE.match(d):
            c.err(f"{path}[{i}]", f"{d!r} is not a domain name")
        elif d in domains:
            c.err(f"{path}[{i}]", f"{d!r} is listed twice")
        else:
            domains.append(d)
    return domains


def _mx_pattern_list(c: Checker, table: Mapping[str, Any], path: str) -> list[str]:
    patterns: list[str] = []
    for i, p in enumerate(c.str_list(table, path.rsplit(".", 1)[-1], path)):
        p = p.lower().rstrip(".")
        if not MX_PATTERN_RE.match(p) or "." not in p:
            c.err(f"{path}[{i}]", f"{p!r} is not a host pattern such as '*.example.net'")
        else:
            patterns.append(p)
    return patterns


def _endpoints(c: Checker, data: Mapping[str, Any], proto: str, dynamic_ports: bool) -> list[Endpoint]:
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
        if host is not None and not HOST_RE.match(host):
            c.err(f"{path}.host", f"{host!r} is not a host name")
            host = None
        port = c.get(item, "port", int, f"{path}.port", required=True)
        if port is not None:
            low = 0 if dynamic_ports else 1
            if not low <= port <= 65535:
                c.err(f"{path}.port", "must be 1..65535" if low else "must be 0..65535 (0: chosen at start)")
                port = None
        security = c.text(item, "security", f"{path}.security", required=True)
        if security is not None and security not in SECURITIES:
            c.err(f"{path}.security", f"must be one of {', '.join(sorted(SECURITIES))}")
            security = None
        if host is not None and port is not None and security is not None:
            out.append(Endpoint(host=host, port=port, security=security))
    return out


def _guides(c: Checker, data: Mapping[str, Any], links: Mapping[str, str], *, required: bool) -> dict[str, Guide]:
    raw = c.get(data, "guide", dict, "guide", required=required)
    out: dict[str, Guide] = {}
    if raw is None:
        return out
    for lang, body in raw.items():
        path = f"guide.{lang}"
        if not LANG_RE.match(lang):
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


def _tips(c: Checker, data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    raw = c.get(data, "tips", dict, "tips")
    out: dict[str, tuple[str, ...]] = {}
    for lang in raw or {}:
        if not LANG_RE.match(lang):
            c.err(f"tips.{lang}", "is not a language code such as 'ru' or 'en'")
            continue
        out[lang] = tuple(c.str_list(raw, lang, f"tips.{lang}"))
    return out


def _error_hints(c: Checker, data: Mapping[str, Any], links: Mapping[str, str]) -> list[ErrorHint]:
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
        if code is not None and code not in CODES:
            c.err(f"{path}.code", f"{code!r} is not a diagnosis code ({', '.join(sorted(CODES))})")
            code = None
        fix = c.lang_table(item, "fix", f"{path}.fix", required_langs=LANGS)
        link = c.url(item["link"], f"{path}.link", links) if "link" in item else None
        if pattern is not None and code is not None:
            out.append(ErrorHint(pattern=pattern, code=code, fix=fix, link=link))
    return out
