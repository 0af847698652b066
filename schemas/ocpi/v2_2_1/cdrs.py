"""CDRs module: the CDR and the classes it shares with Sessions (CdrToken, ChargingPeriod, ...).

The spec defines CdrToken, CdrDimension, ChargingPeriod and AuthMethod in this chapter; ``sessions``
re-exports them. A CDR is immutable: a correction is a *credit* CDR (``credit`` true, negated totals,
``credit_reference_id`` = the original id) followed by a new CDR.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from schemas.ocpi.v2_2_1.common import (
    OPEN_ENUM,
    URL,
    CiString,
    CountryCode,
    Id36,
    Id39,
    OcpiDateTime,
    OcpiModel,
    OcpiNumber,
    PartyId,
    Price,
    TokenType,
)
from schemas.ocpi.v2_2_1.locations import ConnectorFormat, ConnectorType, GeoLocation, PowerType
from schemas.ocpi.v2_2_1.tariffs import Tariff, TariffDimensionType


class AuthMethod(StrEnum):
    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class CdrDimensionType(StrEnum):
    """CURRENT, ENERGY_EXPORT, ENERGY_IMPORT, POWER and STATE_OF_CHARGE are meant for Sessions only."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class CdrDimension(OcpiModel):
    type: CdrDimensionType
    volume: OcpiNumber


class ChargingPeriod(OcpiModel):
    start_date_time: OcpiDateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: Id36 | None = None


class CdrToken(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: CiString
    type: Annotated[TokenType | str, OPEN_ENUM]
    contract_id: CiString


class CdrLocation(OcpiModel):
    id: Id36
    name: str | None = None
    address: str
    city: str
    postal_code: str | None = None
    state: str | None = None
    country: str
    coordinates: GeoLocation
    evse_uid: Id36
    evse_id: CiString
    connector_id: Id36
    connector_standard: Annotated[ConnectorType | str, OPEN_ENUM]
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    nature: CiString
    plain_data: str
    signed_data: str


class SignedData(OcpiModel):
    encoding_method: CiString
    encoding_method_version: int | None = None
    public_key: str | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: URL | None = None


class CDR(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Id39
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime
    session_id: Id36 | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: Id36 | None = None
    cdr_location: CdrLocation
    meter_id: str | None = None
    currency: str
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: OcpiNumber
    total_energy_cost: Price | None = None
    total_time: OcpiNumber
    total_time_cost: Price | None = None
    total_parking_time: OcpiNumber | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: str | None = None
    invoice_reference_id: CiString | None = None
    credit: bool | None = None
    credit_reference_id: Id39 | None = None
    home_charging_compensation: bool | None = None
    last_updated: OcpiDateTime

    @model_validator(mode="after")
    def _credit_needs_reference(self) -> CDR:
        # mod_cdrs, CDR object: credit_reference_id is required when credit is true.
        if self.credit and not self.credit_reference_id:
            raise ValueError("a credit CDR (credit=true) requires credit_reference_id")
        return self


__all__ = [
    "CDR",
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "SignedData",
    "SignedValue",
    "TariffDimensionType",
]
