"""Parties: who is on the other end of a roaming message.

A party is identified by (country code, party id) and acts in one or more roles. OCPI treats both as
case-insensitive CiStrings (ocpi-hub-notes §2.5), so the canonical form is upper case. OICP names the same
parties by OperatorID (a CPO, ``DE*ABC``) and ProviderID (an eMSP, ``DE-XYZ``); their formats follow
Hubject's OpenAPI regexes (oicp-hub-notes §4.1).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator


class Role(StrEnum):
    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class Protocol(StrEnum):
    OCPI = "ocpi"
    OICP = "oicp"


class ConnectionStatus(StrEnum):
    """OCPI HubClientInfo ConnectionStatus; also the hub's own view of a party."""

    CONNECTED = "CONNECTED"
    OFFLINE = "OFFLINE"
    PLANNED = "PLANNED"
    SUSPENDED = "SUSPENDED"


_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PARTY = re.compile(r"^[A-Z0-9]{3}$")
OPERATOR_ID = re.compile(r"^(([A-Za-z]{2}\*?[A-Za-z0-9]{3})|(\+?[0-9]{1,3}\*[0-9]{3}))$")
PROVIDER_ID = re.compile(r"^([A-Za-z]{2}\-?[A-Za-z0-9]{3}|[A-Za-z]{2}[\*-]?[A-Za-z0-9]{3})$")


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _matching(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


CountryCode = Annotated[
    str, BeforeValidator(_upper), _matching(_COUNTRY, "an ISO 3166-1 alpha-2 country code (two letters)")
]
PartyCode = Annotated[
    str, BeforeValidator(_upper), _matching(_PARTY, "a party id (three letters or digits, ISO 15118)")
]
OperatorId = Annotated[str, BeforeValidator(_upper), _matching(OPERATOR_ID, "an OICP OperatorID like DE*ABC")]
ProviderId = Annotated[str, BeforeValidator(_upper), _matching(PROVIDER_ID, "an OICP ProviderID like DE-XYZ")]


def normalise_oicp_id(value: str) -> str:
    """The comparable form of an OperatorID or ProviderID: upper case, separators removed (§4.1)."""
    return re.sub(r"[*\-|]", "", value.upper())


class PartyRef(BaseModel):
    """A (country code, party id) pair, written ``NL-ABC`` on the command line."""

    model_config = ConfigDict(frozen=True, strict=False, extra="forbid")

    country_code: CountryCode
    party_id: PartyCode

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            country, sep, party = value.strip().partition("-")
            if not sep:
                raise ValueError(f"{value!r} is not COUNTRY-PARTY, e.g. NL-ABC")
            return {"country_code": country, "party_id": party}
        return value

    @classmethod
    def parse(cls, text: str) -> PartyRef:
        return cls.model_validate(text)

    def __str__(self) -> str:
        return f"{self.country_code}-{self.party_id}"
