"""The canonical models the adapters meet in the middle: strict, immutable, exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.canonical import Address, Cdr, GeoPoint, Money, PartyRef, TokenRef, TokenType
from schemas.canonical.evse import UnknownCountry, alpha2, alpha3, main_time_zone

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def _cdr(**changes: Any) -> Cdr:
    fields: dict[str, Any] = {
        "id": "CDR-1",
        "session_id": "S-1",
        "cpo": PartyRef.parse("NL-CPO"),
        "emsp": PartyRef.parse("DE-EMS"),
        "token": TokenRef(uid="04A1B2C3", type=TokenType.RFID),
        "evse_id": "NL*CPO*E1",
        "start": START,
        "end": START + timedelta(hours=1),
        "energy_kwh": Decimal("7.5"),
    }
    return Cdr(**(fields | changes))


def test_a_plain_cdr_is_unpriced_and_frozen() -> None:
    cdr = _cdr()
    assert not cdr.priced
    assert cdr.cost_incl_vat is None
    with pytest.raises(ValidationError):
        cdr.energy_kwh = Decimal(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"energy_kwh": 7.5}, "float"),
        ({"energy_kwh": Decimal(-1)}, "greater than or equal"),
        ({"end": START - timedelta(seconds=1)}, "cannot end before"),
        ({"start": datetime(2024, 5, 1, 10, 0)}, "UTC offset"),
        ({"charging_start": START + timedelta(minutes=30), "charging_end": START}, "charging cannot end"),
        ({"credit": True}, "credit_reference_id"),
        ({"currency": "EUR", "cost": Money.of(3, "CHF")}, "CHF"),
        ({"vat": Money.of(1, "EUR")}, "VAT amount without a cost"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_inconsistent_cdrs_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _cdr(**changes)


def test_cost_including_vat() -> None:
    cdr = _cdr(currency="EUR", cost=Money.of("2.50", "EUR"), vat=Money.of("0.525", "EUR"))
    assert cdr.priced
    assert cdr.cost_incl_vat == Money.of("3.025", "EUR")


@pytest.mark.parametrize(
    ("code", "three", "two"), [("DE", "DEU", "DE"), ("nld", "NLD", "NL"), ("be", "BEL", "BE")]
)
def test_country_codes(code: str, three: str, two: str) -> None:
    assert (alpha3(code), alpha2(code)) == (three, two)


def test_unknown_countries() -> None:
    assert alpha3("USA") == "USA"  # already alpha-3: kept
    with pytest.raises(UnknownCountry):
        alpha3("US")
    with pytest.raises(UnknownCountry):
        alpha2("USA")
    assert main_time_zone("USA") is None
    assert main_time_zone("be") == "Europe/Brussels"


def test_address_country_is_alpha3() -> None:
    assert Address(street="Main 1", city="Gent", country="be").country == "BEL"


def test_geo_point_is_exact_and_bounded() -> None:
    assert GeoPoint(latitude="51.047599", longitude=Decimal("3.729944")).latitude == Decimal("51.047599")
    with pytest.raises(ValidationError, match="float"):
        GeoPoint(latitude=51.0, longitude=Decimal(3))
    with pytest.raises(ValidationError):
        GeoPoint(latitude=Decimal(91), longitude=Decimal(0))
