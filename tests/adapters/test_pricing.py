"""Pricing OICP CDRs from dynamic pricing data (PricingProductData, EVSEPricing)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.oicp.cdr import to_canonical
from adapters.pricing import price
from schemas.canonical.cdr import Cdr
from schemas.canonical.money import Money
from schemas.canonical.party import PartyRef
from schemas.oicp.v2_3.cdr import ChargeDetailRecord
from tests.adapters import oicp_example, spec_cdr

PROVIDER = "DE-DCB"


def _cdr(**changes: Any) -> Cdr:
    raw = spec_cdr() | changes
    return to_canonical(
        ChargeDetailRecord.model_validate(raw), PartyRef.parse("DE-XYZ"), PartyRef.parse("DE-DCB")
    )


def _products() -> list[dict[str, Any]]:
    """Hubject's example: AC 1 at 1 EUR per hour, parking 2 EUR per hour, 09:00 to 18:00, for "*"."""
    return [oicp_example("cpo__eroamingpushpricingproductdata__request.json")["PricingProductData"]]


def _with_record(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    record = data["PricingProductDataRecords"][0] | changes
    return data | {"PricingProductDataRecords": [record]}


def test_partner_product_id_prices_the_spec_example() -> None:
    priced = price(_cdr(), _products(), None, provider_id=PROVIDER)
    assert priced is not None
    # 1.5 h x 1 EUR + parking (2.5 + 7.5 min = 1/6 h) x 2 EUR = 1.8333... EUR, 4 decimals.
    assert priced.cost == Money.of("1.8333", "EUR")
    assert (priced.currency, priced.product_id, priced.vat) == ("EUR", "AC 1", None)
    assert priced.priced
    assert priced.model_copy(update={"cost": None, "currency": None}) == _cdr()


def test_assigned_evse_product_when_no_partner_product_id() -> None:
    priced = price(_cdr(PartnerProductID=None), _products(), ["AC 1"], provider_id=PROVIDER)
    assert priced is not None
    assert priced.cost == Money.of("1.8333", "EUR")


def test_assigned_product_outside_its_hours_falls_back_to_the_default() -> None:
    data = _products()[0] | {
        "PricingDefaultPrice": Decimal("0.45"),
        "PricingDefaultReferenceUnit": "KILOWATT_HOUR",
    }
    late = _cdr(
        PartnerProductID=None,
        ChargingStart="2020-09-23T19:00:00+02:00",
        ChargingEnd="2020-09-23T19:30:00+02:00",
        SessionStart="2020-09-23T19:00:00+02:00",
        SessionEnd="2020-09-23T19:30:00+02:00",
    )
    priced = price(late, [data], ["AC 1"], provider_id=PROVIDER)
    assert priced is not None
    assert priced.cost == Money.of("4.5", "EUR")  # default: 10 kWh x 0.45
    assert priced.product_id is None


def test_unknown_partner_product_falls_back_to_evse_products_then_default() -> None:
    data = _products()[0] | {"PricingDefaultPrice": 3, "PricingDefaultReferenceUnit": "HOUR"}
    via_evse = price(_cdr(PartnerProductID="DC"), [data], ["AC 1"], provider_id=PROVIDER)
    assert via_evse is not None
    assert via_evse.product_id == "AC 1"
    default = price(_cdr(PartnerProductID="DC"), [data], None, provider_id=PROVIDER)
    assert default is not None
    assert default.cost == Money.of("4.5", "EUR")  # 1.5 charging hours x 3
    assert default.product_id == "DC"  # the CPO's claim is kept when no product matched


def test_data_for_this_provider_beats_offer_to_all() -> None:
    everyone = _products()[0]
    ours = _with_record(everyone | {"ProviderID": "DE*DCB"}, PricePerReferenceUnit=2, AdditionalReferences=[])
    theirs = _with_record(
        everyone | {"ProviderID": "DE-OTH"}, PricePerReferenceUnit=9, AdditionalReferences=[]
    )
    priced = price(_cdr(), [everyone, theirs, ours], None, provider_id=PROVIDER)
    assert priced is not None
    assert priced.cost == Money.of("3", "EUR")


def test_nothing_applies() -> None:
    theirs = _products()[0] | {"ProviderID": "DE-OTH"}
    assert price(_cdr(), [theirs], ["AC 1"], provider_id=PROVIDER) is None
    assert price(_cdr(), [], ["AC 1"], provider_id=PROVIDER) is None


def test_energy_price_with_fees_and_bounds() -> None:
    fees = [
        {
            "AdditionalReference": "START FEE",
            "AdditionalReferenceUnit": "HOUR",
            "PricePerAdditionalReferenceUnit": 1,
        },
        {
            "AdditionalReference": "MINIMUM FEE",
            "AdditionalReferenceUnit": "HOUR",
            "PricePerAdditionalReferenceUnit": 5,
        },
    ]
    data = _with_record(
        _products()[0],
        ReferenceUnit="KILOWATT_HOUR",
        PricePerReferenceUnit=Decimal("0.39"),
        AdditionalReferences=fees,
    )
    priced = price(_cdr(), [data], None, provider_id=PROVIDER)
    assert priced is not None
    assert priced.cost == Money.of("5", "EUR")  # 10 x 0.39 + 1 = 4.90, raised to the minimum
    capped = _with_record(
        data,
        AdditionalReferences=[
            {
                "AdditionalReference": "MAXIMUM FEE",
                "AdditionalReferenceUnit": "HOUR",
                "PricePerAdditionalReferenceUnit": 3,
            }
        ],
    )
    assert price(_cdr(), [capped], None, provider_id=PROVIDER).cost == Money.of("3", "EUR")  # type: ignore[union-attr]


def test_per_minute_without_charging_times_uses_the_session() -> None:
    data = _with_record(
        _products()[0], ReferenceUnit="MINUTE", PricePerReferenceUnit=Decimal("0.07"), AdditionalReferences=[]
    )
    cdr = _cdr().model_copy(update={"charging_start": None, "charging_end": None})
    priced = price(cdr, [data], None, provider_id=PROVIDER)
    assert priced is not None
    assert priced.cost == Money.of("7", "EUR")  # 100 session minutes x 0.07


@pytest.mark.parametrize(
    "record_changes",
    [
        {"ReferenceUnit": "DAY"},
        {
            "AdditionalReferences": [
                {
                    "AdditionalReference": "PARKING FEE",
                    "AdditionalReferenceUnit": "KILOWATT_HOUR",
                    "PricePerAdditionalReferenceUnit": 1,
                }
            ]
        },
        {"ProductPriceCurrency": "CHF"},
    ],
)
def test_data_that_cannot_be_applied_honestly_gives_no_price(record_changes: dict[str, Any]) -> None:
    data = _with_record(_products()[0], **record_changes)
    cdr = _cdr().model_copy(update={"currency": "EUR"})
    assert price(cdr, [data], None, provider_id=PROVIDER) is None


def test_overnight_availability() -> None:
    night = _with_record(
        _products()[0],
        ProductID="NIGHT",
        ProductAvailabilityTimes=[{"Periods": [{"begin": "22:00", "end": "06:00"}], "on": "Workdays"}],
    )
    day = _with_record(_products()[0], ProductID="DAY", IsValid24hours=True, PricePerReferenceUnit=5)
    at_night = _cdr(
        PartnerProductID=None,
        ChargingStart="2020-09-23T23:30:00+02:00",
        ChargingEnd="2020-09-24T00:30:00+02:00",
        SessionStart="2020-09-23T23:30:00+02:00",
        SessionEnd="2020-09-24T00:30:00+02:00",
    )
    chosen = price(at_night, [night, day], ["NIGHT", "DAY"], provider_id=PROVIDER)
    assert chosen is not None
    assert chosen.product_id == "NIGHT"
    in_the_day = price(_cdr(PartnerProductID=None), [night, day], ["NIGHT", "DAY"], provider_id=PROVIDER)
    assert in_the_day is not None
    assert in_the_day.product_id == "DAY"
