"""MX, DKIM, MTA-STS, TLS-RPT and DNSSEC checks.

MX, DKIM and the DNSSEC flag are plain lookups done here (checkdmarc's MX check also opens SMTP
connections to every MX host, which an audit of the sender domain must not do, and it has no DKIM
check); MTA-STS and TLS-RPT records are read and parsed by checkdmarc. The MTA-STS policy file is
not fetched over HTTPS: the audit stays a DNS-only, bounded run.
"""

from __future__ import annotations

import re

import dns.exception
import dns.flags
import dns.resolver

from app.core.audit.model import Finding, Status
from app.core.audit.resolver import DeadlineResolver
from app.core.audit.texts import T, finding, timeout_finding, txt
from app.core.model import QT_TRANSLATE_NOOP

_SELECTOR_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63}){0,3}$")
MAX_SELECTORS = 8


def valid_selector(selector: str) -> bool:
    return bool(_SELECTOR_RE.fullmatch(selector))  # fullmatch: "$" alone would let a trailing newline through


def check_mx(r: DeadlineResolver, domain: str) -> Finding:
    try:
        answer = r.resolve(domain, "MX")
        hosts = sorted((int(rd.preference), rd.exchange.to_text(omit_final_dot=True)) for rd in answer)
    except dns.resolver.LifetimeTimeout:
        return timeout_finding("mx", domain)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        hosts = []
    except dns.exception.DNSException:
        hosts = []
    details = {"hosts": [f"{p} {h}" for p, h in hosts]}
    if hosts and all(h in ("", ".") for _, h in hosts):
        return finding(
            "mx",
            Status.WARN,
            T(QT_TRANSLATE_NOOP("Audit", "{domain} says it receives no mail (null MX)"), domain=domain),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "Replies and bounces to this domain cannot be delivered, and some receivers reject mail "
                    "from a domain that accepts none.",
                )
            ),
            **details,
        )
    if not hosts:
        return finding(
            "mx",
            Status.WARN,
            T(QT_TRANSLATE_NOOP("Audit", "No MX record for {domain}"), domain=domain),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "Replies and bounces to this domain have nowhere to go, and some receivers distrust mail "
                    "from a domain without MX. Publish the MX records your mail provider gives you.",
                )
            ),
            f"{domain}. IN MX 10 mx.your-provider.example.",
            **details,
        )
    return finding(
        "mx",
        Status.OK,
        T(QT_TRANSLATE_NOOP("Audit", "{domain} receives mail"), domain=domain),
        T(QT_TRANSLATE_NOOP("Audit", "Mail for the domain goes to {hosts}."), hosts=", ".join(h for _, h in hosts)),
        **details,
    )


def _dkim_record(r: DeadlineResolver, name: str) -> str | None:
    try:
        answer = r.resolve(name, "TXT")
    except dns.exception.DNSException:
        return None
    for rd in answer:
        text = b"".join(rd.strings).decode("utf-8", "replace")
        if "p=" in text.replace(" ", "") or text.lower().startswith("v=dkim1"):
            return text
    return None


def _no_selector(front_end: str) -> Finding:
    if front_end == "gui":
        advice = QT_TRANSLATE_NOOP(
            "Audit",
            "A DKIM key is published under a name (the selector) your provider chooses. Type the selector in "
            "the DKIM selector field and check the domain again, or run the proof of delivery after a test "
            "message: it reads the selector from the delivered message.",
        )
    else:
        advice = QT_TRANSLATE_NOOP(
            "Audit",
            "A DKIM key is published under a name (the selector) your provider chooses. Give the selector "
            "(--dkim-selector on the command line), or run the delivery round trip, which reads it from "
            "the delivered message.",
        )
    return finding("dkim", Status.INFO, T(QT_TRANSLATE_NOOP("Audit", "DKIM not checked: no selector known")), T(advice))


def check_dkim(r: DeadlineResolver, domain: str, selectors: list[str], front_end: str = "cli") -> tuple[Finding, bool]:
    """(finding, whether a usable key was found) for the selectors tried (provider's and the given ones)."""
    selectors = [s for s in dict.fromkeys(selectors) if valid_selector(s)][:MAX_SELECTORS]
    if not selectors:
        return _no_selector(front_end), False
    found: dict[str, str] = {}
    revoked: list[str] = []
    for sel in selectors:
        text = _dkim_record(r, f"{sel}._domainkey.{domain}")
        if text is None:
            continue
        key = re.search(r"(?:^|;)\s*p=([^;]*)", text)
        if key and key.group(1).strip():
            found[sel] = text
        else:
            revoked.append(sel)
    details = {"selectors": selectors, "found": sorted(found), "revoked": revoked}
    if found:
        return finding(
            "dkim",
            Status.OK,
            T(QT_TRANSLATE_NOOP("Audit", "DKIM key published (selector {selector})"), selector=", ".join(found)),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "Receivers can verify the signature the provider adds to your mail with this key.",
                )
            ),
            **details,
        ), True
    if r.timed_out:
        return timeout_finding("dkim", f"{selectors[0]}._domainkey.{domain}"), False
    first = selectors[0]
    return finding(
        "dkim",
        Status.WARN if not revoked else Status.FAIL,
        T(QT_TRANSLATE_NOOP("Audit", "No DKIM key for {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "No key was found under the selectors tried ({selectors}). Turn on DKIM signing for your "
                "domain in the provider's admin console and publish the TXT record it shows; the record below "
                "is its shape, the key itself comes from the provider.",
            ),
            selectors=", ".join(selectors),
        ),
        txt(f"{first}._domainkey.{domain}", "v=DKIM1; k=rsa; p=<public key from your provider>"),
        **details,
    ), False


def check_mta_sts(r: DeadlineResolver, domain: str) -> Finding:
    from checkdmarc.mta_sts import MTASTSError, query_mta_sts_record

    name = f"_mta-sts.{domain}"
    try:
        res = query_mta_sts_record(domain, resolver=r, timeout=r.lifetime, retries=0)
    except MTASTSError as exc:
        if r.timed_out:
            return timeout_finding("mta_sts", name)
        missing = "does not exist" in str(exc)
        return finding(
            "mta_sts",
            Status.INFO if missing else Status.WARN,
            T(QT_TRANSLATE_NOOP("Audit", "No MTA-STS for {domain}"), domain=domain)
            if missing
            else T(QT_TRANSLATE_NOOP("Audit", "The MTA-STS record of {domain} is invalid"), domain=domain),
            T(
                QT_TRANSLATE_NOOP(
                    "Audit",
                    "MTA-STS (optional) tells other servers to deliver mail to this domain only over verified "
                    "TLS. It needs this TXT record and a policy file at https://mta-sts.{domain}/.well-known/"
                    "mta-sts.txt.",
                ),
                domain=domain,
            ),
            txt(name, "v=STSv1; id=20250101000000"),
            error=str(exc),
        )
    return finding(
        "mta_sts",
        Status.OK,
        T(QT_TRANSLATE_NOOP("Audit", "MTA-STS record found")),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "Other servers are told to deliver to this domain over verified TLS. The policy file itself was "
                "not fetched.",
            )
        ),
        record=res.get("record"),
    )


def check_tls_rpt(r: DeadlineResolver, domain: str) -> Finding:
    from checkdmarc.smtp_tls_reporting import check_smtp_tls_reporting

    name = f"_smtp._tls.{domain}"
    res = check_smtp_tls_reporting(domain, resolver=r, timeout=r.lifetime, retries=0)
    if res.get("valid"):
        return finding(
            "tls_rpt",
            Status.OK,
            T(QT_TRANSLATE_NOOP("Audit", "TLS reporting (TLS-RPT) is on")),
            T(QT_TRANSLATE_NOOP("Audit", "Other servers send reports about TLS problems delivering to this domain.")),
            record=res.get("record"),
        )
    if r.timed_out:
        return timeout_finding("tls_rpt", name)
    error = str(res.get("error") or "")
    return finding(
        "tls_rpt",
        Status.INFO if "does not exist" in error else Status.WARN,
        T(QT_TRANSLATE_NOOP("Audit", "No valid TLS-RPT record for {domain}"), domain=domain),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "TLS-RPT (optional) asks other servers to report failed TLS deliveries to an address you choose.",
            )
        ),
        txt(name, f"v=TLSRPTv1; rua=mailto:tls-reports@{domain}"),
        error=error,
    )


def check_dnssec(r: DeadlineResolver, domain: str) -> Finding:
    """The AD flag of an answer: set only when the resolver validated DNSSEC for the name."""
    try:
        answer = r.resolve(domain, "SOA", raise_on_no_answer=False)
        validated = bool(answer.response.flags & dns.flags.AD)
    except dns.resolver.LifetimeTimeout:
        return timeout_finding("dnssec", domain)
    except dns.exception.DNSException:
        validated = False
    if validated:
        return finding(
            "dnssec",
            Status.OK,
            T(QT_TRANSLATE_NOOP("Audit", "DNSSEC: the answers are signed and validated")),
            T(QT_TRANSLATE_NOOP("Audit", "The resolver confirmed the domain's DNS answers are authentic.")),
        )
    return finding(
        "dnssec",
        Status.INFO,
        T(QT_TRANSLATE_NOOP("Audit", "DNSSEC not confirmed")),
        T(
            QT_TRANSLATE_NOOP(
                "Audit",
                "The resolver did not mark the answers as validated: the domain may be unsigned, or the resolver "
                "does not check DNSSEC. It is optional for mail, but protects the records above from forgery.",
            )
        ),
    )


__all__ = ["check_dkim", "check_dnssec", "check_mta_sts", "check_mx", "check_tls_rpt", "valid_selector"]
