"""eRoamingChargingNotifications (notificationmgmt v1.1): Start, Progress, End and Error on one path.

The four bodies share ``/notificationmgmt/v11/charging-notifications``; ``Type`` tells them apart, so
:data:`ChargingNotification` is a union discriminated on it. Hubject relays the EMP's Acknowledgement
back to the CPO (notes §2 #21).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, TypeAdapter

from schemas.oicp.v2_3.authorization import Identification
from schemas.oicp.v2_3.cdr import MeterValueInBetween
from schemas.oicp.v2_3.common import (
    EvseID,
    OicpDateTime,
    OicpDecimal,
    OicpModel,
    OperatorID,
    PartnerSessionID,
    ProductID,
    SessionID,
)


class ChargingNotificationType(StrEnum):
    START = "Start"
    PROGRESS = "Progress"
    END = "End"
    ERROR = "Error"


class ErrorClass(StrEnum):
    CONNECTOR_ERROR = "ConnectorError"
    CRITICAL_ERROR = "CriticalError"


def _error_class(value: Any) -> Any:
    # The CPO document and an EMP example write "Connector Error" (notes §8.1); the schema has no space.
    return value.replace(" ", "") if isinstance(value, str) else value


class _Notification(OicpModel):
    session_id: SessionID = Field(alias="SessionID")
    cpo_partner_session_id: PartnerSessionID | None = Field(default=None, alias="CPOPartnerSessionID")
    emp_partner_session_id: PartnerSessionID | None = Field(default=None, alias="EMPPartnerSessionID")
    evse_id: EvseID = Field(alias="EvseID")
    # Required by the CPO document, optional in the EMP one; the hub needs it to check the sender.
    operator_id: OperatorID = Field(alias="OperatorID")


class eRoamingChargingNotificationStart(_Notification):
    type: Literal[ChargingNotificationType.START] = Field(alias="Type")
    identification: Identification | None = Field(default=None, alias="Identification")
    charging_start: OicpDateTime = Field(alias="ChargingStart")
    session_start: OicpDateTime | None = Field(default=None, alias="SessionStart")
    meter_value_start: OicpDecimal | None = Field(default=None, alias="MeterValueStart")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")


class eRoamingChargingNotificationProgress(_Notification):
    """At least 5 minutes apart per session. ``ChargingDuration`` is EventOccurred - ChargingStart, in ms."""

    type: Literal[ChargingNotificationType.PROGRESS] = Field(alias="Type")
    identification: Identification | None = Field(default=None, alias="Identification")
    charging_start: OicpDateTime = Field(alias="ChargingStart")
    event_occurred: OicpDateTime = Field(alias="EventOccurred")
    charging_duration: int | None = Field(default=None, alias="ChargingDuration")
    session_start: OicpDateTime | None = Field(default=None, alias="SessionStart")
    consumed_energy_progress: OicpDecimal | None = Field(default=None, alias="ConsumedEnergyProgress")
    meter_value_start: OicpDecimal | None = Field(default=None, alias="MeterValueStart")
    meter_value_in_between: MeterValueInBetween | None = Field(default=None, alias="MeterValueInBetween")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")


class eRoamingChargingNotificationEnd(_Notification):
    type: Literal[ChargingNotificationType.END] = Field(alias="Type")
    identification: Identification | None = Field(default=None, alias="Identification")
    charging_start: OicpDateTime | None = Field(default=None, alias="ChargingStart")
    charging_end: OicpDateTime = Field(alias="ChargingEnd")
    session_start: OicpDateTime | None = Field(default=None, alias="SessionStart")
    session_end: OicpDateTime | None = Field(default=None, alias="SessionEnd")
    consumed_energy: OicpDecimal | None = Field(default=None, alias="ConsumedEnergy")
    meter_value_start: OicpDecimal | None = Field(default=None, alias="MeterValueStart")
    meter_value_end: OicpDecimal | None = Field(default=None, alias="MeterValueEnd")
    meter_value_in_between: MeterValueInBetween | None = Field(default=None, alias="MeterValueInBetween")
    partner_product_id: ProductID | None = Field(default=None, alias="PartnerProductID")
    penalty_time_start: OicpDateTime | None = Field(default=None, alias="PenaltyTimeStart")


class eRoamingChargingNotificationError(_Notification):
    type: Literal[ChargingNotificationType.ERROR] = Field(alias="Type")
    identification: Identification | None = Field(default=None, alias="Identification")
    error_type: Annotated[ErrorClass, BeforeValidator(_error_class)] = Field(alias="ErrorType")
    error_additional_info: str | None = Field(default=None, alias="ErrorAdditionalInfo")


ChargingNotification = Annotated[
    eRoamingChargingNotificationStart
    | eRoamingChargingNotificationProgress
    | eRoamingChargingNotificationEnd
    | eRoamingChargingNotificationError,
    Field(discriminator="type"),
]
"""Any of the four notification bodies, chosen by ``Type``."""

CHARGING_NOTIFICATION: TypeAdapter[ChargingNotification] = TypeAdapter(ChargingNotification)
"""Parse a notification body whose Type is not known beforehand: ``CHARGING_NOTIFICATION.validate_python``."""
