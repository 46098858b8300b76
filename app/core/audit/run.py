"""``run_audit``: every check of the sender domain in one bounded run.

The checks use blocking dnspython (through checkdmarc), so they run in one worker thread; the
``DeadlineResolver`` stops every query at the one overall deadline, and a cancelled or timed-out
audit tells the worker to stop at its next query, so nothing outlives the returned report.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from app.core.audit.dmarc import check_alignment, check_dmarc
from app.core.audit.model import AuditReport, AuditRequest, Finding, Status
from app.core.audit.records import check_dkim, check_dnssec, check_mta_sts, check_mx, check_tls_rpt
from app.core.audit.resolver import DeadlineResolver, disable_checkdmarc_cache
from app.core.audit.sender import check_from_login, normalize_domain
from app.core.audit.spf import check_authorised, check_spf
from app.core.audit.texts import T, finding
from app.core.catalog import Catalogue, Provider, default_catalogue
from app.core.model import QT_TRANSLATE_NOOP
from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

GRACE = 1.0  # seconds past the deadline the worker may take to notice it (one query is cut to the deadline)
MAX_TIMEOUT = 120.0


def find_provider(req: AuditRequest, catalogue: Catalogue | None = None) -> Provider | None:
    """The catalogue entry: by id, else by the SMTP host, else by the login's or From's domain."""
    cat = catalogue or default_catalogue()
    if req.provider_id:
        return cat.by_id(req.provider_id)
    host = req.smtp_host.lower().rstrip(".")
    if host:
        for p in cat.presets:
            if any(e.host.lower() == host for e in p.smtp):
                return p
    for address in (req.login, req.from_address):
        if address and "@" in address:
            found = cat.by_email(address)
            if found is not None:
                return found
    return None


def _error_finding(check: str, exc: Exception) -> Finding:
    """An unexpected error in a parser becomes a finding, never a traceback."""
    log.warning("audit check %s failed: %s", check, exc, exc_info=True)
    return finding(
        check,
        Status.WARN,
        T(QT_TRANSLATE_NOOP("Audit", "This check could not be completed")),
        T(QT_TRANSLATE_NOOP("Audit", "MailSetup could not read the answer: {error}"), error=str(exc)[:300]),
    )


def _guarded(check: str, fn: Callable[[], Finding]) -> Finding:
    try:
        return fn()
    except Exception as exc:
        return _error_finding(check, exc)


def audit_sync(req: AuditRequest, r: DeadlineResolver, provider: Provider | None) -> list[Finding]:
    """Every check in order (blocking; run it through ``run_audit``)."""
    domain = req.domain
    sending = provider.sending if provider else None
    include = sending.spf_include if sending else ""
    out: list[Finding] = [_guarded("mx", lambda: check_mx(r, domain))]
    spf_res: dict[str, Any] | None = None
    try:
        spf_findings, spf_res = check_spf(r, domain, include)
        out += spf_findings
    except Exception as exc:
        out.append(_error_finding("spf", exc))
    spf_passes = spf_res is not None
    if spf_res is not None and (req.smtp_host or include):
        spf = spf_res
        auth = _guarded("spf_authorised", lambda: check_authorised(r, domain, spf, req.smtp_host, include))
        out.append(auth)
        spf_passes = auth.status is Status.OK
    selectors = [*(sending.dkim_selectors if sending else ()), *req.dkim_selectors]
    dkim_found = False
    try:
        dkim, dkim_found = check_dkim(r, domain, selectors, req.front_end)
        out.append(dkim)
    except Exception as exc:
        out.append(_error_finding("dkim", exc))
    dmarc_res: dict[str, Any] | None = None
    try:
        dmarc, dmarc_res = check_dmarc(r, domain)
        out.append(dmarc)
    except Exception as exc:
        out.append(_error_finding("dmarc", exc))
    if dmarc_res is not None:
        policy, mail_from = dmarc_res, _mail_from_domain(req) or domain
        out.append(
            _guarded("dmarc_alignment", lambda: check_alignment(domain, policy, mail_from, spf_passes, dkim_found))
        )
    out.append(_guarded("mta_sts", lambda: check_mta_sts(r, domain)))
    out.append(_guarded("tls_rpt", lambda: check_tls_rpt(r, domain)))
    out.append(_guarded("dnssec", lambda: check_dnssec(r, domain)))
    sender = check_from_login(req.from_address, req.login, provider)
    return out + ([sender] if sender is not None else [])


def _mail_from_domain(req: AuditRequest) -> str:
    try:
        return normalize_domain(req.mail_from) if req.mail_from else ""
    except ValueError:
        return ""


async def run_audit(
    req: AuditRequest,
    *,
    nameservers: list[tuple[str, int]] | None = None,
    catalogue: Catalogue | None = None,
) -> AuditReport:
    """Audit ``req.domain`` within ``req.timeout`` seconds; ``nameservers`` (address, port) default to the
    system's resolvers. ValueError for a domain that is not one."""
    domain = normalize_domain(req.domain)
    timeout = min(max(float(req.timeout), 0.5), MAX_TIMEOUT)
    req = AuditRequest(**{**req.__dict__, "domain": domain, "timeout": timeout})
    provider = find_provider(req, catalogue)
    disable_checkdmarc_cache()
    started = time.monotonic()
    r = DeadlineResolver(started + timeout, nameservers, per_query=min(3.0, timeout))
    try:
        findings = await _wait_for(asyncio.to_thread(audit_sync, req, r, provider), timeout + GRACE)
    except asyncio.TimeoutError:
        findings = []
        r.timed_out = True
    finally:
        r.deadline = 0.0  # a worker still running stops at its next query
    elapsed = int((time.monotonic() - started) * 1000)
    if r.timed_out:
        findings = [*findings, _out_of_time(domain, timeout)]
    return AuditReport(domain, tuple(findings), elapsed, r.timed_out)


def parsers_self_test() -> str:
    """Parse an SPF and a DMARC record and find an organizational domain offline (no DNS): proves checkdmarc
    and its public-suffix data are usable (the bundle's --self-test). Raises when they are not."""
    from checkdmarc.dmarc import parse_dmarc_record
    from checkdmarc.spf import parse_spf_record
    from checkdmarc.utils import get_base_domain

    spf = parse_spf_record("v=spf1 ip4:192.0.2.0/24 -all", "example.org")
    dmarc = parse_dmarc_record("v=DMARC1; p=reject", "example.org")
    base = get_base_domain("mail.example.co.uk")
    if spf["parsed"]["all"] != "fail" or dmarc["tags"]["p"]["value"] != "reject" or base != "example.co.uk":
        raise RuntimeError(f"unexpected parse: {spf['parsed']['all']}, {base}")
    import checkdmarc

    return f"checkdmarc {getattr(checkdmarc, '__version__', '?')}: SPF, DMARC and the public suffix list"


def _out_of_time(domain: str, timeout: float) -> Finding:
    return finding(
        "dns",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "The audit ran out of time ({seconds} s)"), seconds=f"{timeout:g}"),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "The DNS server did not answer every question about {domain} in time, so some checks above are "
                "incomplete. Check the network and the DNS server, or allow more time, and run the audit again.",
            ),
            domain=domain,
        ),
        timeout_s=timeout,
    )


__all__ = ["audit_sync", "find_provider", "parsers_self_test", "run_audit"]
