"""Background tasks of a hub process, and stopping them without stranding a database connection."""

from __future__ import annotations

import asyncio
import contextlib


async def stop_gracefully(task: asyncio.Task[None] | None, grace: float = 5.0) -> None:
    """Wait for a task that was asked to stop; cancel it only if it takes longer than ``grace`` seconds.

    Cancelling in the middle of a database call can strand the driver's connection (aiosqlite's worker
    thread is gone once the engine is disposed, and shutdown then hangs), so a clean exit is preferred.
    """
    if task is None:
        return
    try:
        async with asyncio.timeout(grace):
            await asyncio.shield(task)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
