"""ChargingProfiles module: smart-charging requests to the CPO and the asynchronous results.

As with commands, the ``response_url`` (a body field on PUT, a query parameter on GET and DELETE) is
where the CPO posts the result later.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.ocpi.v2_2_1.common import URL, OcpiDateTime, OcpiModel, OcpiNumber


class ChargingProfileResponseType(StrEnum):
    ACCEPTED = "ACCEPTED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TOO_OFTEN = "TOO_OFTEN"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class ChargingProfileResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"


class ChargingRateUnit(StrEnum):
    W = "W"
    A = "A"


class ChargingProfilePeriod(OcpiModel):
    start_period: int
    limit: OcpiNumber


class ChargingProfile(OcpiModel):
    start_date_time: OcpiDateTime | None = None
    duration: int | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: OcpiNumber | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None


class ActiveChargingProfile(OcpiModel):
    start_date_time: OcpiDateTime
    charging_profile: ChargingProfile


class SetChargingProfile(OcpiModel):
    charging_profile: ChargingProfile
    response_url: URL


class ChargingProfileResponse(OcpiModel):
    result: ChargingProfileResponseType
    timeout: int


class ActiveChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None


class ChargingProfileResult(OcpiModel):
    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    result: ChargingProfileResultType
