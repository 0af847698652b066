"""Dynamic pricing pushed by CPOs, in table ``oicp_pricing`` (notes §2 #17 to #20).

Two kinds of rows, both keyed by (operator, ProviderID or ``*``, item):

* ``product``: one PricingProductData record per ProductID, stored as a PricingProductData object with
  that one record, so that each product keeps the defaults (PricingDefaultPrice, currency and unit) it
  was pushed with. A product set is (operator, provider): a fullLoad for ``*`` leaves the products
  offered to one EMP alone.
* ``evse``: one EVSEPricing (EvseID, ProviderID, EvseIDProductList) per (provider, EVSE). PushEVSEPricing
  names the provider per record, so its set is the operator's whole EVSE pricing.

Deletes leave tombstones (``deleted_at``) so that ``LastCall`` pulls can tell an EMP what changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from hub.oicp.pushsets import plan_push
from hub.store.db import Database
from hub.store.models import OicpPricing
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3.common import OFFER_TO_ALL, ActionType

PRODUCT = "product"
EVSE = "evse"


def provider_key(provider_id: str) -> str:
    """A ProviderID in comparable form; ``*`` (offer to all) stays ``*``."""
    return OFFER_TO_ALL if provider_id == OFFER_TO_ALL else normalise_oicp_id(provider_id)


@dataclass(frozen=True)
class PricingItem:
    provider: str  # provider_key()
    item: str  # ProductID, or the EvseID's comparable form
    body: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.provider}|{self.item}"


@dataclass(frozen=True)
class PricingSet:
    """What one push replaces: a kind of an operator's pricing, for one provider or (None) for all."""

    kind: str
    party_fk: int
    operator_key: str
    provider: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions = [col(OicpPricing.kind) == self.kind, col(OicpPricing.operator_key) == self.operator_key]
        if self.provider is not None:
            conditions.append(col(OicpPricing.provider_id) == self.provider)
        return conditions


def _key(row: OicpPricing) -> str:
    return f"{row.provider_id}|{row.item_key}"


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def load(row: OicpPricing) -> dict[str, Any]:
    """A stored body, numbers as exact Decimals (prices are money)."""
    body: dict[str, Any] = json.loads(row.body, parse_float=Decimal)
    return body


# --- pushes -----------------------------------------------------------------------------------------


async def apply(
    db: Database, target: PricingSet, action: ActionType, items: Sequence[PricingItem], now: datetime
) -> None:
    """Apply one push to its set in one transaction (009 per :func:`hub.oicp.pushsets.plan_push`)."""
    async with db.transaction() as session:
        rows = {_key(row): row for row in await _rows(session, target)}
        alive = {key for key, row in rows.items() if row.deleted_at is None}
        plan = plan_push(action, [item.key for item in items], alive)
        by_key = {item.key: item for item in items}
        for key in plan.upsert:
            session.add(_write(rows.get(key), target, by_key[key], now))
        for key in plan.delete:
            rows[key].deleted_at = rows[key].updated_at = now


async def _rows(session: AsyncSession, target: PricingSet) -> Sequence[OicpPricing]:
    return (await session.execute(select(OicpPricing).where(*target.where()))).scalars().all()


def _write(row: OicpPricing | None, target: PricingSet, item: PricingItem, now: datetime) -> OicpPricing:
    text = _text(item.body)
    if row is None:
        row = OicpPricing(
            kind=target.kind,
            operator_party_fk=target.party_fk,
            operator_key=target.operator_key,
            provider_id=item.provider,
            item_key=item.item,
            body=text,
            updated_at=now,
        )
    elif row.deleted_at is not None or row.body != text:
        row.body, row.deleted_at, row.updated_at = text, None, now
    row.operator_party_fk = target.party_fk
    return row


# --- reading ----------------------------------------------------------------------------------------


async def rows_for(
    db: Database,
    kind: str,
    operator_keys: Sequence[str],
    providers: Sequence[str],
    *,
    item_key: str | None = None,
    with_deleted: bool = False,
) -> list[OicpPricing]:
    """The rows of these operators offered to these providers (comparable ids, or ``*``)."""
    if not operator_keys:
        return []
    query = select(OicpPricing).where(
        col(OicpPricing.kind) == kind,
        col(OicpPricing.operator_key).in_(list(operator_keys)),
        col(OicpPricing.provider_id).in_(list(providers)),
    )
    if item_key is not None:
        query = query.where(col(OicpPricing.item_key) == item_key)
    if not with_deleted:
        query = query.where(col(OicpPricing.deleted_at).is_(None))
    async with db.session() as session:
        rows = (await session.execute(query.order_by(col(OicpPricing.id)))).scalars().all()
    return list(rows)
