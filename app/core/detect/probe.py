"""Finding the working (host, port, security) for a mailbox by probing candidates in parallel.

Candidates come from discovery (provider preset, MX, SRV, usual host names) or from an
explicit host and port list. Every candidate is probed at the same time with the
greeting timeout: 465-style ports with implicit TLS, 587/25/2525 with plaintext +
STARTTLS, other ports both ways. Preference: the preset's own order when the provider
is known, else implicit TLS > STARTTLS > plain (plain only with ``allow_plain``).

The result is decided as soon as it is certain: the best-ranked slot that has not
failed answered. A better-ranked probe that is still silent while a worse one has
answered gets a bounded grace (``GRACE_MIN`` or as long again as the answer took),
not the whole timeout: a port an ISP drops silently must not cost 10 seconds.

With a password, the top candidate is probed by a full check including AUTH (so the
common case costs one connection), and otherwise the winner is verified by a full
check afterwards. A definitive AUTH failure (535 and friends) ends the search: trying
every port with a wrong password would only lock the account.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.discovery import (
    Discovery,
    discover,
    endpoints_for_host,
    modes_for_port,
)
from app.core.detect.probing import probe_endpoints
from app.core.detect.ranking import (
    AUTH_CODES,
    DEFAULT_PORTS,
    STAGGER,
    security_label,
)
from app.core.detect.request import (
    base_settings,
    candidates,
    check_proxy,
    check_request,
    invalid_request,
    login_for,
)
from app.core.detect.results import DetectResult, ProbeOutcome
from app.core.diagnosis import Diagnosis
from app.core.model import (
    AuthMechanism,
    EventCallback,
    Security,
    Timeouts,
    TlsOptions,
    ignore,
)

log = logging.getLogger(__name__)


def _catalogue_and_provider(catalogue: Any, email: str | None, domain: str) -> tuple[Any, Provider | None]:
    """The catalogue to look in (the default one for an address) and the provider of ``domain``."""
    if catalogue is None and email:
        from app.core.catalog import default_catalogue

        catalogue = default_catalogue()
    return catalogue, (catalogue.by_domain(domain) if (catalogue is not None and domain) else None)


async def _endpoints_to_probe(
    email: str | None,
    host: str | None,
    ports: Sequence[int],
    domain: str,
    cat: Any,
    provider: Provider | None,
    resolver: Any,
    timeouts: Timeouts,
    on_event: EventCallback,
    autoconfig: bool | dict[str, Any],
    reasons: list[str],
) -> tuple[list[Endpoint], bool, Discovery | None, Provider | None] | DetectResult:
    """(endpoints, ranked by the provider's order, discovery, provider), or the result when there are none."""
    if host:
        reasons.append(f"Probing {host} on ports {', '.join(str(p) for p in ports)} as asked.")
        return list(endpoints_for_host(host.strip(), ports)), False, None, provider
    assert email is not None
    discovery = await discover(
        email,
        catalogue=cat,
        resolver=resolver,
        timeout=min(timeouts.connect, 5.0),
        on_event=on_event,
        autoconfig=autoconfig,
    )
    provider = discovery.provider or provider
    found = candidates(discovery, domain, ports)
    if isinstance(found, Diagnosis):
        return DetectResult(False, None, found, None, [], list(discovery.notes), 0.0, discovery=discovery)
    endpoints, ranked_by_order, why = found
    reasons.append(why)
    return endpoints, ranked_by_order, discovery, provider


async def detect(
    email: str | None,
    *,
    password: str | None = None,
    username: str | None = None,
    host: str | None = None,
    ports: Sequence[int] = DEFAULT_PORTS,
    allow_plain: bool = False,
    timeouts: Timeouts = Timeouts(),
    tls: TlsOptions = TlsOptions(),
    proxy: str | None = None,
    catalogue: Any = None,
    resolver: Any = None,
    on_event: EventCallback = ignore,
    ehlo_name: str | None = None,
    auth: AuthMechanism = AuthMechanism.AUTO,
    strict: bool = False,
    stagger: float = STAGGER,
    autoconfig: bool | dict[str, Any] = True,
    trust_source: bool = False,
) -> DetectResult:
    """Find working SMTP settings for ``email`` (or for ``host`` on ``ports``) and verify the login.

    ``autoconfig``: whether discovery asks the autoconfig sources (or their options, for tests). An untrusted
    autoconfig answer (plain HTTP, a redirect to another domain) is probed without the password unless
    ``trust_source``. ``strict`` waits for every better-ranked probe instead of a bounded grace for silent ones;
    the top-ranked probe starts first, the others ``stagger`` seconds later or when it fails (0: all at once).
    Never raises for network trouble; cancellation propagates after all probes are closed."""
    t0 = time.monotonic()
    domain, refused = check_request(email, host, ports, proxy, t0)
    if refused is not None:
        return refused
    cat, provider = _catalogue_and_provider(catalogue, email, domain)
    reasons: list[str] = []
    found = await _endpoints_to_probe(
        email, host, ports, domain, cat, provider, resolver, timeouts, on_event, autoconfig, reasons
    )
    if isinstance(found, DetectResult):
        return dataclasses.replace(found, elapsed_ms=(time.monotonic() - t0) * 1000)
    endpoints, ranked_by_order, discovery, provider = found

    password, username = login_for(email, password, username, provider, discovery, trust_source, reasons)
    if password and not username:
        pid = provider.id if provider else None
        return invalid_request("username", "A password was given without a login name.", t0, pid)
    base = base_settings(username=username, timeouts=timeouts, tls=tls, proxy=proxy, ehlo_name=ehlo_name, auth=auth)
    return await probe_endpoints(
        endpoints,
        base=base,
        password=password,
        ranked_by_order=ranked_by_order,
        allow_plain=allow_plain,
        provider=provider,
        on_event=on_event,
        strict=strict,
        t0=t0,
        discovery=discovery,
        reasons_before=reasons,
        stagger=stagger,
    )


async def detect_mode(
    host: str,
    port: int | None,
    *,
    password: str | None = None,
    username: str = "",
    allow_plain: bool = False,
    timeouts: Timeouts = Timeouts(),
    tls: TlsOptions = TlsOptions(),
    proxy: str | None = None,
    provider: Provider | None = None,
    on_event: EventCallback = ignore,
    ehlo_name: str | None = None,
    auth: AuthMechanism = AuthMechanism.AUTO,
) -> DetectResult:
    """``check --security auto``: find the mode on ``port`` (TLS first on 465-style ports, STARTTLS
    first otherwise, both probed at once), or probe the standard ports when ``port`` is None."""
    t0 = time.monotonic()
    proxy_problem = check_proxy(proxy)
    if proxy_problem is not None:
        return DetectResult(False, None, proxy_problem, None, [], [proxy_problem.title], 0.0)
    if port is None:
        endpoints = list(endpoints_for_host(host, DEFAULT_PORTS))
        ranked = False
    else:
        if not 1 <= port <= 65535:
            return invalid_request("port", f"Port must be a whole number from 1 to 65535, not {port!r}.", t0)
        first = modes_for_port(port)[0]
        order = [first] + [m for m in (Security.SSL, Security.STARTTLS) if m is not first]
        endpoints = [Endpoint(host, port, m.value) for m in order]
        ranked = True
    if password and not username:
        return invalid_request("username", "A password was given without a login name.", t0)
    base = base_settings(username=username, timeouts=timeouts, tls=tls, proxy=proxy, ehlo_name=ehlo_name, auth=auth)
    return await probe_endpoints(
        endpoints,
        base=base,
        password=password,
        ranked_by_order=ranked,
        allow_plain=allow_plain,
        provider=provider,
        on_event=on_event,
        strict=False,
        t0=t0,
    )


__all__ = [
    "AUTH_CODES",
    "DEFAULT_PORTS",
    "DetectResult",
    "ProbeOutcome",
    "detect",
    "detect_mode",
    "security_label",
]
