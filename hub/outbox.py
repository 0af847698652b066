"""The durable outbox: work committed together with the change that caused it, done by a background worker.

Every hub process runs one :class:`Dispatcher`. It claims due items (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers never share an item; SQLite has a single writer anyway), hands each to the handler
registered for its kind, and records the outcome: delivered, retried later with back-off, or dead.

Items may belong to a *line* (a CDR owner's CDRs to one eMSP): a line is delivered strictly in the order it
was enqueued. Its items go one after another, never two at once; when one fails, the rest of the line waits
behind it for its back-off (one request per back-off to a partner that is down, never a flood), and is
claimed again, in order, when it succeeds or is given up as dead.

A kind may register a *prepare* step: given a claimed batch's items of that kind, it reads what they need
in one go and returns the handler that works them from it (CDR delivery reads its CDRs this way).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Executable, Integer, Select, and_, bindparam, exists, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from hub.background import LoopLog, stop_gracefully
from hub.store.db import Database, is_sqlite
from hub.store.models import Cdr, OutboxItem
from hub.store.types import UTCDateTime, utcnow

log = structlog.get_logger("hub.outbox")

CLIENT_INFO = "clientinfo"


@dataclass(frozen=True)
class Finish:
    """What a handler leaves to be written with the item's "delivered" mark, in the same transaction (the
    state of what was delivered), so a delivery costs the database no transaction of its own.

    A statement built once and its parameters, not a callback: the finishes of a recorded batch that
    share a statement run as one executemany. Building and running an UPDATE per delivered CDR was most
    of the transaction that records a delivered batch.
    """

    statement: Executable
    params: Mapping[str, Any]


Handler = Callable[[OutboxItem], Awaitable[Finish | None]]
DeadHandler = Callable[[OutboxItem], Awaitable[None]]
# Optional per kind: reads what a claimed batch's items need in one go and returns the handler that works
# them from it (a line's CDRs are delivered one after another, and a read per item doubled each step).
Prepare = Callable[[list[OutboxItem]], Awaitable[Handler]]

# Not tried because an earlier item of its line failed: its attempt is not counted against it.
_SKIPPED = "\x00skipped"
# Claims take this PostgreSQL advisory lock, so one worker's claim sees the leases of the one before it:
# without it, two workers could each take a different part of one line at the same time.
_CLAIM_LOCK = 0x726F616D68756201


class Retry(Exception):
    """Raised by a handler: the item could not be done now; try again after back-off."""


def enqueue(
    session: AsyncSession,
    kind: str,
    payload: Mapping[str, Any],
    *,
    party_fk: int | None = None,
    available_at: datetime | None = None,
    line: str | None = None,
) -> OutboxItem:
    """Add work to the caller's transaction: it exists exactly when the change that caused it commits."""
    item = OutboxItem(
        kind=kind, payload=dict(payload), party_fk=party_fk, available_at=available_at or utcnow(), line=line
    )
    session.add(item)
    return item


async def enqueue_all(
    session: AsyncSession, kind: str, work: Sequence[tuple[Mapping[str, Any], int | None, str | None]]
) -> None:
    """:func:`enqueue` for a batch, as (payload, party_fk, line), inserted in their order in one statement.

    For the CDR group commit: the ORM's unit of work cost more than the insert itself, on the event loop.
    """
    if not work:
        return
    now = utcnow()
    rows = [
        {"kind": kind, "payload": dict(payload), "party_fk": party_fk, "line": line, "available_at": now}
        for payload, party_fk, line in work
    ]
    await session.execute(_OUTBOX_INSERT, rows)


_OUTBOX_INSERT = insert(OutboxItem.__table__)  # type: ignore[attr-defined]


def cdr_line(cdr: Cdr) -> str:
    """The line of a CDR's delivery: its owner's CDRs reach one eMSP in the order the hub accepted them."""
    return f"cdr:{cdr.country_code}/{cdr.party_id}>{cdr.emsp_party_fk}"


Outcome = tuple[OutboxItem, str | None, Finish | None]  # the item, why it failed (None: done), and finish


async def _rows(session: AsyncSession, ids: list[int | None]) -> dict[int | None, OutboxItem]:
    """The items' rows, in one query."""
    query = select(OutboxItem).where(col(OutboxItem.id).in_([i for i in ids if i is not None]))
    return {row.id: row for row in (await session.execute(query)).scalars()}


def backoff(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> timedelta:
    """Exponential back-off: 1 s, 2 s, 4 s ... capped, so a partner that is down is never hammered."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _claim_query(kinds: list[str]) -> Select[OutboxItem]:
    """Due items of ``kinds`` in id order, none behind an undone item of its line that is not due.

    Built once per dispatcher with bound parameters (``now``, ``limit``, the ``lines`` this process is
    working on and the ``saturated`` partners whose items are skipped): the claim runs on every wake, and
    constructing the expression anew each time cost more than the query itself.
    """
    now = bindparam("now", type_=UTCDateTime())
    earlier = aliased(OutboxItem)
    waiting = exists().where(  # an earlier item of the line is undone and not due: wait behind it
        col(earlier.line) == col(OutboxItem.line),
        col(earlier.id) < col(OutboxItem.id),
        col(earlier.delivered_at).is_(None),
        col(earlier.dead_at).is_(None),
        col(earlier.available_at) > now,
    )
    return (
        select(OutboxItem)
        .where(col(OutboxItem.delivered_at).is_(None), col(OutboxItem.dead_at).is_(None))
        .where(col(OutboxItem.available_at) <= now)
        .where(col(OutboxItem.kind).in_(kinds))
        # Lines this process is working on are skipped outright: their next item would wait anyway, and
        # checking that through ``waiting`` for each item of a long backlog cost more than the rest.
        .where(
            or_(
                col(OutboxItem.line).is_(None),
                and_(col(OutboxItem.line).not_in(bindparam("lines", expanding=True)), ~waiting),
            )
        )
        .where(
            or_(
                col(OutboxItem.party_fk).is_(None),
                col(OutboxItem.party_fk).not_in(bindparam("saturated", type_=Integer(), expanding=True)),
            )
        )
        .order_by(col(OutboxItem.id))
        .limit(bindparam("limit", type_=Integer()))
        .with_for_update(skip_locked=True)
    )


def _count(counts: dict[Any, int], keys: list[Any], step: int) -> None:
    """Items in flight per key (partner, line): a key leaves the dict when its count drops to zero."""
    for key in keys:
        counts[key] = counts.get(key, 0) + step
        if counts[key] <= 0:
            del counts[key]


class Dispatcher:
    """Claims due items under a lease, works them outside any transaction, records the outcome.

    Claiming sets ``available_at`` a lease into the future and commits at once, so no transaction is held
    open across a partner's network call (SQLite would refuse the late write of a stale snapshot). A worker
    that dies mid-item leaves the lease to expire and another worker retries it: delivery is at least once.

    A claimed batch is split by partner and each partner's share runs on its own, so a partner that answers
    slowly (or only at the timeout) holds up nobody else; at most ``per_partner`` of its items are in
    flight, and the claim skips a partner at that bound (its items wait in the table, not on a lease).
    """

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        *,
        on_dead: Mapping[str, DeadHandler] | None = None,
        prepare: Mapping[str, Prepare] | None = None,
        poll_interval: float = 0.5,
        batch: int = 50,
        max_attempts: int = 15,
        backoff_base: float = 1.0,
        lease: float = 30.0,
        per_partner: int = 64,
        max_in_flight: int = 512,
    ) -> None:
        self._db = db
        self._handlers = dict(handlers)
        self._on_dead = dict(on_dead or {})
        self._prepare = dict(prepare or {})
        self._poll = poll_interval
        self._batch = batch
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._lease = timedelta(seconds=lease)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # SQLite has no SKIP LOCKED: one claim at a time per process keeps items from being done twice.
        self._claiming = asyncio.Lock()
        self._postgres = not is_sqlite(db.url)
        self._in_flight = 0
        self._per_partner = per_partner
        self._max_in_flight = max_in_flight
        self._busy: dict[int | None, int] = {}  # items in flight per partner
        self._lines: dict[str, int] = {}  # items in flight per line
        self._groups: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._claim_query = _claim_query(list(self._handlers))
        self._loop_log = LoopLog(log, "outbox")

    def wake(self, line: str | None = None) -> None:
        """Something was just enqueued in this process (on ``line``, if given): do not wait for the poll.

        An item on a line this process is working on could not be claimed now anyway: the line's work
        wakes the dispatcher when it ends. Claiming for it regardless walked the line's whole backlog on
        every CDR accepted, about a tenth of a loaded hub's time, to find nothing.
        """
        if line is not None and line in self._lines:
            return
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Finish the batch under way, then stop."""
        self._stopping = True
        self._wake.set()
        await stop_gracefully(self._task)
        if self._groups:
            await asyncio.gather(*list(self._groups), return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the claim, not after: a wake that comes while the claim runs (a line's work
            # ending, say) is then not lost, and the next claim follows at once rather than at the poll.
            self._wake.clear()
            done = 0
            with self._loop_log.cycle():
                done = await self.run_once()
            if done < self._batch and not self._stopping:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation (bpo-42130).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await self._wake.wait()

    async def run_once(self) -> int:
        """Claim one batch of due items and start working it, a task per partner; returns how many."""
        room = min(self._batch, self._max_in_flight - self._in_flight)
        items = await self._claim(room) if room > 0 else []
        groups: dict[int | None, list[OutboxItem]] = {}
        for item in items:
            groups.setdefault(item.party_fk, []).append(item)
        for party, group in groups.items():
            self._in_flight += len(group)
            _count(self._busy, [party] * len(group), +1)
            _count(self._lines, [item.line for item in group if item.line is not None], +1)
            task = asyncio.create_task(self._work_group(party, group))
            self._groups.add(task)
            task.add_done_callback(self._groups.discard)
        return len(items)

    async def _work_group(self, party: int | None, items: list[OutboxItem]) -> None:
        try:
            chains: dict[object, list[OutboxItem]] = {}
            for item in items:  # claimed in id order, so each line's chain is in order
                chains.setdefault(item.line if item.line is not None else object(), []).append(item)
            handlers = await self._handlers_for(items)
            done = await asyncio.gather(*(self._work_chain(chain, handlers) for chain in chains.values()))
            await self._record([outcome for chain in done for outcome in chain])
        except Exception:
            log.exception("outbox.record_failed", party=party)  # the leases expire: tried again later
        finally:
            self._in_flight -= len(items)
            _count(self._busy, [party] * len(items), -1)
            _count(self._lines, [item.line for item in items if item.line is not None], -1)
            self._wake.set()

    async def _handlers_for(self, items: list[OutboxItem]) -> dict[str, Handler]:
        """The handler of each kind in ``items``: prepared for them where the kind has a ``prepare``."""
        handlers = dict(self._handlers)
        for kind in {item.kind for item in items} & self._prepare.keys():
            try:
                handlers[kind] = await self._prepare[kind]([item for item in items if item.kind == kind])
            except Exception:  # the items are still worked, each reading its own
                log.exception("outbox.prepare_failed", kind=kind)
        return handlers

    async def _work_chain(self, chain: list[OutboxItem], handlers: Mapping[str, Handler]) -> list[Outcome]:
        """One item, or one line's items one after another; after a failure the rest are not tried."""
        outcomes: list[Outcome] = []
        failed = False
        for item in chain:
            error, finish = (_SKIPPED, None) if failed else await self._work(item, handlers[item.kind])
            failed = failed or error is not None
            outcomes.append((item, error, finish))
        return outcomes

    async def drain(self) -> None:
        """Work until nothing is due and nothing is in flight in this process (tests, shutdown, demo)."""
        # Polling: the batch in flight belongs to the background task, which signals nothing we could await.
        while await self.run_once() or self._in_flight:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def _claim(self, limit: int) -> list[OutboxItem]:
        async with self._claiming, self._db.transaction() as session:
            if self._postgres:
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CLAIM_LOCK})
            now = utcnow()
            saturated = [p for p, n in self._busy.items() if p is not None and n >= self._per_partner]
            params = {"now": now, "limit": limit, "lines": list(self._lines), "saturated": saturated}
            items = list((await session.execute(self._claim_query, params)).scalars())
            for item in items:
                item.available_at = now + self._lease
                item.attempts += 1
        return items

    async def _work(self, item: OutboxItem, handler: Handler) -> tuple[str | None, Finish | None]:
        """(None, what to write with the mark) when done, else (the reason it must be tried again, None)."""
        try:
            finish = await handler(item)
        except Retry as exc:
            return str(exc) or "retry", None
        except Exception as exc:
            log.exception("outbox.handler_failed", item=item.id, kind=item.kind)
            return f"{type(exc).__name__}: {exc}", None
        return None, finish

    async def _record(self, outcomes: list[Outcome]) -> None:
        dead: list[OutboxItem] = []
        resume: dict[str, datetime] = {}  # when the rest of a line whose item failed is tried again
        finishes: dict[Executable, list[Mapping[str, Any]]] = {}
        async with self._db.transaction() as session:
            rows = await _rows(session, [item.id for item, _, _ in outcomes])
            for item, error, finish in outcomes:
                row = rows.get(item.id)
                if row is None:
                    continue
                if error is None:
                    row.delivered_at = utcnow()
                    if finish is not None:
                        finishes.setdefault(finish.statement, []).append(finish.params)
                    continue
                if error == _SKIPPED:
                    row.attempts -= 1
                    row.available_at = resume.get(row.line or "", utcnow())
                    continue
                row.last_error = error[:2000]
                if row.attempts >= self._max_attempts:
                    row.dead_at = utcnow()
                    dead.append(row)
                    log.error(
                        "outbox.dead", item=row.id, kind=row.kind, attempts=row.attempts, error=row.last_error
                    )
                else:
                    row.available_at = utcnow() + backoff(row.attempts, base=self._backoff_base)
                    log.info(
                        "outbox.retry_later", item=row.id, kind=row.kind, attempts=row.attempts, error=error
                    )
                if row.line is not None:  # the rest of the line goes on after the retry, or now if dead
                    resume[row.line] = utcnow() if row.dead_at is not None else row.available_at
                    await self._hold_line(session, row)
            for statement, params in finishes.items():
                await session.execute(statement, params)
        for row in dead:
            handler = self._on_dead.get(row.kind)
            if handler is not None:
                await handler(row)

    @staticmethod
    async def _hold_line(session: AsyncSession, failed: OutboxItem) -> None:
        """Move the rest of a failed item's line behind its retry, so no poll scans it before then."""
        if failed.dead_at is not None:
            return
        await session.execute(
            update(OutboxItem)
            .where(
                col(OutboxItem.line) == failed.line,
                col(OutboxItem.id) > failed.id,
                col(OutboxItem.delivered_at).is_(None),
                col(OutboxItem.dead_at).is_(None),
                col(OutboxItem.available_at) < failed.available_at,
            )
            .values(available_at=failed.available_at)
        )
