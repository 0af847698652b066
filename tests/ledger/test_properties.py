"""Property-based: random CDR streams (currencies, credits, duplicates, parties in both roles, fees).

After every step: every entry balances, bilateral nets are antisymmetric, clearing positions sum to zero per
currency, a party's statement equals the sum of its CDRs (worked out here independently), and a CDR booked
again keeps its one entry. Examples share the test's database; each admits fresh parties.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlmodel import col

from hub.config import Settings
from hub.ledger import balances, fees, statements
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry, JournalPosting
from tests.ledger.support import Parties, book_again, fresh_party_id, make_cdr, store_and_book

CURRENCIES = ["EUR", "USD", "GBP"]
ENDS = {"2025-11": datetime(2025, 11, 30, 23, 59, tzinfo=UTC), "2025-12": datetime(2025, 12, 1, tzinfo=UTC)}

money = st.decimals(min_value=0, max_value=5000, places=4)
fee_rules = st.tuples(
    st.sampled_from(CURRENCIES), st.sampled_from(["0", "0.05", "0.1234"]), money.map(lambda d: d % 10)
)
cdr_step = st.tuples(
    st.just("cdr"),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from(CURRENCIES),
    money,
    st.none() | money,
    st.sampled_from(sorted(ENDS)),
)
steps = st.lists(
    st.one_of(
        cdr_step,
        st.tuples(st.just("credit"), st.integers(0, 99)),
        st.tuples(st.just("dup"), st.integers(0, 99)),
    ),
    min_size=1,
    max_size=8,
)


@dataclass
class Booked:
    row: Cdr
    entry_id: int
    period: str
    cost: Decimal
    vat: Decimal


@dataclass
class Model:
    """What the ledger should say, worked out without it."""

    who: Parties
    names: list[str]
    hub: str
    rules: dict[tuple[str, str], tuple[Decimal, Decimal]]
    booked: list[Booked] = field(default_factory=list)
    expected: dict[tuple[str, str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def fee(self, party: str, currency: str, cost: Decimal, credit: bool) -> Decimal:
        fixed, percent = self.rules.get((party, currency), (Decimal(0), Decimal(0)))
        fixed = -fixed if credit else fixed
        return (fixed + cost * percent / 100).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)

    def record(self, b: Booked) -> None:
        cpo, emsp, cur = b.row.country_code + "-" + b.row.party_id, self.emsp_of(b.row), b.row.currency
        self.expected[cpo, b.period, cur] += b.cost + b.vat
        self.expected[emsp, b.period, cur] -= b.cost + b.vat
        for payer in dict.fromkeys((cpo, emsp)):
            charged = self.fee(payer, cur, b.cost, b.row.credit)
            self.expected[payer, b.period, cur] -= charged
            self.expected[self.hub, b.period, cur] += charged

    @staticmethod
    def emsp_of(row: Cdr) -> str:
        return f"{row.emsp_country_code}-{row.emsp_party_id}"


async def _cdr(model: Model, db: Database, settings: Settings, step: tuple[Any, ...]) -> Booked | None:
    _, i, j, currency, cost, incl_extra, period = step
    cpo, emsp = model.names[i % len(model.names)], model.names[j % len(model.names)]
    vat = incl_extra if incl_extra is not None else Decimal(0)
    incl = cost + vat if incl_extra is not None else None
    row = make_cdr(model.who, cpo, emsp, excl=cost, incl=incl, currency=currency, end=ENDS[period])
    entry = await store_and_book(db, settings, row)
    assert entry is not None and entry.id is not None
    return Booked(row, entry.id, period, cost, vat)


async def _credit(model: Model, db: Database, settings: Settings, index: int) -> Booked | None:
    originals = [b for b in model.booked if not b.row.credit]
    if not originals:
        return None
    o = originals[index % len(originals)]
    cpo, emsp = f"{o.row.country_code}-{o.row.party_id}", model.emsp_of(o.row)
    incl = -(o.cost + o.vat) if o.vat else None
    row = make_cdr(
        model.who,
        cpo,
        emsp,
        excl=-o.cost,
        incl=incl,
        currency=o.row.currency,
        end=o.row.end_date_time,
        credit=True,
        reference=o.row.cdr_id.lower(),
    )
    entry = await store_and_book(db, settings, row)
    assert entry is not None and entry.id is not None and entry.reverses_entry_fk == o.entry_id
    return Booked(row, entry.id, o.period, -o.cost, -o.vat)


async def _dup(model: Model, db: Database, settings: Settings, index: int) -> None:
    if model.booked:
        b = model.booked[index % len(model.booked)]
        entry = await book_again(db, settings, b.row)
        assert entry is not None and entry.id == b.entry_id


async def _check_journal(db: Database, model: Model) -> None:
    ours = col(JournalEntry.cpo).in_(model.names)
    async with db.session() as session:
        entry_sums = (
            await session.execute(
                select(func.sum(col(JournalPosting.amount)))
                .join(JournalEntry, col(JournalEntry.id) == col(JournalPosting.entry_fk))
                .where(ours)
                .group_by(col(JournalPosting.entry_fk), col(JournalPosting.currency))
            )
        ).scalars()
        assert all(total == 0 for total in entry_sums)
        entries = (
            await session.execute(select(func.count()).select_from(JournalEntry).where(ours))
        ).scalar_one()
    assert entries == len(model.booked)  # a CDR booked again keeps its one entry
    result = await balances.balances(db)
    nets = {(n.party, n.counterparty, n.owes.currency): n.owes.amount for n in result.nets}
    assert all(nets.get((b, a, c), Decimal(0)) == -owes for (a, b, c), owes in nets.items())
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    for p in result.positions:
        per_currency[p.position.currency] += p.position.amount
    assert all(total == 0 for total in per_currency.values())


async def _check_statements(db: Database, settings: Settings, model: Model, parties: list[str]) -> None:
    for party in parties:
        for period in ENDS:
            statement = await statements.get_statement(db, settings, party, period)
            got = {m.currency: m.amount for m in statement.position}
            want = {c: v for (p, per, c), v in model.expected.items() if (p, per) == (party, period)}
            assert {c: v for c, v in got.items() if v} == {c: v for c, v in want.items() if v}
            lines: dict[str, Decimal] = defaultdict(Decimal)
            for line in statement.lines:
                lines[line.net.currency] += line.net.amount
            assert {c: v for c, v in lines.items() if v} == {c: v for c, v in got.items() if v}


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(2, 4), rules=st.lists(st.tuples(st.integers(0, 3), fee_rules), max_size=4), stream=steps
)
async def test_random_cdr_streams_keep_the_invariants(
    db: Database, settings: Settings, count: int, rules: list[tuple[int, Any]], stream: list[tuple[Any, ...]]
) -> None:
    # A hub identity of its own per example: examples share the database, and the hub's fees with it.
    settings = settings.model_copy(update={"party_id": fresh_party_id()})
    hub = f"{settings.country_code}-{settings.party_id}"
    who = Parties()
    names = [await who.admit(db, settings, country=("NL", "DE")[n % 2]) for n in range(count)]
    model = Model(who, names, hub, {})
    for index, (currency, fixed, percent) in rules:
        party = names[index % count]
        data = fees.FeeSet(party=party, currency=currency, fixed=Decimal(fixed), percent=percent)
        await fees.set_fee(db, data)
        model.rules[party, currency] = (data.fixed, data.percent)
    for step in stream:
        if step[0] == "dup":
            await _dup(model, db, settings, step[1])
        else:
            booked = await (
                _cdr(model, db, settings, step) if step[0] == "cdr" else _credit(model, db, settings, step[1])
            )
            if booked is not None:
                model.booked.append(booked)
                model.record(booked)
        await _check_journal(db, model)
        await _check_statements(db, settings, model, names[:2])
    await _check_statements(db, settings, model, [*names, hub][2:])
