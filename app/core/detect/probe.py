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

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
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
from app.core.diagnosis import Code, Diagnosis, detection
from app.core.model import (
    AuthMechanism,
    EventCallback,
    LogLevel,
    LogLine,
    ProbeFinished,
    ProbeStarted,
    Security,
    SmtpSettings,
    Stage,
    StageFailed,
    Timeouts,
    TlsOptions,
    ignore,
)

log = logging.getLogger(__name__)

DEFAULT_PORTS = (465, 587, 25, 2525)
GRACE_MIN = 0.3  # seconds a better-ranked silent probe still gets once a worse one answered
GRACE_FACTOR = 1.0  # ... or this many times the answer's own time, whichever is longer
STAGGER = 0.05  # the other probes start this long after the top-ranked one (or when it fails)

_SECURITY_LABEL = {Security.SSL: "SSL/TLS", Security.STARTTLS: "STARTTLS", Security.NONE: "no encryption"}
_TIER = {Security.SSL: 0, Security.STARTTLS: 1, Security.NONE: 2}

# failures that say "the login/secret is wrong or refused": never try other ports with it
AUTH_CODES = frozenset(
    {Code.AUTH_FAILED, Code.APP_PASSWORD_REQUIRED, Code.AUTH_MECHANISM_UNSUPPORTED, Code.AUTH_REQUIRES_TLS}
)
# proxy failures that every candidate would hit the same way
_PROXY_FATAL = frozenset({"auth_failed", "refused", "invalid_url", "protocol"})

# how much a failure tells the user (higher = reached further into the conversation)
_DEPTH = {
    Code.PROXY_FAILED: 95,
    Code.APP_PASSWORD_REQUIRED: 90,
    Code.AUTH_FAILED: 90,
    Code.AUTH_REQUIRES_TLS: 88,
    Code.AUTH_MECHANISM_UNSUPPORTED: 88,
    Code.CERT_EXPIRED: 80,
    Code.CERT_HOSTNAME_MISMATCH: 80,
    Code.CERT_UNTRUSTED: 80,
    Code.STARTTLS_UNSUPPORTED: 70,
    Code.SERVER_UNAVAILABLE: 60,
    Code.TLS_HANDSHAKE_FAILED: 50,
    Code.PROTOCOL_ERROR: 45,
    Code.GREETING_TIMEOUT: 40,
    Code.CONNECT_TIMEOUT: 30,
    Code.NETWORK_UNREACHABLE: 25,
    Code.CONNECT_REFUSED: 20,
    Code.DNS_FAILED: 10,
}


def security_label(security: Security | str) -> str:
    """Human name of a security mode: SSL/TLS, STARTTLS, no encryption."""
    return _SECURITY_LABEL[Security(security)]


@dataclass(frozen=True)
class ProbeOutcome:
    """What one candidate (host, port, mode) did. ``outcome``: ok, failed, cancelled, skipped."""

    host: str
    port: int
    security: str
    outcome: str
    elapsed_ms: float
    code: str | None = None
    detail: str = ""
    plain_only: bool = False  # answered, but offers no STARTTLS (usable only without encryption)
    auth_verified: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "outcome": self.outcome,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "code": self.code,
            "detail": self.detail,
            "plain_only": self.plain_only,
            "auth_verified": self.auth_verified,
        }


@dataclass(frozen=True)
class DetectResult:
    """The verdict of autodetect.

    ``ok``: a working setting was found (and, when a password was given, the login worked).
    ``settings`` is the chosen setting even when only the login failed. ``reasons`` explain
    why it won and why the others lost; ``warnings`` flag risky choices (no encryption).
    """

    ok: bool
    settings: SmtpSettings | None
    diagnosis: Diagnosis | None
    provider: str | None
    probes: list[ProbeOutcome]
    reasons: list[str]
    elapsed_ms: float
    auth_verified: bool = False
    warnings: list[str] = field(default_factory=list)
    discovery: Discovery | None = None
    check: Any = None  # the CheckResult of the verifying check, when one ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary() if self.settings else None,
            "username": self.settings.username if self.settings else None,
            "provider": self.provider,
            "auth_verified": self.auth_verified,
            "probes": [p.to_dict() for p in self.probes],
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "discovery": self.discovery.to_dict() if self.discovery else None,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


# --------------------------------------------------------------------------- internals
@dataclass
class _Probe:
    endpoint: Endpoint
    security: Security
    full: bool  # a full check with the password (the speculative verification)
    started: float = 0.0
    task: asyncio.Task | None = None
    result: Any = None  # CheckResult
    failed_stage: Stage | None = None
    events: list[Any] = field(default_factory=list)
    done_at: float = 0.0

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.endpoint.host, self.endpoint.port, self.security.value)


@dataclass
class _Slot:
    """One way to use a probed endpoint: in its own mode, or (STARTTLS probe) without encryption."""

    probe: _Probe
    security: Security
    state: str = "pending"  # pending, ok, failed

    @property
    def name(self) -> str:
        e = self.probe.endpoint
        return f"{e.host}:{e.port} ({security_label(self.security)})"


def _probe_timeouts(t: Timeouts) -> Timeouts:
    """Probes wait at most the greeting timeout for each step."""
    g = t.greeting
    return Timeouts(connect=min(t.connect, g), greeting=g, command=min(t.command, g), total=min(t.total, 3 * g + 0.5))


def _is_auth_failure(probe: _Probe) -> bool:
    d = probe.result.diagnosis if probe.result is not None else None
    return d is not None and (probe.failed_stage is Stage.AUTH or d.code in AUTH_CODES)


class _Detector:
    def __init__(
        self,
        base: SmtpSettings,
        password: str | None,
        endpoints: Sequence[Endpoint],
        *,
        ranked_by_order: bool,
        allow_plain: bool,
        provider: Provider | None,
        on_event: EventCallback,
        strict: bool,
        stagger: float,
    ) -> None:
        self.base = base
        self.password = password
        self.allow_plain = allow_plain
        self.provider = provider
        self.on_event = on_event
        self.strict = strict
        self.loop = asyncio.get_running_loop()
        self.probes: list[_Probe] = []
        seen: set[tuple[str, int, str]] = set()
        for ep in endpoints:
            p = _Probe(ep, Security(ep.security), full=False)
            if p.key not in seen:
                seen.add(p.key)
                self.probes.append(p)
        # slots in preference order
        order = {id(p): i for i, p in enumerate(self.probes)}
        slots = [_Slot(p, p.security) for p in self.probes if p.security is not Security.NONE]
        if not ranked_by_order:
            slots.sort(key=lambda s: (_TIER[s.security], order[id(s.probe)]))
        plain_slots = [_Slot(p, Security.NONE) for p in self.probes if p.security is not Security.SSL]
        self.slots = slots + (plain_slots if allow_plain else [])
        self.hidden_plain = [] if allow_plain else plain_slots  # remembered to explain the refusal
        if password and self.slots and self.slots[0].security is not Security.NONE:
            self.slots[0].probe.full = True  # the speculative verification: one connection in the common case
        self.stagger = stagger

    # -- running probes -------------------------------------------------------------------
    async def _run_probe(self, probe: _Probe) -> None:
        from app.core.smtp import run_check

        s = self.base.with_(
            host=probe.endpoint.host,
            port=probe.endpoint.port,
            security=probe.security,
            timeouts=_probe_timeouts(self.base.timeouts)
            if not probe.full
            else replace(
                self.base.timeouts,
                connect=min(self.base.timeouts.connect, self.base.timeouts.greeting),
            ),
            allow_plain_auth=self.allow_plain and probe.security is Security.NONE,
        )
        if not probe.full:
            s = s.with_(username="")

        def collect(event: Any) -> None:
            if isinstance(event, StageFailed) and probe.failed_stage is None:
                probe.failed_stage = event.stage
            if probe.full:
                probe.events.append(event)

        stop = None if probe.full else (Stage.EHLO if probe.security is not Security.STARTTLS else Stage.STARTTLS)
        probe.result = await run_check(
            s, self.password if probe.full else None, on_event=collect, provider=self.provider, stop_after=stop
        )
        probe.done_at = self.loop.time()

    def _start(self, probe: _Probe) -> asyncio.Task:
        probe.started = self.loop.time()
        self.on_event(ProbeStarted(probe.endpoint.host, probe.endpoint.port, probe.security.value))
        task = asyncio.ensure_future(self._run_probe(probe))
        probe.task = task
        return task

    def _finish_event(self, probe: _Probe, outcome: str, code: str | None, detail: str) -> ProbeOutcome:
        if probe.result is not None:
            elapsed = probe.result.elapsed_ms
        else:
            elapsed = (self.loop.time() - probe.started) * 1000 if probe.started else 0.0
        self.on_event(
            ProbeFinished(
                probe.endpoint.host, probe.endpoint.port, probe.security.value, outcome, elapsed, code, detail
            )
        )
        plain_only = bool(
            probe.result is not None
            and probe.result.diagnosis is not None
            and probe.result.diagnosis.code is Code.STARTTLS_UNSUPPORTED
            and probe.result.diagnosis.variant == ""
        )
        verified = bool(probe.result is not None and probe.result.auth_verified)
        return ProbeOutcome(
            probe.endpoint.host,
            probe.endpoint.port,
            probe.security.value,
            outcome,
            elapsed,
            code,
            detail,
            plain_only,
            verified,
        )

    def _settle(self, probe: _Probe) -> None:
        """Update the slots of a finished probe."""
        res = probe.result
        connected = res.ok or (probe.full and _is_auth_failure(probe))
        # a full check that failed only at the login still proves the connection setting
        if probe.security is Security.NONE:
            plain_ok = connected
        else:
            plain_ok = (
                res.diagnosis is not None
                and res.diagnosis.code is Code.STARTTLS_UNSUPPORTED
                and res.diagnosis.variant == ""
            )
        for slot in self.slots:
            if slot.probe is not probe:
                continue
            if slot.security is Security.NONE:
                slot.state = "ok" if plain_ok else "failed"
            else:
                slot.state = "ok" if connected else "failed"

    # -- the decision ----------------------------------------------------------------------
    async def run(self) -> tuple[_Slot | None, list[ProbeOutcome], list[str]]:
        outcomes: dict[int, ProbeOutcome] = {}
        # the top-ranked probe starts at once; the others join after ``stagger`` seconds, or at once
        # when the top one fails first (on a fast network the top answer often needs nobody else)
        first = self.slots[0].probe if self.slots else (self.probes[0] if self.probes else None)
        waiting = [p for p in self.probes if p is not first]
        pending: dict[asyncio.Task, _Probe] = {}
        if first is not None:
            pending[self._start(first)] = first
        launch_at = self.loop.time() + self.stagger
        winner: _Slot | None = None
        abandoned: dict[int, str] = {}

        def launch_rest() -> None:
            for p in waiting:
                pending[self._start(p)] = p
            waiting.clear()

        try:
            while True:
                best = next((s for s in self.slots if s.state != "failed"), None)
                if best is None:
                    break
                if best.state == "ok":
                    winner = best
                    break
                if waiting and (first is None or first.result is not None or self.loop.time() >= launch_at):
                    launch_rest()
                hand = next((s for s in self.slots if s.state == "ok"), None)
                timeout = None
                if hand is not None and not self.strict:
                    took = hand.probe.done_at - hand.probe.started
                    deadline = hand.probe.done_at + max(GRACE_MIN, GRACE_FACTOR * took)
                    timeout = deadline - self.loop.time()
                    if timeout <= 0:
                        winner = hand
                        for s in self.slots:
                            if s is hand:
                                break
                            if s.state == "pending":
                                abandoned[id(s.probe)] = (
                                    f"{s.name} gave no answer while {hand.name} answered in "
                                    f"{took * 1000:.0f} ms; not waited for (it may be blocked on this network)."
                                )
                        break
                if waiting:
                    until_launch = max(0.0, launch_at - self.loop.time())
                    timeout = until_launch if timeout is None else min(timeout, until_launch)
                if not pending:
                    if waiting:
                        continue
                    break  # pragma: no cover - a pending slot always has a probe
                done, _ = await asyncio.wait(list(pending), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    probe = pending.pop(task)
                    task.result()  # run_check never raises for network trouble; bugs surface here
                    self._settle(probe)
                    outcomes[id(probe)] = self._report(probe)
                    d = probe.result.diagnosis
                    if d is not None and d.code is Code.PROXY_FAILED and d.variant in _PROXY_FATAL:
                        for s in self.slots:
                            s.state = "failed"
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
            for probe in pending.values():
                why = abandoned.get(id(probe), "a better setting was already confirmed")
                outcomes[id(probe)] = self._finish_event(probe, "cancelled", None, why)
            for probe in waiting:
                outcomes[id(probe)] = self._finish_event(
                    probe, "skipped", None, "not needed: a better setting answered first"
                )
        return winner, [outcomes[id(p)] for p in self.probes if id(p) in outcomes], list(abandoned.values())

    def _report(self, probe: _Probe) -> ProbeOutcome:
        res = probe.result
        if res.ok:
            bits = []
            if res.tls is not None:
                bits.append(res.tls.protocol)
            auth = [c for c in res.capabilities if c.upper().startswith("AUTH")]
            if auth:
                bits.append(auth[0])
            if res.auth_verified:
                bits.append("login verified")
            return self._finish_event(probe, "ok", None, ", ".join(bits))
        d = res.diagnosis
        detail = d.title
        if d.code is Code.STARTTLS_UNSUPPORTED and d.variant == "":
            detail = "answers, but offers no STARTTLS (only unencrypted)"
        if probe.full and _is_auth_failure(probe):
            detail = f"connection works; login failed: {d.title}"
        return self._finish_event(probe, "failed", d.code.value, detail)

    def failure_diagnosis(self) -> Diagnosis | None:
        """The most telling failure among the probes (deepest stage, then best-ranked)."""
        ranked = [s.probe for s in self.slots] + [p for p in self.probes]
        best: tuple[int, int] | None = None
        found: Diagnosis | None = None
        for i, p in enumerate(ranked):
            if p.result is None or p.result.diagnosis is None:
                continue
            d = p.result.diagnosis
            score = (_DEPTH.get(d.code, 0), -i)
            if best is None or score > best:
                best, found = score, d
        return found


def _reason_for_winner(slot: _Slot, ranked_by_order: bool, provider: Provider | None) -> str:
    p = slot.probe
    took = p.result.elapsed_ms if p.result is not None else 0.0
    why = {
        Security.SSL: "implicit TLS is preferred: the connection is encrypted from the first byte",
        Security.STARTTLS: "STARTTLS is the best that answered: the session is encrypted before the login",
        Security.NONE: "it was the only answer, and unencrypted connections were explicitly allowed",
    }[slot.security]
    if ranked_by_order and provider is not None:
        why = f"it comes first in the {provider.display_name()} settings that answered"
    return f"Chosen {slot.name}: answered in {took:.0f} ms; {why}."


def _reason_for_loser(slot: _Slot, winner: _Slot | None, outcomes: dict[tuple, ProbeOutcome]) -> str | None:
    o = outcomes.get(slot.probe.key)
    if o is None or slot is winner:
        return None
    if slot.security is Security.NONE:
        if slot.state == "ok":
            return f"{slot.name} also answers, but only without encryption; an encrypted setting is preferred."
        return None
    if o.outcome == "ok":
        return f"{slot.name} answered too ({o.elapsed_ms:.0f} ms), but {winner.name if winner else 'another setting'} is preferred."
    if o.outcome == "failed":
        return f"{slot.name} did not work: {o.detail or o.code}."
    if o.outcome == "cancelled" and "not waited" not in o.detail:
        return f"{slot.name} was not needed: a better setting was already confirmed (probe stopped)."
    return None


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
    det = _Detector(
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

    def loser_reasons(w: _Slot | None) -> list[str]:
        out = []
        for s in det.slots:
            r = _reason_for_loser(s, w, by_key)
            if r:
                out.append(r)
        for s in det.hidden_plain:
            o = by_key.get(s.probe.key)
            if o is not None and o.plain_only:
                out.append(
                    f"{s.name} answers only without encryption; not offered because plain connections were not allowed."
                )
        return out

    if winner is None:
        d = det.failure_diagnosis() or detection.nothing_answered(base.host, base.port)
        if det.hidden_plain and any(
            by_key.get(s.probe.key) and by_key[s.probe.key].plain_only for s in det.hidden_plain
        ):
            d = detection.with_allow_plain(d)
        return DetectResult(
            False, None, d, pid, outcomes, reasons + loser_reasons(None), elapsed(), False, warnings, discovery
        )

    chosen = base.with_(
        host=winner.probe.endpoint.host,
        port=winner.probe.endpoint.port,
        security=winner.security,
        allow_plain_auth=winner.security is Security.NONE,
    )
    reasons = [_reason_for_winner(winner, ranked_by_order, provider)] + reasons + loser_reasons(winner)
    if winner.security is Security.NONE:
        warnings.append(
            f"{winner.name}: the connection is not encrypted; the login and every message travel in clear text."
        )

    probe = winner.probe
    if not password:
        return DetectResult(
            True, chosen, None, pid, outcomes, reasons, elapsed(), False, warnings, discovery, probe.result
        )

    if probe.full and probe.security is winner.security:
        # the speculative full check on the top candidate already ran the login: replay its events
        for event in probe.events:
            on_event(event)
        res = probe.result
    else:
        on_event(LogLine(LogLevel.INFO, f"Verifying the login on {winner.name}"))
        res = await _verify(chosen, password, provider, on_event)
    if res.ok:
        reasons.append(f"The login was verified on {winner.name}.")
        return DetectResult(
            True, chosen, None, pid, outcomes, reasons, elapsed(), res.auth_verified, warnings, discovery, res
        )
    d = res.diagnosis
    if d.code in AUTH_CODES:
        reasons.append(f"The server at {winner.name} refused the login; other ports were not tried with it.")
    else:
        reasons.append(f"The full check on {winner.name} failed: {d.title}.")
    return DetectResult(False, chosen, d, pid, outcomes, reasons, elapsed(), False, warnings, discovery, res)


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
    if not email and not host:
        return _invalid("email", "Give an e-mail address or a server name.", t0)
    domain = ""
    if email:
        try:
            _local, domain = split_email(email)
        except AddressError as exc:
            return _invalid("email", str(exc), t0)
    proxy_problem = _check_proxy(proxy)
    if proxy_problem is not None:
        return DetectResult(False, None, proxy_problem, None, [], [proxy_problem.title], (time.monotonic() - t0) * 1000)
    if not ports:
        return _invalid("ports", "Give at least one port to probe.", t0)
    bad = [p for p in ports if not isinstance(p, int) or not 1 <= p <= 65535]
    if bad:
        return _invalid("ports", f"Ports must be whole numbers from 1 to 65535, not {bad[0]!r}.", t0)

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
        if discovery.nxdomain:
            d = detection.no_such_domain(domain)
            return DetectResult(
                False, None, d, None, [], list(discovery.notes), (time.monotonic() - t0) * 1000, discovery=discovery
            )
        if discovery.endpoints:
            endpoints = list(discovery.endpoints)
            ranked_by_order = discovery.via in ("provider", "mx")
            src = {
                "provider": "the known provider's settings",
                "mx": "the provider found by the domain's MX records",
                "srv": "the domain's SRV records",
                "autoconfig": f"the domain's autoconfig ({discovery.source}: {discovery.source_url})",
            }[discovery.via]
            reasons.append(f"Candidates come from {src}.")
        elif discovery.hosts:
            endpoints = [e for h in discovery.hosts for e in endpoints_for_host(h, ports)]
            ranked_by_order = False
            what = "the domain's mail exchangers" if discovery.via == "mx_host" else "the usual server names"
            reasons.append(f"Candidates are {what}: {', '.join(discovery.hosts)}.")
        else:
            d = detection.no_candidates(domain)
            return DetectResult(
                False, None, d, None, [], list(discovery.notes), (time.monotonic() - t0) * 1000, discovery=discovery
            )

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
