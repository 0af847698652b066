"""Tokens module: Token, real-time authorization (AuthorizationInfo) and their enums.

(uid, type) identifies a token within an eMSP. TokenType is defined in ``common`` (Locations and CDRs use
it too) and re-exported here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from schemas.ocpi.v2_2_1.common import (
    OPEN_ENUM,
    CiString,
    CountryCode,
    DisplayText,
    Id36,
    OcpiDateTime,
    OcpiModel,
    PartyId,
    TokenType,
)
from schemas.ocpi.v2_2_1.sessions import ProfileType


class AllowedType(StrEnum):
    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class WhitelistType(StrEnum):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class EnergyContract(OcpiModel):
    supplier_name: str
    contract_id: str | None = None


class LocationReferences(OcpiModel):
    location_id: Id36
    evse_uids: list[Id36] | None = None


class Token(OcpiModel):
    country_code: CountryCode
    party_id: PartyId
    uid: Id36
    type: Annotated[TokenType | str, OPEN_ENUM]
    contract_id: CiString
    visual_number: str | None = None
    issuer: str
    group_id: CiString | None = None
    valid: bool
    whitelist: WhitelistType
    language: str | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: OcpiDateTime


class AuthorizationInfo(OcpiModel):
    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: Id36 | None = None
    info: DisplayText | None = None


__all__ = [
    "AllowedType",
    "AuthorizationInfo",
    "EnergyContract",
    "LocationReferences",
    "Token",
    "TokenType",
    "WhitelistType",
]
