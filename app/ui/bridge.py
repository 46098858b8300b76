"""Run the asyncio engine off the GUI thread and re-emit its events as Qt signals.

One ``EngineBridge`` owns a ``QThread`` whose ``run()`` drives its own asyncio
event loop (no qasync). Widgets submit work and get a ``Job`` back: the engine's
``on_event`` callback runs on the loop thread and emits ``Job.event``; Qt queues
the emission to the GUI thread because the receivers live there. Widgets are
only ever touched from the GUI thread.

The pattern follows OnionShare's Tor connection thread: core callbacks become
signals of a thread-affine QObject instead of calling widgets directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

if TYPE_CHECKING:  # asyncio is imported on first use: it is not needed to show the first page
    import asyncio

log = logging.getLogger(__name__)

CoroFactory = Callable[[Callable[[Any], None]], Awaitable[Any]]


class Job(QObject):
    """One unit of work on the engine loop.

    Exactly one of ``finished(result)``, ``failed(exception)`` or ``cancelled()``
    is emitted, then ``done()``. ``event(obj)`` carries engine progress events.
    """

    event = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    def __init__(self, bridge: EngineBridge, name: str):
        super().__init__(bridge)
        self.name = name
        self._bridge = bridge
        self._task: asyncio.Task | None = None
        self._cancel_requested = False
        self.running = True
        self.done.connect(self._mark_done)

    def cancel(self) -> None:
        """Ask the engine to stop this job; ``cancelled`` follows (or a result that won the race)."""
        self._cancel_requested = True
        loop = self._bridge.loop
        if loop is not None and self._task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._task.cancel)

    def _mark_done(self) -> None:
        self.running = False
        self._bridge._forget(self)

    # called on the loop thread
    def _emit_event(self, event: Any) -> None:
        try:
            self.event.emit(event)
        except RuntimeError:  # the QObject is gone (window closed): drop the event
            pass


class _LoopThread(QThread):
    """A QThread whose run() owns one asyncio loop until stop()."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("engine_loop")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.executor = None
        self.serial_executor = None

    def run(self) -> None:
        import asyncio
        import concurrent.futures

        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="mailsetup-io")
        # keyring backends are not known to be thread-safe: their calls run one at a time
        self.serial_executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="mailsetup-keyring"
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_default_executor(self.executor)
        self.loop = loop
        self.ready.set()
        try:
            loop.run_forever()
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            # Blocking helpers (keyring, DNS) cannot be interrupted; never wait for them here.
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.serial_executor.shutdown(wait=False, cancel_futures=True)
            loop.close()


class EngineBridge(QObject):
    """Owns the engine thread; ``submit`` coroutines, ``run_blocking`` sync calls, ``shutdown`` at the end."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: _LoopThread | None = None
        self._jobs: set[Job] = set()
        self._closed = False  # after shutdown() no job starts (a late timer must not revive the thread)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._thread.loop if self._thread else None

    def start(self) -> None:
        """Start the loop thread (idempotent); returns once the loop exists. Never after shutdown()."""
        if self._closed or (self._thread is not None and self._thread.isRunning()):
            return
        self._thread = _LoopThread()
        self._thread.start()
        self._thread.ready.wait(5)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def active_jobs(self) -> list[Job]:
        return [j for j in self._jobs if j.running]

    def submit(self, factory: CoroFactory, name: str = "job") -> Job:
        """Run ``await factory(on_event)`` on the loop; ``on_event`` re-emits as ``Job.event``.

        The job starts on the next turn of the GUI event loop, so connect its signals right
        after this call returns.
        """
        self.start()
        job = Job(self, name)
        loop = self.loop
        if self._closed or loop is None:
            job.running = False  # the window is closing: nothing runs any more
            return job
        self._jobs.add(job)

        import asyncio

        body_ran = False

        async def runner() -> None:
            nonlocal body_ran
            body_ran = True
            try:
                result = await factory(job._emit_event)
            except asyncio.CancelledError:
                self._safe_emit(job.cancelled)
            except BaseException as exc:
                log.debug("job %s failed", name, exc_info=True)
                if job._cancel_requested:
                    self._safe_emit(job.cancelled)
                else:
                    self._safe_emit(job.failed, exc)
            else:
                self._safe_emit(job.finished, result)
            finally:
                self._safe_emit(job.done)

        def never_ran(_task: asyncio.Task) -> None:
            # A task cancelled before its first step never enters runner(): its try/finally cannot say
            # "cancelled" and "done", so the job would look running for ever (a Cancel pressed at once).
            if not body_ran:
                self._safe_emit(job.cancelled)
                self._safe_emit(job.done)

        def create() -> None:
            job._task = loop.create_task(runner(), name=name)
            job._task.add_done_callback(never_ran)
            if job._cancel_requested:
                job._task.cancel()

        def start() -> None:
            # Runs on the GUI thread once the caller has connected its slots: a job that
            # finishes at once can never emit into a signal nobody listens to yet.
            if loop.is_closed() or self._thread is None or self._closed:
                job.running = False
                self._forget(job)
                return
            loop.call_soon_threadsafe(create)

        QTimer.singleShot(0, job, start)
        return job

    def run_blocking(
        self, fn: Callable[..., Any], *args: Any, name: str = "blocking", serial: bool = False, **kwargs: Any
    ) -> Job:
        """Run a blocking callable in the bridge's worker threads (profile files, servers).

        ``serial=True`` (keyring calls) runs it on the one-at-a-time lane.
        """
        self.start()
        thread = self._thread

        async def call(_on_event: Callable[[Any], None]) -> Any:
            import asyncio

            loop = asyncio.get_running_loop()
            executor = thread.serial_executor if serial and thread is not None else None
            return await loop.run_in_executor(executor, lambda: fn(*args, **kwargs))

        return self.submit(call, name=name)

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel every job, stop the loop and join the thread. True when the thread ended."""
        self._closed = True
        thread = self._thread
        if thread is None:
            return True
        loop = thread.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass
        ended = thread.wait(timeout_ms)
        if not ended:  # pragma: no cover - a coroutine ignoring cancellation
            log.warning("engine thread did not stop within %d ms", timeout_ms)
            thread.terminate()
            thread.wait()
        self._thread = None
        for job in list(self._jobs):
            job.running = False
        self._jobs.clear()
        return ended

    def _forget(self, job: Job) -> None:
        self._jobs.discard(job)

    @staticmethod
    def _safe_emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:
            pass
