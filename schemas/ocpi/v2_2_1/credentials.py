"""Credentials module: the object exchanged on registration (POST), update (PUT) and GET."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from schemas.ocpi.v2_2_1.common import URL, BusinessDetails, CountryCode, OcpiModel, PartyId, Role


class CredentialsRole(OcpiModel):
    role: Role
    business_details: BusinessDetails
    party_id: PartyId
    country_code: CountryCode


class Credentials(OcpiModel):
    token: str
    url: URL
    roles: Annotated[list[CredentialsRole], Field(min_length=1)]
