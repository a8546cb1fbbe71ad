"""Waiting for an event at most so long, in a way that a stop always interrupts.

`asyncio.wait_for` on Python 3.11 drops a cancellation that arrives just as
the future it waits for completes (CPython gh-86296; fixed in 3.12, where it
is `asyncio.timeout` underneath): the task carries on as if never cancelled,
and whatever awaits it to stop waits forever. A monitor under load sets its
"a check ended" event hundreds of times a second, so the race was won within
seconds of SIGTERM: the worker's monitor kept checking and the process did
not exit. `asyncio.timeout` re-raises the cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib


async def wait_at_most(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` pass; whether it is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()
