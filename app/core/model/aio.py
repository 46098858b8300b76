"""``wait_for`` that never swallows a cancellation.

On Python before 3.12, ``asyncio.wait_for`` returns the inner result (or raises the inner exception) when
its task is cancelled just as the awaited operation finishes (CPython gh-86296). In the engine that race
let a cancelled check go on, e.g. a Stop in "Check all" while an AUTH answer arrived: the check carried on
to a second opinion instead of ending with the verdict. Every bounded wait in app.core goes through this.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

# asyncio is imported where it is used: app.core.model is imported at the wizard's start, asyncio is not needed
# before the first check (~15 ms of start-up).

T = TypeVar("T")


def _raise_if_cancelling() -> None:
    import asyncio

    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)  # Python 3.11+
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """``asyncio.wait_for(aw, timeout)``, but a pending cancellation of the calling task always wins."""
    import asyncio

    try:
        result = await asyncio.wait_for(aw, timeout)
    except BaseException:
        _raise_if_cancelling()
        raise
    _raise_if_cancelling()
    return result
