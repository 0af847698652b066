"""The OICP front door: one handler for every operation of the endpoint table (oicp-hub-notes §2).

A request is matched to its operation by path, its caller identified by the client certificate of the
mutual-TLS connection, rate-limited, parsed into the operation's wire model, and checked to speak only for
the caller's own OperatorIDs/ProviderIDs (017). :data:`HANDLERS` then names who answers; the whole of the
hub's OICP surface reads there, in one table. Business errors are HTTP 200 with ``Result: false`` (or the
operation's own negative answer) and the right StatusCode (§5, §7); only rate limits are HTTP 429.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import structlog
from aiohttp import web
from pydantic import BaseModel

from hub.errors import Forbidden, HubError, InvalidParameters, UnknownService
from hub.keys import OICP
from hub.oicp import authdata, cdrs, charging, evse, notifications, pricing
from hub.oicp.context import OicpContext
from hub.parties import set_status
from hub.pki.callers import OicpCaller, check_owns, partner_for_peer_cert
from hub.pki.tls import peer_certificate_der
from hub.store.models import Party
from hub.validation import parse_model, read_json
from schemas.canonical.party import ConnectionStatus, Role, normalise_oicp_id
from schemas.oicp.v2_3.common import OicpModel, page_fields
from schemas.oicp.v2_3.endpoints import BY_NAME, Direction, Operation, find_operation, normalise_path

log = structlog.get_logger("hub.oicp")


@dataclass
class OicpCall:
    """One OICP request: its operation, caller, parsed body and path parameters."""

    request: web.Request
    ctx: OicpContext
    caller: OicpCaller
    operation: Operation
    body: Any  # the operation's request model
    params: dict[str, str]

    def query_int(self, name: str, default: int, *, maximum: int | None = None) -> int:
        """A non-negative integer query parameter (``page``, ``size``); 022 if it is not one."""
        text = self.request.query.get(name)
        if text is None:
            return default
        # isdigit() alone takes "²" and other Unicode digits int() refuses; 18 digits still fit 64 bits.
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise InvalidParameters(f"{name} must be a non-negative integer", field=name)
        value = int(text)
        return min(value, maximum) if maximum is not None else value


Answer = OicpModel | dict[str, Any]
Handler = Callable[[OicpCall], Awaitable[Answer]]

# Operation name -> handler: the whole OICP surface of the hub.
HANDLERS: dict[str, Handler] = {
    "eRoamingAuthorizeStart": charging.authorize_start,
    "eRoamingAuthorizeStop": charging.authorize_stop,
    "eRoamingAuthorizeRemoteStart": charging.remote_start,
    "eRoamingAuthorizeRemoteStop": charging.remote_stop,
    "eRoamingAuthorizeRemoteReservationStart": charging.reservation_start,
    "eRoamingAuthorizeRemoteReservationStop": charging.reservation_stop,
    "eRoamingChargeDetailRecord": cdrs.receive,
    "eRoamingGetChargeDetailRecords": cdrs.get_records,
    "eRoamingPushAuthenticationData": authdata.push,
    "eRoamingPullAuthenticationData": authdata.pull,
    "eRoamingPushEvseData": evse.push_data,
    "eRoamingPullEvseData": evse.pull_data,
    "eRoamingPushEvseStatus": evse.push_status,
    "eRoamingPullEvseStatus": evse.pull_status,
    "eRoamingPullEvseStatusByID": evse.pull_status_by_id,
    "eRoamingPullEvseStatusByOperatorID": evse.pull_status_by_operator,
    "eRoamingPushPricingProductData": pricing.push_products,
    "eRoamingPushEVSEPricing": pricing.push_evse_pricing,
    "eRoamingPullPricingProductData": pricing.pull_products,
    "eRoamingPullEVSEPricing": pricing.pull_evse_pricing,
    "eRoamingChargingNotifications": notifications.receive,
}

_PLACEHOLDER = re.compile(r"\{([^}]+)\}")
_ROLE_OF_PARAM = {"operatorid": Role.CPO, "providerid": Role.EMSP, "externalid": Role.EMSP}


async def handle(request: web.Request) -> web.StreamResponse:
    operation = find_operation(request.path) if request.method == "POST" else None
    if operation is None:
        raise UnknownService(f"OICP service not found for URI: {request.method} {request.path}")
    ctx = request.app[OICP]
    caller = await partner_for_peer_cert(ctx.db, peer_certificate_der(request), cache=ctx.ocpi.certificates)
    ctx.limiter.take(caller.party_fk, operation.name)
    if caller.status != ConnectionStatus.CONNECTED:
        await _connected(ctx, caller.party_fk)
    try:
        raw = await read_json(request)
        operation = _variant(operation, raw)
        body = _parse(operation, raw)
        call = OicpCall(request, ctx, caller, operation, body, _params(operation, request.path))
        _check_ids(call, raw)
        answer = await HANDLERS[operation.name](call)
    except HubError as exc:  # refused in the operation's own shape (only 429 and 017-by-cert are not)
        return failure(operation, exc)
    body = answer.to_wire() if isinstance(answer, BaseModel) else answer
    return web.json_response(body)


async def _connected(ctx: OicpContext, party_fk: int) -> None:
    """OICP has no registration: a partner's first authenticated call makes it CONNECTED (HubClientInfo)."""
    async with ctx.db.transaction() as session:
        party = await session.get(Party, party_fk, with_for_update=True)
        if party is not None and party.status in (ConnectionStatus.PLANNED, ConnectionStatus.OFFLINE):
            set_status(session, party, ConnectionStatus.CONNECTED)
    ctx.ocpi.forget(party_fk)
    ctx.wake()
    log.info("oicp.partner_connected", party=party_fk)


def _variant(operation: Operation, raw: Any) -> Operation:
    """``status-records`` takes all three pull-status bodies in the 2.3 OpenAPI (a oneOf, notes §8.4)."""
    if operation.name == "eRoamingPullEvseStatus" and isinstance(raw, dict):
        if "EvseID" in raw:
            return BY_NAME["eRoamingPullEvseStatusByID"]
        if "OperatorID" in raw:
            return BY_NAME["eRoamingPullEvseStatusByOperatorID"]
    return operation


def _parse(operation: Operation, raw: Any) -> Any:
    if len(operation.requests) == 1:
        return parse_model(operation.request, raw)
    kind = raw.get("Type") if isinstance(raw, dict) else None  # charging notifications: by their Type
    for model in operation.requests:
        if isinstance(kind, str) and model.__name__.endswith(kind):
            return parse_model(model, raw)
    raise InvalidParameters("Type must be one of Start, Progress, End, Error", field="Type")


def _params(operation: Operation, path: str) -> dict[str, str]:
    """The path's placeholders by name (``operatorID`` -> ``DE*ABC``), percent-decoded (notes §4.1)."""
    wanted = normalise_path(path)
    for template in operation.paths:
        match = re.fullmatch(_template_regex(template), wanted)
        if match is not None:
            names = _PLACEHOLDER.findall(template)
            return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}
    return {}


def _template_regex(template: str) -> str:
    parts = _PLACEHOLDER.split(normalise_path(template))
    # split() alternates literal text and placeholder names; the names become capture groups.
    return "".join(re.escape(part) if index % 2 == 0 else "([^/]+)" for index, part in enumerate(parts))


def _check_ids(call: OicpCall, raw: Any) -> None:
    """Every id the caller speaks for, in the path and at the top of the body, must be its own (017)."""
    for name, param in call.params.items():
        check_owns(call.caller, param, name, role=_ROLE_OF_PARAM.get(name.lower()))
    if not isinstance(raw, dict):
        return
    first_leg = call.operation.legs[0]
    field = {Direction.CPO_TO_HUB: "OperatorID", Direction.EMP_TO_HUB: "ProviderID"}.get(first_leg)
    claimed = raw.get(field) if field else None
    if isinstance(claimed, str):
        value: str = claimed
        role = Role.CPO if field == "OperatorID" else Role.EMSP
        check_owns(call.caller, value, field or "", role=role)
        for name, path_value in call.params.items():
            same = normalise_oicp_id(path_value) == normalise_oicp_id(value)
            if _ROLE_OF_PARAM.get(name.lower()) is role and not same:
                raise Forbidden(f"{field} {value} differs from {path_value} in the path", field=field)


# --- negative answers, in each operation's own shape ---------------------------------------------------


def status_code(error: HubError) -> dict[str, Any]:
    status: dict[str, Any] = {"Code": error.oicp_code, "Description": error.title}
    if error.message != error.title or error.field:
        status["AdditionalInfo"] = str(error)[:1000]
    return status


def _empty_page() -> dict[str, Any]:
    return {**page_fields(0, 0, 0, 0), "content": []}


_FAILURE_SHAPES: dict[str, Callable[[], dict[str, Any]]] = {
    "eRoamingAuthorizationStart": lambda: {"AuthorizationStatus": "NotAuthorized"},
    "eRoamingAuthorizationStop": lambda: {"AuthorizationStatus": "NotAuthorized"},
    "eRoamingChargeDetailRecords": _empty_page,
    "eRoamingEVSEData": _empty_page,
    "eRoamingEVSEStatus": lambda: {"EvseStatuses": {"OperatorEvseStatus": []}},
    "eRoamingEVSEStatusByID": lambda: {"EVSEStatusRecords": {"EvseStatusRecord": []}},
    "eRoamingPricingProductData": lambda: {"PricingProductData": []},
    "eRoamingEVSEPricing": lambda: {"EVSEPricing": []},
    "eRoamingAuthenticationData": lambda: {},
}


def failure(operation: Operation, error: HubError) -> web.Response:
    """A refusal in the operation's response shape: an Acknowledgement with ``Result: false`` by default."""
    if error.oicp_code == "017":  # someone spoke for an id that is not theirs: a security event
        log.warning("security.oicp_id_refused", operation=operation.name, detail=str(error))
    else:
        log.info("oicp.refused", operation=operation.name, code=error.oicp_code, detail=str(error))
    shape = _FAILURE_SHAPES.get(operation.response.__name__)
    body: dict[str, Any] = shape() if shape is not None else {"Result": False}
    body["StatusCode"] = status_code(error)
    if type(error).__name__ == "HubError":
        log.error("oicp.internal_error", operation=operation.name, detail=str(error))
    return web.json_response(body, status=error.oicp_http_status)
