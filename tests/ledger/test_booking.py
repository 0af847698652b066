"""Booking CDRs: one balanced entry per CDR, fees, credits, unpriced CDRs and catching up, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from hub.config import Settings
from hub.ledger import balances, booking, fees, store
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry, JournalPosting
from schemas.canonical.money import Money
from tests.ledger.support import Parties, book_again, make_cdr, store_and_book
from tests.ledger.support import store as store_only

Two = tuple[Parties, str, str]


async def _postings(db: Database, entry_fk: int) -> set[tuple[str, str, str, str, int]]:
    async with db.session() as session:
        rows = await store.postings_of(session, entry_fk)
    return {(r.party, r.counterparty, r.kind, r.currency, r.amount) for r in rows}


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one())


async def test_a_cdr_becomes_one_balanced_entry(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    entry = await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="12.5", incl="15.125"))
    assert entry is not None and entry.id is not None
    assert (entry.kind, entry.cpo, entry.emsp, entry.posting_count) == ("cdr", cpo, emsp, 4)
    assert await _postings(db, entry.id) == {
        (cpo, emsp, "cost", "EUR", 125_000),
        (emsp, cpo, "cost", "EUR", -125_000),
        (cpo, emsp, "vat", "EUR", 26_250),
        (emsp, cpo, "vat", "EUR", -26_250),
    }


async def test_without_incl_vat_no_vat_is_booked(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    entry = await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="3", currency="USD"))
    assert entry is not None and entry.id is not None
    assert {kind for _, _, kind, _, _ in await _postings(db, entry.id)} == {"cost"}


async def test_booking_twice_returns_the_first_entry(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    cdr = make_cdr(who, cpo, emsp, excl="1")
    first = await store_and_book(db, settings, cdr)
    again = await book_again(db, settings, cdr)
    assert first is not None and again is not None and again.id == first.id
    assert await _count(db) == 1


async def test_a_batch_books_only_the_cdrs_not_booked_yet(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    first = await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="1"))
    assert first is not None and first.source_cdr_fk is not None
    for size in (3, 5):  # batches of different lengths share one statement: each still books right
        fresh = [await store_only(db, make_cdr(who, cpo, emsp, excl=str(n + 2))) for n in range(size)]
        async with db.transaction() as session:
            again = await session.get(Cdr, first.source_cdr_fk)
            assert again is not None
            entries = await booking.book_new_cdrs(session, [again, *fresh], settings)
        assert set(entries) == {cdr.id for cdr in fresh}
        assert all(entry.source_cdr_fk == cdr_fk and entry.id for cdr_fk, entry in entries.items())
    assert await _count(db) == 1 + 3 + 5


async def test_fees_are_booked_in_the_same_entry(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    await fees.set_fee(db, fees.FeeSet(party=cpo, currency="EUR", fixed=Decimal("0.05")))
    await fees.set_fee(
        db, fees.FeeSet(party=emsp, currency="EUR", fixed=Decimal("0.1"), percent=Decimal("1.5"))
    )
    await fees.set_fee(db, fees.FeeSet(party=emsp, currency="USD", fixed=Decimal("9")))  # other currency
    entry = await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="10.0333"))
    assert entry is not None and entry.id is not None
    fee_legs = {p for p in await _postings(db, entry.id) if p[2] == "fee"}
    # 10.0333 * 1.5 % = 0.1504995 -> 0.1505 (half-up), plus the fixed 0.1
    assert fee_legs == {
        ("NL-HUB", cpo, "fee", "EUR", 500),
        (cpo, "NL-HUB", "fee", "EUR", -500),
        ("NL-HUB", emsp, "fee", "EUR", 2505),
        (emsp, "NL-HUB", "fee", "EUR", -2505),
    }
    result = await balances.balances(db)
    positions = {(p.party, p.position.currency): p.position for p in result.positions}
    assert positions["NL-HUB", "EUR"] == Money.of("0.3005", "EUR")
    assert positions[cpo, "EUR"] == Money.of("9.9833", "EUR")
    assert positions[emsp, "EUR"] == Money.of("-10.2838", "EUR")


async def test_a_credit_reverses_its_original(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    await fees.set_fee(
        db, fees.FeeSet(party=emsp, currency="EUR", fixed=Decimal("0.25"), percent=Decimal("2"))
    )
    original = await store_and_book(
        db, settings, make_cdr(who, cpo, emsp, excl="8", incl="9.6", cdr_id="C-1")
    )
    credit_cdr = make_cdr(
        who, cpo, emsp, excl="-8", incl="-9.6", credit=True, reference="c-1", cdr_id="C-1-C"
    )
    credit = await store_and_book(db, settings, credit_cdr)
    assert original is not None and credit is not None and original.id and credit.id
    assert (credit.kind, credit.reverses_entry_fk, credit.note) == ("credit", original.id, None)
    mirrored = {(a, b, k, c, -x) for a, b, k, c, x in await _postings(db, original.id)}
    assert await _postings(db, credit.id) == mirrored
    assert all(p.position.amount == 0 for p in (await balances.balances(db)).positions)


async def test_a_credit_with_positive_totals_is_still_a_refund(
    db: Database, settings: Settings, two: Two
) -> None:
    who, cpo, emsp = two
    credit = await store_and_book(
        db, settings, make_cdr(who, cpo, emsp, excl="5", credit=True, reference="X")
    )
    assert credit is not None and credit.id is not None
    assert (cpo, emsp, "cost", "EUR", -50_000) in await _postings(db, credit.id)


async def test_a_credit_for_an_unknown_cdr_is_booked_unlinked(
    db: Database, settings: Settings, two: Two
) -> None:
    who, cpo, emsp = two
    credit = await store_and_book(
        db, settings, make_cdr(who, cpo, emsp, excl="-2", credit=True, reference="NOPE")
    )
    assert credit is not None
    assert credit.reverses_entry_fk is None
    assert credit.note is not None and "NOPE" in credit.note


async def test_an_unpriced_cdr_waits_and_book_unbooked_catches_up(
    db: Database, settings: Settings, two: Two
) -> None:
    who, cpo, emsp = two
    unpriced = make_cdr(who, cpo, emsp, excl=None, protocol="oicp")
    assert await store_and_book(db, settings, unpriced) is None
    assert await _count(db) == 0
    # CDRs stored before the ledger existed: booked by the catch-up, once.
    for amount in ("1", "2", "3"):
        await store_only(db, make_cdr(who, cpo, emsp, excl=amount))
    assert await booking.book_unbooked(db, settings) == 3
    assert await booking.book_pending(db, settings) == 0
    assert await _count(db) == 3


async def test_a_posting_sum_per_entry_is_zero(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    for amount, currency in (("1.2345", "EUR"), ("7", "USD"), ("0", "EUR")):
        await store_and_book(
            db, settings, make_cdr(who, cpo, emsp, excl=amount, incl=amount, currency=currency)
        )
    keys = (col(JournalPosting.entry_fk), col(JournalPosting.currency))
    query = select(*keys, func.sum(col(JournalPosting.amount))).group_by(*keys)
    async with db.session() as session:
        sums = (await session.execute(query)).all()
    assert len(sums) == 3 and all(total == 0 for _, _, total in sums)


@pytest.mark.postgres
async def test_concurrent_workers_book_a_cdr_once(db: Database, settings: Settings, two: Two) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race is PostgreSQL's")
    who, cpo, emsp = two
    cdr = await store_only(db, make_cdr(who, cpo, emsp, excl="4", end=datetime(2026, 9, 1, tzinfo=UTC)))
    entries = await asyncio.gather(*(book_again(db, settings, cdr) for _ in range(4)))
    assert len({e.id for e in entries if e is not None}) == 1
    assert await _count(db) == 1
