"""Check many saved accounts at once: a bounded, deadline-bound, cancellable run over the AccountStore.

``check_fleet`` loads every saved profile (secrets from the keyring through the one AccountStore), runs
each through the one pipeline (``app.core.detect.run_pipeline``, as ``profiles check`` does) with at most
``parallel`` checks at a time, and hands each ``FleetResult`` to ``on_result`` as it completes. A profile
whose secret is missing or whose entry is corrupt is a failed result with its reason, never a crash or a
skip. One overall ``deadline`` covers everything: each check gets only the time left, and when it passes
(or the run is cancelled, e.g. Ctrl+C) whatever still runs is cancelled and awaited, so no socket and no
task outlives the call; profiles that did not finish are reported as failed ("not checked in time").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.detect import Verdict, run_pipeline
from app.core.diagnosis import Diagnosis
from app.core.fleet.saved import SavedProblem, prepare_saved
from app.core.model import QT_TRANSLATE_NOOP, Text
from app.core.store import AccountStore, ProfileStoreError

DEFAULT_PARALLEL = 16  # 30 slow mailboxes finish in ~2x one check (bench_bulk); 8 took ~4x
MAX_PARALLEL = 64
DEFAULT_DEADLINE = 300.0  # seconds for the whole run
CONTEXT = "Fleet"


def validate_parallel(value: Any) -> int:
    """``value`` as a concurrency bound (1..64); ValueError with a plain message otherwise."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number from 1 to {MAX_PARALLEL}") from None
    if not 1 <= n <= MAX_PARALLEL or str(value).strip() not in (str(n), f"+{n}"):
        raise ValueError(f"must be a whole number from 1 to {MAX_PARALLEL}")
    return n


@dataclass(frozen=True)
class FleetResult:
    """One profile's outcome. ``code`` is the diagnosis code or a store/run code (``secret_missing``,
    ``profile_corrupt``, ``deadline`` ...); ``title`` and ``fix`` are translatable, never hold a secret."""

    profile: str
    ok: bool
    code: str | None
    title: Text | None
    fix: tuple[Text | str, ...] = ()
    elapsed_ms: float = 0.0
    verdict: Verdict | None = field(default=None, repr=False, compare=False)
    diagnosis: Diagnosis | None = field(default=None, repr=False, compare=False)  # one without a verdict

    @property
    def the_diagnosis(self) -> Diagnosis | None:
        return self.verdict.diagnosis if self.verdict is not None else self.diagnosis

    def render(self, translate: Callable[[str, str], str] | None = None) -> tuple[str, list[str]]:
        """(title, fixes) in the UI language (English without ``translate``)."""
        diagnosis = self.the_diagnosis
        if diagnosis is not None:
            tr1 = (lambda s: translate("Diagnosis", s)) if translate else (lambda s: s)
            title, _explanation, fixes = diagnosis.render(tr1)
            return title, fixes
        title_s = self.title.render(translate) if self.title is not None else ""
        fixes = [f.render(translate) if isinstance(f, Text) else f for f in self.fix]
        return title_s, fixes

    def to_dict(self) -> dict[str, Any]:
        title, fixes = self.render()
        data: dict[str, Any] = {
            "profile": self.profile,
            "ok": self.ok,
            "code": self.code,
            "title": title or None,
            "fix": fixes,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if self.verdict is not None:
            data["by"] = self.verdict.by or None
            data["settings"] = self.verdict.settings.summary()
            data["auth_verified"] = self.verdict.auth_verified
        return data


@dataclass(frozen=True)
class FleetSummary:
    ok: int
    failed: int
    elapsed_ms: float
    deadline_hit: bool = False

    @property
    def all_ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "failed": self.failed, "elapsed_ms": round(self.elapsed_ms, 1)}


def _t(template: str, **params: Any) -> Text:
    return Text.of(CONTEXT, template, **params)


def _failed(name: str, code: str, title: Text, *fix: Text | str, t0: float) -> FleetResult:
    return FleetResult(name, False, code, title, tuple(fix), (time.monotonic() - t0) * 1000)


async def check_profile(accounts: AccountStore, name: str, *, limit: float | None = None) -> FleetResult:
    """Check one saved account with its stored secret through run_pipeline, within ``limit`` seconds."""
    t0 = time.monotonic()
    prepared = await prepare_saved(accounts, name, limit=limit)
    if isinstance(prepared, SavedProblem):
        fix = tuple(f for f in (prepared.why, *prepared.fix) if f)
        elapsed = (time.monotonic() - t0) * 1000
        return FleetResult(name, False, prepared.code, prepared.title, fix, elapsed, diagnosis=prepared.diagnosis)
    try:
        verdict = await run_pipeline(prepared.settings, prepared.password, provider=prepared.provider)
    finally:
        prepared.close()
    code = verdict.diagnosis.code.value if verdict.diagnosis is not None else None
    return FleetResult(name, verdict.ok, code, None, (), (time.monotonic() - t0) * 1000, verdict)


def _not_in_time(name: str, deadline: float) -> FleetResult:
    title = _t(QT_TRANSLATE_NOOP("Fleet", "Not checked in time"))
    fix = _t(
        QT_TRANSLATE_NOOP(
            "Fleet", "The overall deadline of {seconds} s passed first; allow more time or more parallel checks."
        ),
        seconds=round(deadline),
    )
    return FleetResult(name, False, "deadline", title, (fix,), deadline * 1000)


def _corrupt(name: str, why: str) -> FleetResult:
    title = _t(QT_TRANSLATE_NOOP("Fleet", "Saved entry cannot be read"))
    fix = _t(QT_TRANSLATE_NOOP("Fleet", "Delete the profile and add it again."))
    return FleetResult(name, False, "profile_corrupt", title, (why, fix), 0.0)


async def _cancel_all(tasks: Sequence[asyncio.Future]) -> None:
    """Cancel every task and wait until all have ended (every bounded wait in the engine lets a
    cancellation win: app.core.model.wait_for)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def check_fleet(
    on_result: Callable[[FleetResult], None],
    *,
    accounts: AccountStore | None = None,
    names: Iterable[str] | None = None,
    parallel: int = DEFAULT_PARALLEL,
    deadline: float = DEFAULT_DEADLINE,
) -> FleetSummary:
    """Check every saved account (or ``names``), at most ``parallel`` at a time, within ``deadline`` seconds.

    ``on_result`` gets each profile's FleetResult as it completes (exactly one per profile). Cancelling the
    call cancels every running check and waits for them before it propagates; nothing is reported after."""
    parallel = validate_parallel(parallel)
    accounts = accounts if accounts is not None else AccountStore()
    loop = asyncio.get_running_loop()
    t0, end = time.monotonic(), loop.time() + deadline
    counts = {"ok": 0, "failed": 0}

    closing = False  # once the run ends, a check that still returns is not reported (it was cut short)

    def deliver(result: FleetResult) -> None:
        if closing:
            return
        counts["ok" if result.ok else "failed"] += 1
        on_result(result)

    try:
        wanted = [p.name for p in accounts.list()] if names is None else list(names)
        problems = accounts.problems()
    except ProfileStoreError as exc:  # the file itself cannot be read: one failed result, not a crash
        deliver(_corrupt(str(accounts.path), exc.message))
        return FleetSummary(counts["ok"], counts["failed"], (time.monotonic() - t0) * 1000)
    if names is None:
        for bad, why in problems.items():
            deliver(_corrupt(bad, why))
    gate = asyncio.Semaphore(parallel)
    pending: set[str] = set(wanted)

    async def one(name: str) -> None:
        async with gate:
            try:
                result = await check_profile(accounts, name, limit=end - loop.time())
            except (OSError, ValueError, RuntimeError) as exc:  # a failed result with its reason, not a lost profile
                title = _t(QT_TRANSLATE_NOOP("Fleet", "The check could not run"))
                result = FleetResult(name, False, "check_error", title, (type(exc).__name__,), 0.0)
        pending.discard(name)
        deliver(result)

    tasks = [asyncio.ensure_future(one(n)) for n in dict.fromkeys(wanted)]
    hit = False
    try:
        done, _ = await asyncio.wait(tasks, timeout=max(end - loop.time(), 0)) if tasks else (set(), set())
        hit = len(done) < len(tasks)
    finally:
        closing = True
        await _cancel_all(tasks)
        closing = False
    for name in sorted(pending):
        deliver(_not_in_time(name, deadline))  # exactly one result per profile
    return FleetSummary(counts["ok"], counts["failed"], (time.monotonic() - t0) * 1000, hit)
