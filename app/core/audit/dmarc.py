"""DMARC: the policy record (found and parsed by checkdmarc) and identifier alignment (ours: DMARC
passes when SPF or DKIM passes for a domain aligned with From, RFC 7489 section 3.1; checkdmarc checks
records, not a message's identifiers)."""

from __future__ import annotations

from typing import Any

from app.core.audit.model import Finding, Status
from app.core.audit.resolver import DeadlineResolver
from app.core.audit.texts import T, finding, timeout_finding, txt
from app.core.model import QT_TRANSLATE_NOOP


def _tag(res: dict[str, Any], name: str, default: str) -> str:
    tag = (res.get("tags") or {}).get(name) or {}
    value = tag.get("value") if isinstance(tag, dict) else None
    return str(value) if isinstance(value, str) else default


def check_dmarc(r: DeadlineResolver, domain: str) -> tuple[Finding, dict[str, Any] | None]:
    from checkdmarc.dmarc import check_dmarc as cd_check_dmarc

    res: dict[str, Any] = dict(cd_check_dmarc(domain, resolver=r, timeout=r.lifetime, retries=0))
    record, error = str(res.get("record") or ""), str(res.get("error") or "")
    name = f"_dmarc.{domain}"
    suggested = txt(name, f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}")
    details = {"record": record, "location": res.get("location"), "error": error}
    if not record:
        if r.timed_out:
            return timeout_finding("dmarc", name), None
        return _missing(domain, suggested, details), None
    if not res.get("valid"):
        return finding(
            "dmarc",
            Status.FAIL,
            T(QT_TRANSLATE_NOOP("Audit", "The DMARC record of {domain} is invalid"), domain=domain),
            T(
                QT_TRANSLATE_NOOP("Audit", "Receivers ignore a record they cannot read. The problem: {error}"),
                error=error,
            ),
            suggested,
            **details,
        ), None
    policy = _tag(res, "p", "none")
    details.update(policy=policy, adkim=_tag(res, "adkim", "r"), aspf=_tag(res, "aspf", "r"))
    title = T(QT_TRANSLATE_NOOP("Audit", "DMARC policy: {policy}"), policy=policy)
    if policy == "none":
        return finding(
            "dmarc",
            Status.WARN,
            title,
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "The record only monitors (p=none): mail that fails DMARC is still delivered, so others can "
                    "still send as this domain. When the reports show your own mail passes, move to "
                    "p=quarantine and then p=reject.",
                )
            ),
            txt(name, record.replace("p=none", "p=quarantine", 1)),
            **details,
        ), res
    return finding(
        "dmarc",
        Status.OK,
        title,
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                'Receivers are asked to apply "{policy}" to mail that fails DMARC for this domain: a good policy.',
            ),
            policy=policy,
        ),
        **details,
    ), res


def _missing(domain: str, suggested: str, details: dict[str, Any]) -> Finding:
    return finding(
        "dmarc",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "No DMARC record for {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Gmail, Yahoo and Microsoft expect a DMARC record from domains that send mail; without it "
                'mail is more likely to be rejected or marked as spam. Start with "p=none" and reports, '
                "then tighten the policy once reports show all your mail passes.",
            )
        ),
        suggested,
        **details,
    )


def aligned(identifier: str, from_domain: str, mode: str) -> bool:
    """RFC 7489 3.1: strict = the same name; relaxed = the same organizational domain."""
    from checkdmarc.utils import get_base_domain

    a, b = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    if not a or not b:
        return False
    if mode == "s":
        return a == b
    return get_base_domain(a) == get_base_domain(b)


def check_alignment(
    domain: str, dmarc: dict[str, Any], mail_from_domain: str, spf_passes: bool, dkim_found: bool
) -> Finding:
    aspf, adkim = _tag(dmarc, "aspf", "r"), _tag(dmarc, "adkim", "r")
    spf_aligned = aligned(mail_from_domain, domain, aspf)
    spf_ok = spf_aligned and spf_passes
    details = {"aspf": aspf, "adkim": adkim, "mail_from_domain": mail_from_domain, "spf_aligned": spf_aligned}
    details.update(spf_passes=spf_passes, dkim_found=dkim_found)
    modes = {"r": T(QT_TRANSLATE_NOOP("Audit", "relaxed")), "s": T(QT_TRANSLATE_NOOP("Audit", "strict"))}
    if spf_ok or dkim_found:
        via = "SPF + DKIM" if spf_ok and dkim_found else ("SPF" if spf_ok else "DKIM")
        return finding(
            "dmarc_alignment",
            Status.OK,
            T(QT_TRANSLATE_NOOP("Audit", "DMARC can pass through {via}"), via=via),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "At least one check that DMARC counts passes for a domain aligned with the From address "
                    "({domain}); SPF alignment is {aspf}, DKIM alignment is {adkim}.",
                ),
                domain=domain,
                aspf=modes.get(aspf, aspf),
                adkim=modes.get(adkim, adkim),
            ),
            **details,
        )
    if spf_passes and not spf_aligned:
        why = T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "SPF is checked for the envelope sender's domain {mail_from}, which does not match the From "
                "domain {domain} under {aspf} alignment, and no DKIM key was found for {domain}. Use an "
                "envelope sender in {domain}, set aspf=r, or publish the provider's DKIM key.",
            ),
            mail_from=mail_from_domain,
            domain=domain,
            aspf=modes.get(aspf, aspf),
        )
    else:
        why = T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Neither SPF nor DKIM passes for a domain aligned with {domain}, so receivers apply the DMARC "
                "policy to your mail. Authorise the server in SPF and publish the provider's DKIM key.",
            ),
            domain=domain,
        )
    return finding(
        "dmarc_alignment",
        Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "Mail from {domain} will fail DMARC"), domain=domain),
        why,
        **details,
    )


__all__ = ["aligned", "check_alignment", "check_dmarc"]
