"""The parallel race of autodetect's probes: start them staggered, settle the ranking as answers come, give a
better-ranked silent probe only a bounded grace, cancel the rest once the winner is certain."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.ranking import (
    DEPTH,
    GRACE_FACTOR,
    GRACE_MIN,
    PROXY_FATAL,
    TIER,
    Probe,
    Slot,
    is_auth_failure,
    probe_timeouts,
)
from app.core.detect.results import ProbeOutcome
from app.core.diagnosis import Code, Diagnosis
from app.core.model import (
    EventCallback,
    ProbeFinished,
    ProbeStarted,
    Security,
    SmtpSettings,
    Stage,
    StageFailed,
)

log = logging.getLogger(__name__)


class Detector:
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
        self.probes: list[Probe] = []
        seen: set[tuple[str, int, str]] = set()
        for ep in endpoints:
            p = Probe(ep, Security(ep.security), full=False)
            if p.key not in seen:
                seen.add(p.key)
                self.probes.append(p)
        # slots in preference order
        order = {id(p): i for i, p in enumerate(self.probes)}
        slots = [Slot(p, p.security) for p in self.probes if p.security is not Security.NONE]
        if not ranked_by_order:
            slots.sort(key=lambda s: (TIER[s.security], order[id(s.probe)]))
        plain_slots = [Slot(p, Security.NONE) for p in self.probes if p.security is not Security.SSL]
        self.slots = slots + (plain_slots if allow_plain else [])
        self.hidden_plain = [] if allow_plain else plain_slots  # remembered to explain the refusal
        if password and self.slots and self.slots[0].security is not Security.NONE:
            self.slots[0].probe.full = True  # the speculative verification: one connection in the common case
        self.stagger = stagger

    # -- running probes -------------------------------------------------------------------
    async def _run_probe(self, probe: Probe) -> None:
        from app.core.smtp import run_check

        s = self.base.with_(
            host=probe.endpoint.host,
            port=probe.endpoint.port,
            security=probe.security,
            timeouts=probe_timeouts(self.base.timeouts)
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

    def _start(self, probe: Probe) -> asyncio.Task:
        probe.started = self.loop.time()
        self.on_event(ProbeStarted(probe.endpoint.host, probe.endpoint.port, probe.security.value))
        task = asyncio.ensure_future(self._run_probe(probe))
        probe.task = task
        return task

    def _finish_event(self, probe: Probe, outcome: str, code: str | None, detail: str) -> ProbeOutcome:
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

    def _settle(self, probe: Probe) -> None:
        """Update the slots of a finished probe."""
        res = probe.result
        connected = res.ok or (probe.full and is_auth_failure(probe))
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
    async def run(self) -> tuple[Slot | None, list[ProbeOutcome], list[str]]:
        outcomes: dict[int, ProbeOutcome] = {}
        # the top-ranked probe starts at once; the others join after ``stagger`` seconds, or at once
        # when the top one fails first (on a fast network the top answer often needs nobody else)
        first = self.slots[0].probe if self.slots else (self.probes[0] if self.probes else None)
        waiting = [p for p in self.probes if p is not first]
        pending: dict[asyncio.Task, Probe] = {}
        if first is not None:
            pending[self._start(first)] = first
        launch_at = self.loop.time() + self.stagger
        winner: Slot | None = None
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
                winner, timeout = self._grace(abandoned)
                if winner is not None:
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
                    self._collect(pending.pop(task), task, outcomes)
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

    def _grace(self, abandoned: dict[int, str]) -> tuple[Slot | None, float | None]:
        """(winner, None) when the grace for better-ranked silent probes is over, else (None, how long to
        wait at most). A better-ranked probe still silent then is abandoned, and why is noted."""
        hand = next((s for s in self.slots if s.state == "ok"), None)
        if hand is None or self.strict:
            return None, None
        took = hand.probe.done_at - hand.probe.started
        timeout = hand.probe.done_at + max(GRACE_MIN, GRACE_FACTOR * took) - self.loop.time()
        if timeout > 0:
            return None, timeout
        for s in self.slots:
            if s is hand:
                break
            if s.state == "pending":
                abandoned[id(s.probe)] = (
                    f"{s.name} gave no answer while {hand.name} answered in "
                    f"{took * 1000:.0f} ms; not waited for (it may be blocked on this network)."
                )
        return hand, None

    def _collect(self, probe: Probe, task: asyncio.Task, outcomes: dict[int, ProbeOutcome]) -> None:
        """A finished probe: its slots settled, its outcome recorded; a fatal proxy failure ends every slot."""
        task.result()  # run_check never raises for network trouble; bugs surface here
        self._settle(probe)
        outcomes[id(probe)] = self._report(probe)
        d = probe.result.diagnosis
        if d is not None and d.code is Code.PROXY_FAILED and d.variant in PROXY_FATAL:
            for s in self.slots:
                s.state = "failed"

    def _report(self, probe: Probe) -> ProbeOutcome:
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
        if probe.full and is_auth_failure(probe):
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
            score = (DEPTH.get(d.code, 0), -i)
            if best is None or score > best:
                best, found = score, d
        return found
