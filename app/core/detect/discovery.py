"""Finding where to submit mail for an e-mail address.

Order of evidence (the first that answers wins):

1. the provider catalogue knows the domain (gmail.com, yandex.ru, ...);
2. the domain's MX hosts match a provider's MX patterns (a custom domain hosted at
   Yandex 360, Google Workspace, VK WorkSpace, Microsoft 365, ...);
2a. Thunderbird's autoconfig sources (app.core.detect.autoconfig): the domain's own config, its
   .well-known config, Mozilla's ISPDB for the domain and for its MX's base domain, Exchange
   Autodiscover; they race the DNS lookups below and only HTTPS answers inside the domain are trusted;
3. DNS SRV records ``_submissions._tcp`` (implicit TLS) / ``_submission._tcp``
   (STARTTLS) per RFC 6186 / RFC 8314;
4. the usual host names ``smtp.<domain>``, ``mail.<domain>``, ``<domain>`` that exist in DNS;
5. as a last resort, the domain's own MX hosts.

All DNS queries go through one injectable ``dns.asyncresolver.Resolver`` and run
in parallel under one deadline. NXDOMAIN for the domain is definitive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.lookups import (
    DEFAULT_DNS_TIMEOUT,
    MxLookup,
    default_resolver,
    host_exists,
    lookup_mx,
    lookup_srv,
)
from app.core.model import (
    QT_TRANSLATE_NOOP,
    AddressError,
    EventCallback,
    LogLevel,
    LogLine,
    Security,
    ignore,
    log_text,
    parse_address,
)
from app.core.model import wait_for as _wait_for

log = logging.getLogger(__name__)

GUESS_PREFIXES = ("smtp.", "mail.", "")


@dataclass(frozen=True)
class Discovery:
    """What discovery found for one address.

    ``via``: "provider" (catalogue by domain), "mx" (catalogue by MX host), "srv", "guess"
    (smtp./mail./the domain), "mx_host" (the MX hosts themselves, a last resort) or "none". ``endpoints`` are exact (host, port, security) triples in preference order
    (from a preset or SRV); ``hosts`` are names to probe on the standard ports.
    """

    email: str
    domain: str
    via: str
    provider: Provider | None = None
    endpoints: tuple[Endpoint, ...] = ()
    hosts: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    nxdomain: bool = False
    notes: tuple[str, ...] = ()
    # via == "autoconfig": where the settings came from, whether that answer is trusted (HTTPS, no redirect
    # to another domain) and the login the config asks for
    source: str = ""
    source_url: str = ""
    trusted: bool = True
    login: str = ""

    @property
    def provider_id(self) -> str | None:
        return self.provider.id if self.provider else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "domain": self.domain,
            "via": self.via,
            "provider": self.provider_id,
            "endpoints": [{"host": e.host, "port": e.port, "security": e.security} for e in self.endpoints],
            "hosts": list(self.hosts),
            "mx_hosts": list(self.mx_hosts),
            "nxdomain": self.nxdomain,
            "notes": list(self.notes),
            "source": self.source,
            "source_url": self.source_url,
            "trusted": self.trusted,
            "login": self.login,
        }


def split_email(email: str) -> tuple[str, str]:
    """(local part, ASCII domain) of ``email`` by the one address parser; AddressError when it is not one address."""
    try:
        parsed = parse_address(email or "")
    except ValueError as exc:
        raise AddressError(f"{exc} (expected name@domain).") from None
    if parsed.name:
        raise AddressError(f"'{(email or '').strip()}' is not a bare e-mail address (expected name@domain).")
    return parsed.local, to_ascii_domain(parsed.domain.rstrip(".").lower())


def to_ascii_domain(domain: str) -> str:
    """IDNA (punycode) form of ``domain``, e.g. почта.рф -> xn--80a1acny.xn--p1ai."""
    import dns.name

    try:
        return dns.name.from_text(domain).to_text(omit_final_dot=True).lower()
    except Exception:
        raise AddressError(f"'{domain}' is not a valid domain name.") from None


def _default_catalogue() -> Any | None:
    try:
        from app.core.catalog import default_catalogue
    except ImportError:  # pragma: no cover - the catalogue module is part of the app
        log.warning("provider catalogue unavailable")
        return None
    return default_catalogue()


async def discover(
    email: str,
    *,
    catalogue: Any | None = None,
    resolver: Any | None = None,
    timeout: float = DEFAULT_DNS_TIMEOUT,
    on_event: EventCallback = ignore,
    autoconfig: bool | dict[str, Any] = True,
) -> Discovery:
    """Find the provider or submission hosts for ``email`` (see the module docstring).

    Raises AddressError for something that is not an address. Never raises for DNS trouble:
    the result's ``notes`` say what could not be checked, ``nxdomain`` what does not exist.
    """
    _local, domain = split_email(email)
    email = email.strip()
    cat = catalogue if catalogue is not None else _default_catalogue()
    say = lambda text: on_event(LogLine(LogLevel.INFO, text))  # noqa: E731

    provider = cat.by_domain(domain) if cat is not None else None
    if provider is not None and provider.smtp:
        say(
            log_text(
                QT_TRANSLATE_NOOP("Log", "{domain} is served by {provider} (known provider)."),
                domain=domain,
                provider=provider.display_name(),
            )
        )
        return Discovery(email, domain, "provider", provider, endpoints=tuple(provider.smtp))

    res = resolver if resolver is not None else default_resolver(timeout)
    if res is None:
        hosts = tuple(p + domain for p in GUESS_PREFIXES)
        note = log_text(
            QT_TRANSLATE_NOOP("Log", "DNS is not configured on this computer; trying the usual server names.")
        )
        say(note)
        return Discovery(email, domain, "guess", hosts=hosts, notes=(str(note),))

    guesses = [p + domain for p in GUESS_PREFIXES]
    mx_future = asyncio.ensure_future(lookup_mx(domain, res, timeout))
    # the autoconfig sources race the DNS lookups (cancelled on every early return: see the finally below)
    auto_task = _start_autoconfig(email, domain, res, mx_future, cat, autoconfig, say, timeout)
    try:
        return await _after_dns(email, domain, cat, res, guesses, mx_future, auto_task, say, timeout)
    finally:
        for task in (auto_task, mx_future):
            if task is not None and not task.done():
                task.cancel()
        await asyncio.gather(*(t for t in (auto_task, mx_future) if t is not None), return_exceptions=True)


async def _after_dns(
    email: str,
    domain: str,
    cat: Any,
    res: Any,
    guesses: list[str],
    mx_future: asyncio.Future[MxLookup],
    auto_task: asyncio.Future[Any] | None,
    say: Any,
    timeout: float,
) -> Discovery:
    """Discovery once the DNS answers are in (or their deadline passed): catalogue by MX, autoconfig,
    SRV, the usual names, the MX hosts."""
    try:
        mx, srv, exists = await _wait_for(
            asyncio.gather(
                asyncio.shield(mx_future),
                lookup_srv(domain, res, timeout),
                asyncio.gather(*(host_exists(h, res, timeout) for h in guesses)),
            ),
            timeout + 0.5,
        )
    except asyncio.TimeoutError:
        note = log_text(
            QT_TRANSLATE_NOOP("Log", "DNS did not answer within {seconds} s; trying the usual server names."),
            seconds=f"{timeout:g}",
        )
        say(note)
        return Discovery(email, domain, "guess", hosts=tuple(guesses), notes=(str(note),))

    notes: list[str] = []
    found = _by_mx(email, domain, cat, mx, notes, say)
    if found is None and auto_task is not None:
        found = await _autoconfig_result(auto_task, email, domain, mx.hosts, notes)
    if found is not None:
        return found
    hosts = tuple(h for h, ok in zip(guesses, exists) if ok is not False)
    return _fallback(email, domain, srv, hosts, guesses, mx, notes, say)


def _by_mx(email: str, domain: str, cat: Any, mx: MxLookup, notes: list[str], say: Any) -> Discovery | None:
    """The definitive answers of the MX lookup: the domain does not exist, or a known provider receives
    its mail; None when the search goes on (a failed lookup is noted)."""
    if mx.nxdomain:
        note = log_text(
            QT_TRANSLATE_NOOP("Log", "The domain {domain} does not exist in DNS (NXDOMAIN)."), domain=domain
        )
        say(note)
        return Discovery(email, domain, "none", nxdomain=True, notes=(str(note),))
    if mx.error:
        notes.append(f"MX lookup for {domain} failed: {mx.error}.")
    elif mx.hosts:
        say(log_text(QT_TRANSLATE_NOOP("Log", "MX of {domain}: {hosts}."), domain=domain, hosts=", ".join(mx.hosts)))
    for mx_host in mx.hosts:
        p = cat.by_mx(mx_host) if cat is not None else None
        if p is not None and p.smtp:
            say(
                log_text(
                    QT_TRANSLATE_NOOP("Log", "{domain} receives mail at {provider} ({host}); using its settings."),
                    domain=domain,
                    provider=p.display_name(),
                    host=mx_host,
                )
            )
            return Discovery(email, domain, "mx", p, endpoints=tuple(p.smtp), mx_hosts=mx.hosts, notes=tuple(notes))
    return None


def _fallback(
    email: str,
    domain: str,
    srv: tuple[Endpoint, ...],
    hosts: tuple[str, ...],
    guesses: list[str],
    mx: MxLookup,
    notes: list[str],
    say: Any,
) -> Discovery:
    """No provider and no autoconfig: SRV records, then the usual names that exist, then the MX hosts."""
    if srv:
        records = ", ".join(f"{e.host}:{e.port} ({e.security})" for e in srv)
        say(
            log_text(
                QT_TRANSLATE_NOOP("Log", "{domain} publishes submission SRV records: {records}."),
                domain=domain,
                records=records,
            )
        )
        return Discovery(email, domain, "srv", endpoints=srv, mx_hosts=mx.hosts, notes=tuple(notes))
    if hosts:
        say(
            log_text(
                QT_TRANSLATE_NOOP("Log", "Trying the usual server names for {domain}: {hosts}."),
                domain=domain,
                hosts=", ".join(hosts),
            )
        )
        return Discovery(email, domain, "guess", hosts=hosts, mx_hosts=mx.hosts, notes=tuple(notes))
    none = log_text(
        QT_TRANSLATE_NOOP("Log", "None of {hosts} exists in DNS, and {domain} publishes no submission records."),
        hosts=", ".join(guesses),
        domain=domain,
    )
    notes.append(str(none))
    say(none)
    if not mx.hosts:
        return Discovery(email, domain, "none", mx_hosts=mx.hosts, notes=tuple(notes))
    # last resort: small hosters often accept submission on the mail exchanger itself
    hosts = mx.hosts[:2]
    say(
        log_text(
            QT_TRANSLATE_NOOP("Log", "Trying the mail exchangers of {domain}: {hosts}."),
            domain=domain,
            hosts=", ".join(hosts),
        )
    )
    return Discovery(email, domain, "mx_host", hosts=hosts, mx_hosts=mx.hosts, notes=tuple(notes))


def _start_autoconfig(
    email: str,
    domain: str,
    res: Any,
    mx_future: asyncio.Future[MxLookup],
    cat: Any,
    options: Any,
    say: Any,
    timeout: float,
) -> asyncio.Future[Any] | None:
    """Start the autoconfig sources (``options``: False, True or lookup_autoconfig keyword arguments) as
    soon as the MX answer shows the catalogue does not know the domain (no HTTPS work when it does; the
    SRV and host lookups still run meanwhile), within what is left of discovery's timeout; None when off."""
    if options is False:
        return None
    from app.core.detect.autoconfig import lookup_autoconfig

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    extra = options if isinstance(options, dict) else {}

    async def after_mx() -> Any:
        await asyncio.wait({mx_future})
        if not mx_future.cancelled() and mx_future.exception() is None:
            mx = mx_future.result()
            if mx.nxdomain or (cat is not None and any(cat.by_mx(h) for h in mx.hosts)):
                return None, []
        left = max(0.2, min(extra.get("timeout", timeout), deadline - loop.time()))
        kwargs = {**extra, "timeout": left}
        return await lookup_autoconfig(email, domain, res, mx_hosts=mx_future, say=say, **kwargs)

    return asyncio.ensure_future(after_mx())


async def _autoconfig_result(
    auto_task: asyncio.Future[Any], email: str, domain: str, mx_hosts: tuple[str, ...], notes: list[str]
) -> Discovery | None:
    result, misses = await auto_task
    if result is None:
        log.debug("autoconfig for %s: %s", domain, "; ".join(misses))
        return None
    notes.extend(result.notes)
    return Discovery(
        email,
        domain,
        "autoconfig",
        endpoints=result.endpoints,
        mx_hosts=mx_hosts,
        notes=tuple(notes),
        source=result.source,
        source_url=result.url,
        trusted=result.trusted,
        login=result.login,
    )


def endpoints_for_host(host: str, ports: Sequence[int]) -> tuple[Endpoint, ...]:
    """(host, port, mode) pairs to probe on ``host``: see ``modes_for_port``."""
    return tuple(Endpoint(host, p, s.value) for p in ports for s in modes_for_port(p))


IMPLICIT_TLS_PORTS = frozenset({465, 993, 995, 443, 8465})
STARTTLS_PORTS = frozenset({25, 587, 2525, 2587, 26})


def modes_for_port(port: int) -> tuple[Security, ...]:
    """Modes worth probing on ``port``: TLS on 465-style ports, STARTTLS on 25/587/2525, both elsewhere."""
    if port in IMPLICIT_TLS_PORTS:
        return (Security.SSL,)
    if port in STARTTLS_PORTS:
        return (Security.STARTTLS,)
    return (Security.SSL, Security.STARTTLS)


__all__ = [
    "AddressError",
    "Discovery",
    "MxLookup",
    "default_resolver",
    "discover",
    "endpoints_for_host",
    "host_exists",
    "lookup_mx",
    "lookup_srv",
    "modes_for_port",
    "split_email",
    "to_ascii_domain",
]
