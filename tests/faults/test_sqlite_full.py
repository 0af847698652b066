"""SQLite's disk full: a clear server error, nothing half-stored, everything acknowledged kept (#8).

The database may not grow (``PRAGMA max_page_count`` at its current size, set on every connection): SQLite
then fails a write exactly as on a full disk, with SQLITE_FULL ("database or disk is full"). That is the
condition the hub has to survive, reproduced without a tiny file system of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.keys import DB
from hub.store.models import JournalEntry
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import cdr_of
from tests.ocpi.test_cdrs import stored


@contextmanager
def no_room_to_grow(engine: AsyncEngine, pages: int) -> Iterator[None]:
    def cap(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={pages}")
        cursor.close()

    event.listen(engine.sync_engine, "connect", cap)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "connect", cap)


async def test_a_full_disk_is_503_and_nothing_acknowledged_is_lost(
    hub: RunningHub, platform: PlatformFactory, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's file on a full disk; PostgreSQL's own disk is the server's to manage")
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    db = hub.app[DB]
    async with db.session() as session:
        pages = (await (await session.connection()).exec_driver_sql("PRAGMA page_count")).scalar_one()
    acked: list[str] = []
    refused: list[tuple[str, int, int | None, str]] = []
    with no_room_to_grow(db.engine, pages):
        await db.engine.dispose()  # every connection from now on is capped
        for number in range(400):
            cdr_id = f"FULL{number}"
            answer = await cpo.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id=cdr_id))
            if answer.status_code == 1000:
                acked.append(cdr_id)
                continue
            refused.append((cdr_id, answer.status, answer.status_code, answer.body["status_message"]))
            if len(refused) == 3:
                break
        rows_while_full = {row.cdr_id for row in await stored(hub)}
    await db.engine.dispose()  # room again: new connections are not capped

    assert refused, "the database never filled up"
    assert all(status == 503 and code == 3000 for _, status, code, _ in refused)
    assert all("nothing was stored" in message for *_, message in refused)
    assert rows_while_full == set(acked)  # every acknowledged CDR kept, no refused one half-written
    for cdr_id, *_ in refused:  # the CPO sends the refused ones again once there is room
        answer = await cpo.post_cdr(cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id=cdr_id))
        assert answer.status_code == 1000, answer.body
    await hub.settle()
    rows = await stored(hub)
    async with db.session() as session:
        entries = (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one()
    expected = set(acked) | {cdr_id for cdr_id, *_ in refused}
    with capsys.disabled():
        print(
            f"\ndisk full (SQLite max_page_count={pages}): acknowledged {len(acked)}, refused "
            f"{len(refused)} with HTTP 503/OCPI 3000, re-sent and acknowledged {len(refused)}; "
            f"stored {len(rows)}, delivered {len(emsp.store.cdrs)}, booked {entries}"
        )
    assert {row.cdr_id for row in rows} == expected and len(rows) == len(expected)
    assert {key[2] for key in emsp.store.cdrs} == expected
    assert all(count == 1 for count in emsp.store.cdr_posts.values())
    assert entries == len(expected)  # each CDR booked once, the refused ones only when they were stored
