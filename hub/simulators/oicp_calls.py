"""The typed OICP operations a simulated partner calls on the hub: CPO → hub and EMP → hub.

Each builds its body with the wire models and goes through :meth:`OicpClient.send`, which checks it
against Hubject's OpenAPI files before anything leaves; each returns the hub's parsed JSON answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.simulators.oicp_client import OicpClient
from hub.simulators.oicp_samples import IdentificationLike, identification
from schemas.oicp.v2_3 import (
    CHARGING_NOTIFICATION,
    ActionType,
    AuthenticationDataRecord,
    EvseDataRecord,
    EVSEPricing,
    EvseStatusRecord,
    OperatorEvseData,
    OperatorEvseStatus,
    PricingProductData,
    PricingProductDataRecord,
    ProviderAuthenticationData,
    SearchCenter,
    eRoamingAuthorizeRemoteReservationStart,
    eRoamingAuthorizeRemoteReservationStop,
    eRoamingAuthorizeRemoteStart,
    eRoamingAuthorizeRemoteStop,
    eRoamingAuthorizeStart,
    eRoamingAuthorizeStop,
    eRoamingChargeDetailRecord,
    eRoamingGetChargeDetailRecords,
    eRoamingPullEVSEData,
    eRoamingPullEVSEPricing,
    eRoamingPullEVSEStatus,
    eRoamingPullEVSEStatusByID,
    eRoamingPullEVSEStatusByOperatorID,
    eRoamingPullPricingProductData,
    eRoamingPushAuthenticationData,
    eRoamingPushEvseData,
    eRoamingPushEVSEPricing,
    eRoamingPushEvseStatus,
    eRoamingPushPricingProductData,
)


class OicpCalls(OicpClient):
    """The operations of oicp-hub-notes §2 that start at a partner, with the partner's own IDs filled in."""

    # --- CPO → hub -------------------------------------------------------------------------------

    async def push_evse_data(
        self, action: ActionType | str, records: Sequence[EvseDataRecord], operator_name: str | None = None
    ) -> dict[str, Any]:
        data = OperatorEvseData(
            operator_id=self._operator(),
            operator_name=operator_name or self.name,
            evse_data_record=list(records),
        )
        return await self.send(
            "eRoamingPushEvseData", eRoamingPushEvseData(action_type=action, operator_evse_data=data)
        )

    async def push_evse_status(
        self, action: ActionType | str, records: Sequence[EvseStatusRecord] | Mapping[str, str]
    ) -> dict[str, Any]:
        """``records`` as models, or as ``{EvseID: EvseStatus}``."""
        if isinstance(records, Mapping):
            records = [EvseStatusRecord(evse_id=evse, evse_status=status) for evse, status in records.items()]
        status = OperatorEvseStatus(
            operator_id=self._operator(), operator_name=self.name, evse_status_record=list(records)
        )
        return await self.send(
            "eRoamingPushEvseStatus", eRoamingPushEvseStatus(action_type=action, operator_evse_status=status)
        )

    async def authorize_start(
        self,
        identification_: IdentificationLike,
        evse_id: str | None = None,
        *,
        pin: str | None = None,
        cpo_partner_session_id: str | None = None,
        partner_product_id: str | None = None,
    ) -> dict[str, Any]:
        """Ask the hub to authorize a token; an Authorized answer's SessionID is kept in ``sessions``."""
        request = eRoamingAuthorizeStart(
            operator_id=self._operator(),
            evse_id=evse_id,
            identification=identification(identification_, pin=pin),
            cpo_partner_session_id=cpo_partner_session_id,
            partner_product_id=partner_product_id,
        )
        answer = await self.send("eRoamingAuthorizeStart", request)
        if answer.get("AuthorizationStatus") == "Authorized" and isinstance(answer.get("SessionID"), str):
            self.sessions[answer["SessionID"]] = request
        return answer

    async def authorize_stop(
        self,
        session_id: str,
        identification_: IdentificationLike,
        evse_id: str | None = None,
        *,
        pin: str | None = None,
        cpo_partner_session_id: str | None = None,
        emp_partner_session_id: str | None = None,
    ) -> dict[str, Any]:
        request = eRoamingAuthorizeStop(
            session_id=session_id,
            operator_id=self._operator(),
            evse_id=evse_id,
            identification=identification(identification_, pin=pin),
            cpo_partner_session_id=cpo_partner_session_id,
            emp_partner_session_id=emp_partner_session_id,
        )
        return await self.send("eRoamingAuthorizeStop", request)

    async def send_cdr(self, record: eRoamingChargeDetailRecord) -> dict[str, Any]:
        return await self.send("eRoamingChargeDetailRecord", record)

    async def push_pricing_products(
        self,
        action: ActionType | str,
        records: Sequence[PricingProductDataRecord],
        *,
        provider_id: str = "*",
        default_price: Decimal | str = "0",
        currency: str = "EUR",
        reference_unit: str = "KILOWATT_HOUR",
        operator_name: str | None = None,
    ) -> dict[str, Any]:
        """Push pricing products for one EMP, or for every EMP with ``provider_id="*"`` (the default)."""
        data = PricingProductData(
            operator_id=self._operator(),
            operator_name=operator_name or self.name,
            provider_id=provider_id,
            pricing_default_price=Decimal(default_price),
            pricing_default_price_currency=currency,
            pricing_default_reference_unit=reference_unit,
            pricing_product_data_records=list(records),
        )
        body = eRoamingPushPricingProductData(action_type=action, pricing_product_data=data)
        return await self.send("eRoamingPushPricingProductData", body)

    async def push_evse_pricing(
        self,
        action: ActionType | str,
        pricing: Sequence[EVSEPricing] | Mapping[str, Sequence[str]],
        *,
        provider_id: str = "*",
    ) -> dict[str, Any]:
        """``pricing`` as models, or as ``{EvseID: [ProductID, ...]}`` for ``provider_id``."""
        if isinstance(pricing, Mapping):
            pricing = [
                EVSEPricing(evse_id=evse, provider_id=provider_id, evse_id_product_list=list(products))
                for evse, products in pricing.items()
            ]
        body = eRoamingPushEVSEPricing(action_type=action, evse_pricing=list(pricing))
        return await self.send("eRoamingPushEVSEPricing", body)

    async def send_notification(
        self, kind: str, session_id: str, evse_id: str, **fields: Any
    ) -> dict[str, Any]:
        """A charging notification: ``kind`` is Start, Progress, End or Error; ``fields`` by Python name,
        e.g. ``charging_start=datetime(...)`` or ``error_type="ConnectorError"``."""
        base = {"Type": kind, "SessionID": session_id, "EvseID": evse_id, "OperatorID": self._operator()}
        model = CHARGING_NOTIFICATION.validate_python({**base, **fields})
        return await self.send("eRoamingChargingNotifications", model)

    # --- EMP → hub -------------------------------------------------------------------------------

    async def push_authentication_data(
        self, action: ActionType | str, records: Iterable[IdentificationLike]
    ) -> dict[str, Any]:
        """Push tokens for offline authorization: UIDs, EvcoIDs or Identifications."""
        data = ProviderAuthenticationData(
            provider_id=self._provider(),
            authentication_data_record=[
                AuthenticationDataRecord(identification=identification(r)) for r in records
            ],
        )
        body = eRoamingPushAuthenticationData(action_type=action, provider_authentication_data=data)
        return await self.send("eRoamingPushAuthenticationData", body)

    async def pull_evse_data(
        self,
        *,
        page: int = 0,
        size: int = 20,
        last_call: datetime | None = None,
        operator_ids: Sequence[str] | None = None,
        country_codes: Sequence[str] | None = None,
        search_center: SearchCenter | None = None,
        geo_format: str = "Google",
    ) -> dict[str, Any]:
        body = eRoamingPullEVSEData(
            provider_id=self._provider(),
            geo_coordinates_response_format=geo_format,
            last_call=last_call,
            operator_ids=list(operator_ids) if operator_ids is not None else None,
            country_codes=list(country_codes) if country_codes is not None else None,
            search_center=search_center,
        )
        return await self.send("eRoamingPullEvseData", body, page=page, size=size)

    async def pull_evse_status(
        self, *, search_center: SearchCenter | None = None, evse_status: str | None = None
    ) -> dict[str, Any]:
        body = eRoamingPullEVSEStatus(
            provider_id=self._provider(), search_center=search_center, evse_status=evse_status
        )
        return await self.send("eRoamingPullEvseStatus", body)

    async def pull_evse_status_by_id(self, evse_ids: Sequence[str]) -> dict[str, Any]:
        body = eRoamingPullEVSEStatusByID(provider_id=self._provider(), evse_id=list(evse_ids))
        return await self.send("eRoamingPullEvseStatusByID", body)

    async def pull_evse_status_by_operator(self, operator_ids: Sequence[str]) -> dict[str, Any]:
        body = eRoamingPullEVSEStatusByOperatorID(
            provider_id=self._provider(), operator_id=list(operator_ids)
        )
        return await self.send("eRoamingPullEvseStatusByOperatorID", body)

    async def remote_start(
        self,
        evse_id: str,
        evco_id: str,
        *,
        session_id: str | None = None,
        emp_partner_session_id: str | None = None,
        partner_product_id: str | None = None,
    ) -> dict[str, Any]:
        """Start charging remotely. The EMP schema requires a SessionID, which Hubject ignores and
        replaces (oicp-hub-notes §8.5): a fresh one is sent when none is given."""
        body = eRoamingAuthorizeRemoteStart(
            session_id=session_id or str(uuid.uuid4()),
            provider_id=self._provider(),
            evse_id=evse_id,
            identification=identification(evco_id, remote=True),
            emp_partner_session_id=emp_partner_session_id,
            partner_product_id=partner_product_id,
        )
        return await self.send("eRoamingAuthorizeRemoteStart", body)

    async def remote_stop(
        self, session_id: str, evse_id: str, *, emp_partner_session_id: str | None = None
    ) -> dict[str, Any]:
        body = eRoamingAuthorizeRemoteStop(
            session_id=session_id,
            provider_id=self._provider(),
            evse_id=evse_id,
            emp_partner_session_id=emp_partner_session_id,
        )
        return await self.send("eRoamingAuthorizeRemoteStop", body)

    async def reservation_start(
        self,
        evse_id: str,
        evco_id: str,
        *,
        duration: int | None = None,
        session_id: str | None = None,
        emp_partner_session_id: str | None = None,
        partner_product_id: str | None = None,
    ) -> dict[str, Any]:
        """Reserve an EVSE for ``duration`` minutes (1-99)."""
        body = eRoamingAuthorizeRemoteReservationStart(
            session_id=session_id,
            provider_id=self._provider(),
            evse_id=evse_id,
            identification=identification(evco_id, remote=True),
            duration=duration,
            emp_partner_session_id=emp_partner_session_id,
            partner_product_id=partner_product_id,
        )
        return await self.send("eRoamingAuthorizeRemoteReservationStart", body)

    async def reservation_stop(
        self, session_id: str, evse_id: str, *, emp_partner_session_id: str | None = None
    ) -> dict[str, Any]:
        body = eRoamingAuthorizeRemoteReservationStop(
            session_id=session_id,
            provider_id=self._provider(),
            evse_id=evse_id,
            emp_partner_session_id=emp_partner_session_id,
        )
        return await self.send("eRoamingAuthorizeRemoteReservationStop", body)

    async def get_cdrs(
        self,
        from_: datetime,
        to: datetime,
        *,
        page: int = 0,
        size: int = 20,
        forwarded: bool | None = None,
        session_ids: Sequence[str] | None = None,
        operator_id: str | None = None,
    ) -> dict[str, Any]:
        body = eRoamingGetChargeDetailRecords(
            provider_id=self._provider(),
            from_=from_,
            to=to,
            cdr_forwarded=forwarded,
            session_id=list(session_ids) if session_ids is not None else None,
            operator_id=operator_id,
        )
        return await self.send("eRoamingGetChargeDetailRecords", body, page=page, size=size)

    async def pull_pricing_products(
        self, operator_ids: Sequence[str], *, last_call: datetime | None = None
    ) -> dict[str, Any]:
        body = eRoamingPullPricingProductData(operator_ids=list(operator_ids), last_call=last_call)
        return await self.send("eRoamingPullPricingProductData", body)

    async def pull_evse_pricing(
        self, operator_ids: Sequence[str], *, last_call: datetime | None = None
    ) -> dict[str, Any]:
        body = eRoamingPullEVSEPricing(
            provider_id=self._provider(), operator_ids=list(operator_ids), last_call=last_call
        )
        return await self.send("eRoamingPullEVSEPricing", body)
