"""eRoamingEvseStatus: PushEvseStatus (evsepush v2.1) and the three PullEvseStatus variants (evsepull v2.1).

The ByID variant answers in a different shape, ``EVSEStatusRecords.EvseStatusRecord[]`` (hubject/oicp#117),
while PullEvseStatus and ByOperatorID answer ``EvseStatuses.OperatorEvseStatus[]`` (notes §8.4).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AliasChoices, Field

from schemas.oicp.v2_3.common import (
    ActionType,
    EvseID,
    OicpModel,
    OperatorID,
    ProviderID,
    StatusCode,
)
from schemas.oicp.v2_3.evse_data import SearchCenter


class EvseStatus(StrEnum):
    AVAILABLE = "Available"
    RESERVED = "Reserved"
    OCCUPIED = "Occupied"
    OUT_OF_SERVICE = "OutOfService"
    EVSE_NOT_FOUND = "EvseNotFound"
    UNKNOWN = "Unknown"


class EvseStatusRecord(OicpModel):
    evse_id: EvseID = Field(alias="EvseID")
    evse_status: EvseStatus = Field(alias="EvseStatus")


class OperatorEvseStatus(OicpModel):
    operator_id: OperatorID = Field(alias="OperatorID")
    operator_name: str | None = Field(default=None, alias="OperatorName")  # optional here (hubject/oicp#47)
    evse_status_record: list[EvseStatusRecord] = Field(alias="EvseStatusRecord")


class eRoamingPushEvseStatus(OicpModel):
    action_type: ActionType = Field(alias="ActionType")
    operator_evse_status: OperatorEvseStatus = Field(alias="OperatorEvseStatus")


class eRoamingPullEVSEStatus(OicpModel):
    provider_id: ProviderID = Field(alias="ProviderID")
    search_center: SearchCenter | None = Field(default=None, alias="SearchCenter")
    # EvseStatus in the AsciiDoc and Hubject's 2.2 Swagger; the 2.3 OpenAPI file says EVSEStatus.
    evse_status: EvseStatus | None = Field(
        default=None, alias="EvseStatus", validation_alias=AliasChoices("EvseStatus", "EVSEStatus")
    )


class eRoamingPullEVSEStatusByID(OicpModel):
    provider_id: ProviderID = Field(alias="ProviderID")
    evse_id: list[EvseID] = Field(alias="EvseID", max_length=100)


class eRoamingPullEVSEStatusByOperatorID(OicpModel):
    provider_id: ProviderID = Field(alias="ProviderID")
    operator_id: list[OperatorID] = Field(alias="OperatorID")


class EvseStatuses(OicpModel):
    operator_evse_status: list[OperatorEvseStatus] = Field(alias="OperatorEvseStatus")


class eRoamingEVSEStatus(OicpModel):
    """The answer to PullEvseStatus and PullEvseStatusByOperatorID."""

    evse_statuses: EvseStatuses = Field(alias="EvseStatuses")
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")


class EVSEStatusRecords(OicpModel):
    evse_status_record: list[EvseStatusRecord] = Field(alias="EvseStatusRecord")


class eRoamingEVSEStatusByID(OicpModel):
    """The answer to PullEvseStatusByID."""

    evse_status_records: EVSEStatusRecords = Field(alias="EVSEStatusRecords")
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")
