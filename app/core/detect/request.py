"""What a detection starts from: its input checked, the candidates chosen, the login to probe with."""

from __future__ import annotations

import time
from collections.abc import Sequence

from app.core.catalog import Endpoint, Provider
from app.core.detect.discovery import (
    AddressError,
    Discovery,
    endpoints_for_host,
    split_email,
)
from app.core.detect.results import DetectResult
from app.core.diagnosis import Diagnosis, detection
from app.core.model import (
    AuthMechanism,
    Security,
    SmtpSettings,
    Timeouts,
    TlsOptions,
)


def base_settings(
    *,
    username: str,
    timeouts: Timeouts,
    tls: TlsOptions,
    proxy: str | None,
    ehlo_name: str | None,
    auth: AuthMechanism,
) -> SmtpSettings:
    return SmtpSettings(
        host="localhost",
        port=465,
        security=Security.SSL,
        username=username,
        auth=auth,
        timeouts=timeouts,
        tls=tls,
        ehlo_name=ehlo_name,
        proxy=proxy,
    )


def invalid_request(field_name: str, message: str, t0: float, provider: str | None = None) -> DetectResult:
    d = detection.invalid_field(field_name, message)
    return DetectResult(False, None, d, provider, [], [message], (time.monotonic() - t0) * 1000)


def check_proxy(proxy: str | None) -> Diagnosis | None:
    if not proxy:
        return None
    from app.core.net import ProxyUrlError, parse_proxy_url

    try:
        parse_proxy_url(proxy)
    except ProxyUrlError as exc:
        return detection.invalid_proxy_url(str(exc))
    return None


def check_request(
    email: str | None, host: str | None, ports: Sequence[int], proxy: str | None, t0: float
) -> tuple[str, DetectResult | None]:
    """(the address's domain, None), or a refusal of input that cannot be searched with."""
    if not email and not host:
        return "", invalid_request("email", "Give an e-mail address or a server name.", t0)
    domain = ""
    if email:
        try:
            _local, domain = split_email(email)
        except AddressError as exc:
            return "", invalid_request("email", str(exc), t0)
    proxy_problem = check_proxy(proxy)
    if proxy_problem is not None:
        elapsed = (time.monotonic() - t0) * 1000
        return domain, DetectResult(False, None, proxy_problem, None, [], [proxy_problem.title], elapsed)
    if not ports:
        return domain, invalid_request("ports", "Give at least one port to probe.", t0)
    bad = [p for p in ports if not isinstance(p, int) or not 1 <= p <= 65535]
    if bad:
        return domain, invalid_request("ports", f"Ports must be whole numbers from 1 to 65535, not {bad[0]!r}.", t0)
    return domain, None


def candidates(discovery: Discovery, domain: str, ports: Sequence[int]) -> tuple[list[Endpoint], bool, str] | Diagnosis:
    """(endpoints to probe, whether their order is the provider's ranking, why these) or why there are none."""
    if discovery.nxdomain:
        return detection.no_such_domain(domain)
    if discovery.endpoints:
        src = {
            "provider": "the known provider's settings",
            "mx": "the provider found by the domain's MX records",
            "srv": "the domain's SRV records",
            "autoconfig": f"the domain's autoconfig ({discovery.source}: {discovery.source_url})",
        }[discovery.via]
        return list(discovery.endpoints), discovery.via in ("provider", "mx"), f"Candidates come from {src}."
    if discovery.hosts:
        endpoints = [e for h in discovery.hosts for e in endpoints_for_host(h, ports)]
        what = "the domain's mail exchangers" if discovery.via == "mx_host" else "the usual server names"
        return endpoints, False, f"Candidates are {what}: {', '.join(discovery.hosts)}."
    return detection.no_candidates(domain)


def login_for(
    email: str | None,
    password: str | None,
    username: str | None,
    provider: Provider | None,
    discovery: Discovery | None,
    trust_source: bool,
    reasons: list[str],
) -> tuple[str | None, str]:
    """The (password, login) to probe with: no password for servers named by an unconfirmed source."""
    if password and discovery is not None and not discovery.trusted and not trust_source:
        password = None  # never hand the password to servers named by an unconfirmed source
        reasons.append(
            f"The settings come from {discovery.source_url}, which is not trusted (plain HTTP or a redirect to "
            "another domain): the password was not sent. Confirm the source to verify the login."
        )
    if username is None and discovery is not None and discovery.login:
        username = discovery.login  # the login the autoconfig file asks for
    if username is None:
        username = (provider.username_for(email) if provider is not None and email else email) or ""
    return password, username
