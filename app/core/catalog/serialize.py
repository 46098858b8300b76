"""Providers as JSON-ready dictionaries (for `providers show --json` and the reports)."""

from __future__ import annotations

import sys
from typing import Any

from app.core.catalog.model import (
    Endpoint,
    OAuthSpec,
    Provider,
)

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover - exercised on Python 3.10 only
    pass


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
