"""The engine bridge: a QThread with its own asyncio loop; events arrive as Qt signals on the GUI thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from app.ui.bridge import EngineBridge


@pytest.fixture
def bridge(qtbot):
    b = EngineBridge()
    yield b
    b.shutdown()


def test_events_and_result_arrive_on_gui_thread(qtbot, bridge):
    seen: list[tuple[object, bool]] = []
    gui = threading.current_thread()

    async def work(on_event):
        assert threading.current_thread() is not gui
        for i in range(3):
            on_event(i)
            await asyncio.sleep(0)
        return "done"

    job = bridge.submit(work)
    job.event.connect(lambda e: seen.append((e, threading.current_thread() is gui)))
    with qtbot.waitSignal(job.finished, timeout=3000) as blocker:
        pass
    assert blocker.args == ["done"]
    qtbot.waitUntil(lambda: not job.running)
    assert seen == [(0, True), (1, True), (2, True)]


def test_instant_job_never_loses_its_result(qtbot, bridge):
    """Slots connected right after submit() always see the outcome, however fast the job is."""
    results = []
    for n in range(20):
        job = bridge.run_blocking(lambda n=n: n * 2)
        job.finished.connect(results.append)
    qtbot.waitUntil(lambda: len(results) == 20, timeout=5000)
    assert sorted(results) == [n * 2 for n in range(20)]


def test_failure_and_cancel(qtbot, bridge):
    async def boom(_on_event):
        raise ValueError("bad input")

    job = bridge.submit(boom)
    with qtbot.waitSignal(job.failed, timeout=3000) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError)

    started = threading.Event()

    async def forever(_on_event):
        started.set()
        await asyncio.Event().wait()

    job = bridge.submit(forever)
    qtbot.waitUntil(started.is_set, timeout=3000)
    with qtbot.waitSignals([job.cancelled, job.done], timeout=3000):
        job.cancel()
    assert not job.running


@pytest.mark.parametrize("when", ["before it starts", "as it is created"])
def test_a_job_cancelled_before_its_first_step_still_says_cancelled_and_done(qtbot, bridge, when):
    entered = []

    async def work(_on_event):
        entered.append(True)
        return "ran"

    job = bridge.submit(work)
    seen: list[str] = []
    job.finished.connect(lambda _r: seen.append("finished"))
    job.cancelled.connect(lambda: seen.append("cancelled"))
    job.done.connect(lambda: seen.append("done"))
    if when == "before it starts":
        job.cancel()  # the task does not exist yet: it is cancelled as it is created
    else:
        qtbot.waitUntil(lambda: job._task is not None)  # created on the loop, its first step still queued
        bridge.loop.call_soon_threadsafe(job._task.cancel)
    qtbot.waitUntil(lambda: not job.running, timeout=3000)
    if entered:  # the loop ran the first step before the cancel arrived: a result is a fair answer
        assert seen in (["finished", "done"], ["cancelled", "done"])
    else:
        assert seen == ["cancelled", "done"]


def test_shutdown_with_running_job_stops_thread(qtbot):
    b = EngineBridge()
    started = threading.Event()

    async def forever(_on_event):
        started.set()
        await asyncio.sleep(3600)

    b.submit(forever)
    qtbot.waitUntil(started.is_set, timeout=3000)
    thread = b._thread
    assert b.shutdown(timeout_ms=3000) is True
    assert not thread.isRunning() and b._thread is None


def test_no_job_starts_after_shutdown(qtbot):
    b = EngineBridge()
    b.start()
    assert b.shutdown() is True
    job = b.run_blocking(lambda: 1)
    assert not job.running and not b.is_running() and b._thread is None


def test_late_mx_timer_after_close_does_not_revive_the_engine(qtbot):
    from tests.fixtures.ui import make_wizard

    w = make_wizard(qtbot)
    w.provider_page.email.setText("someone@unknown-domain.test")  # arms the debounced MX lookup
    w.model.dirty = False  # closing must not stop to ask here
    w.close()
    assert not w.provider_page._mx_timer.isActive()
    w.provider_page._start_mx_lookup()  # as if the timer had fired anyway
    assert not w.bridge.is_running() and w.bridge._thread is None
