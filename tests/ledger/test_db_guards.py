"""The database itself refuses what the ledger must never hold (migration 0005), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.config import Settings
from hub.ledger import periods
from hub.store.db import Database
from tests.ledger.support import Parties, make_cdr, store_and_book

Two = tuple[Parties, str, str]
WHEN = datetime(2026, 10, 3, tzinfo=UTC)
_INSERT_ENTRY = """
    INSERT INTO ledger_entry (period_fk, kind, cpo, emsp, session_date, booked_at, posting_count)
    VALUES (:p, 'cdr', 'NL-AAA', 'DE-BBB', :t, :t, :n) RETURNING id
"""


async def _booked(db: Database, settings: Settings, two: Two) -> int:
    who, cpo, emsp = two
    entry = await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="5", incl="6", end=WHEN))
    assert entry is not None and entry.id is not None
    return entry.id


async def _open_period(db: Database) -> int:
    async with db.transaction() as session:
        period = await periods.lock_period(session, periods.span_of(WHEN, "monthly"), exclusive=False)
    assert period.id is not None
    return period.id


async def _raw_entry(db: Database, period_fk: int, amounts: list[int], count: int | None = None) -> None:
    """An entry written by hand, bypassing the code's check: the database must judge it alone."""
    async with db.transaction() as session:
        entry_fk = (
            await session.execute(
                text(_INSERT_ENTRY),
                {"p": period_fk, "t": WHEN.replace(tzinfo=None), "n": count or len(amounts)},
            )
        ).scalar_one()
        for amount in amounts:
            await session.execute(
                text(
                    "INSERT INTO ledger_posting (entry_fk, party, counterparty, kind, currency, amount)"
                    " VALUES (:e, 'NL-AAA', 'DE-BBB', 'cost', 'EUR', :a)"
                ),
                {"e": entry_fk, "a": amount},
            )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_entry SET note = 'edited'",
        "DELETE FROM ledger_entry",
    ],
)
async def test_entries_and_postings_are_append_only(
    db: Database, settings: Settings, two: Two, statement: str
) -> None:
    await _booked(db, settings, two)
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text(statement))


async def test_an_unbalanced_entry_is_refused(db: Database) -> None:
    period_fk = await _open_period(db)
    await _raw_entry(db, period_fk, [500, -500])  # balanced: accepted
    with pytest.raises(DBAPIError, match="unbalanced"):
        await _raw_entry(db, period_fk, [500, -499])


async def test_postings_cannot_be_added_to_a_complete_entry(
    db: Database, settings: Settings, two: Two
) -> None:
    entry_fk = await _booked(db, settings, two)
    with pytest.raises(DBAPIError):
        await _more_postings(db, entry_fk, [100, -100])  # balanced, but the entry has all its postings


async def _more_postings(db: Database, entry_fk: int, amounts: list[int]) -> None:
    async with db.transaction() as session:
        for amount in amounts:
            await session.execute(
                text(
                    "INSERT INTO ledger_posting (entry_fk, party, counterparty, kind, currency, amount)"
                    " VALUES (:e, 'NL-AAA', 'DE-BBB', 'cost', 'EUR', :a)"
                ),
                {"e": entry_fk, "a": amount},
            )


@pytest.mark.postgres
async def test_postgres_refuses_an_entry_missing_postings(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no deferred triggers: an incomplete entry is the code's to prevent")
    period_fk = await _open_period(db)
    with pytest.raises(DBAPIError, match="postings"):
        await _raw_entry(db, period_fk, [700, -700], count=4)


async def test_a_closed_period_refuses_entries_and_changes(db: Database) -> None:
    period_fk = await _open_period(db)
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE ledger_period SET status = 'closed' WHERE id = :p"), {"p": period_fk}
        )
    with pytest.raises(DBAPIError, match="closed"):
        await _raw_entry(db, period_fk, [1, -1])
    for statement in ("UPDATE ledger_period SET status = 'open'", "DELETE FROM ledger_period"):
        with pytest.raises(DBAPIError, match="closed"):
            async with db.transaction() as session:
                await session.execute(text(statement))
