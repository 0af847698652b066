"""Booking CDRs: every CDR the hub accepted becomes exactly one balanced journal entry.

:func:`book_cdr` runs inside the caller's transaction (hub/ocpi/cdrs.py books as it stores the CDR, so
both commit together or neither does). :func:`book_unbooked` catches up on CDRs stored before the ledger
existed or not yet priced. Both are safe to repeat and to run in several workers at once: the entry table
is unique on its source CDR.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.config import Settings
from hub.ledger import journal, periods, store
from hub.ledger.journal import CdrPrice
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry, LedgerPeriod
from hub.store.types import utcnow
from schemas.canonical.money import Money

log = structlog.get_logger("hub.ledger")

CDR, CREDIT = "cdr", "credit"
_BATCH = 200


def party_of(country_code: str, party_id: str) -> str:
    return f"{country_code.upper()}-{party_id.upper()}"


# --- prices --------------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    # The OCPI wire has at most 4 decimals (DESIGN.md "Money"); a sender's extra digits are rounded half-up.
    return journal.round_money(amount) if amount.is_finite() else None


def _ocpi_price(body: dict[str, Any], currency: str) -> CdrPrice | None:
    total = body.get("total_cost")
    excl = _decimal(total.get("excl_vat")) if isinstance(total, dict) else None
    if excl is None:
        return None
    assert isinstance(total, dict)
    # OCPI 2.2.1 Price: incl_vat is optional; without it the CDR states no VAT, so VAT is booked as 0.
    incl = _decimal(total.get("incl_vat"))
    vat = incl - excl if incl is not None else Decimal(0)
    return CdrPrice(cost=Money.of(excl, currency), vat=Money.of(vat, currency))


# Price readers per protocol. An OICP CDR carries no price: the hub prices it from the CPO's pricing
# products and keeps the OCPI form in ``body`` (hub/oicp/cdrs.py); unpriced, it is held and not booked.
_PRICE_READERS: dict[str, Callable[[dict[str, Any], str], CdrPrice | None]] = {
    "ocpi": _ocpi_price,
    "oicp": _ocpi_price,
}


def price_of(cdr: Cdr) -> CdrPrice | None:
    """The CDR's price from its stored body; None when it has none (yet)."""
    reader = _PRICE_READERS.get(cdr.protocol)
    try:
        body = json.loads(cdr.body, parse_float=Decimal)  # never float (STYLE.md 7)
    except ValueError:
        return None
    if reader is None or not isinstance(body, dict):
        return None
    price = reader(body, cdr.currency)
    return _as_credit(price) if price is not None and cdr.credit else price


def _as_credit(price: CdrPrice) -> CdrPrice:
    """A credit CDR carries negated totals (mod_cdrs "Credit CDRs"); a sender that forgot to negate them
    still means a credit, so its amounts are booked as refunds whatever their sign."""
    return CdrPrice(cost=_refund(price.cost), vat=_refund(price.vat))


def _refund(money: Money) -> Money:
    return Money.of(-abs(money.amount), money.currency)


# --- booking -------------------------------------------------------------------------------------------


async def _reversal(session: AsyncSession, cdr: Cdr) -> tuple[int | None, str | None]:
    """The entry a credit CDR reverses, or a note saying why it is not linked."""
    original = await store.cdr_by_reference(session, cdr)
    if original is None or original.id is None:
        return None, f"credit for CDR {cdr.credit_reference_id}, which the hub does not know"
    entry = await store.entry_for_cdr(session, original.id)
    if entry is None:
        return None, f"credit for CDR {cdr.credit_reference_id}, which is not booked (not priced)"
    return entry.id, None


def _entry_values(cdr: Cdr, period_fk: int, count: int) -> dict[str, Any]:
    return {
        "source_cdr_fk": cdr.id,
        "period_fk": period_fk,
        "kind": CREDIT if cdr.credit else CDR,
        "cpo": party_of(cdr.country_code, cdr.party_id),
        "emsp": party_of(cdr.emsp_country_code, cdr.emsp_party_id),
        "session_date": cdr.end_date_time,
        "booked_at": utcnow(),
        "posting_count": count,
    }


async def book_cdr(session: AsyncSession, cdr: Cdr, settings: Settings) -> JournalEntry | None:
    """Book one stored (flushed) CDR in the caller's transaction; the existing entry if already booked.

    None, and nothing written, when the CDR has no price yet (:func:`book_unbooked` retries it later).
    """
    assert cdr.id is not None, "flush the CDR before booking it"
    existing = await store.entry_for_cdr(session, cdr.id)
    if existing is not None:
        return existing
    entries = await book_new_cdrs(session, [cdr], settings)
    return entries.get(cdr.id) or await store.entry_for_cdr(session, cdr.id)


async def book_new_cdrs(
    session: AsyncSession, cdrs: Sequence[Cdr], settings: Settings
) -> dict[int, JournalEntry]:
    """Book CDRs just stored (flushed) in the caller's transaction, together: one statement for their
    entries, one for their postings, one fee lookup per currency and one period lookup per period.

    Returns the new entries by CDR id. A CDR without a price gets none (booked later); one another worker
    booked first is left to its entry (the entry table is unique on its source CDR).
    """
    priced = [(cdr, price) for cdr in cdrs if (price := price_of(cdr)) is not None]
    if not priced:
        return {}
    fees: dict[str, dict[str, journal.FeeRule]] = {}
    for currency in {cdr.currency for cdr, _ in priced}:
        parties = {party for cdr, _ in priced if cdr.currency == currency for party in _parties(cdr)}
        fees[currency] = await store.fee_rules(session, parties, currency)
    kind, hub = periods.period_kind(settings), periods.hub_party(settings)
    period_of: dict[str, LedgerPeriod] = {}
    values, postings_of = [], {}
    for cdr, price in priced:
        assert cdr.id is not None, "flush the CDRs before booking them"
        cpo, emsp = _parties(cdr)
        postings = journal.cdr_postings(
            price, cpo=cpo, emsp=emsp, hub=hub, fees=fees[cdr.currency], credit=cdr.credit
        )
        journal.check(postings)
        span = periods.span_of(cdr.end_date_time, kind).name
        if span not in period_of:
            period_of[span] = await periods.open_period_for(session, cdr.end_date_time, kind)
        period = period_of[span]
        assert period.id is not None
        reverses, note = await _reversal(session, cdr) if cdr.credit else (None, None)
        values.append(
            _entry_values(cdr, period.id, len(postings)) | {"reverses_entry_fk": reverses, "note": note}
        )
        postings_of[cdr.id] = list(postings)
    entries = await store.insert_entries(session, values)
    await store.insert_postings(session, [(e.id, postings_of[cdr_fk]) for cdr_fk, e in entries.items()])
    names = {period.id: period.name for period in period_of.values()}
    for cdr, _ in priced:
        entry = entries.get(cdr.id or 0)
        if entry is not None:
            log.info(
                "ledger.booked",
                cdr=cdr.cdr_id,
                entry=entry.id,
                period=names[entry.period_fk],
                kind=entry.kind,
            )
    return entries


def _parties(cdr: Cdr) -> tuple[str, str]:
    return party_of(cdr.country_code, cdr.party_id), party_of(cdr.emsp_country_code, cdr.emsp_party_id)


async def _unbooked_ids(db: Database, after: int) -> list[int]:
    booked = select(col(JournalEntry.source_cdr_fk)).where(col(JournalEntry.source_cdr_fk) == col(Cdr.id))
    query = select(col(Cdr.id)).where(col(Cdr.id) > after, ~booked.exists())
    async with db.session() as session:
        rows = (await session.execute(query.order_by(col(Cdr.id)).limit(_BATCH))).scalars()
        return [cdr_fk for cdr_fk in rows if cdr_fk is not None]


async def _book_one(db: Database, cdr_fk: int, settings: Settings) -> bool:
    async with db.transaction() as session:
        cdr = await session.get(Cdr, cdr_fk)
        had = cdr is not None and await store.entry_for_cdr(session, cdr_fk) is not None
        entry = await book_cdr(session, cdr, settings) if cdr is not None else None
    return entry is not None and not had


async def book_unbooked(db: Database, settings: Settings) -> int:
    """Book every CDR that has no entry yet and has a price, oldest first (so originals precede credits).

    Each CDR in its own transaction; returns how many entries were written.
    """
    booked, after = 0, 0
    while ids := await _unbooked_ids(db, after):
        for cdr_fk in ids:
            booked += await _book_one(db, cdr_fk, settings)
        after = ids[-1]
    if booked:
        log.info("ledger.caught_up", booked=booked)
    return booked


book_pending = book_unbooked
