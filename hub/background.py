"""Background tasks of a hub process, and stopping them without stranding a database connection."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError


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


class LoopLog:
    """How a background loop reports a failed cycle: a bug with its traceback every time; the database
    being unavailable (locked, full, restarting: an OperationalError) once as a warning when the outage
    begins and once when a cycle succeeds again, however many polls fail in between. A traceback per
    poll through a database restart buried everything else in the log and said nothing new.

    Each cycle runs under :meth:`cycle`, which reports how it ended and keeps an ``Exception`` from
    ending the loop (a cancellation still goes through).
    """

    def __init__(self, logger: Any, loop: str) -> None:
        self._log = logger
        self._loop = loop  # the events are <loop>.cycle_failed, .database_unavailable, .database_back
        self._outage_since: float | None = None
        self._failed_cycles = 0

    @contextlib.contextmanager
    def cycle(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            self._failed(exc)
        else:
            self._succeeded()

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, OperationalError | InterfaceError):
            self._log.exception(f"{self._loop}.cycle_failed")  # called in the except block: its traceback
            return
        self._failed_cycles += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            error = str(exc.orig if exc.orig is not None else exc)[:200]
            self._log.warning(f"{self._loop}.database_unavailable", error=error)

    def _succeeded(self) -> None:
        if self._outage_since is None:
            return
        self._log.warning(
            f"{self._loop}.database_back",
            seconds=round(time.monotonic() - self._outage_since, 1),
            failed_cycles=self._failed_cycles,
        )
        self._outage_since, self._failed_cycles = None, 0
