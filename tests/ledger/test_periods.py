"""Settlement periods: the calendar, late CDRs, closing for good, statements stored and written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.ledger import fees, periods, statements
from hub.ledger.periods import Status
from hub.store.db import Database
from schemas.canonical.money import Money
from tests.ledger.support import Parties, make_cdr, store_and_book

Two = tuple[Parties, str, str]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "when", "name", "following"),
    [
        ("monthly", "2026-12-31T23:59:59", "2026-12", "2027-01"),
        ("weekly", "2026-12-31T10:00:00", "2026-W53", "2027-W01"),
        ("daily", "2026-02-28T10:00:00", "2026-02-28", "2026-03-01"),
    ],
)
def test_calendar(kind: periods.PeriodKind, when: str, name: str, following: str) -> None:
    span = periods.span_of(at(when), kind)
    assert span.name == name and periods.following(span, kind).name == following
    assert periods.parse_period(name, kind) == span


@pytest.mark.parametrize("name", ["2026-13", "2026-1", "26-11", "2026-W47", "november"])
def test_bad_period_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidParameters, match="monthly"):
        periods.parse_period(name, "monthly")


def test_a_closed_period_cannot_be_reopened_or_closed_twice() -> None:
    assert periods.apply(Status.OPEN, "close", "2026-10") is Status.CLOSED
    with pytest.raises(Conflict):
        periods.apply(Status.CLOSED, "close", "2026-10")
    with pytest.raises(Conflict):
        periods.apply(Status.CLOSED, "open", "2026-10")


async def _period_of(db: Database, entry_period_fk: int) -> str:
    async with db.session() as session:
        return next(p.name for p in await periods.list_periods(session) if p.id == entry_period_fk)


async def test_a_late_cdr_goes_to_the_next_open_period(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="1", end=at("2026-09-10T08:00:00")))
    closed = await statements.close_period(db, settings, "2026-09")
    assert closed.parties == sorted([cpo, emsp])
    late = await store_and_book(
        db, settings, make_cdr(who, cpo, emsp, excl="2", end=at("2026-09-30T23:00:00"))
    )
    assert late is not None
    assert await _period_of(db, late.period_fk) == "2026-10"
    assert late.session_date == at("2026-09-30T23:00:00")  # the session date is kept


async def test_closing_freezes_and_writes_statements(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    await fees.set_fee(db, fees.FeeSet(party=cpo, currency="EUR", percent=Decimal("10")))
    for excl, incl in (("10", "12"), ("5", None)):
        cdr = make_cdr(
            who, cpo, emsp, excl=excl, incl=incl, end=at("2026-08-05T10:00:00"), cdr_id=f"<b>{excl}</b>"
        )
        await store_and_book(db, settings, cdr)
    closed = await statements.close_period(db, settings, "2026-08")
    directory = Path(settings.data_dir) / "statements" / "2026-08"
    assert closed.directory == str(directory)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        f"{party}.{fmt}" for party in (cpo, emsp, "NL-HUB") for fmt in ("json", "csv", "html")
    )
    stored = json.loads((directory / f"{cpo}.json").read_text())
    assert [Money.model_validate(m) for m in stored["position"]] == [Money.of("15.5", "EUR")]  # 17 - 1.5 fees
    html = (directory / f"{cpo}.html").read_text()
    assert "&lt;b&gt;10&lt;/b&gt;" in html and "<b>10</b>" not in html
    assert "record,cdr_id" in (directory / f"{emsp}.csv").read_text()

    with pytest.raises(Conflict, match="closed"):
        await statements.close_period(db, settings, "2026-08")
    final = await statements.get_statement(db, settings, cpo, "2026-08")
    assert final.status == "final" and len(final.lines) == 2
    assert sum(line.net.amount for line in final.lines) == Decimal("15.5")
    hub = await statements.get_statement(db, settings, "NL-HUB", "2026-08")
    assert hub.fees == [Money.of("1.5", "EUR")] and {line.role for line in hub.lines} == {"HUB"}


async def test_an_open_period_gives_a_provisional_statement(
    db: Database, settings: Settings, two: Two
) -> None:
    who, cpo, emsp = two
    await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="3", end=at("2026-07-01T00:00:00")))
    provisional = await statements.get_statement(db, settings, emsp, "2026-07")
    assert provisional.status == "provisional"
    assert provisional.position == [Money.of("-3", "EUR")]
    assert [(n.counterparty, n.owes) for n in provisional.nets] == [(cpo, Money.of("3", "EUR"))]
    empty = await statements.get_statement(db, settings, emsp, "2026-06")
    assert empty.lines == [] and empty.position == []


async def test_statements_of_closed_periods_for_idle_parties_are_not_found(
    db: Database, settings: Settings
) -> None:
    await statements.close_period(db, settings, "2026-05")
    with pytest.raises(NotFound):
        await statements.get_statement(db, settings, "NL-ZZZ", "2026-05")


async def test_a_future_period_cannot_be_closed(db: Database, settings: Settings) -> None:
    with pytest.raises(Conflict, match="not started"):
        await statements.close_period(db, settings, "2099-01")


async def test_a_credit_line_names_the_cdr_it_reverses(db: Database, settings: Settings, two: Two) -> None:
    who, cpo, emsp = two
    end = at("2026-04-02T00:00:00")
    await store_and_book(db, settings, make_cdr(who, cpo, emsp, excl="4", cdr_id="ORIG-1", end=end))
    credit = make_cdr(who, cpo, emsp, excl="-4", credit=True, reference="ORIG-1", cdr_id="ORIG-1-C", end=end)
    await store_and_book(db, settings, credit)
    statement = await statements.get_statement(db, settings, cpo, "2026-04")
    assert [(line.cdr_id, line.credit, line.reverses_cdr_id) for line in statement.lines] == [
        ("ORIG-1", False, None),
        ("ORIG-1-C", True, "ORIG-1"),
    ]
    assert statement.position == [Money.of("0", "EUR")]


async def test_the_configured_period_kind_is_used(db: Database, settings: Settings, two: Two) -> None:
    """``[ledger] period`` once config.py has it; until then (and by default) monthly."""
    assert periods.period_kind(settings) == "monthly"
    weekly = settings.model_copy(update={"ledger": SimpleNamespace(period="weekly")})
    assert periods.period_kind(weekly) == "weekly"
    who, cpo, emsp = two
    entry = await store_and_book(
        db, weekly, make_cdr(who, cpo, emsp, excl="1", end=at("2026-03-04T10:00:00"))
    )
    assert entry is not None and await _period_of(db, entry.period_fk) == "2026-W10"
    with pytest.raises(InvalidParameters, match="yearly"):
        periods.period_kind(settings.model_copy(update={"ledger": SimpleNamespace(period="yearly")}))


async def test_a_running_or_future_period_cannot_be_closed(db: Database, settings: Settings) -> None:
    this_month = datetime.now(UTC).strftime("%Y-%m")
    with pytest.raises(Conflict, match="still running"):
        await statements.close_period(db, settings, this_month)
    with pytest.raises(Conflict, match="not started"):
        await statements.close_period(db, settings, "2999-01")
