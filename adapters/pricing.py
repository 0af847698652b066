"""Pricing an OICP CDR from the CPO's dynamic pricing data (dynamicpricing v1.0, oicp-hub-notes §2 rows
17 to 20, §9), so that an OCPI eMSP, which needs ``total_cost``, can be sent it.

Which price applies, in order:

1. the CDR's PartnerProductID, when the pricing data has a product of that id;
2. else the EVSE's assigned products (PushEVSEPricing ``EvseIDProductList``, in the given order), the
   first one available at the time charging started (``IsValid24hours`` or ``ProductAvailabilityTimes``,
   read in the CDR's own UTC offset, which OICP says is the charge point's local one);
3. else the operator's default price (PricingDefaultPrice, "for pricing sessions at undefined EVSEs").

Data pushed for this provider beats data pushed for ``*`` (offer to all), at every step. A product's
``MaximumProductChargingPower`` is not checked: a CDR does not say what power was drawn.

Amounts: ``PricePerReferenceUnit`` times the quantity (kWh for KILOWATT_HOUR; charging time, else
session time, for HOUR and MINUTE), plus START FEE and FIXED FEE once, plus PARKING FEE per unit of
session time spent not charging (session start to charging start, charging end to session end; Hubject
leaves this to the service offer), then MINIMUM FEE and MAXIMUM FEE as bounds. Prices exclude VAT
(best-practice guide), so ``vat`` stays None. Decimal throughout, rounded half up to 4 decimals once,
at the end.

When nothing applies, or the data cannot be read honestly (an unknown unit, a parking fee per kWh, a
currency other than the CDR's), the answer is None: the hub holds the CDR for review rather than send it
as free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from schemas.canonical.cdr import Cdr
from schemas.canonical.money import Money
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3.common import OFFER_TO_ALL, operator_id_of
from schemas.oicp.v2_3.dynamic_pricing import (
    AdditionalReferences,
    AdditionalReferenceType,
    PricingProductData,
    PricingProductDataRecord,
    ReferenceUnit,
)
from schemas.oicp.v2_3.evse_data import DayValue

_CENT_FRACTION = Decimal("0.0001")
_SECONDS = {ReferenceUnit.HOUR: Decimal(3600), ReferenceUnit.MINUTE: Decimal(60)}
_DAYS = {
    DayValue.EVERYDAY: range(7),
    DayValue.WORKDAYS: range(5),
    DayValue.WEEKEND: range(5, 7),
    DayValue.MONDAY: (0,),
    DayValue.TUESDAY: (1,),
    DayValue.WEDNESDAY: (2,),
    DayValue.THURSDAY: (3,),
    DayValue.FRIDAY: (4,),
    DayValue.SATURDAY: (5,),
    DayValue.SUNDAY: (6,),
}


class Unpriceable(ValueError):
    """The pricing data cannot be applied honestly; :func:`price` turns this into None."""


@dataclass(frozen=True)
class _Rate:
    """One price per unit, with the extras of a product (none for the default price)."""

    product_id: str | None
    price: Decimal
    unit: str
    currency: str
    extras: tuple[AdditionalReferences, ...] = ()


def price(
    cdr: Cdr, products: list[dict[str, Any]], evse_products: list[str] | None, *, provider_id: str
) -> Cdr | None:
    """The CDR with ``cost`` (excl. VAT), ``currency`` and the applied ``product_id`` set, or None.

    ``products`` are PricingProductData objects (JSON) the EVSE's CPO pushed, for ``provider_id`` or
    ``*``; ``evse_products`` the product ids assigned to the CDR's EVSE, if any.
    """
    data = _ranked(products, provider_id, cdr.evse_id)
    if not data:
        return None
    rate = _choose(cdr, data, evse_products or [])
    if cdr.currency is not None and rate.currency != cdr.currency:
        return None
    try:
        amount = _amount(cdr, rate)
    except Unpriceable:
        return None
    cost = Money.of(amount.quantize(_CENT_FRACTION, rounding=ROUND_HALF_UP), rate.currency)
    return cdr.model_copy(
        update={"cost": cost, "currency": rate.currency, "product_id": rate.product_id or cdr.product_id}
    )


def _ranked(products: Iterable[dict[str, Any]], provider_id: str, evse_id: str) -> list[PricingProductData]:
    """Data for this provider first, then ``*``; within each, the EVSE's own operator first."""
    provider = normalise_oicp_id(provider_id)
    operator = normalise_oicp_id(operator_id_of(evse_id))
    ranked: list[tuple[int, int, int, PricingProductData]] = []
    for index, raw in enumerate(products):
        data = PricingProductData.model_validate(raw)
        if data.provider_id == OFFER_TO_ALL:
            provider_rank = 1
        elif normalise_oicp_id(data.provider_id) == provider:
            provider_rank = 0
        else:
            continue
        operator_rank = 0 if normalise_oicp_id(data.operator_id) == operator else 1
        ranked.append((provider_rank, operator_rank, index, data))
    return [data for *_, data in sorted(ranked, key=lambda item: item[:3])]


def _choose(cdr: Cdr, data: list[PricingProductData], evse_products: list[str]) -> _Rate:
    if cdr.product_id:
        record = _record(data, cdr.product_id)
        if record is not None:
            return _product_rate(record)
    started = cdr.charging_start or cdr.start
    for product_id in evse_products:
        record = _record(data, product_id)
        if record is not None and _available(record, started):
            return _product_rate(record)
    default = data[0]
    return _Rate(
        product_id=None,
        price=default.pricing_default_price,
        unit=str(default.pricing_default_reference_unit),
        currency=default.pricing_default_price_currency,
    )


def _record(data: list[PricingProductData], product_id: str) -> PricingProductDataRecord | None:
    for entry in data:
        for record in entry.pricing_product_data_records:
            if record.product_id == product_id:
                return record
    return None


def _product_rate(record: PricingProductDataRecord) -> _Rate:
    return _Rate(
        product_id=record.product_id,
        price=record.price_per_reference_unit,
        unit=str(record.reference_unit),
        currency=record.product_price_currency,
        extras=tuple(record.additional_references or ()),
    )


def _available(record: PricingProductDataRecord, when: datetime) -> bool:
    """Is the product applicable at ``when`` (local time as the CDR states it)?"""
    if record.is_valid_24_hours or not record.product_availability_times:
        return True  # times "SHOULD" be given when not valid 24 hours; none given restricts nothing
    minute = when.hour * 60 + when.minute
    weekday = when.weekday()
    for times in record.product_availability_times:
        if weekday in _DAYS.get(DayValue(times.on), ()) and any(
            _within(minute, period.begin, period.end) for period in times.periods
        ):
            return True
    return False


def _within(minute: int, begin: str, end: str) -> bool:
    start, stop = _minutes(begin), _minutes(end)
    if start < stop:
        return start <= minute < stop
    return minute >= start or minute < stop  # overnight, or the whole day when begin == end


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


# --- Amounts ----------------------------------------------------------------------------------------


def _amount(cdr: Cdr, rate: _Rate) -> Decimal:
    total = rate.price * _quantity(cdr, rate.unit)
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    for extra in rate.extras:
        kind, fee = str(extra.additional_reference), extra.price_per_additional_reference_unit
        if kind in (AdditionalReferenceType.START_FEE, AdditionalReferenceType.FIXED_FEE):
            total += fee
        elif kind == AdditionalReferenceType.PARKING_FEE:
            total += fee * _parking_quantity(cdr, str(extra.additional_reference_unit))
        elif kind == AdditionalReferenceType.MINIMUM_FEE:
            minimum = fee
        elif kind == AdditionalReferenceType.MAXIMUM_FEE:
            maximum = fee
        else:
            raise Unpriceable(f"unknown AdditionalReference {kind!r}")
    if minimum is not None:
        total = max(total, minimum)
    if maximum is not None:
        total = min(total, maximum)
    return total


def _quantity(cdr: Cdr, unit: str) -> Decimal:
    if unit == ReferenceUnit.KILOWATT_HOUR:
        return cdr.energy_kwh
    if cdr.charging_start is not None and cdr.charging_end is not None:
        return _in_unit(cdr.charging_end - cdr.charging_start, unit)
    return _in_unit(cdr.end - cdr.start, unit)


def _parking_quantity(cdr: Cdr, unit: str) -> Decimal:
    if unit == ReferenceUnit.KILOWATT_HOUR:
        raise Unpriceable("a parking fee per kWh has no meaning")
    if cdr.charging_start is None or cdr.charging_end is None:
        return Decimal(0)
    parked = (cdr.charging_start - cdr.start) + (cdr.end - cdr.charging_end)
    return _in_unit(max(parked, timedelta(0)), unit)


def _in_unit(duration: timedelta, unit: str) -> Decimal:
    try:
        per_unit = _SECONDS[ReferenceUnit(unit)]
    except (KeyError, ValueError):
        raise Unpriceable(f"unknown ReferenceUnit {unit!r}") from None
    microseconds = Decimal(duration // timedelta(microseconds=1))
    return microseconds / Decimal(1_000_000) / per_unit
