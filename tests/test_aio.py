"""A cancellation that arrives just as a bounded wait finishes must end the task (CPython gh-86296)."""

from __future__ import annotations

import asyncio

import pytest

from app.core.model import wait_for


async def _race(bounded) -> asyncio.Task:
    loop = asyncio.get_running_loop()
    inner: asyncio.Future[int] = loop.create_future()
    task = asyncio.ensure_future(bounded(inner, 10))
    await asyncio.sleep(0)  # one turn of the loop: the task now waits on ``inner``
    inner.set_result(1)  # the answer arrives ...
    task.cancel()  # ... in the same turn as the user's Stop
    return task


async def test_plain_wait_for_swallows_the_race_on_this_python():
    task = await _race(asyncio.wait_for)
    try:
        result = await task
    except asyncio.CancelledError:
        pytest.skip("this Python's asyncio.wait_for already lets the cancellation win")
    assert result == 1  # the reason app.core.model.wait_for exists


async def test_our_wait_for_lets_the_cancellation_win():
    task = await _race(wait_for)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_our_wait_for_still_times_out_and_returns():
    loop = asyncio.get_running_loop()
    never: asyncio.Future[int] = loop.create_future()
    with pytest.raises(asyncio.TimeoutError):
        await wait_for(never, 0.01)
    done: asyncio.Future[int] = loop.create_future()
    done.set_result(7)
    assert await wait_for(done, 1) == 7
