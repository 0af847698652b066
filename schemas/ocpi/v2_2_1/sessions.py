"""Sessions module: Session, ChargingPreferences and their enums.

CdrToken, ChargingPeriod, CdrDimension and AuthMethod are defined in the CDRs chapter of the spec
(``cdrs``) and re-exported here. In a PATCH, ``charging_periods`` are appended, not replaced; that is
the receiver's business, not the model's.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.ocpi.v2_2_1.cdrs import AuthMethod, CdrDimension, CdrDimensionType, CdrToken, ChargingPeriod
from schemas.ocpi.v2_2_1.common import (
    CountryCode,
    Id36,
    OcpiDateTime,
    OcpiModel,
    OcpiNumber,
    PartyId,
    Price,
)


class ChargingPreferencesResponse(StrEnum):
    ACCEPTED = "ACCEPTED"
    DEPARTURE_REQUIRED = "DEPARTURE_REQUIRED"
    ENERGY_NEED_REQUIRED = "ENERGY_NEED_REQUIRED"
    NOT_POSSIBLE = "NOT_POSSIBLE"
    PROFILE_TYPE_NOT_SUPPORTED = "PROFILE_TYPE_NOT_SUPPORTED"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class SessionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    INVALID = "INVALID"
    PENDING = "PENDING"
    RESERVATION = "RESERVATION"


class ChargingPreferences(OcpiModel):
    profile_type: ProfileType
    departure_time: OcpiDateTime | None = None
    energy_need: OcpiNumber | None = None
    discharge_allowed: bool | None = None


class Session(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    id: Id36
    start_date_time: OcpiDateTime
    end_date_time: OcpiDateTime | None = None
    kwh: OcpiNumber
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: Id36 | None = None
    # "#NA" is allowed in these three when the value cannot be known (a reservation on a location).
    location_id: Id36
    evse_uid: Id36
    connector_id: Id36
    meter_id: str | None = None
    currency: str
    charging_periods: list[ChargingPeriod] | None = None
    total_cost: Price | None = None
    status: SessionStatus
    last_updated: OcpiDateTime


__all__ = [
    "AuthMethod",
    "CdrDimension",
    "CdrDimensionType",
    "CdrToken",
    "ChargingPeriod",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ProfileType",
    "Session",
    "SessionStatus",
]
