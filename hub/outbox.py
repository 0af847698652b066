"""The durable outbox: work committed together with the change that caused it, done by a background worker.

Every hub process runs one :class:`Dispatcher`. It claims due items (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers never share an item; SQLite has a single writer anyway), hands each to the handler
registered for its kind, and records the outcome: delivered, retried later with back-off, or dead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.store.db import Database
from hub.store.models import OutboxItem
from hub.store.types import utcnow

log = structlog.get_logger("hub.outbox")

CLIENT_INFO = "clientinfo"

Handler = Callable[[OutboxItem], Awaitable[None]]


class Retry(Exception):
    """Raised by a handler: the item could not be done now; try again after back-off."""


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any],
    *,
    party_fk: int | None = None,
    available_at: datetime | None = None,
) -> OutboxItem:
    """Add work to the caller's transaction: it exists exactly when the change that caused it commits."""
    item = OutboxItem(
        kind=kind, payload=dict(payload), party_fk=party_fk, available_at=available_at or utcnow()
    )
    session.add(item)
    return item


def backoff(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> timedelta:
    """Exponential back-off: 1 s, 2 s, 4 s ... capped, so a partner that is down is never hammered."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


class Dispatcher:
    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        poll_interval: float = 0.5,
        batch: int = 50,
        max_attempts: int = 12,
    ) -> None:
        self._db = db
        self._handlers = dict(handlers)
        self._poll = poll_interval
        self._batch = batch
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # SQLite has no SKIP LOCKED: one batch at a time per process keeps items from being done twice.
        self._claiming = asyncio.Lock()

    def wake(self) -> None:
        """Something was just enqueued in this process: do not wait for the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("outbox.cycle_failed")
                done = 0
            if done < self._batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll)

    async def run_once(self) -> int:
        """Claim and work one batch of due items; returns how many were claimed."""
        async with self._claiming, self._db.transaction() as session:
            query = (
                select(OutboxItem)
                .where(col(OutboxItem.delivered_at).is_(None), col(OutboxItem.dead_at).is_(None))
                .where(col(OutboxItem.available_at) <= utcnow())
                .where(col(OutboxItem.kind).in_(list(self._handlers)))
                .order_by(col(OutboxItem.id))
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
            items = list((await session.execute(query)).scalars())
            await asyncio.gather(*(self._work(item) for item in items))
        return len(items)

    async def _work(self, item: OutboxItem) -> None:
        item.attempts += 1
        try:
            await self._handlers[item.kind](item)
        except Retry as exc:
            self._later(item, str(exc))
        except Exception as exc:
            log.exception("outbox.handler_failed", item=item.id, kind=item.kind)
            self._later(item, f"{type(exc).__name__}: {exc}")
        else:
            item.delivered_at = utcnow()

    def _later(self, item: OutboxItem, error: str) -> None:
        item.last_error = error[:2000]
        if item.attempts >= self._max_attempts:
            item.dead_at = utcnow()
            log.error(
                "outbox.dead", item=item.id, kind=item.kind, attempts=item.attempts, error=item.last_error
            )
        else:
            item.available_at = utcnow() + backoff(item.attempts)
            log.info("outbox.retry_later", item=item.id, kind=item.kind, attempts=item.attempts)
