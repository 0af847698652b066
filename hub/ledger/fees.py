"""The hub's fees per party and currency, as the operator sets them (``roamhub fee set|list|remove``).

A fee is fixed per CDR and/or a percentage of the CDR's cost excl. VAT, rounded half-up to 4 decimals
(hub/ledger/journal.py). It is booked in the CDR's own entry, paid by the party to the hub. Fees are
configuration, not ledger: changing one affects later bookings only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from hub.errors import Conflict, NotFound
from hub.ledger import store
from hub.store.db import Database
from hub.store.models import LedgerFee
from hub.store.types import utcnow
from schemas.canonical.money import CurrencyCode, Money

PartyName = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{3}$", description="CC-PID, e.g. NL-ABC")]


def _four_decimals(value: Decimal) -> Decimal:
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError("at most 4 decimals")
    return value


class FeeSet(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    party: PartyName
    currency: CurrencyCode
    fixed: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)
    percent: Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)] = Decimal(0)

    @field_validator("party", "currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    _fixed = field_validator("fixed")(_four_decimals)
    _percent = field_validator("percent")(_four_decimals)


class FeeView(BaseModel):
    party: str
    currency: str
    fixed: Money
    percent: Decimal


def _view(row: LedgerFee) -> FeeView:
    return FeeView(
        party=row.party,
        currency=row.currency,
        fixed=Money.from_units(row.fixed_units, row.currency),
        percent=store.major(row.percent_units),
    )


async def set_fee(db: Database, data: FeeSet) -> FeeView:
    """Create or replace the party's fee in that currency."""
    try:
        async with db.transaction() as session:
            query = select(LedgerFee).where(
                col(LedgerFee.party) == data.party, col(LedgerFee.currency) == data.currency
            )
            row = (await session.execute(query.with_for_update())).scalar_one_or_none()
            row = row or LedgerFee(party=data.party, currency=data.currency)
            row.fixed_units, row.percent_units = store.units(data.fixed), store.units(data.percent)
            row.updated_at = utcnow()
            session.add(row)
    except IntegrityError as exc:  # two operators creating the same fee at once: the unique key decides
        raise Conflict(
            f"the fee for {data.party} in {data.currency} was set concurrently", field="party"
        ) from exc
    return _view(row)


async def list_fees(db: Database) -> list[FeeView]:
    async with db.session() as session:
        query = select(LedgerFee).order_by(col(LedgerFee.party), col(LedgerFee.currency))
        return [_view(row) for row in (await session.execute(query)).scalars()]


async def remove_fee(db: Database, party: str, currency: str) -> None:
    async with db.transaction() as session:
        result = await session.execute(
            delete(LedgerFee).where(
                col(LedgerFee.party) == party.upper(), col(LedgerFee.currency) == currency.upper()
            )
        )
    if not getattr(result, "rowcount", 0):
        raise NotFound(f"no fee for {party.upper()} in {currency.upper()}", field="party")
