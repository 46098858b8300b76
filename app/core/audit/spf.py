"""SPF: the record's syntax, the 10-lookup and void-lookup limits (checkdmarc parses and counts), and
whether the chosen SMTP server may send for the domain.

The authorisation walk is ours: checkdmarc parses the record tree but does not evaluate it for an
address, and a full RFC 7208 evaluator (macros, exists, ptr) would be more than the audit needs. We
answer "authorised" when the server's address falls in an ip4/ip6/a/mx term of a pass mechanism, or
the record includes the provider's own SPF domain; exists/ptr/macros make the answer "cannot tell".
"""

from __future__ import annotations

import ipaddress
from typing import Any

import dns.exception
import dns.resolver

from app.core.audit.model import Finding, Status
from app.core.audit.resolver import DeadlineResolver
from app.core.audit.texts import T, finding, timeout_finding, txt
from app.core.model import QT_TRANSLATE_NOOP

LOOKUP_LIMIT = 10  # RFC 7208 section 4.6.4
VOID_LIMIT = 2
MAX_MX_HOSTS = 10  # RFC 7208: an mx term with more than 10 hosts is a permerror anyway
MAX_DEPTH = 12

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def check_spf(
    r: DeadlineResolver, domain: str, provider_include: str = ""
) -> tuple[list[Finding], dict[str, Any] | None]:
    """(findings, checkdmarc's result when a record was found and parsed)."""
    from checkdmarc.spf import check_spf as cd_check_spf

    res = cd_check_spf(domain, resolver=r, timeout=r.lifetime, retries=0)
    record = res.get("record") or ""
    error = str(res.get("error") or "")
    details: dict[str, Any] = {"record": record, "dns_lookups": res.get("dns_lookups"), "error": error}
    details["void_dns_lookups"] = res.get("void_dns_lookups")
    if r.timed_out and not record:
        return [timeout_finding("spf", domain)], None
    if not record:
        if "multiple" in error.lower():
            return [_multiple(domain, error)], None
        return [_missing(domain, provider_include)], None
    lookups = int(res.get("dns_lookups") or 0)
    voids = int(res.get("void_dns_lookups") or 0)
    if ("too many" in error.lower() and "void" in error.lower()) or voids > VOID_LIMIT:
        return [_void(domain, record, voids, details)], res
    if lookups > LOOKUP_LIMIT or "too many dns lookups" in error.lower():
        return [_over_limit(domain, record, lookups, details)], res
    if error:
        return [_broken(domain, record, error, details)], None
    parsed = res.get("parsed") or {}
    qualifier = str(parsed.get("all") or "")
    if qualifier == "pass":
        return [_plus_all(domain, record, details)], res
    status = Status.WARN if qualifier in ("neutral", "") else Status.OK
    explanation = (
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "The SPF record is valid and needs {lookups} of the 10 DNS lookups allowed. It ends with "
                '"?all" (neutral), which tells receivers nothing about other servers: "~all" is safer.',
            ),
            lookups=lookups,
        )
        if status is Status.WARN
        else T(
            QT_TRANSLATE_NOOP("Audit", "The SPF record is valid and needs {lookups} of the 10 DNS lookups allowed."),
            lookups=lookups,
        )
    )
    title = T(QT_TRANSLATE_NOOP("Audit", "SPF record found for {domain}"), domain=domain)
    return [finding("spf", status, title, explanation, **details)], res


def _plus_all(domain: str, record: str, details: dict[str, Any]) -> Finding:
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "SPF lets anyone send as {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                'The record ends with "+all": every server in the world passes SPF for this domain, '
                'so it protects nothing. End it with "~all" (or "-all") instead.',
            )
        ),
        txt(domain, record.replace("+all", "~all")),
        **details,
    )


def _missing(domain: str, include: str) -> Finding:
    term = f"include:{include}" if include else "mx"
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "No SPF record for {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Without SPF, receivers cannot tell which servers may send mail as this domain, and mail from it "
                "is more likely to land in spam. Publish one TXT record listing your mail provider.",
            )
        ),
        txt(domain, f"v=spf1 {term} ~all"),
    )


def _multiple(domain: str, error: str) -> Finding:
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "More than one SPF record for {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                'A domain may have only one TXT record starting with "v=spf1"; with two, SPF fails for every '
                "message. Merge them into one record.",
            )
        ),
        error=error,
    )


def _over_limit(domain: str, record: str, lookups: int, details: dict[str, Any]) -> Finding:
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "SPF needs too many DNS lookups ({lookups} of 10)"), lookups=lookups),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "SPF allows at most 10 DNS lookups (include, a, mx, ptr, exists, redirect). This record needs "
                "{lookups}, so receivers treat it as an error and SPF fails. Remove includes you no longer use "
                'or replace "a"/"mx" terms with ip4:/ip6: addresses.',
            ),
            lookups=lookups,
        ),
        txt(domain, record),
        **details,
    )


def _void(domain: str, record: str, voids: int, details: dict[str, Any]) -> Finding:
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "SPF points at names that do not exist ({voids} void lookups)"), voids=voids),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "More than two terms of the SPF record name domains with no answer; receivers then treat the "
                "record as an error. Remove or correct those terms.",
            )
        ),
        txt(domain, record),
        **details,
    )


def _broken(domain: str, record: str, error: str, details: dict[str, Any]) -> Finding:
    return finding(
        "spf",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "The SPF record of {domain} is invalid"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Receivers cannot read the record, so SPF fails for every message. The problem: {error}",
            ),
            error=error,
        ),
        txt(domain, record),
        **details,
    )


# --------------------------------------------------------------------------- authorisation
def _resolve_addresses(r: DeadlineResolver, host: str) -> list[str]:
    out: list[str] = []
    for rdtype in ("A", "AAAA"):
        try:
            out += [rd.to_text() for rd in r.resolve(host, rdtype)]
        except (dns.exception.DNSException, ValueError):
            continue
    return out


def _host_addresses(r: DeadlineResolver, host: str) -> list[str]:
    """The server's addresses: an IP literal as it is, a name resolved."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return _resolve_addresses(r, host)


def _walk(r: DeadlineResolver, parsed: Any, acc: dict[str, Any], depth: int = 0) -> None:
    """Collect pass networks, included domains and uncertain terms from checkdmarc's parsed tree."""
    if not isinstance(parsed, dict) or depth > MAX_DEPTH:
        return
    for m in parsed.get("mechanisms") or ():
        if not isinstance(m, dict) or m.get("action") != "pass":
            continue
        kind, value = str(m.get("mechanism") or ""), str(m.get("value") or "")
        if kind in ("ip4", "ip6"):
            try:
                acc["networks"].append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                continue
        elif kind == "a":
            acc["networks"] += [ipaddress.ip_network(a) for a in m.get("addresses") or ()]
        elif kind == "mx":
            for h in list(m.get("hosts") or ())[:MAX_MX_HOSTS]:
                name = h.get("hostname") if isinstance(h, dict) else None
                if name:
                    acc["networks"] += [ipaddress.ip_network(a) for a in _resolve_addresses(r, name)]
        elif kind == "include":
            acc["includes"].append(value.lower().rstrip("."))
            _walk(r, m.get("parsed"), acc, depth + 1)
        elif kind in ("exists", "ptr"):
            acc["uncertain"].append(f"{kind}:{value}")
    redirect = parsed.get("redirect")
    if isinstance(redirect, dict):
        acc["includes"].append(str(redirect.get("domain") or "").lower().rstrip("."))
        _walk(r, redirect.get("parsed"), acc, depth + 1)


def check_authorised(
    r: DeadlineResolver, domain: str, spf: dict[str, Any], smtp_host: str, provider_include: str
) -> Finding:
    """Is ``smtp_host`` (or the provider's sending domain) allowed by the domain's SPF record?"""
    acc: dict[str, Any] = {"networks": [], "includes": [], "uncertain": []}
    _walk(r, spf.get("parsed"), acc)
    addresses = _host_addresses(r, smtp_host) if smtp_host else []
    matched = [a for a in addresses if any(ipaddress.ip_address(a) in n for n in acc["networks"])]
    include = provider_include.lower().rstrip(".")
    details = {"smtp_host": smtp_host, "addresses": addresses, "includes": acc["includes"]}
    details["provider_include"] = include
    server = smtp_host or include
    if matched or (include and include in acc["includes"]):
        how = (
            T(QT_TRANSLATE_NOOP("Audit", "its address {address} is listed"), address=matched[0])
            if matched
            else T(QT_TRANSLATE_NOOP("Audit", 'it includes the provider\'s "{include}"'), include=include)
        )
        return finding(
            "spf_authorised",
            Status.OK,
            T(QT_TRANSLATE_NOOP("Audit", "SPF allows {server} to send for {domain}"), server=server, domain=domain),
            T(QT_TRANSLATE_NOOP("Audit", "The SPF record covers the server you send through: {how}."), how=how),
            **details,
        )
    if r.timed_out:
        return timeout_finding("spf_authorised", smtp_host or domain)
    record = str(spf.get("record") or "")
    term = f"include:{include}" if include else (f"a:{smtp_host}" if smtp_host else "")
    fixed = _with_term(record, term) if term else record
    status = Status.WARN if acc["uncertain"] else Status.FAIL
    why = (
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "The record uses terms MailSetup does not evaluate ({terms}); they may or may not cover the server.",
            ),
            terms=", ".join(acc["uncertain"]),
        )
        if acc["uncertain"]
        else T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Mail you send through this server fails SPF for {domain} and may be rejected or marked as spam. "
                'Add "{term}" to the record.',
            ),
            domain=domain,
            term=term,
        )
    )
    return finding(
        "spf_authorised",
        status,
        T(QT_TRANSLATE_NOOP("Audit", "SPF does not list {server} for {domain}"), server=server, domain=domain),
        why,
        txt(domain, fixed) if term and status is Status.FAIL else "",
        **details,
    )


def _with_term(record: str, term: str) -> str:
    """The record with ``term`` inserted before its ``all``/``redirect`` ending (or at the end)."""
    words = record.split()
    for i, w in enumerate(words):
        if w.lstrip("+-~?").lower() == "all" or w.lower().startswith("redirect="):
            return " ".join([*words[:i], term, *words[i:]])
    return " ".join([*words, term])


__all__ = ["LOOKUP_LIMIT", "check_authorised", "check_spf"]
