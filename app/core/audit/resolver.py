"""The audit's DNS access: one resolver that never runs past the audit's deadline.

checkdmarc (which parses SPF, DMARC, MTA-STS and TLS-RPT records for us) resolves with dnspython's
blocking ``Resolver``; it accepts a caller's resolver object and uses it as-is. ``DeadlineResolver``
cuts every query's lifetime to what is left of the one overall deadline and refuses to start a query
after it, so the worker thread the audit runs in ends at the deadline by construction. It also caps
the number of queries (a hostile record set cannot make the audit ask forever).

Port: ``nameservers`` are ``(address, port)`` pairs, so tests point it at the local DNS server on a
loopback port (checkdmarc's own ``nameservers=`` strings mean port 53 only).

checkdmarc keeps a process-wide 30-minute DNS cache keyed by name only. An admin who fixes a
record and audits again must see the new record, and two audits against different servers must not
share answers, so ``disable_checkdmarc_cache`` swaps that cache for one that never stores
(``checkdmarc.utils.DNS_CACHE`` is read at call time; tests/test_audit.py checks it stays off).
"""

from __future__ import annotations

import time
from typing import Any

import dns.flags
import dns.nameserver
import dns.rdataclass
import dns.rdatatype
import dns.resolver

MAX_QUERIES = 120  # SPF alone may need 10 lookups + void lookups + per-mechanism A/MX answers


class QueryBudgetExceeded(dns.resolver.LifetimeTimeout):
    """The audit asked more queries than any sane record set needs."""


class DeadlineResolver(dns.resolver.Resolver):
    """A dnspython resolver bound to an absolute ``time.monotonic()`` deadline."""

    def __init__(
        self,
        deadline: float,
        nameservers: list[tuple[str, int]] | None = None,
        *,
        per_query: float = 3.0,
    ) -> None:
        super().__init__(configure=nameservers is None)
        if nameservers is not None:
            self.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers]
        self.deadline = deadline
        self.timeout = per_query
        self.lifetime = per_query
        self.search = []
        self.use_search_by_default = False
        self.queries = 0
        self.timed_out = False
        # ask for DNSSEC data so a validating resolver sets the AD flag (read by the dnssec check)
        self.use_edns(0, dns.flags.DO, 1232)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def resolve(self, qname: Any, rdtype: Any = dns.rdatatype.A, *args: Any, **kwargs: Any) -> dns.resolver.Answer:
        left = self.remaining()
        if left <= 0.05:
            self.timed_out = True
            raise dns.resolver.LifetimeTimeout(timeout=0.0, errors=[])
        self.queries += 1
        if self.queries > MAX_QUERIES:
            raise QueryBudgetExceeded(timeout=0.0, errors=[])
        asked = kwargs.get("lifetime") or self.lifetime
        kwargs["lifetime"] = min(float(asked), left)
        try:
            return super().resolve(qname, rdtype, *args, **kwargs)
        except dns.resolver.LifetimeTimeout:
            if self.remaining() <= 0.05:
                self.timed_out = True
            raise


class _NoCache(dict):
    """A mapping that never keeps anything (stands in for checkdmarc's module-wide DNS cache)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        return None


def disable_checkdmarc_cache() -> None:
    """Turn checkdmarc's process-wide DNS cache off (see the module docstring)."""
    import checkdmarc.utils

    if not isinstance(checkdmarc.utils.DNS_CACHE, _NoCache):
        checkdmarc.utils.DNS_CACHE = _NoCache()


__all__ = ["MAX_QUERIES", "DeadlineResolver", "QueryBudgetExceeded", "disable_checkdmarc_cache"]
