"""Charge detail records: one finished charging session, as the hub stores, prices, books and forwards it.

An OCPI CDR always carries a price (``total_cost``); an OICP CDR never does (oicp-hub-notes §9), so
``cost`` is optional here and :attr:`Cdr.priced` says whether an OCPI eMSP can be sent this record.
``cost`` excludes VAT and keeps the sign it has on the wire (negative in an OCPI credit CDR).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.canonical.evse import no_float
from schemas.canonical.money import Money
from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef


class AuthMethod(StrEnum):
    """OCPI AuthMethod: how the session was authorised."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class SignedValue(BaseModel):
    """One signed meter reading (German Eichrecht and the like).

    ``nature`` is OCPI's (``Start``, ``Intermediate``, ``End``); OICP's MeteringStatus Progress is
    ``Intermediate`` here. OICP carries no plain-text reading, so ``plain_data`` may be None.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    nature: str
    signed_data: str
    plain_data: str | None = None


class Cdr(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=39)
    """The CDR id in the CPO's protocol: OCPI CDR id, or the OICP SessionID."""
    session_id: str = Field(min_length=1, max_length=250)
    """The session id the CPO used: OCPI session_id (else the CDR id), or the OICP SessionID."""
    cpo: PartyRef
    emsp: PartyRef
    token: TokenRef
    evse_id: str = Field(min_length=1, max_length=48)
    location_id: str | None = Field(default=None, max_length=36)
    auth_method: AuthMethod = AuthMethod.AUTH_REQUEST
    authorization_reference: str | None = Field(default=None, max_length=36)
    start: datetime
    end: datetime
    charging_start: datetime | None = None
    charging_end: datetime | None = None
    energy_kwh: Decimal = Field(ge=0)
    meter_start: Decimal | None = None
    meter_end: Decimal | None = None
    signed_values: tuple[SignedValue, ...] | None = None
    signing_method: str | None = None
    """OCPI SignedData ``encoding_method`` (e.g. ``OCMF``) when known."""
    public_key: str | None = None
    product_id: str | None = Field(default=None, max_length=50)
    """OICP PartnerProductID: the tariff the CPO says applies."""
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    cost: Money | None = None
    """Total cost excluding VAT."""
    vat: Money | None = None
    """The VAT amount (not a rate); None when unknown, which is not zero."""
    credit: bool = False
    credit_reference_id: str | None = Field(default=None, max_length=39)

    @field_validator("energy_kwh", "meter_start", "meter_end", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        return no_float(value)

    @model_validator(mode="after")
    def _consistent(self) -> Cdr:
        for name in ("start", "end", "charging_start", "charging_end"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} must carry a UTC offset")
        if self.end < self.start:
            raise ValueError("a CDR cannot end before it starts")
        if self.charging_start and self.charging_end and self.charging_end < self.charging_start:
            raise ValueError("charging cannot end before it starts")
        self._check_money()
        if self.credit and not self.credit_reference_id:
            raise ValueError("a credit CDR needs credit_reference_id (OCPI mod_cdrs)")
        return self

    def _check_money(self) -> None:
        for name in ("cost", "vat"):
            money: Money | None = getattr(self, name)
            if money is not None and self.currency is not None and money.currency != self.currency:
                raise ValueError(f"{name} is in {money.currency}, the CDR in {self.currency}")
        if self.vat is not None and self.cost is None:
            raise ValueError("a VAT amount without a cost")

    @property
    def priced(self) -> bool:
        """True when the record carries a cost, as an OCPI CDR must."""
        return self.cost is not None

    @property
    def cost_incl_vat(self) -> Money | None:
        """Cost including VAT, when the VAT amount is known."""
        if self.cost is None or self.vat is None:
            return None
        return self.cost + self.vat
