"""Reconciliation: a partner's list of CDRs for a period, compared with what the hub booked for it.

The partner's file is CSV with a header ``id,amount,currency`` (more columns are ignored) or a JSON list of
``{"id", "amount", "currency"}``. ``amount`` is the CDR's total cost excl. VAT by default (``incl_vat`` on
request), negative for a credit CDR, as OCPI writes it. Ids compare case-insensitively (OCPI CiString).
A file that cannot be read is refused whole, naming the line (CSV) or item (JSON) and the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.config import Settings
from hub.errors import InvalidParameters
from hub.ledger import periods
from hub.ledger.booking import price_of
from hub.ledger.render import show
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry
from schemas.canonical.money import Money

Basis = Literal["excl_vat", "incl_vat"]
_FIELDS = ("id", "amount", "currency")


class Item(BaseModel):
    """One CDR as one side states it; ``where`` is its place in the partner's file (or ``hub``)."""

    id: str
    amount: Money
    where: str


class Mismatch(BaseModel):
    id: str
    hub: Money
    partner: Money


class Duplicate(BaseModel):
    id: str
    side: Literal["hub", "partner"]
    where: list[str]


class Reconciliation(BaseModel):
    party: str
    period: str
    basis: Basis
    matched: list[str]
    missing_at_hub: list[Item]
    missing_at_partner: list[Item]
    mismatches: list[Mismatch]
    duplicates: list[Duplicate]

    @property
    def clean(self) -> bool:
        return not (self.missing_at_hub or self.missing_at_partner or self.mismatches or self.duplicates)


# --- reading the partner's file -----------------------------------------------------------------------


def _bad(source: str, where: str, field: str | None, problem: str) -> InvalidParameters:
    return InvalidParameters(f"{source}: {where}{f', field {field!r}' if field else ''}: {problem}")


def _item(values: dict[str, Any], source: str, where: str) -> Item:
    for field in _FIELDS:
        if values.get(field) in (None, ""):
            raise _bad(source, where, field, "missing")
    raw = values["amount"]
    if isinstance(raw, float | bool) or not isinstance(raw, int | str | Decimal):
        raise _bad(source, where, "amount", f"not a decimal number: {raw!r}")
    try:
        amount = Money.of(Decimal(str(raw).strip()), str(values["currency"]).strip())
    except InvalidOperation as exc:
        raise _bad(source, where, "amount", f"not a decimal number: {raw!r}") from exc
    except ValidationError as exc:
        field = "currency" if any(e["loc"] == ("currency",) for e in exc.errors()) else "amount"
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise _bad(source, where, field, message) from exc
    return Item(id=str(values["id"]).strip(), amount=amount, where=where)


def _from_csv(text: str, source: str) -> list[Item]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        missing = [f for f in _FIELDS if f not in (reader.fieldnames or [])]
        if missing:
            raise _bad(
                source, "line 1", None, f"the header must name {', '.join(_FIELDS)} (missing {missing})"
            )
        return [_item(row, source, f"line {reader.line_num}") for row in reader]
    except csv.Error as exc:
        raise _bad(source, f"line {reader.line_num}", None, f"not CSV: {exc}") from exc


def _from_json(text: str, source: str) -> list[Item]:
    try:
        data = json.loads(text, parse_float=Decimal)  # exact amounts, never float
    except json.JSONDecodeError as exc:
        raise _bad(source, f"line {exc.lineno}", None, f"not valid JSON: {exc.msg}") from exc
    if not isinstance(data, list):
        raise _bad(source, "top level", None, "expected a JSON list of {id, amount, currency}")
    for number, value in enumerate(data, start=1):
        if not isinstance(value, dict):
            raise _bad(source, f"item {number}", None, "expected an object {id, amount, currency}")
    return [_item(value, source, f"item {number}") for number, value in enumerate(data, start=1)]


def parse_partner_file(raw: bytes, source: str) -> list[Item]:
    """CSV or JSON, told apart by the first character (``[`` or ``{`` is JSON)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad(source, f"byte {exc.start}", None, "not UTF-8 text") from exc
    if not text.strip():
        raise _bad(source, "line 1", None, "the file is empty")
    return _from_json(text, source) if text.lstrip()[0] in "[{" else _from_csv(text, source)


# --- the hub's side -----------------------------------------------------------------------------------


def _hub_amount(cdr: Cdr, basis: Basis) -> Money | None:
    price = price_of(cdr)
    if price is None:
        return None
    return price.cost + price.vat if basis == "incl_vat" else price.cost


async def hub_items(session: AsyncSession, party: str, period_name: str, basis: Basis) -> list[Item]:
    """The party's CDRs (as CPO or eMSP) booked in the period."""
    period = await periods.find_or_none(session, period_name)
    if period is None:
        return []
    query = (
        select(Cdr)
        .join(JournalEntry, col(JournalEntry.source_cdr_fk) == col(Cdr.id))
        .where(col(JournalEntry.period_fk) == period.id)
        .where(or_(col(JournalEntry.cpo) == party, col(JournalEntry.emsp) == party))
        .order_by(col(Cdr.id))
    )
    items = []
    for cdr in (await session.execute(query)).scalars():
        amount = _hub_amount(cdr, basis)
        if amount is not None:
            items.append(Item(id=cdr.cdr_id, amount=amount, where=f"hub {cdr.country_code}-{cdr.party_id}"))
    return items


# --- comparing ----------------------------------------------------------------------------------------


def _index(items: Iterable[Item], side: Literal["hub", "partner"]) -> tuple[dict[str, Item], list[Duplicate]]:
    """First occurrence per id (upper-cased), and the ids that occur more than once."""
    seen: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        seen[item.id.upper()].append(item)
    first = {key: found[0] for key, found in seen.items()}
    duplicates = [
        Duplicate(id=found[0].id, side=side, where=[i.where for i in found])
        for found in seen.values()
        if len(found) > 1
    ]
    return first, duplicates


def compare(party: str, period: str, basis: Basis, hub: list[Item], partner: list[Item]) -> Reconciliation:
    ours, hub_dupes = _index(hub, "hub")
    theirs, partner_dupes = _index(partner, "partner")
    both = [key for key in theirs if key in ours]
    return Reconciliation(
        party=party,
        period=period,
        basis=basis,
        matched=[theirs[k].id for k in both if theirs[k].amount == ours[k].amount],
        missing_at_hub=[item for key, item in theirs.items() if key not in ours],
        missing_at_partner=[item for key, item in ours.items() if key not in theirs],
        mismatches=[
            Mismatch(id=theirs[k].id, hub=ours[k].amount, partner=theirs[k].amount)
            for k in both
            if theirs[k].amount != ours[k].amount
        ],
        duplicates=hub_dupes + partner_dupes,
    )


async def reconcile(
    db: Database,
    settings: Settings,
    party: str,
    period: str,
    raw: bytes,
    source: str,
    basis: Basis = "excl_vat",
) -> Reconciliation:
    name = periods.parse_period(period, periods.period_kind(settings)).name
    partner = parse_partner_file(raw, source)
    async with db.session() as session:
        hub = await hub_items(session, party, name, basis)
    return compare(party, name, basis, hub, partner)


def report_text(result: Reconciliation) -> str:
    """The reconciliation for people: counts first, then each difference."""
    lines = [
        f"Reconciliation of {result.party} for {result.period} (amounts {result.basis.replace('_', '. ')})",
        f"  matched:            {len(result.matched)}",
        f"  missing at the hub: {len(result.missing_at_hub)}",
        f"  missing at partner: {len(result.missing_at_partner)}",
        f"  amount mismatches:  {len(result.mismatches)}",
        f"  duplicates:         {len(result.duplicates)}",
    ]
    lines += [f"missing at the hub: {i.id} {show(i.amount)} ({i.where})" for i in result.missing_at_hub]
    lines += [f"missing at partner: {i.id} {show(i.amount)}" for i in result.missing_at_partner]
    lines += [f"mismatch: {m.id} hub {show(m.hub)}, partner {show(m.partner)}" for m in result.mismatches]
    lines += [f"duplicate at the {d.side}: {d.id} ({', '.join(d.where)})" for d in result.duplicates]
    lines.append("Everything matches." if result.clean else "Differences found.")
    return "\n".join(lines)
