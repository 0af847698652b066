"""Statements: what one party did in one settlement period, and closing a period for good.

Closing a period (:func:`close_period`) freezes it (the database then refuses new entries in it and any
change to it), stores a statement per party that has postings in it, and writes each as JSON, CSV and
HTML under ``<data_dir>/statements/<period>/``. Before closing, a statement can be shown as provisional.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.ledger import journal, periods, render, store
from hub.ledger.balances import Net
from hub.ledger.periods import Status
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry, JournalPosting, LedgerPeriod, LedgerStatement
from hub.store.types import utcnow
from schemas.canonical.money import Money

log = structlog.get_logger("hub.ledger")

Format = Literal["json", "csv", "html"]
FORMATS: tuple[Format, ...] = ("json", "csv", "html")
_SAFE_NAME = re.compile(r"^[A-Z0-9]{2}-[A-Z0-9]{3}$")


class StatementLine(BaseModel):
    """One entry as the party sees it: amounts signed from its side (positive: it is owed)."""

    cdr_id: str
    role: str
    cpo: str
    emsp: str
    session_date: datetime
    booked_at: datetime
    credit: bool
    reverses_cdr_id: str | None = None
    note: str | None = None
    cost: Money
    vat: Money
    fee: Money
    net: Money


class Gross(BaseModel):
    """Cost and VAT against one counterparty in one currency, from the party's side, fees apart."""

    counterparty: str
    cost: Money
    vat: Money


class Statement(BaseModel):
    party: str
    period: str
    status: Literal["final", "provisional"]
    starts_at: datetime
    ends_at: datetime
    generated_at: datetime
    lines: list[StatementLine]
    gross: list[Gross]
    fees: list[Money]
    nets: list[Net]
    position: list[Money]


class ClosedPeriod(BaseModel):
    period: str
    closed_at: datetime
    parties: list[str]
    directory: str


# --- building ------------------------------------------------------------------------------------------


def _sum(rows: Iterable[JournalPosting], currency: str, kinds: set[str] | None = None) -> Money:
    total = sum((r.amount for r in rows if kinds is None or r.kind in kinds), 0)
    return Money.of(store.major(total), currency)


def _role(party: str, entry: JournalEntry) -> str:
    roles = [name for name, who in (("CPO", entry.cpo), ("EMSP", entry.emsp)) if who == party]
    return "+".join(roles) or "HUB"


@dataclass(frozen=True)
class _CdrIds:
    """CDR ids for the lines: of each entry's source CDR, and of the entries that credits reverse."""

    by_cdr: dict[int, str]
    by_entry: dict[int, str]

    def reversed_id(self, entry: JournalEntry) -> str | None:
        return self.by_entry.get(entry.reverses_entry_fk) if entry.reverses_entry_fk else None


def _line(party: str, entry: JournalEntry, rows: list[JournalPosting], ids: _CdrIds) -> StatementLine:
    currency = rows[0].currency
    return StatementLine(
        cdr_id=ids.by_cdr.get(entry.source_cdr_fk or 0, ""),
        role=_role(party, entry),
        cpo=entry.cpo,
        emsp=entry.emsp,
        session_date=entry.session_date,
        booked_at=entry.booked_at,
        credit=entry.kind == "credit",
        reverses_cdr_id=ids.reversed_id(entry),
        note=entry.note,
        cost=_sum(rows, currency, {"cost"}),
        vat=_sum(rows, currency, {"vat"}),
        fee=_sum(rows, currency, {"fee"}),
        net=_sum(rows, currency),
    )


async def _party_postings(
    session: AsyncSession, period_fk: int, party: str
) -> list[tuple[JournalEntry, JournalPosting]]:
    query = (
        select(JournalEntry, JournalPosting)
        .join(JournalPosting, col(JournalPosting.entry_fk) == col(JournalEntry.id))
        .where(col(JournalEntry.period_fk) == period_fk, col(JournalPosting.party) == party)
        .order_by(col(JournalEntry.session_date), col(JournalEntry.id), col(JournalPosting.id))
    )
    return [(entry, posting) for entry, posting in (await session.execute(query)).all()]


async def _cdr_ids(session: AsyncSession, entries: Iterable[JournalEntry]) -> _CdrIds:
    items = list(entries)
    fks = {e.source_cdr_fk for e in items if e.source_cdr_fk}
    reversed_entries = {e.reverses_entry_fk for e in items if e.reverses_entry_fk}
    by_cdr = select(col(Cdr.id), col(Cdr.cdr_id)).where(col(Cdr.id).in_(fks))
    by_entry = (
        select(col(JournalEntry.id), col(Cdr.cdr_id))
        .join(Cdr, col(Cdr.id) == col(JournalEntry.source_cdr_fk))
        .where(col(JournalEntry.id).in_(reversed_entries))
    )
    return _CdrIds(
        by_cdr={fk: cid for fk, cid in (await session.execute(by_cdr)).all() if fk is not None},
        by_entry={eid: cid for eid, cid in (await session.execute(by_entry)).all() if eid is not None},
    )


def _lines(party: str, pairs: list[tuple[JournalEntry, JournalPosting]], ids: _CdrIds) -> list[StatementLine]:
    entries: dict[int, JournalEntry] = {}
    grouped: dict[int, list[JournalPosting]] = defaultdict(list)
    for entry, posting in pairs:
        assert entry.id is not None
        entries[entry.id] = entry
        grouped[entry.id].append(posting)
    return [_line(party, entries[eid], rows, ids) for eid, rows in grouped.items()]


def _gross(postings: Iterable[JournalPosting]) -> list[Gross]:
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: {"cost": 0, "vat": 0})
    for p in postings:
        if p.kind != "fee":
            totals[p.counterparty, p.currency][p.kind] += p.amount
    return [
        Gross(
            counterparty=other,
            cost=Money.of(store.major(sums["cost"]), cur),
            vat=Money.of(store.major(sums["vat"]), cur),
        )
        for (other, cur), sums in sorted(totals.items())
    ]


def _by_currency(postings: Iterable[JournalPosting]) -> list[Money]:
    totals: dict[str, int] = defaultdict(int)
    for p in postings:
        totals[p.currency] += p.amount
    return [Money.of(store.major(total), cur) for cur, total in sorted(totals.items())]


async def build_statement(
    session: AsyncSession, period: LedgerPeriod, party: str, status: Literal["final", "provisional"]
) -> Statement:
    assert period.id is not None
    pairs = await _party_postings(session, period.id, party)
    ids = await _cdr_ids(session, (entry for entry, _ in pairs))
    postings = [posting for _, posting in pairs]
    nets = journal.bilateral(await store.pair_sums(session, period_fk=period.id))
    return Statement(
        party=party,
        period=period.name,
        status=status,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        generated_at=utcnow(),
        lines=_lines(party, pairs, ids),
        gross=_gross(postings),
        fees=_by_currency(p for p in postings if p.kind == "fee"),
        nets=[Net(party=a, counterparty=b, owes=m) for (a, b, _c), m in sorted(nets.items()) if a == party],
        position=_by_currency(postings),
    )


# --- closing and reading ------------------------------------------------------------------------------


async def _parties_in(session: AsyncSession, period_fk: int) -> list[str]:
    query = (
        select(col(JournalPosting.party))
        .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_fk))
        .where(col(JournalEntry.period_fk) == period_fk)
        .distinct()
    )
    return sorted((await session.execute(query)).scalars())


def _safe(party: str) -> str:
    """A party name fit for a file name (CC-PID, as OCPI constrains it); refuse anything else."""
    if not _SAFE_NAME.match(party):
        raise InvalidParameters(f"{party!r} is not a party (CC-PID, e.g. NL-ABC)", field="party")
    return party


def statement_dir(settings: Settings, period: str) -> Path:
    return Path(settings.data_dir) / "statements" / period


def write_files(settings: Settings, statement: Statement) -> None:
    """Write the statement's three forms; each file appears whole (written aside, then renamed)."""
    directory = statement_dir(settings, statement.period)
    directory.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        target = directory / f"{_safe(statement.party)}.{fmt}"
        partial = target.with_suffix(f".{fmt}.partial")
        partial.write_text(render.RENDERERS[fmt](statement), encoding="utf-8")
        partial.replace(target)


async def _freeze(
    session: AsyncSession, settings: Settings, name: str
) -> tuple[LedgerPeriod, list[Statement]]:
    span = periods.parse_period(name, periods.period_kind(settings))
    if span.starts_at > utcnow():
        raise Conflict(f"period {name} has not started yet", field="period")
    if span.ends_at > utcnow():
        # Its CDRs are still arriving: a statement now would miss them (and closing cannot be undone).
        raise Conflict(f"period {name} is still running until {span.ends_at.isoformat()}", field="period")
    period = await periods.lock_period(session, span, exclusive=True)
    period.status = periods.apply(Status(period.status), "close", name)
    period.closed_at = utcnow()
    session.add(period)
    await session.flush()
    assert period.id is not None
    statements = [
        await build_statement(session, period, party, "final")
        for party in await _parties_in(session, period.id)
    ]
    session.add_all(
        LedgerStatement(period_fk=period.id, party=s.party, body=s.model_dump_json()) for s in statements
    )
    return period, statements


async def close_period(db: Database, settings: Settings, name: str) -> ClosedPeriod:
    """Close a period for good and produce its statements (stored, then written as files).

    The files are written after the commit: if that fails, the stored statements remain and
    ``settle statement`` prints them; the files can be written again from there.
    """
    async with db.transaction() as session:
        period, statements = await _freeze(session, settings, name)
    for statement in statements:
        write_files(settings, statement)
    assert period.closed_at is not None
    log.info("ledger.period_closed", period=name, statements=len(statements))
    return ClosedPeriod(
        period=name,
        closed_at=period.closed_at,
        parties=[s.party for s in statements],
        directory=str(statement_dir(settings, name)),
    )


async def _stored(session: AsyncSession, period: LedgerPeriod, party: str) -> Statement:
    query = select(LedgerStatement).where(
        col(LedgerStatement.period_fk) == period.id, col(LedgerStatement.party) == party
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"{party} has no statement for {period.name}: nothing was booked for it", field="party"
        )
    return Statement.model_validate_json(row.body)


async def get_statement(db: Database, settings: Settings, party: str, name: str) -> Statement:
    """The frozen statement of a closed period; for an open one, a provisional statement as of now."""
    span = periods.parse_period(name, periods.period_kind(settings))
    async with db.session() as session:
        period = await periods.find_or_none(session, span.name)
        if period is not None and period.status == Status.CLOSED:
            return await _stored(session, period, _safe(party))
        if period is None:
            period = LedgerPeriod(id=0, name=span.name, starts_at=span.starts_at, ends_at=span.ends_at)
        return await build_statement(session, period, _safe(party), "provisional")
