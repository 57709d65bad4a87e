"""Background steps end before a stop takes effect, unless the stop insists."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from app.kit.stopping import step, stop


async def test_a_cancellation_waits_for_the_step_under_way_then_takes_effect() -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def work() -> None:
        await release.wait()
        finished.append("work")

    async def loop() -> None:
        await step(work())
        finished.append("after the step")

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.01)
    assert not task.done()
    release.set()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["work"]


async def test_a_second_cancellation_interrupts_the_step() -> None:
    interrupted = asyncio.Event()

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            interrupted.set()
            raise

    task = asyncio.create_task(step(work()))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert interrupted.is_set()


async def test_a_step_that_fails_fails_its_caller_when_nothing_stops_it() -> None:
    async def work() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await step(work())


async def test_stop_lets_quick_steps_end_and_interrupts_slow_ones_after_the_grace() -> None:
    ended: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        ended.append("quick")

    async def slow() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            ended.append("slow interrupted")

    async def periodically(work: Callable[[], Awaitable[None]]) -> None:
        while True:
            await step(work())
            await asyncio.sleep(60)

    tasks = [asyncio.create_task(periodically(quick)), asyncio.create_task(periodically(slow))]
    await asyncio.sleep(0)

    await stop(tasks, grace_seconds=0.2)

    assert sorted(ended) == ["quick", "slow interrupted"]
    assert all(task.cancelled() for task in tasks)
