from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.canonical import CurrencyMismatch, Money


def test_adds_and_subtracts_within_one_currency() -> None:
    total = Money.of("1.10", "EUR") + Money.of("2.2", "EUR") - Money.of(1, "EUR")
    assert total == Money.of("2.30", "EUR")
    assert -total == Money.of("-2.3", "EUR")


def test_refuses_to_mix_currencies() -> None:
    with pytest.raises(CurrencyMismatch, match="EUR and CHF"):
        Money.of(1, "EUR") + Money.of(1, "CHF")


def test_refuses_float_and_excess_precision() -> None:
    with pytest.raises(ValidationError, match="float"):
        Money(amount=0.1, currency="EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="4 decimals"):
        Money.of("0.00001", "EUR")
    with pytest.raises(ValidationError):
        Money.of(1, "eur")


def test_is_immutable() -> None:
    money = Money.of(1, "EUR")
    with pytest.raises(ValidationError):
        money.amount = Decimal(2)  # type: ignore[misc]


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(["EUR", "CHF", "SEK"])
)
def test_database_units_round_trip_exactly(units: int, currency: str) -> None:
    money = Money.from_units(units, currency)
    assert money.to_units() == units
    assert Money.from_units(money.to_units(), currency) == money
