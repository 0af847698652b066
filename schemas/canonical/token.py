"""Tokens: the driver's means of identification, as the hub routes it.

The canonical token is OCPI's: a ``uid`` with a ``type`` (OCPI TokenType, ocpi-hub-notes §6.5) and the
driver's contract id, which OICP calls the EvcoID / EMAID (oicp-hub-notes §9). OICP's five Identification
members translate to and from it in ``adapters.oicp.identification``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TokenType(StrEnum):
    """OCPI 2.2.1 TokenType; the values are the spec's strings."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class TokenRef(BaseModel):
    """Who is charging: enough to route an authorisation and to name the driver in a CDR.

    ``uid`` is kept as the adapter produced it (OICP UIDs are upper-cased there; OCPI uids are CiStrings,
    so compare them through :attr:`index_key`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    uid: str = Field(min_length=1, max_length=250)
    type: TokenType
    contract_id: str | None = Field(default=None, min_length=1, max_length=250)

    @property
    def ocpi_query_type(self) -> str:
        """The ``?type=`` value of OCPI's ``GET/POST tokens/{uid}`` (omitting it means RFID)."""
        return self.type.value

    @property
    def index_key(self) -> tuple[str, str]:
        """(uid, type) is unique within an eMSP (ocpi-hub-notes §6.5); uid compared case-insensitively."""
        return (self.uid.upper(), self.type.value)
