"""DNS lookups for discovery: MX, SRV and host existence through one injectable async resolver."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from app.core.catalog import Endpoint
from app.core.model import Security

log = logging.getLogger(__name__)

DEFAULT_DNS_TIMEOUT = 3.0


@dataclass(frozen=True)
class MxLookup:
    """MX hosts of a domain, best preference first. ``nxdomain``: the domain does not exist."""

    hosts: tuple[str, ...] = ()
    nxdomain: bool = False
    error: str = ""  # a timeout or server failure (not definitive)


def default_resolver(timeout: float = DEFAULT_DNS_TIMEOUT) -> Any | None:
    """The system's async resolver, or None when this machine has no DNS configuration."""
    import dns.asyncresolver
    import dns.resolver

    try:
        r = dns.asyncresolver.Resolver()
    except (dns.resolver.NoResolverConfiguration, OSError) as exc:
        log.info("no system DNS configuration: %s", exc)
        return None
    r.timeout = timeout
    r.lifetime = timeout
    return r


async def query(resolver: Any, name: str, rdtype: str, timeout: float):
    """(answer or None, status) where status is "ok", "nxdomain", "nodata" or "error: ..."."""
    import dns.exception
    import dns.resolver

    try:
        ans = await resolver.resolve(name, rdtype, lifetime=timeout, search=False)
        return ans, "ok"
    except dns.resolver.NXDOMAIN:
        return None, "nxdomain"
    except dns.resolver.NoAnswer:
        return None, "nodata"
    except dns.exception.Timeout:
        return None, "error: no answer from DNS in time"
    except dns.resolver.NoNameservers:
        return None, "error: DNS servers failed to answer"
    except dns.exception.DNSException as exc:
        return None, f"error: {type(exc).__name__}"


async def lookup_mx(domain: str, resolver: Any, timeout: float = DEFAULT_DNS_TIMEOUT) -> MxLookup:
    """MX hosts of ``domain`` by preference; NXDOMAIN is reported, not raised."""
    ans, status = await query(resolver, domain, "MX", timeout)
    if status == "nxdomain":
        return MxLookup(nxdomain=True)
    if ans is None:
        return MxLookup(error="" if status == "nodata" else status[len("error: ") :])
    records = sorted(ans, key=lambda r: (r.preference, str(r.exchange)))
    hosts = [str(r.exchange).rstrip(".").lower() for r in records]
    return MxLookup(hosts=tuple(h for h in hosts if h))  # "." is a null MX (RFC 7505)


async def lookup_srv(domain: str, resolver: Any, timeout: float = DEFAULT_DNS_TIMEOUT) -> tuple[Endpoint, ...]:
    """Submission endpoints from ``_submissions._tcp`` (ssl) and ``_submission._tcp`` (starttls).

    Implicit TLS comes first (RFC 8314 section 5.1), then RFC 2782 priority and weight order.
    A target of "." means "not offered here" and is dropped.
    """
    services = (("_submissions._tcp.", Security.SSL), ("_submission._tcp.", Security.STARTTLS))
    answers = await asyncio.gather(*(query(resolver, prefix + domain, "SRV", timeout) for prefix, _ in services))
    out: list[Endpoint] = []
    for (_prefix, sec), (ans, _status) in zip(services, answers):
        if ans is None:
            continue
        for r in sorted(ans, key=lambda r: (r.priority, -r.weight, str(r.target))):
            target = str(r.target).rstrip(".").lower()
            if target and r.port:
                out.append(Endpoint(host=target, port=int(r.port), security=sec.value))
    return tuple(out)


async def host_exists(host: str, resolver: Any, timeout: float = DEFAULT_DNS_TIMEOUT) -> bool | None:
    """True when ``host`` has an A or AAAA record, False when it certainly has none, None when unknown."""
    (a, sa), (aaaa, s6) = await asyncio.gather(
        query(resolver, host, "A", timeout), query(resolver, host, "AAAA", timeout)
    )
    if a is not None or aaaa is not None:
        return True
    if sa.startswith("error") or s6.startswith("error"):
        return None
    return False
