"""Dynamic pricing: pricing products and EVSE pricing pushed by CPOs, pulled by EMPs (notes §2 #17-#20).

Stored by ``hub.oicp.pricing_store``. An EMP pulls what was pushed for its ProviderID (the one in the
path) or for ``*``, of the operators it names and has a contract with (``hub.oicp.contracts``).
:func:`products_for` gives the CDR pricing the same data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from hub.errors import Conflict
from hub.oicp import pricing_store
from hub.oicp.contracts import contracted_cpos
from hub.oicp.directory import Member
from hub.oicp.evse_query import evse_key
from hub.oicp.pricing_store import EVSE, PRODUCT, PricingItem, PricingSet, load, provider_key
from hub.oicp.pushing import acknowledged, check_evse_owner, check_pusher, one_at_a_time, refuse_repeated
from hub.oicp.pushsets import duplicates
from hub.store.db import Database
from hub.store.models import OicpPricing
from hub.store.types import utcnow
from schemas.canonical.party import Role, normalise_oicp_id
from schemas.oicp.v2_3.common import OFFER_TO_ALL, StatusCode, StatusCodeType
from schemas.oicp.v2_3.dynamic_pricing import (
    EVSEPricing,
    OperatorEVSEPricing,
    PricingProductData,
    eRoamingEVSEPricing,
    eRoamingPricingProductData,
    eRoamingPullEVSEPricing,
    eRoamingPullPricingProductData,
    eRoamingPushEVSEPricing,
    eRoamingPushPricingProductData,
)

if TYPE_CHECKING:
    from hub.oicp.frontdoor import Answer, OicpCall

_RECORDS = "PricingProductDataRecords"


# --- pushes -----------------------------------------------------------------------------------------


async def push_products(call: OicpCall) -> Answer:
    """PushPricingProductData (#17): one product per ProductID, for one provider or ``*``."""
    body: eRoamingPushPricingProductData = call.body
    data = body.pricing_product_data
    check_pusher(call, data.operator_id, "PricingProductData.OperatorID", Role.CPO)
    records = data.pricing_product_data_records
    repeated = duplicates(record.product_id for record in records)
    if repeated:
        raise Conflict(f"ProductID {', '.join(repeated[:5])} listed more than once", field="ProductID")
    header = {name: value for name, value in data.to_wire().items() if name != _RECORDS}
    provider = provider_key(data.provider_id)
    items = [PricingItem(provider, r.product_id, header | {_RECORDS: [r.to_wire()]}) for r in records]
    target = PricingSet(PRODUCT, call.caller.party_fk, normalise_oicp_id(data.operator_id), provider)
    with one_at_a_time(call):
        await pricing_store.apply(call.ctx.db, target, body.action_type, items, utcnow())
    return acknowledged()


async def push_evse_pricing(call: OicpCall) -> Answer:
    """PushEVSEPricing (#18): which products apply at which of the operator's EVSEs (018 otherwise)."""
    body: eRoamingPushEVSEPricing = call.body
    operator_id = call.params["operatorID"]  # the body names none; the front door checked the path's
    check_evse_owner(operator_id, [pricing.evse_id for pricing in body.evse_pricing])
    items = [
        PricingItem(provider_key(p.provider_id), evse_key(p.evse_id), p.to_wire()) for p in body.evse_pricing
    ]
    refuse_repeated(item.key for item in items)
    target = PricingSet(EVSE, call.caller.party_fk, normalise_oicp_id(operator_id))
    with one_at_a_time(call):
        await pricing_store.apply(call.ctx.db, target, body.action_type, items, utcnow())
    return acknowledged()


# --- pulls ------------------------------------------------------------------------------------------


async def _offered(call: OicpCall, operator_ids: Sequence[str]) -> tuple[dict[str, Member], list[str]]:
    """The contracted operators among those named (by comparable id), and the providers to read."""
    cpos = await contracted_cpos(call, operator_ids)
    providers = [normalise_oicp_id(call.params["providerID"]), OFFER_TO_ALL]
    return {normalise_oicp_id(cpo.oicp_id): cpo for cpo in cpos}, providers


async def pull_products(call: OicpCall) -> Answer:
    """PullPricingProductData (#19): per operator and provider, the products (changed since LastCall)."""
    body: eRoamingPullPricingProductData = call.body
    operators, providers = await _offered(call, body.operator_ids)
    rows = await pricing_store.rows_for(call.ctx.db, PRODUCT, list(operators), providers)
    changed = [row for row in rows if body.last_call is None or row.updated_at > body.last_call]
    return eRoamingPricingProductData(
        pricing_product_data=grouped_products(changed), status_code=StatusCode.of(StatusCodeType.SUCCESS)
    )


def _product_order(row: OicpPricing) -> tuple[str, bool, str, str]:
    # Per operator: the provider's own data before the offer to all (``False`` sorts first).
    return (row.operator_key, row.provider_id == OFFER_TO_ALL, row.provider_id, row.item_key)


def grouped_products(rows: Iterable[OicpPricing]) -> list[PricingProductData]:
    """One PricingProductData per (operator, provider), its defaults those of the latest pushed product."""
    grouped: list[PricingProductData] = []
    for _, group in groupby(sorted(rows, key=_product_order), key=lambda row: _product_order(row)[:3]):
        members = list(group)
        latest = max(members, key=lambda row: (row.updated_at, row.id or 0))
        records = [record for row in members for record in load(row)[_RECORDS]]
        grouped.append(PricingProductData.model_validate(load(latest) | {_RECORDS: records}))
    return grouped


async def pull_evse_pricing(call: OicpCall) -> Answer:
    """PullEVSEPricing (#20): per operator, each EVSE's products for this EMP (its own, else ``*``'s)."""
    body: eRoamingPullEVSEPricing = call.body
    operators, providers = await _offered(call, body.operator_ids)
    rows = await pricing_store.rows_for(call.ctx.db, EVSE, list(operators), providers, with_deleted=True)
    by_operator: dict[str, list[EVSEPricing]] = {}
    for (operator, _), variants in sorted(_by_evse(rows).items()):
        pricing = _effective(variants, providers[0], body.provider_id, body.last_call)
        if pricing is not None:
            by_operator.setdefault(operator, []).append(pricing)
    return eRoamingEVSEPricing(
        evse_pricing=[
            OperatorEVSEPricing(operator_id=operators[operator].oicp_id, evse_pricing=pricings)
            for operator, pricings in by_operator.items()
        ],
        status_code=StatusCode.of(StatusCodeType.SUCCESS),
    )


def _by_evse(rows: Iterable[OicpPricing]) -> dict[tuple[str, str], dict[str, OicpPricing]]:
    """(operator, EVSE) -> provider (own or ``*``) -> row."""
    found: dict[tuple[str, str], dict[str, OicpPricing]] = {}
    for row in rows:
        found.setdefault((row.operator_key, row.item_key), {})[row.provider_id] = row
    return found


def _preferred(variants: dict[str, OicpPricing], own: str) -> OicpPricing | None:
    """What applies for this provider: its own live assignment, else the live one for ``*``."""
    return next(
        (variants[p] for p in (own, OFFER_TO_ALL) if p in variants and variants[p].deleted_at is None), None
    )


def _effective(
    variants: dict[str, OicpPricing], own: str, provider_id: str, since: datetime | None
) -> EVSEPricing | None:
    """The EVSE's pricing as this EMP sees it now; with LastCall only if it changed, and an empty
    product list when nothing applies any more (a delta cannot say "deleted" otherwise)."""
    chosen = _preferred(variants, own)
    if since is None and chosen is None:
        return None
    if since is not None and all(row.updated_at <= since for row in variants.values()):
        return None
    source = load(chosen if chosen is not None else next(iter(variants.values())))
    products = source["EvseIDProductList"] if chosen is not None else []
    # Pulled records carry the EMP's own ProviderID: the schema (EMP side) has no "*" there.
    return EVSEPricing(evse_id=source["EvseID"], provider_id=provider_id, evse_id_product_list=products)


# --- for the CDR pricing ----------------------------------------------------------------------------


async def products_for(
    db: Database, operator_id: str, provider_id: str, evse_id: str | None
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """The PricingProductData (JSON, Decimal numbers) of an operator for a provider, its own before
    ``*``, and the product ids assigned to ``evse_id`` (None when there are none)."""
    operator, own = normalise_oicp_id(operator_id), provider_key(provider_id)
    providers = [own, OFFER_TO_ALL]
    rows = await pricing_store.rows_for(db, PRODUCT, [operator], providers)
    products = [data.model_dump(by_alias=True, exclude_none=True) for data in grouped_products(rows)]
    if evse_id is None:
        return products, None
    assigned = await pricing_store.rows_for(db, EVSE, [operator], providers, item_key=evse_key(evse_id))
    chosen = _preferred({row.provider_id: row for row in assigned}, own)
    return products, list(load(chosen)["EvseIDProductList"]) if chosen is not None else None
