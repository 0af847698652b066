"""eRoamingChargeDetailRecord (cdrmgmt v2.2): the CDR, and GetChargeDetailRecords with paging (notes §6).

The CDR carries no price (notes §9). Hubject's plausibility checks (ConsumedEnergy ≤ 1000 kWh, ChargingEnd
after ChargingStart, ...) are business rules answered with 022, so they live in the hub, not here.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AliasChoices, Field

from schemas.oicp.v2_3.authorization import Identification
from schemas.oicp.v2_3.common import (
    EvseID,
    OicpDateTime,
    OicpDecimal,
    OicpModel,
    OicpPage,
    OperatorID,
    PartnerSessionID,
    ProductID,
    ProviderID,
    SessionID,
)


class MeteringStatus(StrEnum):
    START = "Start"
    PROGRESS = "Progress"
    END = "End"


class MeterValueInBetween(OicpModel):
    """The wrapper object around the list: ``{"meterValues": [...]}`` (notes §6)."""

    meter_values: list[OicpDecimal] | None = Field(default=None, alias="meterValues")


class SignedMeteringValue(OicpModel):
    signed_metering_value: str | None = Field(default=None, alias="SignedMeteringValue")
    metering_status: MeteringStatus | None = Field(default=None, alias="MeteringStatus")


class CalibrationLawVerificationInfo(OicpModel):
    """German calibration law (Eichrecht) data for the transparency software."""

    calibration_law_certificate_id: str | None = Field(default=None, alias="CalibrationLawCertificateID")
    public_key: str | None = Field(default=None, alias="PublicKey")
    metering_signature_url: str | None = Field(default=None, alias="MeteringSignatureUrl")
    metering_signature_encoding_format: str | None = Field(
        default=None, alias="MeteringSignatureEncodingFormat"
    )
    signed_metering_values_verification_instruction: str | None = Field(
        default=None, alias="SignedMeteringValuesVerificationInstruction"
    )


class eRoamingChargeDetailRecord(OicpModel):
    """The CDR, which is also the whole request body. One per SessionID; Hubject stores it, closes the
    session and forwards it unchanged."""

    session_id: SessionID = Field(alias="SessionID")
    cpo_partner_session_id: PartnerSessionID | None = Field(default=None, alias="CPOPartnerSessionID")
    emp_partner_session_id: PartnerSessionID | None = Field(default=None, alias="EMPPartnerSessionID")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")
    evse_id: EvseID = Field(alias="EvseID")
    identification: Identification = Field(alias="Identification")
    charging_start: OicpDateTime = Field(alias="ChargingStart")
    charging_end: OicpDateTime = Field(alias="ChargingEnd")
    session_start: OicpDateTime = Field(alias="SessionStart")
    session_end: OicpDateTime = Field(alias="SessionEnd")
    meter_value_start: OicpDecimal | None = Field(default=None, alias="MeterValueStart")
    meter_value_end: OicpDecimal | None = Field(default=None, alias="MeterValueEnd")
    meter_value_in_between: MeterValueInBetween | None = Field(default=None, alias="MeterValueInBetween")
    consumed_energy: OicpDecimal = Field(alias="ConsumedEnergy")
    signed_metering_values: list[SignedMeteringValue] | None = Field(
        default=None, alias="SignedMeteringValues"
    )
    calibration_law_verification_info: CalibrationLawVerificationInfo | None = Field(
        default=None, alias="CalibrationLawVerificationInfo"
    )
    hub_operator_id: OperatorID | None = Field(default=None, alias="HubOperatorID")
    # The EMP OpenAPI file spells it HubProviderId; the CPO file and every example say HubProviderID.
    hub_provider_id: ProviderID | None = Field(
        default=None, alias="HubProviderID", validation_alias=AliasChoices("HubProviderID", "HubProviderId")
    )


ChargeDetailRecord = eRoamingChargeDetailRecord
"""The data type's name in the AsciiDoc (ChargeDetailRecordType)."""


class eRoamingGetChargeDetailRecords(OicpModel):
    """EMP → Hubject, with ``?page=0&size=20`` in the URL (size at most 2000)."""

    provider_id: ProviderID = Field(alias="ProviderID")
    from_: OicpDateTime = Field(alias="From")
    to: OicpDateTime = Field(alias="To")
    session_id: list[SessionID] | None = Field(default=None, alias="SessionID")
    # A string in the schema, a list in Hubject's example (notes §8.6): both are read and kept as sent.
    operator_id: OperatorID | list[OperatorID] | None = Field(default=None, alias="OperatorID")
    # The schema says CDRForwarder; the AsciiDoc and the example say CDRForwarded (notes §8.1).
    cdr_forwarded: bool | None = Field(
        default=None, alias="CDRForwarded", validation_alias=AliasChoices("CDRForwarded", "CDRForwarder")
    )

    @property
    def operator_ids(self) -> list[str]:
        """The OperatorID filter as a list, whichever form was sent (empty: no filter)."""
        if self.operator_id is None:
            return []
        return [self.operator_id] if isinstance(self.operator_id, str) else list(self.operator_id)


class eRoamingChargeDetailRecords(OicpPage):
    """The GetChargeDetailRecords answer: a Spring Data page of CDRs."""

    content: list[eRoamingChargeDetailRecord]
