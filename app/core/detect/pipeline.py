"""The one bounded run pipeline: engine check -> (if not definitive) second opinion and alternatives -> verdict.

Everything runs inside ONE overall deadline, ``settings.timeouts.total`` from the moment
``run_pipeline`` is called: the engine check, then (only when its failure is not a definitive
server answer) the second client and the alternative settings at the same time, each given only
the time that is left. When the deadline passes, whatever still runs is cancelled (sockets
closed) and the verdict is built from what is known. The CLI (text and JSON) and the wizard
render the returned ``Verdict``; neither decides anything itself.

The rule for "only the second opinion succeeded" (stated here, and only here: ``decide``):
the settings count as working when the second client finished every step the engine was asked
to do, *including a verified login when a login was given*. A login the second client could not
try (plaintext not allowed, no mechanism in common) never counts: the verdict stays a failure
with the engine's diagnosis. Such a success is reported with ``by="second_client"``.

Alternatives (only after a non-definitive failure): the other security mode on the *user's*
port when the port answered at all (a mode mismatch), and the standard paired port
(465/SSL <-> 587/STARTTLS). A working one adds a one-click switch to the diagnosis; switches to
settings that were just tried and failed are removed from it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from typing import Any

from app.core.catalog import Provider
from app.core.detect.second_opinion import SecondOpinion, second_opinion
from app.core.diagnosis import Code, Diagnosis, drop_failed_switches, offer_switch, security_label
from app.core.model import (
    QT_TRANSLATE_NOOP,
    EventCallback,
    LogLevel,
    LogLine,
    Security,
    SmtpSettings,
    Text,
    ignore,
    log_text,
)

# failures that are not a definitive server answer: worth a second opinion
RETRYABLE = frozenset(
    {
        Code.CONNECT_TIMEOUT,
        Code.GREETING_TIMEOUT,
        Code.CONNECT_REFUSED,
        Code.NETWORK_UNREACHABLE,
        Code.TLS_HANDSHAKE_FAILED,
        Code.PROTOCOL_ERROR,
    }
)
# proven on the wire (a TLS handshake on the same port worked; a plaintext greeting came instead of a ServerHello)
CERTAIN = frozenset({(Code.GREETING_TIMEOUT, "implicit_tls"), (Code.TLS_HANDSHAKE_FAILED, "plaintext_port")})
# the port answered (so the other mode on the same port may be what it speaks)
_PORT_ANSWERED = frozenset({Code.GREETING_TIMEOUT, Code.TLS_HANDSHAKE_FAILED, Code.PROTOCOL_ERROR})
# below this many seconds left, a second opinion could not say anything useful
MIN_SECOND_OPINION = 0.05


def is_definitive(diagnosis: Diagnosis | None) -> bool:
    """True for answers a retry cannot change (5xx replies, certificates, a name that does not exist)."""
    if diagnosis is None:
        return True
    if diagnosis.code is Code.DNS_FAILED:
        return diagnosis.variant not in ("temporary", "timeout")
    if (diagnosis.code, diagnosis.variant) in CERTAIN:
        return True
    return diagnosis.code not in RETRYABLE


def paired_alternative(settings: SmtpSettings) -> SmtpSettings | None:
    """465/SSL <-> 587/STARTTLS on the same host (other ports map to the other standard mode)."""
    if settings.security is Security.SSL:
        alt = settings.with_(port=587, security=Security.STARTTLS)
    elif settings.security is Security.STARTTLS:
        alt = settings.with_(port=465, security=Security.SSL)
    else:
        return None
    if (alt.port, alt.security) == (settings.port, settings.security):
        return None
    return alt


def alternatives_for(settings: SmtpSettings, diagnosis: Diagnosis | None) -> tuple[SmtpSettings, ...]:
    """What to try beside a non-definitive failure: other mode on the user's port, then the paired port."""
    out: list[SmtpSettings] = []
    if diagnosis is not None and diagnosis.code in _PORT_ANSWERED:
        other = Security.STARTTLS if settings.security is Security.SSL else Security.SSL
        out.append(settings.with_(security=other))
    paired = paired_alternative(settings)
    if paired is not None and all((a.port, a.security) != (paired.port, paired.security) for a in out):
        out.append(paired)
    return tuple(out)


@dataclass(frozen=True)
class Verdict:
    """The one result of a check run, for every front end.

    ``ok``: the settings work. ``by``: who showed it ("engine", "second_client"; "" on failure).
    ``diagnosis``: why not (None when ok), with a switch action when an alternative works.
    ``check``: the engine's own CheckResult (stages, TLS, capabilities).
    """

    ok: bool
    by: str
    diagnosis: Diagnosis | None
    check: Any  # CheckResult of the given settings
    second_opinion: SecondOpinion | None = None
    alternatives: tuple[Any, ...] = ()  # CheckResults of the alternatives tried
    notes: tuple[str, ...] = ()
    elapsed_ms: float = 0.0
    auth_verified: bool = False
    deadline_hit: bool = False  # the overall deadline cut the second opinion or an alternative short

    @property
    def settings(self) -> SmtpSettings:
        return self.check.settings

    @property
    def tls(self) -> Any:
        return self.check.tls

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(self.check.capabilities)

    @property
    def auth_mechanism(self) -> str | None:
        return self.check.auth_mechanism if self.by == "engine" else None

    @property
    def working_alternative(self) -> SmtpSettings | None:
        """The first alternative that works (as offered in the diagnosis), or None."""
        for alt in self.alternatives:
            if alt.ok:
                return alt.settings
        return None

    def to_dict(self) -> dict[str, Any]:
        working = self.working_alternative
        return {
            "ok": self.ok,
            "by": self.by or None,
            "code": self.diagnosis.code.value if self.diagnosis else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "settings": self.settings.summary(),
            "auth_verified": self.auth_verified,
            "check": self.check.to_dict(),
            "second_opinion": self.second_opinion.to_dict() if self.second_opinion else None,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "alternative": working.summary() if working is not None else None,
            "notes": list(self.notes),
            "deadline_hit": self.deadline_hit,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def decide(check: Any, opinion: SecondOpinion | None) -> tuple[bool, str, bool]:
    """(ok, by, auth_verified) from the engine's result and the second opinion. The only place this is decided."""
    if check.ok:
        return True, "engine", bool(check.auth_verified)
    if opinion is not None and opinion.ok and (opinion.login_verified or not opinion.login_wanted):
        return True, "second_client", opinion.login_verified
    return False, "", False


def _where(s: SmtpSettings) -> Text:
    if Security(s.security) is Security.NONE:
        return log_text(QT_TRANSLATE_NOOP("Log", "{port} with no encryption"), port=s.port)
    return log_text(
        QT_TRANSLATE_NOOP("Log", "{port} with {security}"), port=s.port, security=security_label(s.security)
    )


def _joined(items: list[Text]) -> Text:
    out = Text(())
    for i, item in enumerate(items):
        out = out + (", " if i else "") + item
    return out


def opinion_note(opinion: SecondOpinion) -> Text:
    """The second opinion as one sentence for the log and the result (the client's own words stay a value)."""
    if opinion.ok and (opinion.login_verified or not opinion.login_wanted):
        return log_text(
            QT_TRANSLATE_NOOP(
                "Log",
                "A second client ({client}) succeeded where the first failed ({detail}); "
                "the settings work, the first client had a problem.",
            ),
            client=opinion.client,
            detail=opinion.reason_text(),
        )
    if opinion.ok:
        return log_text(
            QT_TRANSLATE_NOOP(
                "Log", "A second client ({client}) connected but did not verify the login; the failure stands."
            ),
            client=opinion.client,
        )
    return log_text(
        QT_TRANSLATE_NOOP("Log", "Confirmed by a second client ({client}): {detail}."),
        client=opinion.client,
        detail=opinion.reason_text(),
    )


async def _gather_within(aws: list[Any], limit: float) -> tuple[list[Any], bool]:
    """Run ``aws`` at once; after ``limit`` seconds cancel the rest. (results or None, deadline hit)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    if not tasks:
        return [], False
    try:
        done, pending = await asyncio.wait(tasks, timeout=max(limit, 0.0))
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)  # sockets closed before the verdict
    results = [t.result() if t in done and not t.cancelled() and t.exception() is None else None for t in tasks]
    return results, bool(pending)


async def run_pipeline(
    settings: SmtpSettings,
    password: str | None,
    *,
    on_event: EventCallback = ignore,
    provider: Provider | None = None,
    alternatives: tuple[SmtpSettings, ...] | None = None,
) -> Verdict:
    """Check ``settings`` and return the one Verdict, all within ``settings.timeouts.total`` seconds.

    ``alternatives``: settings to try beside a non-definitive failure (default: ``alternatives_for``).
    """
    from app.core.smtp import run_check

    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    deadline = loop.time() + settings.timeouts.total
    first = await run_check(settings, password, on_event=on_event, provider=provider)
    if first.ok or is_definitive(first.diagnosis):
        ok, by, verified = decide(first, None)
        return Verdict(ok, by, first.diagnosis, first, elapsed_ms=_ms(t0), auth_verified=verified)

    alts = alternatives_for(settings, first.diagnosis) if alternatives is None else alternatives
    left = deadline - loop.time()
    if left < MIN_SECOND_OPINION:
        note = log_text(QT_TRANSLATE_NOOP("Log", "No time left within the overall timeout for a second opinion."))
        on_event(LogLine(LogLevel.INFO, note))
        return Verdict(False, "", first.diagnosis, first, notes=(str(note),), elapsed_ms=_ms(t0), deadline_hit=True)
    assert first.diagnosis is not None
    if alts:
        tried = _joined([_where(a) for a in alts])
        line = log_text(
            QT_TRANSLATE_NOOP("Log", "Not a definitive answer yet; asking a second client and trying {settings}."),
            settings=tried,
        )
    else:
        line = log_text(QT_TRANSLATE_NOOP("Log", "Not a definitive answer yet; asking a second client."))
    on_event(LogLine(LogLevel.INFO, line))
    bounded = replace(settings.timeouts, total=left)
    # the second client gets a hair less than the deadline, so it reports its own timeout instead of being cut
    jobs: list[Any] = [second_opinion(settings, password, limit=max(left - 0.05, 0.01), provider=provider)]
    jobs += [run_check(a.with_(timeouts=bounded), password, provider=provider) for a in alts]
    results, hit = await _gather_within(jobs, left)
    opinion: SecondOpinion | None = results[0]
    # reported with the settings as the user would use them (not the clipped timeouts they ran with)
    tried_alts = tuple(replace(r, settings=a) for r, a in zip(results[1:], alts) if r is not None)
    return _verdict(first, opinion, tried_alts, hit, t0, on_event)


def _verdict(
    first: Any, opinion: SecondOpinion | None, alts: tuple[Any, ...], hit: bool, t0: float, on_event: EventCallback
) -> Verdict:
    notes: list[Text] = []
    if opinion is not None:
        notes.append(opinion_note(opinion))
    else:
        notes.append(log_text(QT_TRANSLATE_NOOP("Log", "The second client had no result within the overall timeout.")))
    diagnosis = first.diagnosis
    working = next((a for a in alts if a.ok), None)
    for alt in alts:
        if alt.ok:
            notes.append(log_text(QT_TRANSLATE_NOOP("Log", "{settings} works: switch?"), settings=_where(alt.settings)))
        elif alt.diagnosis is not None:
            notes.append(
                log_text(
                    QT_TRANSLATE_NOOP("Log", "{settings} does not work either: {problem}."),
                    settings=_where(alt.settings),
                    problem=alt.diagnosis.title_text(),
                )
            )
        else:
            notes.append(
                log_text(
                    QT_TRANSLATE_NOOP("Log", "{settings} does not work either."),
                    settings=_where(alt.settings),
                )
            )
    diagnosis = drop_failed_switches(diagnosis, [a.settings for a in alts if not a.ok])
    if working is not None:
        diagnosis = offer_switch(diagnosis, working.settings)
    for n in notes:
        on_event(LogLine(LogLevel.INFO, n))
    ok, by, verified = decide(first, opinion)
    return Verdict(
        ok,
        by,
        None if ok else diagnosis,
        first,
        opinion,
        alts,
        tuple(str(n) for n in notes),
        _ms(t0),
        auth_verified=verified,
        deadline_hit=hit,
    )


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000, 1)


__all__ = [
    "CERTAIN",
    "RETRYABLE",
    "Verdict",
    "alternatives_for",
    "decide",
    "is_definitive",
    "opinion_note",
    "paired_alternative",
    "run_pipeline",
]
