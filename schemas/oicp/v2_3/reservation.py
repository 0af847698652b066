"""eRoamingReservation (reservation v1.1): AuthorizeRemoteReservationStart/Stop, answered with an Ack.

Both schemas spell ``EMPPartnerSessionId``; everywhere else it is ``EMPPartnerSessionID`` (notes §8.1):
both are read, the ``ID`` form is written.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from schemas.oicp.v2_3.authorization import Identification
from schemas.oicp.v2_3.common import EvseID, OicpModel, PartnerSessionID, ProductID, ProviderID, SessionID


class _ReservationBase(OicpModel):
    cpo_partner_session_id: PartnerSessionID | None = Field(default=None, alias="CPOPartnerSessionID")
    emp_partner_session_id: PartnerSessionID | None = Field(
        default=None,
        alias="EMPPartnerSessionID",
        validation_alias=AliasChoices("EMPPartnerSessionID", "EMPPartnerSessionId"),
    )
    provider_id: ProviderID = Field(alias="ProviderID")
    evse_id: EvseID = Field(alias="EvseID")


class eRoamingAuthorizeRemoteReservationStart(_ReservationBase):
    """EMP → Hubject → CPO. Hubject creates the SessionID; ``Duration`` is in minutes (1-99)."""

    session_id: SessionID | None = Field(default=None, alias="SessionID")
    identification: Identification = Field(alias="Identification")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")
    duration: int | None = Field(default=None, alias="Duration")


class eRoamingAuthorizeRemoteReservationStop(_ReservationBase):
    """Needs the reservation's SessionID; afterwards the CPO must send a CDR."""

    session_id: SessionID = Field(alias="SessionID")
