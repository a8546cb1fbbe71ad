"""Waits a stop always interrupts (switchboard/waiting.py)."""

from __future__ import annotations

import asyncio

import pytest

from switchboard.waiting import wait_at_most


async def test_a_cancellation_arriving_as_the_event_is_set_is_not_lost() -> None:
    """The race that kept a worker's monitor running after SIGTERM under load."""
    event = asyncio.Event()
    carried_on = False

    async def loop() -> None:
        nonlocal carried_on
        await wait_at_most(event, 10)
        carried_on = True

    task = asyncio.get_running_loop().create_task(loop())
    await asyncio.sleep(0)  # the task now waits for the event
    event.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not carried_on


async def test_it_answers_whether_the_event_was_set_within_the_time() -> None:
    event = asyncio.Event()
    assert await wait_at_most(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_at_most(event, 10) is True
