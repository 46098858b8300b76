"""Probing a list of candidate endpoints in parallel and confirming the login on the winner."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from app.core.catalog import Endpoint, Provider
from app.core.detect.discovery import (
    Discovery,
)
from app.core.detect.race import Detector
from app.core.detect.ranking import (
    AUTH_CODES,
    STAGGER,
    Slot,
    loser_reasons,
    reason_for_winner,
)
from app.core.detect.results import DetectResult
from app.core.diagnosis import Diagnosis, detection
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    LogLevel,
    LogLine,
    Security,
    SmtpSettings,
    log_text,
)


async def _verify(settings: SmtpSettings, password: str, provider: Provider | None, on_event: EventCallback):
    from app.core.smtp import run_check

    return await run_check(settings, password, on_event=on_event, provider=provider)


def _nothing_to_probe(
    endpoints: Sequence[Endpoint],
    base: SmtpSettings,
    provider: Provider | None,
    t0: float,
    discovery: Discovery | None,
    reasons_before: Sequence[str],
) -> DetectResult:
    first = endpoints[0] if endpoints else Endpoint(base.host, base.port, "none")
    msg = "Every candidate is unencrypted; not probed because plain connections were not allowed."
    return DetectResult(
        False,
        None,
        detection.only_unencrypted(first.host, first.port),
        provider.id if provider else None,
        [],
        list(reasons_before) + [msg],
        (time.monotonic() - t0) * 1000,
        discovery=discovery,
    )


def _no_winner_diagnosis(det: Detector, base: SmtpSettings, by_key: dict[Any, Any]) -> Diagnosis:
    """Why no candidate won; it suggests allowing plain connections when only hidden plain ones answered."""
    d = det.failure_diagnosis() or detection.nothing_answered(base.host, base.port)
    if det.hidden_plain and any(by_key.get(s.probe.key) and by_key[s.probe.key].plain_only for s in det.hidden_plain):
        d = detection.with_allow_plain(d)
    return d


def _settings_of(winner: Slot, base: SmtpSettings) -> SmtpSettings:
    """The settings the winning probe stands for (a login over plain only where plain was the winner)."""
    endpoint = winner.probe.endpoint
    return base.with_(
        host=endpoint.host,
        port=endpoint.port,
        security=winner.security,
        allow_plain_auth=winner.security is Security.NONE,
    )


async def probe_endpoints(
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
        return _nothing_to_probe(endpoints, base, provider, t0, discovery, reasons_before)
    winner, outcomes, reasons = await det.run()
    reasons = list(reasons_before) + reasons
    by_key = {(o.host, o.port, o.security): o for o in outcomes}
    warnings: list[str] = []
    pid = provider.id if provider else None
    elapsed = lambda: (time.monotonic() - t0) * 1000  # noqa: E731

    others = lambda w: loser_reasons(det.slots, det.hidden_plain, w, by_key)  # noqa: E731
    if winner is None:
        d = _no_winner_diagnosis(det, base, by_key)
        return DetectResult(
            False, None, d, pid, outcomes, reasons + others(None), elapsed(), False, warnings, discovery
        )

    chosen = _settings_of(winner, base)
    reasons = [reason_for_winner(winner, ranked_by_order, provider)] + reasons + others(winner)
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
    winner: Slot,
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
