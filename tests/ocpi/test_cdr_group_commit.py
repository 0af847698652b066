"""Group commit of CDR POSTs (hub/ocpi/cdr_writer.py): concurrent POSTs share transactions, and every CDR is
still stored, queued and booked exactly once, duplicates and races included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select

from hub import outbox
from hub.keys import DB, OCPI
from hub.ledger.booking import party_of
from hub.ocpi import cdr_writer
from hub.store.models import Cdr, JournalEntry, OutboxItem
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually
from tests.ocpi.examples import cdr_of
from tests.ocpi.test_cdrs import stored


async def counts(hub: RunningHub) -> tuple[int, int, int]:
    async with hub.app[DB].session() as session:
        cdrs = (await session.execute(select(func.count()).select_from(Cdr))).scalar_one()
        entries = (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one()
        queued = (
            await session.execute(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "cdr")
            )
        ).scalar_one()
    return cdrs, entries, queued


async def test_concurrent_posts_share_commits_and_each_cdr_is_kept_once(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    writer = hub.app[OCPI].cdr_writer
    before = writer.batches
    ids = [f"G{n}" for n in range(40)] + ["G1", "G2", "G1"]  # three re-POSTs among them, at the same time
    answers = await asyncio.gather(
        *(cpo.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id=cdr_id)) for cdr_id in ids)
    )
    assert all(answer.status_code == 1000 for answer in answers)
    assert sorted(answer.status for answer in answers) == [200] * 3 + [201] * 40
    locations: dict[str, set[str]] = {}
    for cdr_id, answer in zip(ids, answers, strict=True):
        locations.setdefault(cdr_id, set()).add(answer.headers["Location"])
    assert all(len(found) == 1 for found in locations.values())  # a re-POST gets the first one's Location
    assert writer.batches - before < len(ids)  # grouped: fewer transactions than POSTs
    assert await counts(hub) == (40, 40, 40)  # stored, booked and queued once each
    await eventually(lambda: len(emsp.store.cdrs) == 40, timeout=10)
    assert all(count == 1 for count in emsp.store.cdr_posts.values())


async def test_a_cdr_stored_by_another_worker_mid_batch_does_not_lose_the_rest(
    hub: RunningHub, platform: PlatformFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    first = await cpo.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="RACE"))
    assert first.status == 201
    real = cdr_writer._stored
    blind = {"calls": 0}

    async def misses_the_first_time(session: Any, keys: Any) -> Any:
        # As if another worker committed RACE between this batch's look-up and its insert.
        blind["calls"] += 1
        return {} if blind["calls"] == 1 else await real(session, keys)

    monkeypatch.setattr(cdr_writer, "_stored", misses_the_first_time)
    answers = await asyncio.gather(
        *(
            cpo.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id=cdr_id))
            for cdr_id in ("RACE", "NEW1", "NEW2")
        )
    )
    assert [answer.status for answer in answers] == [200, 201, 201]  # the batch failed whole, then one by one
    assert answers[0].headers["Location"] == first.headers["Location"]
    assert sorted(row.cdr_id for row in await stored(hub)) == ["NEW1", "NEW2", "RACE"]
    assert await counts(hub) == (3, 3, 3)


async def test_a_batch_of_two_owners_finds_each_owners_stored_cdrs(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpa = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpb = await connected(hub, platform, ("BE", "CPB", "CPO"))
    firsts = [
        await cpa.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="SAME")),
        await cpb.post_cdr(cdr_of(("BE", "CPB"), ("DE", "EMA"), cdr_id="SAME")),
    ]
    assert [answer.status for answer in firsts] == [201, 201]  # one id, two owners: two CDRs
    answers = await asyncio.gather(
        cpa.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="SAME")),
        cpb.post_cdr(cdr_of(("BE", "CPB"), ("DE", "EMA"), cdr_id="SAME")),
        cpa.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="OTHER")),
    )
    assert [answer.status for answer in answers] == [200, 200, 201]
    assert [answer.headers["Location"] for answer in answers[:2]] == [
        answer.headers["Location"] for answer in firsts
    ]
    assert await counts(hub) == (3, 3, 3)


async def test_the_duplicate_look_up_walks_the_unique_index(hub: RunningHub) -> None:
    """SQLite scans the whole table for a row-value IN list: each batch would get slower with every CDR."""
    engine = hub.app[DB].engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the query plan checked is SQLite's")
    keys = {("NL", "CPA", "A"), ("NL", "CPA", "B"), ("BE", "CPB", "A")}
    sql = str(
        cdr_writer.stored_query(keys).compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    )
    async with engine.connect() as connection:
        plan = [str(row[-1]) for row in await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    assert not any(step.startswith("SCAN") for step in plan), plan
    assert any("USING INDEX" in step for step in plan), plan


async def test_a_batch_inserts_its_cdrs_in_one_statement_and_each_keeps_its_own_id(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    """One multi-row INSERT per batch (not one per CDR), and each row's id matched to it by its key: the
    same CDR ids from two CPOs in one batch must not swap their deliveries or ledger entries."""
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpa = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpb = await connected(hub, platform, ("BE", "CPB", "CPO"))
    inserts: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO cdr "):
            inserts.append(statement)

    engine = hub.app[DB].engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        answers = await asyncio.gather(
            *(
                cpo.post_cdr(cdr_of(owner, ("DE", "EMA"), cdr_id=f"S{n}"))
                for n in range(10)
                for cpo, owner in ((cpa, ("NL", "CPA")), (cpb, ("BE", "CPB")))
            )
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert [answer.status for answer in answers] == [201] * 20
    assert len(inserts) < 20  # CDRs shared statements
    async with hub.app[DB].session() as session:
        cdrs = {row.id: row for row in (await session.execute(select(Cdr))).scalars()}
        entries = list((await session.execute(select(JournalEntry))).scalars())
        queued = list((await session.execute(select(OutboxItem).where(OutboxItem.kind == "cdr"))).scalars())
    assert len(cdrs) == 20
    assert sorted(entry.source_cdr_fk for entry in entries) == sorted(cdrs)
    for entry in entries:  # booked against the CPO that sent that very CDR
        cdr = cdrs[entry.source_cdr_fk]
        assert entry.cpo == party_of(cdr.country_code, cdr.party_id)
    assert sorted(item.payload["cdr"] for item in queued) == sorted(cdrs)
    for item in queued:  # each delivery on its own CPO's line
        assert item.line == outbox.cdr_line(cdrs[item.payload["cdr"]])
