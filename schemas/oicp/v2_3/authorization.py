"""eRoamingAuthorization (charging v2.1): AuthorizeStart/Stop, AuthorizeRemoteStart/Stop, Identification.

Identification carries exactly one of five members on a real wire (notes §3), but Hubject's examples fill
in all five and its responses carry the others as ``null``, so the model accepts any number and
:meth:`Identification.only` picks the one a handler should act on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.oicp.v2_3.common import (
    OPEN_ENUM,
    UID,
    EvcoID,
    EvseID,
    OicpDateTime,
    OicpModel,
    OperatorID,
    PartnerSessionID,
    ProductID,
    ProviderID,
    SessionID,
    StatusCode,
)

# --- Identification (data types: IdentificationType) ------------------------------------------------


class RFIDType(StrEnum):
    MIFARE_CLASSIC = "mifareCls"
    MIFARE_DESFIRE = "mifareDes"
    CALYPSO = "calypso"
    NFC = "nfc"
    MIFARE_FAMILY = "mifareFamily"


class HashFunction(StrEnum):
    BCRYPT = "Bcrypt"


class LegacyHashFunction(StrEnum):
    MD5 = "MD5"
    SHA_1 = "SHA-1"


class LegacyHashData(OicpModel):
    function: LegacyHashFunction = Field(alias="Function")
    salt: str | None = Field(default=None, alias="Salt")
    value: str | None = Field(default=None, alias="Value")


class HashedPIN(OicpModel):
    """Only in pushed authentication data; must be null in authorization requests (notes §3)."""

    value: str = Field(alias="Value")
    function: HashFunction = Field(alias="Function")
    legacy_hash_data: LegacyHashData | None = Field(default=None, alias="LegacyHashData")


class RFIDMifareFamilyIdentification(OicpModel):
    """The RFID option for AuthorizeStart/Stop."""

    uid: UID = Field(alias="UID")


class RFIDIdentification(OicpModel):
    """Pushed authentication data only; "MUST not be used in the eRoamingAuthorization process"."""

    uid: UID = Field(alias="UID")
    rfid: Annotated[RFIDType | str, OPEN_ENUM] = Field(alias="RFID")
    evco_id: EvcoID | None = Field(default=None, alias="EvcoID")
    printed_number: str | None = Field(default=None, alias="PrintedNumber")
    expiry_date: OicpDateTime | None = Field(default=None, alias="ExpiryDate")


class QRCodeIdentification(OicpModel):
    evco_id: EvcoID = Field(alias="EvcoID")
    hashed_pin: HashedPIN | None = Field(default=None, alias="HashedPIN")
    pin: str | None = Field(default=None, alias="PIN")


class PlugAndChargeIdentification(OicpModel):
    evco_id: EvcoID = Field(alias="EvcoID")


class RemoteIdentification(OicpModel):
    """The only option allowed for remote start/stop and reservations."""

    evco_id: EvcoID = Field(alias="EvcoID")


IdentificationMember = (
    RFIDMifareFamilyIdentification
    | RFIDIdentification
    | QRCodeIdentification
    | PlugAndChargeIdentification
    | RemoteIdentification
)


class Identification(OicpModel):
    rfid_mifare_family_identification: RFIDMifareFamilyIdentification | None = Field(
        default=None, alias="RFIDMifareFamilyIdentification"
    )
    rfid_identification: RFIDIdentification | None = Field(default=None, alias="RFIDIdentification")
    qr_code_identification: QRCodeIdentification | None = Field(default=None, alias="QRCodeIdentification")
    plug_and_charge_identification: PlugAndChargeIdentification | None = Field(
        default=None, alias="PlugAndChargeIdentification"
    )
    remote_identification: RemoteIdentification | None = Field(default=None, alias="RemoteIdentification")

    def members(self) -> list[IdentificationMember]:
        """The members that are present, in the schema's order."""
        candidates: list[IdentificationMember | None] = [
            self.rfid_mifare_family_identification,
            self.rfid_identification,
            self.qr_code_identification,
            self.plug_and_charge_identification,
            self.remote_identification,
        ]
        return [member for member in candidates if member is not None]

    def only(self) -> IdentificationMember:
        """The single member a real message carries; ValueError when there are none or several."""
        present = self.members()
        if len(present) != 1:
            names = [type(member).__name__ for member in present]
            raise ValueError(f"an Identification must carry exactly one member, got {names or 'none'}")
        return present[0]

    @property
    def evco_id(self) -> str | None:
        """The EvcoID of the present member, if it has one (the routing key of notes §4.2)."""
        for member in self.members():
            evco_id = getattr(member, "evco_id", None)
            if evco_id is not None:
                return str(evco_id)
        return None


# --- Messages ---------------------------------------------------------------------------------------


class AuthorizationStatus(StrEnum):
    AUTHORIZED = "Authorized"
    NOT_AUTHORIZED = "NotAuthorized"


class _PartnerSessionIDs(OicpModel):
    cpo_partner_session_id: PartnerSessionID | None = Field(default=None, alias="CPOPartnerSessionID")
    emp_partner_session_id: PartnerSessionID | None = Field(default=None, alias="EMPPartnerSessionID")


class eRoamingAuthorizeStart(_PartnerSessionIDs):
    """CPO → Hubject → EMP(s). A SessionID sent by the CPO is ignored; Hubject creates one."""

    session_id: SessionID | None = Field(default=None, alias="SessionID")
    operator_id: OperatorID = Field(alias="OperatorID")
    evse_id: EvseID | None = Field(default=None, alias="EvseID")
    identification: Identification = Field(alias="Identification")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")


class eRoamingAuthorizationStart(_PartnerSessionIDs):
    """The answer to AuthorizeStart; ProviderID is set when Authorized."""

    session_id: SessionID | None = Field(default=None, alias="SessionID")
    provider_id: ProviderID | None = Field(default=None, alias="ProviderID")
    authorization_status: AuthorizationStatus = Field(alias="AuthorizationStatus")
    status_code: StatusCode = Field(alias="StatusCode")
    authorization_stop_identifications: list[Identification] | None = Field(
        default=None, alias="AuthorizationStopIdentifications"
    )


class eRoamingAuthorizeStop(_PartnerSessionIDs):
    session_id: SessionID = Field(alias="SessionID")
    operator_id: OperatorID = Field(alias="OperatorID")
    evse_id: EvseID | None = Field(default=None, alias="EvseID")
    identification: Identification = Field(alias="Identification")


class eRoamingAuthorizationStop(_PartnerSessionIDs):
    session_id: SessionID | None = Field(default=None, alias="SessionID")
    provider_id: ProviderID | None = Field(default=None, alias="ProviderID")
    authorization_status: AuthorizationStatus = Field(alias="AuthorizationStatus")
    status_code: StatusCode = Field(alias="StatusCode")


class eRoamingAuthorizeRemoteStart(_PartnerSessionIDs):
    """EMP → Hubject → CPO; answered with an eRoamingAcknowledgement.

    ``SessionID`` is required by the schema, which is right towards the CPO, but optional from the EMP,
    and Hubject ignores it there (notes §8.5, hubject/oicp PR #140): the model accepts it missing.
    """

    session_id: SessionID | None = Field(default=None, alias="SessionID")
    provider_id: ProviderID = Field(alias="ProviderID")
    evse_id: EvseID = Field(alias="EvseID")
    identification: Identification = Field(alias="Identification")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")


class eRoamingAuthorizeRemoteStop(_PartnerSessionIDs):
    session_id: SessionID = Field(alias="SessionID")
    provider_id: ProviderID = Field(alias="ProviderID")
    evse_id: EvseID = Field(alias="EvseID")
