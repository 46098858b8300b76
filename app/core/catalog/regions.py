"""The ``[[regions]]`` of a provider file: regional SMTP servers and what selects them.

Some services run the same product from several places with different host names: Zoho's data centres
(smtp.zoho.com / .eu / .in / ...), Amazon SES (email-smtp.<region>.amazonaws.com), Mailgun (US / EU), GMX
(gmx.net / gmx.com). Each region names its SMTP endpoints and, optionally, the mail domains (own or from the
ISPDB snapshot) and MX patterns that select it, so ``zoho.eu`` or a domain whose MX is ``mx.zoho.eu`` gets
the EU servers; a region without domains (an SES region) is chosen by the admin
(:meth:`Provider.in_region`). The file's top-level ``smtp`` stays the default.

    [[regions]]
    id = "eu"
    name.ru = "Европа"
    name.en = "Europe"
    ispdb = ["zoho.eu"]
    mx_patterns = ["mx*.zoho.eu"]
    smtp = [{ host = "smtp.zoho.eu", port = 465, security = "ssl" }]
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.core.catalog.model import Region

if TYPE_CHECKING:
    from app.core.catalog.checker import Checker

_REGION_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_ALLOWED = {"id", "name", "smtp", "domains", "mx_patterns", "ispdb"}


def parse_regions(c: Checker, data: Mapping[str, Any]) -> tuple[Region, ...]:
    from app.core.catalog import checker, sections
    from app.core.catalog.facts import ispdb_domains, snapshot_names

    out: list[Region] = []
    for i, item in enumerate(c.get(data, "regions", list, "regions") or []):
        path = f"regions[{i}]"
        if not isinstance(item, dict):
            c.err(path, "must be a table with id, name and smtp")
            continue
        for key in item:
            if key not in _ALLOWED:
                c.err(f"{path}.{key}", "unknown field (typo?)")
        rid = c.text(item, "id", f"{path}.id", required=True)
        if rid is not None and not _REGION_ID_RE.match(rid):
            c.err(f"{path}.id", "must be lowercase letters, digits, '.', '-' or '_' (at most 40)")
            rid = None
        elif rid is not None and any(r.id == rid for r in out):
            c.err(f"{path}.id", f"{rid!r} is listed twice")
            rid = None
        name = c.lang_table(item, "name", f"{path}.name", required_langs=checker.LANGS)
        before = len(c.errors)
        smtp = sections._endpoints(c, item, "smtp", False)
        c.errors[before:] = [dataclasses.replace(e, field=f"{path}.{e.field}") for e in c.errors[before:]]
        if not smtp and "smtp" not in item:
            c.err(f"{path}.smtp", "is required")
        domains = sections._domain_list(c, item, f"{path}.domains")
        mx = sections._mx_pattern_list(c, item, f"{path}.mx_patterns")
        ispdb = tuple(snapshot_names(c, item, "ispdb", prefix=f"{path}."))
        domains += [d for d in ispdb_domains(ispdb) if d not in domains]
        if rid is not None and name and smtp:
            out.append(Region(rid, name, tuple(smtp), tuple(domains), tuple(mx), ispdb))
    return tuple(out)


def region_names(regions: tuple[Region, ...]) -> list[dict[str, Any]]:
    """JSON-ready list of a provider's regions."""
    return [
        {
            "id": r.id,
            "name": dict(r.name),
            "smtp": [{"host": e.host, "port": e.port, "security": e.security} for e in r.smtp],
            "domains": list(r.domains),
            "mx_patterns": list(r.mx_patterns),
        }
        for r in regions
    ]
