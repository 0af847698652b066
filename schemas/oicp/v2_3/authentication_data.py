"""eRoamingAuthenticationData (authdata v2.1): PushAuthenticationData, and the legacy PullAuthenticationData.

PullAuthenticationData (CPO → Hubject) is not in the 2.3 documents; its shape comes from Hubject's 2.2
Swagger (notes §2 #10). Offline EMPs push whitelists here; HashedPIN is allowed only in this service.
"""

from __future__ import annotations

from pydantic import Field

from schemas.oicp.v2_3.authorization import Identification
from schemas.oicp.v2_3.common import ActionType, OicpModel, OperatorID, ProviderID, StatusCode


class AuthenticationDataRecord(OicpModel):
    identification: Identification = Field(alias="Identification")


class ProviderAuthenticationData(OicpModel):
    provider_id: ProviderID = Field(alias="ProviderID")
    authentication_data_record: list[AuthenticationDataRecord] = Field(alias="AuthenticationDataRecord")


class eRoamingPushAuthenticationData(OicpModel):
    """EMP → Hubject. Each EvcoID must belong to the EMP or its sub-EMPs, else 019."""

    action_type: ActionType = Field(alias="ActionType")
    provider_authentication_data: ProviderAuthenticationData = Field(alias="ProviderAuthenticationData")


class eRoamingPullAuthenticationData(OicpModel):
    """CPO → Hubject (legacy): the disclosed authentication data of the EMPs under contract."""

    operator_id: OperatorID = Field(alias="OperatorID")


class AuthenticationData(OicpModel):
    provider_authentication_data: list[ProviderAuthenticationData] | None = Field(
        default=None, alias="ProviderAuthenticationData"
    )


class eRoamingAuthenticationData(OicpModel):
    """The answer to PullAuthenticationData."""

    authentication_data: AuthenticationData | None = Field(default=None, alias="AuthenticationData")
    status_code: StatusCode | None = Field(default=None, alias="StatusCode")
