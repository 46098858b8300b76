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

import logging
import time
from collections.abc import Sequence
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.discovery import (
    AddressError,
    Discovery,
    discover,
    endpoints_for_host,
    modes_for_port,
    split_email,
)
from app.core.detect.race import Detector
from app.core.detect.ranking import (
    AUTH_CODES,
    DEFAULT_PORTS,
    STAGGER,
    _reason_for_winner,
    _Slot,
    loser_reasons,
    security_label,
)
from app.core.detect.results import DetectResult, ProbeOutcome
from app.core.diagnosis import Diagnosis, detection
from app.core.model import (
    QT_TRANSLATE_NOOP,
    AuthMechanism,
    EventCallback,
    LogLevel,
    LogLine,
    Security,
    SmtpSettings,
    Timeouts,
    TlsOptions,
    ignore,
    log_text,
)

log = logging.getLogger(__name__)


async def _verify(settings: SmtpSettings, password: str, provider: Provider | None, on_event: EventCallback):
    from app.core.smtp import run_check

    return await run_check(settings, password, on_event=on_event, provider=provider)


async def _probe_endpoints(
    endpoints: Sequence[Endpoint],
    *,
    base: SmtpSettings,
    password: str | None,
    ranked_by_order: bool,
    allow_plain: bool,
    provider: Provider | None,
    on_event: EventCallback,
    strict: bool,
    t0: float,
    stagger: float = STAGGER,
    discovery: Discovery | None = None,
    reasons_before: Sequence[str] = (),
) -> DetectResult:
    det = Detector(
        base,
        password,
        endpoints,
        ranked_by_order=ranked_by_order,
        allow_plain=allow_plain,
        provider=provider,
        on_event=on_event,
        strict=strict,
        stagger=stagger,
    )
    if not det.slots:  # every candidate is unencrypted and plain connections are not allowed
        first = endpoints[0] if endpoints else Endpoint(base.host, base.port, "none")
        d = detection.only_unencrypted(first.host, first.port)
        msg = "Every candidate is unencrypted; not probed because plain connections were not allowed."
        return DetectResult(
            False,
            None,
            d,
            provider.id if provider else None,
            [],
            list(reasons_before) + [msg],
            (time.monotonic() - t0) * 1000,
            discovery=discovery,
        )
    winner, outcomes, reasons = await det.run()
    reasons = list(reasons_before) + reasons
    by_key = {(o.host, o.port, o.security): o for o in outcomes}
    warnings: list[str] = []
    pid = provider.id if provider else None
    elapsed = lambda: (time.monotonic() - t0) * 1000  # noqa: E731

    def others(w: _Slot | None) -> list[str]:
        return loser_reasons(det.slots, det.hidden_plain, w, by_key)

    if winner is None:
        d = det.failure_diagnosis() or detection.nothing_answered(base.host, base.port)
        if det.hidden_plain and any(
            by_key.get(s.probe.key) and by_key[s.probe.key].plain_only for s in det.hidden_plain
        ):
            d = detection.with_allow_plain(d)
        return DetectResult(
            False, None, d, pid, outcomes, reasons + others(None), elapsed(), False, warnings, discovery
        )

    chosen = base.with_(
        host=winner.probe.endpoint.host,
        port=winner.probe.endpoint.port,
        security=winner.security,
        allow_plain_auth=winner.security is Security.NONE,
    )
    reasons = [_reason_for_winner(winner, ranked_by_order, provider)] + reasons + others(winner)
    if winner.security is Security.NONE:
        warnings.append(
            f"{winner.name}: the connection is not encrypted; the login and every message travel in clear text."
        )

    if not password:
        return DetectResult(
            True, chosen, None, pid, outcomes, reasons, elapsed(), False, warnings, discovery, winner.probe.result
        )
    res = await _confirm_login(winner, chosen, password, provider, on_event, reasons)
    ok = bool(res.ok)
    verdict: Diagnosis | None = None if ok else res.diagnosis
    return DetectResult(
        ok, chosen, verdict, pid, outcomes, reasons, elapsed(), ok and res.auth_verified, warnings, discovery, res
    )


async def _confirm_login(
    winner: _Slot,
    chosen: SmtpSettings,
    password: str,
    provider: Provider | None,
    on_event: EventCallback,
    reasons: list[str],
) -> Any:
    """The CheckResult that verified (or refused) the login on the winner; a reason line is added."""
    probe = winner.probe
    if probe.full and probe.security is winner.security:
        # the speculative full check on the top candidate already ran the login: replay its events
        for event in probe.events:
            on_event(event)
        res = probe.result
    else:
        on_event(
            LogLine(
                LogLevel.INFO,
                log_text(QT_TRANSLATE_NOOP("Log", "Verifying the login on {server}."), server=winner.name),
            )
        )
        res = await _verify(chosen, password, provider, on_event)
    if res.ok:
        reasons.append(f"The login was verified on {winner.name}.")
    elif res.diagnosis.code in AUTH_CODES:
        reasons.append(f"The server at {winner.name} refused the login; other ports were not tried with it.")
    else:
        reasons.append(f"The full check on {winner.name} failed: {res.diagnosis.title}.")
    return res


def _base_settings(
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


def _invalid(field_name: str, message: str, t0: float, provider: str | None = None) -> DetectResult:
    d = detection.invalid_field(field_name, message)
    return DetectResult(False, None, d, provider, [], [message], (time.monotonic() - t0) * 1000)


def _check_proxy(proxy: str | None) -> Diagnosis | None:
    if not proxy:
        return None
    from app.core.net import ProxyUrlError, parse_proxy_url

    try:
        parse_proxy_url(proxy)
    except ProxyUrlError as exc:
        return detection.invalid_proxy_url(str(exc))
    return None


def _check_request(
    email: str | None, host: str | None, ports: Sequence[int], proxy: str | None, t0: float
) -> tuple[str, DetectResult | None]:
    """(the address's domain, None), or a refusal of input that cannot be searched with."""
    if not email and not host:
        return "", _invalid("email", "Give an e-mail address or a server name.", t0)
    domain = ""
    if email:
        try:
            _local, domain = split_email(email)
        except AddressError as exc:
            return "", _invalid("email", str(exc), t0)
    proxy_problem = _check_proxy(proxy)
    if proxy_problem is not None:
        elapsed = (time.monotonic() - t0) * 1000
        return domain, DetectResult(False, None, proxy_problem, None, [], [proxy_problem.title], elapsed)
    if not ports:
        return domain, _invalid("ports", "Give at least one port to probe.", t0)
    bad = [p for p in ports if not isinstance(p, int) or not 1 <= p <= 65535]
    if bad:
        return domain, _invalid("ports", f"Ports must be whole numbers from 1 to 65535, not {bad[0]!r}.", t0)
    return domain, None


def _candidates(
    discovery: Discovery, domain: str, ports: Sequence[int]
) -> tuple[list[Endpoint], bool, str] | Diagnosis:
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


def _login_for(
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

    ``autoconfig``: whether discovery asks the autoconfig sources (or their lookup options, for tests).
    Settings from an untrusted autoconfig answer (plain HTTP, or a redirect to another domain) are probed
    without the password unless ``trust_source`` says the user confirmed that source.

    ``strict`` waits for every better-ranked probe to finish instead of giving silent ones a
    bounded grace. The top-ranked probe starts first; the others ``stagger`` seconds later or as
    soon as it fails (0 starts all at once). Never raises for network trouble; cancellation propagates after all probes
    are closed.
    """
    t0 = time.monotonic()
    domain, refused = _check_request(email, host, ports, proxy, t0)
    if refused is not None:
        return refused

    cat = catalogue
    if cat is None and email:
        from app.core.catalog import default_catalogue

        cat = default_catalogue()
    provider: Provider | None = cat.by_domain(domain) if (cat is not None and domain) else None

    discovery: Discovery | None = None
    reasons: list[str] = []
    if host:
        endpoints = list(endpoints_for_host(host.strip(), ports))
        ranked_by_order = False
        reasons.append(f"Probing {host} on ports {', '.join(str(p) for p in ports)} as asked.")
    else:
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
        found = _candidates(discovery, domain, ports)
        if isinstance(found, Diagnosis):
            return DetectResult(
                False, None, found, None, [], list(discovery.notes), (time.monotonic() - t0) * 1000, discovery=discovery
            )
        endpoints, ranked_by_order, why = found
        reasons.append(why)

    password, username = _login_for(email, password, username, provider, discovery, trust_source, reasons)
    if password and not username:
        return _invalid("username", "A password was given without a login name.", t0, provider.id if provider else None)
    base = _base_settings(username=username, timeouts=timeouts, tls=tls, proxy=proxy, ehlo_name=ehlo_name, auth=auth)
    return await _probe_endpoints(
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
    proxy_problem = _check_proxy(proxy)
    if proxy_problem is not None:
        return DetectResult(False, None, proxy_problem, None, [], [proxy_problem.title], 0.0)
    if port is None:
        endpoints = list(endpoints_for_host(host, DEFAULT_PORTS))
        ranked = False
    else:
        if not 1 <= port <= 65535:
            return _invalid("port", f"Port must be a whole number from 1 to 65535, not {port!r}.", t0)
        first = modes_for_port(port)[0]
        order = [first] + [m for m in (Security.SSL, Security.STARTTLS) if m is not first]
        endpoints = [Endpoint(host, port, m.value) for m in order]
        ranked = True
    if password and not username:
        return _invalid("username", "A password was given without a login name.", t0)
    base = _base_settings(username=username, timeouts=timeouts, tls=tls, proxy=proxy, ehlo_name=ehlo_name, auth=auth)
    return await _probe_endpoints(
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
