"""The dispatcher's claim, on both backends: its statement is built once with bound parameters, so these
check that what it binds on each claim (the time, the room, the partners at their bound) still decides
what is claimed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import timedelta

import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from hub import outbox
from hub.config import DatabaseSettings
from hub.store.db import Database
from hub.store.models import OutboxItem, Party
from hub.store.types import utcnow


async def parties(db: Database, count: int) -> list[int]:
    async with db.transaction() as session:
        rows = [Party(name=f"P{n}", protocol="ocpi") for n in range(count)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows if row.id is not None]


async def enqueue(db: Database, *items: tuple[int | None, str | None, str]) -> None:
    async with db.transaction() as session:
        for party, line, name in items:
            outbox.enqueue(session, "job", {"name": name}, party_fk=party, line=line)


async def rows(db: Database) -> dict[str, OutboxItem]:
    async with db.session() as session:
        found = (await session.execute(select(OutboxItem))).scalars()
        return {row.payload["name"]: row for row in found}


async def test_a_partner_at_its_bound_is_skipped_by_the_claim_and_the_others_go_on(db: Database) -> None:
    slow, fast = await parties(db, 2)
    release = asyncio.Event()
    done: list[str] = []

    async def handler(item: OutboxItem) -> None:
        if item.party_fk == slow:
            await release.wait()
        done.append(item.payload["name"])

    dispatcher = outbox.Dispatcher(db, {"job": handler}, per_partner=2, batch=2, poll_interval=0.05)
    await enqueue(db, (slow, None, "s1"), (slow, None, "s2"), (slow, None, "s3"), (fast, None, "f1"))
    await enqueue(db, (fast, None, "f2"), (None, None, "n1"))
    dispatcher.start()
    try:
        for _ in range(200):
            if {"f1", "f2", "n1"} <= set(done):
                break
            await asyncio.sleep(0.02)
        assert sorted(done) == ["f1", "f2", "n1"]  # s1 and s2 hold the slow partner's two places
        state = await rows(db)
        assert state["s3"].attempts == 0  # never claimed while its partner was at the bound
        assert state["s1"].attempts == state["s2"].attempts == 1
        release.set()
        for _ in range(200):
            if len(done) == 6:
                break
            await asyncio.sleep(0.02)
    finally:
        release.set()
        await dispatcher.stop()
    state = await rows(db)
    assert sorted(done) == ["f1", "f2", "n1", "s1", "s2", "s3"]
    assert all(row.delivered_at is not None for row in state.values())


async def test_the_claim_waits_behind_a_line_item_not_yet_due_and_respects_the_room(db: Database) -> None:
    (party,) = await parties(db, 1)
    await enqueue(db, (party, "L", "a"), (party, "L", "b"), (party, "M", "m1"), (party, "M", "m2"))
    async with db.transaction() as session:
        first = (await session.execute(select(OutboxItem).where(OutboxItem.line == "L"))).scalars().first()
        assert first is not None
        first.available_at = utcnow() + timedelta(hours=1)  # "a" is backing off: "b" must wait
    dispatcher = outbox.Dispatcher(db, {"job": lambda item: asyncio.sleep(0)})
    claimed = await dispatcher._claim(1)
    assert [item.payload["name"] for item in claimed] == ["m1"]  # the room of one, in id order
    claimed = await dispatcher._claim(10)
    assert [item.payload["name"] for item in claimed] == []  # m2 behind m1's lease, b behind a
    state = await rows(db)
    assert state["b"].attempts == 0 and state["m2"].attempts == 0


async def test_history_does_not_hide_due_items_from_the_claim(db: Database) -> None:
    (party,) = await parties(db, 1)
    await enqueue(db, *[(party, "L", f"old{n}") for n in range(300)])
    async with db.transaction() as session:
        for row in (await session.execute(select(OutboxItem))).scalars():
            row.delivered_at = utcnow()
    await enqueue(db, (party, "L", "new1"), (party, "L", "new2"))
    dispatcher = outbox.Dispatcher(db, {"job": lambda item: asyncio.sleep(0)})
    claimed = await dispatcher._claim(50)
    assert [item.payload["name"] for item in claimed] == ["new1", "new2"]


async def test_a_line_at_work_in_this_process_is_not_claimed_again_until_it_is_recorded(
    db: Database,
) -> None:
    (party,) = await parties(db, 1)
    release = asyncio.Event()
    done: list[str] = []

    async def handler(item: OutboxItem) -> None:
        if item.payload["name"] == "a1":
            await release.wait()
        done.append(item.payload["name"])

    dispatcher = outbox.Dispatcher(db, {"job": handler}, poll_interval=0.05)
    await enqueue(db, (party, "A", "a1"))
    assert await dispatcher.run_once() == 1
    await enqueue(db, (party, "A", "a2"), (party, "B", "b1"))
    assert [item.payload["name"] for item in await dispatcher._claim(10)] == ["b1"]  # a2 waits for a1
    release.set()
    await dispatcher.drain()  # a1 is recorded, and then a2, its line free again, is claimed and done
    assert done == ["a1", "a2"]
    state = await rows(db)
    assert state["a2"].attempts == 1 and state["a2"].delivered_at is not None
    assert state["b1"].delivered_at is None  # leased by the claim above, never worked: it waits its lease


async def test_a_prepared_kind_reads_once_per_batch_and_keeps_its_lines_order(db: Database) -> None:
    (party,) = await parties(db, 1)
    await enqueue(db, *[(party, "L", f"c{n}") for n in range(5)], (party, None, "solo"))
    batches: list[list[str]] = []
    worked: list[tuple[str, str]] = []

    async def prepare(items: list[OutboxItem]) -> outbox.Handler:
        names = [item.payload["name"] for item in items]
        batches.append(names)
        loaded = {name: name.upper() for name in names}  # what one read for the batch would give

        async def handler(item: OutboxItem) -> None:
            worked.append((item.payload["name"], loaded[item.payload["name"]]))

        return handler

    dispatcher = outbox.Dispatcher(db, {"job": lambda item: asyncio.sleep(0)}, prepare={"job": prepare})
    await dispatcher.drain()
    assert batches == [["c0", "c1", "c2", "c3", "c4", "solo"]]  # one read for the claimed batch
    assert [name for name, _ in worked if name != "solo"] == ["c0", "c1", "c2", "c3", "c4"]
    assert all(value == name.upper() for name, value in worked)
    assert all(row.delivered_at is not None for row in (await rows(db)).values())


async def test_a_failed_prepare_leaves_each_item_to_the_plain_handler(db: Database) -> None:
    (party,) = await parties(db, 1)
    await enqueue(db, (party, "L", "a"), (party, "L", "b"))
    worked: list[str] = []

    async def handler(item: OutboxItem) -> None:
        worked.append(item.payload["name"])

    async def broken(items: list[OutboxItem]) -> outbox.Handler:
        raise RuntimeError("database went away")

    dispatcher = outbox.Dispatcher(db, {"job": handler}, prepare={"job": broken})
    await dispatcher.drain()
    assert worked == ["a", "b"]
    assert all(row.delivered_at is not None for row in (await rows(db)).values())


async def test_a_wake_for_a_line_at_work_waits_for_that_work_to_end_and_nothing_more(db: Database) -> None:
    (party,) = await parties(db, 1)
    release = asyncio.Event()
    done: list[str] = []

    async def handler(item: OutboxItem) -> None:
        if item.payload["name"] == "a1":
            await release.wait()
        done.append(item.payload["name"])

    # A poll far beyond the test's patience: whatever is done here was done on a wake.
    dispatcher = outbox.Dispatcher(db, {"job": handler}, poll_interval=60)
    await enqueue(db, (party, "A", "a1"))
    dispatcher.start()
    try:
        await asyncio.wait_for(_until(lambda: dispatcher._lines == {"A": 1}), 5)
        await enqueue(db, (party, "A", "a2"))
        dispatcher.wake("A")  # its line is at work: no claim now, it could only find nothing
        assert not dispatcher._wake.is_set()
        await enqueue(db, (party, "B", "b1"))
        dispatcher.wake("B")  # another line: claimed and done at once, while a1 still waits
        await asyncio.wait_for(_until(lambda: done == ["b1"]), 5)
        release.set()  # a1's end wakes the dispatcher, and a2 follows it without waiting for the poll
        await asyncio.wait_for(_until(lambda: done == ["b1", "a1", "a2"]), 5)
    finally:
        release.set()
        await dispatcher.stop()


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():  # noqa: ASYNC110 - the dispatcher signals nothing a test could await
        await asyncio.sleep(0.01)


async def test_a_database_outage_is_logged_once_not_per_poll_and_the_work_goes_on_after_it(
    db: Database,
) -> None:
    if not db.url.startswith("sqlite"):
        pytest.skip("SQLite's whole-database lock makes every claim fail; the logging is backend-neutral")
    (party,) = await parties(db, 1)
    await enqueue(db, (party, None, "a"))
    impatient = Database(DatabaseSettings(url=db.url, busy_timeout=0.02))
    done: list[str] = []

    async def handler(item: OutboxItem) -> None:
        done.append(item.payload["name"])

    dispatcher = outbox.Dispatcher(impatient, {"job": handler}, poll_interval=0.02)
    other_process = sqlite3.connect(str(make_url(db.url).database), isolation_level=None)
    try:
        with capture_logs() as logs:
            other_process.execute("BEGIN EXCLUSIVE")  # a backup, say: every claim meets "database is locked"
            dispatcher.start()
            await asyncio.sleep(0.4)
            assert done == []
            other_process.execute("ROLLBACK")
            for _ in range(200):
                if done:
                    break
                await asyncio.sleep(0.02)
            await dispatcher.stop()
    finally:
        other_process.close()
        await impatient.close()
    assert done == ["a"]
    events = [entry["event"] for entry in logs if entry["event"].startswith("outbox.")]
    assert "outbox.cycle_failed" not in events  # no traceback per poll
    assert events.count("outbox.database_unavailable") == 1
    assert events.count("outbox.database_back") == 1
    back = next(entry for entry in logs if entry["event"] == "outbox.database_back")
    assert back["failed_cycles"] >= 3 and back["seconds"] >= 0.3
    unavailable = next(entry for entry in logs if entry["event"] == "outbox.database_unavailable")
    assert "locked" in unavailable["error"]


async def test_a_bug_in_a_cycle_is_logged_with_its_traceback_every_time() -> None:
    from hub.background import LoopLog

    with capture_logs() as logs:
        loop_log = LoopLog(structlog.get_logger("test"), "job")
        for _ in range(2):
            with loop_log.cycle():
                raise KeyError("a bug")
        with loop_log.cycle():
            pass
    assert [(entry["event"], entry.get("exc_info")) for entry in logs] == [("job.cycle_failed", True)] * 2
