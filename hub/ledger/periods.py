"""Settlement periods: their calendar (pure) and their lifecycle (open → closed, never back).

A period is named after its span in UTC: ``2026-11`` (monthly, the default), ``2026-W47`` (weekly, ISO
weeks) or ``2026-11-23`` (daily). An entry belongs to the period of its CDR's ``end_date_time`` if that
period is open, else to the next open one (a late CDR after its month closed is settled the month after;
the entry keeps the session date). Period rows are created when first needed, so a period with no row is
open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.store.models import LedgerPeriod

PeriodKind = Literal["monthly", "weekly", "daily"]
DEFAULT_PERIOD: PeriodKind = "monthly"
_PATTERNS: dict[PeriodKind, re.Pattern[str]] = {
    "monthly": re.compile(r"^(\d{4})-(\d{2})$"),
    "weekly": re.compile(r"^(\d{4})-W(\d{2})$"),
    "daily": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
}


def period_kind(settings: Settings) -> PeriodKind:
    """``[ledger] period`` from the configuration, monthly when the section is not there (yet)."""
    section: Any = getattr(settings, "ledger", None)
    kind = getattr(section, "period", DEFAULT_PERIOD)
    if kind not in _PATTERNS:
        raise InvalidParameters(f"unknown settlement period {kind!r}", field="ledger.period")
    return kind  # type: ignore[no-any-return,unused-ignore]


def hub_party(settings: Settings) -> str:
    """The hub's own name in the ledger: the counterparty of every fee."""
    return f"{settings.country_code}-{settings.party_id}"


# --- the calendar ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    name: str
    starts_at: datetime
    ends_at: datetime  # exclusive


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _month(year: int, month: int) -> Span:
    following = date(year + month // 12, month % 12 + 1, 1)
    return Span(f"{year:04d}-{month:02d}", _midnight(date(year, month, 1)), _midnight(following))


def _week(monday: date) -> Span:
    year, week, _ = monday.isocalendar()
    return Span(f"{year:04d}-W{week:02d}", _midnight(monday), _midnight(monday + timedelta(days=7)))


def _day(day: date) -> Span:
    return Span(day.isoformat(), _midnight(day), _midnight(day + timedelta(days=1)))


def span_of(when: datetime, kind: PeriodKind) -> Span:
    """The period containing an instant (taken in UTC)."""
    day = when.astimezone(UTC).date()
    if kind == "monthly":
        return _month(day.year, day.month)
    if kind == "weekly":
        return _week(day - timedelta(days=day.weekday()))
    return _day(day)


def following(span: Span, kind: PeriodKind) -> Span:
    return span_of(span.ends_at, kind)


def parse_period(name: str, kind: PeriodKind) -> Span:
    """``2026-11`` → its span; anything else (or another kind's name) is a clear error."""
    match = _PATTERNS[kind].fullmatch(name)  # not match(): "$" would let a trailing newline in
    try:
        if match is None:
            raise ValueError(name)
        numbers = [int(part) for part in match.groups()]
        if kind == "monthly":
            return _month(numbers[0], numbers[1]) if 1 <= numbers[1] <= 12 else _bad(name)
        if kind == "weekly":
            return _week(date.fromisocalendar(numbers[0], numbers[1], 1))
        return _day(date(numbers[0], numbers[1], numbers[2]))
    except ValueError as exc:
        example = {"monthly": "2026-11", "weekly": "2026-W47", "daily": "2026-11-23"}[kind]
        raise InvalidParameters(f"{name!r} is not a {kind} period (e.g. {example})", field="period") from exc


def _bad(name: str) -> Span:
    raise ValueError(name)


# --- the lifecycle (STYLE.md 4: a transition table and one apply) -------------------------------------


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


TRANSITIONS: dict[tuple[Status, str], Status] = {(Status.OPEN, "close"): Status.CLOSED}


def apply(status: Status, event: str, name: str) -> Status:
    """The next status, or :class:`Conflict`: a closed period is never reopened nor closed twice."""
    target = TRANSITIONS.get((status, event))
    if target is None:
        raise Conflict(f"period {name} is {status}: cannot {event} it", field="period")
    return target


# --- period rows ---------------------------------------------------------------------------------------


async def _ensure(session: AsyncSession, span: Span) -> None:
    """Create the period's row if missing; two workers racing both succeed (ON CONFLICT DO NOTHING)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"name": span.name, "starts_at": span.starts_at, "ends_at": span.ends_at, "status": Status.OPEN}
    await session.execute(insert(LedgerPeriod).values(values).on_conflict_do_nothing(index_elements=["name"]))


async def lock_period(session: AsyncSession, span: Span, *, exclusive: bool) -> LedgerPeriod:
    """The period's row, created if needed, locked until the transaction ends.

    Booking takes a shared lock and closing an exclusive one (PostgreSQL), so an entry is either in the
    period before it closes, or sees it closed and goes to the next; SQLite has one writer at a time.
    """
    await _ensure(session, span)
    query = select(LedgerPeriod).where(col(LedgerPeriod.name) == span.name)
    query = query.with_for_update(read=not exclusive).execution_options(populate_existing=True)
    period = (await session.execute(query)).scalar_one()
    return period


async def open_period_for(session: AsyncSession, when: datetime, kind: PeriodKind) -> LedgerPeriod:
    """The period an entry for a CDR that ended ``when`` belongs to: its own, or the next open one."""
    span = span_of(when, kind)
    while True:
        period = await lock_period(session, span, exclusive=False)
        if period.status == Status.OPEN:
            return period
        span = following(span, kind)


async def find_or_none(session: AsyncSession, name: str) -> LedgerPeriod | None:
    query = select(LedgerPeriod).where(col(LedgerPeriod.name) == name)
    return (await session.execute(query)).scalar_one_or_none()


async def find_period(session: AsyncSession, name: str) -> LedgerPeriod:
    period = await find_or_none(session, name)
    if period is None:
        raise NotFound(f"no settlement period {name} (nothing was booked in it)", field="period")
    return period


async def list_periods(session: AsyncSession) -> list[LedgerPeriod]:
    return list((await session.execute(select(LedgerPeriod).order_by(col(LedgerPeriod.starts_at)))).scalars())
