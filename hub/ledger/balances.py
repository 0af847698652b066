"""Balances derived from the journal, as of any time: bilateral nets and clearing positions.

Nothing here is stored: a balance is a fold over postings (STYLE.md 8). "As of" counts entries by the time
they were booked, which only grows, so a balance as of a past instant never changes afterwards.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from hub.ledger import journal, store
from hub.store.db import Database
from schemas.canonical.money import Money


class Net(BaseModel):
    """``party`` owes ``counterparty`` ``owes`` (net of what it is owed; negative: it is owed)."""

    party: str
    counterparty: str
    owes: Money


class Position(BaseModel):
    """A party's clearing position against the hub: positive, the hub owes it; negative, it owes the hub."""

    party: str
    position: Money


class Balances(BaseModel):
    as_of: datetime | None
    positions: list[Position]
    nets: list[Net]


class Netting(BaseModel):
    """The matrix of bilateral nets in one currency: ``rows[a][b]`` is what a owes b."""

    currency: str
    parties: list[str]
    rows: dict[str, dict[str, Money]]


def _nets(pair_sums: journal.PairSums) -> list[Net]:
    nets = journal.bilateral(pair_sums)
    return [Net(party=a, counterparty=b, owes=money) for (a, b, _cur), money in sorted(nets.items())]


def _positions(pair_sums: journal.PairSums) -> list[Position]:
    positions = journal.positions(pair_sums)
    return [Position(party=party, position=money) for (party, _cur), money in sorted(positions.items())]


async def balances(db: Database, as_of: datetime | None = None) -> Balances:
    async with db.session() as session:
        pair_sums = await store.pair_sums(session, as_of=as_of)
    return Balances(as_of=as_of, positions=_positions(pair_sums), nets=_nets(pair_sums))


def matrix(currency: str, pair_sums: journal.PairSums) -> Netting:
    nets = journal.bilateral(pair_sums)
    parties = sorted({a for a, _b, _c in nets} | {b for _a, b, _c in nets})
    rows = {a: {b: nets.get((a, b, currency), Money.zero(currency)) for b in parties} for a in parties}
    return Netting(currency=currency, parties=parties, rows=rows)


async def netting(db: Database, currency: str | None = None, as_of: datetime | None = None) -> list[Netting]:
    """One matrix per currency (or only ``currency``)."""
    async with db.session() as session:
        pair_sums = await store.pair_sums(session, as_of=as_of, currency=currency)
    currencies = sorted({cur for _a, _b, cur in pair_sums} | ({currency} if currency else set()))
    return [matrix(cur, {k: v for k, v in pair_sums.items() if k[2] == cur}) for cur in currencies]
