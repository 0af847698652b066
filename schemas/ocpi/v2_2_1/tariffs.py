"""Tariffs module: Tariff, its elements, price components and restrictions.

Prices are excluding VAT in 2.2.1; ``vat`` absent does not mean 0 %. The hub never prices anything, so
restrictions are typed but their combination rules are not checked here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.ocpi.v2_2_1.common import (
    URL,
    CountryCode,
    DisplayText,
    Id36,
    OcpiDateTime,
    OcpiModel,
    OcpiNumber,
    PartyId,
    Price,
)
from schemas.ocpi.v2_2_1.locations import EnergyMix

_HH_MM = r"^[0-2][0-9]:[0-5][0-9]$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class DayOfWeek(StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class PriceComponent(OcpiModel):
    type: TariffDimensionType
    price: OcpiNumber
    vat: OcpiNumber | None = None
    step_size: int


class TariffRestrictions(OcpiModel):
    start_time: Annotated[str, Field(pattern=_HH_MM)] | None = None
    end_time: Annotated[str, Field(pattern=_HH_MM)] | None = None
    start_date: Annotated[str, Field(pattern=_DATE)] | None = None
    end_date: Annotated[str, Field(pattern=_DATE)] | None = None
    min_kwh: OcpiNumber | None = None
    max_kwh: OcpiNumber | None = None
    min_current: OcpiNumber | None = None
    max_current: OcpiNumber | None = None
    min_power: OcpiNumber | None = None
    max_power: OcpiNumber | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None


class Tariff(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Id36
    currency: str
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: OcpiDateTime | None = None
    end_date_time: OcpiDateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: OcpiDateTime
