"""The ledger's tables: writing entries exactly once, reading postings and fees back as sums.

Amounts are integers in units of 10⁻⁴ here and :class:`Money` everywhere else (DESIGN.md "Money").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.ledger.journal import FeeRule, PairSums, Posting
from hub.store.models import Cdr, JournalEntry, JournalPosting, LedgerFee
from hub.store.rows import new_row
from schemas.canonical.money import UNITS_PER_MAJOR, Money


def units(amount: Decimal) -> int:
    return Money.of(amount, "XXX").to_units()


def major(units_: int) -> Decimal:
    return Decimal(units_) / UNITS_PER_MAJOR


_ENTRY = JournalEntry.__table__  # type: ignore[attr-defined]
# The table's, built once per dialect: the ORM's bulk insert returning entities, built anew for each batch,
# cost about 3 % of the hub's CPU per CDR; the entries are made from the inserted values instead.
_ENTRIES_INSERT = {
    dialect.dialect.name: dialect.insert(_ENTRY)
    .on_conflict_do_nothing(index_elements=["source_cdr_fk"])
    .returning(_ENTRY.c.id, _ENTRY.c.source_cdr_fk)
    for dialect in (postgresql, sqlite)
}


async def entry_for_cdr(session: AsyncSession, cdr_fk: int) -> JournalEntry | None:
    query = select(JournalEntry).where(col(JournalEntry.source_cdr_fk) == cdr_fk)
    return (await session.execute(query)).scalar_one_or_none()


async def insert_entries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[int, JournalEntry]:
    """Insert entries, one statement, skipping any whose source CDR already has one; the new ones by CDR.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: the caller's transaction stays usable (no
    savepoint needed), and on PostgreSQL a concurrent worker booking the same CDR waits for the first one
    to commit and then does nothing.
    """
    if not rows:
        return {}
    # The rows as the statement's parameters, not in its VALUES: the statement then compiles once and
    # stays in SQLAlchemy's cache, where a VALUES list of each batch's length was compiled anew each time.
    statement = _ENTRIES_INSERT[session.get_bind().dialect.name]
    inserted = (await session.execute(statement, list(rows))).all()
    by_cdr = {row["source_cdr_fk"]: row for row in rows}
    return {cdr_fk: new_row(JournalEntry, **by_cdr[cdr_fk], id=entry_fk) for entry_fk, cdr_fk in inserted}


# The table's, not the entity's: the ORM's bulk insert, which nothing here needs, cost as much as the
# statement (a CDR batch books a few postings per CDR).
_POSTINGS_INSERT = insert(JournalPosting.__table__)  # type: ignore[attr-defined]


async def insert_postings(
    session: AsyncSession, entries: Sequence[tuple[int | None, Sequence[Posting]]]
) -> None:
    """All postings of the given entries, in one statement (each entry's postings in order)."""
    rows = [
        {
            "entry_fk": entry_fk,
            "party": p.party,
            "counterparty": p.counterparty,
            "kind": p.kind.value,
            "currency": p.money.currency,
            "amount": p.money.to_units(),
        }
        for entry_fk, postings in entries
        for p in postings
    ]
    if rows:
        await session.execute(_POSTINGS_INSERT, rows)


async def postings_of(session: AsyncSession, entry_fk: int) -> list[JournalPosting]:
    query = select(JournalPosting).where(col(JournalPosting.entry_fk) == entry_fk)
    return list((await session.execute(query.order_by(col(JournalPosting.id)))).scalars())


async def cdr_by_reference(session: AsyncSession, cdr: Cdr) -> Cdr | None:
    """The CDR a credit CDR refers to: same CPO, ``credit_reference_id`` as its id (CiString)."""
    if not cdr.credit_reference_id:
        return None
    query = select(Cdr).where(
        col(Cdr.country_code) == cdr.country_code,
        col(Cdr.party_id) == cdr.party_id,
        col(Cdr.cdr_key) == cdr.credit_reference_id.upper(),
    )
    return (await session.execute(query)).scalar_one_or_none()


# --- sums ---------------------------------------------------------------------------------------------


async def pair_sums(
    session: AsyncSession,
    *,
    as_of: datetime | None = None,
    period_fk: int | None = None,
    currency: str | None = None,
) -> PairSums:
    """Sum of postings per (party, counterparty, currency), for entries booked up to ``as_of``."""
    conditions: list[ColumnElement[bool]] = []
    if as_of is not None:
        conditions.append(col(JournalEntry.booked_at) <= as_of)
    if period_fk is not None:
        conditions.append(col(JournalEntry.period_fk) == period_fk)
    if currency is not None:
        conditions.append(col(JournalPosting.currency) == currency)
    keys = (col(JournalPosting.party), col(JournalPosting.counterparty), col(JournalPosting.currency))
    query = (
        select(*keys, func.sum(col(JournalPosting.amount)))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_fk))
        .where(*conditions)
        .group_by(*keys)
    )
    rows = (await session.execute(query)).all()
    return {(party, other, cur): major(int(total)) for party, other, cur, total in rows}


# --- fees ---------------------------------------------------------------------------------------------


async def fee_rules(session: AsyncSession, parties: Iterable[str], currency: str) -> dict[str, FeeRule]:
    query = select(LedgerFee).where(
        col(LedgerFee.party).in_(list(parties)), col(LedgerFee.currency) == currency
    )
    return {
        row.party: FeeRule(fixed=major(row.fixed_units), percent=major(row.percent_units))
        for row in (await session.execute(query)).scalars()
    }


def group_postings(rows: Iterable[JournalPosting]) -> dict[int, list[JournalPosting]]:
    grouped: dict[int, list[JournalPosting]] = defaultdict(list)
    for row in rows:
        grouped[row.entry_fk].append(row)
    return grouped
