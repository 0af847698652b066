"""The HTTP side of a simulated OICP partner: what Hubject forwards to a CPO or an EMP, on Hubject's paths.

The hub appends the standard path to the partner's base URL (oicp-hub-notes §1), so the routes are the
templates of :data:`schemas.oicp.v2_3.endpoints.OPERATIONS`. One generic endpoint per operation records
the request, checks it against Hubject's OpenAPI files, the wire model and the IDs in path and body, and
hands the parsed model to the role's handler; the answer is built with the wire models and checked the
same way. What a hub gets wrong lands in :attr:`Received.errors`, never in an exception.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import CIMultiDict
from pydantic import ValidationError

from hub.pki.tls import peer_certificate_der
from hub.simulators.oicp_samples import token_of
from hub.simulators.oicp_wire import ROLE_OPERATIONS, Received, ack, json_or_none, openapi_errors, status_code
from hub.store.types import utcnow
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3 import (
    BY_NAME,
    CHARGING_NOTIFICATION,
    AuthorizationStatus,
    Identification,
    OicpModel,
    Operation,
    QRCodeIdentification,
    RFIDIdentification,
    RFIDMifareFamilyIdentification,
    StatusCodeType,
    eRoamingAuthorizationStart,
    eRoamingAuthorizationStop,
)

if TYPE_CHECKING:
    from hub.simulators.oicp import OicpPartner

# Path placeholder -> the body field that must carry the same ID.
_PATH_ID_FIELDS = {"operatorID": "OperatorID", "providerID": "ProviderID", "externalId": "ProviderID"}


@dataclass
class Call:
    """A request that parsed: the model, and its record (to add findings to)."""

    model: Any
    record: Received


Handler = Callable[[Call], Awaitable[OicpModel]]


def build_app(partner: OicpPartner) -> web.Application:
    app = web.Application()
    for name, handler in Handlers(partner).table().items():
        operation = BY_NAME[name]
        for path in operation.paths:
            app.router.add_post(path, _endpoint(partner, operation, handler))
    app.router.add_route("*", "/{tail:.*}", _not_served(partner))
    return app


# --- the generic endpoint -------------------------------------------------------------------------


def _endpoint(partner: OicpPartner, operation: Operation, handler: Handler) -> Any:
    async def serve(request: web.Request) -> web.StreamResponse:
        record = await _record(partner, request, operation.name)
        if partner.offline:
            record.status = 503
            return web.Response(status=503, text="simulated outage")
        model = _parse(partner, operation, request, record)
        if model is None:
            answer = _refusal(operation, "invalid request: " + "; ".join(record.errors)[:900])
        else:
            answer = await handler(Call(model, record))
        return _answer(partner, operation, record, answer)

    return serve


def _not_served(partner: OicpPartner) -> Any:
    async def serve(request: web.Request) -> web.StreamResponse:
        record = await _record(partner, request, None)
        if partner.offline:
            record.status = 503
            return web.Response(status=503, text="simulated outage")
        record.errors.append(f"{request.method} {request.path} is not served by a simulated {partner.role}")
        # Hubject's own answer to an unknown URI (oicp-hub-notes §5, code 001).
        body = {
            "StatusCode": {"Code": "001", "Description": f"OICP service not found for URI: {request.path}"}
        }
        record.status, record.response = 404, body
        return web.json_response(body, status=404)

    return serve


async def _record(partner: OicpPartner, request: web.Request, operation: str | None) -> Received:
    raw = await request.read()
    record = Received(
        operation=operation,
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDict(request.headers),
        body=json_or_none(raw),
        raw=raw,
        at=utcnow(),
        peer_cert=peer_certificate_der(request),
    )
    partner.received.append(record)
    return record


def _parse(partner: OicpPartner, operation: Operation, request: web.Request, record: Received) -> Any:
    """The request's wire model, or None when it cannot be read; every finding goes to ``record.errors``."""
    if request.content_type != "application/json":
        record.errors.append(f"Content-Type must be application/json, got {request.content_type}")
    if not isinstance(record.body, dict):
        record.errors.append("the body is not a JSON object")
        return None
    if partner.validate:
        found = openapi_errors(
            "request", operation.name, record.body, side=partner.role, allow_null=partner.allow_null
        )
        record.validated = found is not None
        record.errors.extend(found or [])
    _check_path_ids(request, record)
    try:
        if len(operation.requests) > 1:  # the charging notifications, told apart by Type
            return CHARGING_NOTIFICATION.validate_python(record.body)
        return operation.request.model_validate(record.body)
    except ValidationError as exc:
        record.errors.extend(
            f"model: {'/'.join(map(str, error['loc'])) or '(root)'}: {error['msg']}" for error in exc.errors()
        )
        return None


def _check_path_ids(request: web.Request, record: Received) -> None:
    # The forwarded path names the sender (the CPO's OperatorID, the EMP's ProviderID), like the body.
    for placeholder, value in request.match_info.items():
        field = _PATH_ID_FIELDS.get(placeholder)
        sent = record.body.get(field) if field else None
        if isinstance(sent, str) and normalise_oicp_id(sent) != normalise_oicp_id(value):
            record.errors.append(
                f"the path's {placeholder} {value!r} differs from the body's {field} {sent!r}"
            )


def _refusal(operation: Operation, info: str) -> OicpModel:
    """The answer to a body we cannot read: 022 in the operation's own response shape."""
    code = status_code(StatusCodeType.DATA_ERROR, info)
    if operation.response is eRoamingAuthorizationStart:
        return eRoamingAuthorizationStart(
            authorization_status=AuthorizationStatus.NOT_AUTHORIZED, status_code=code
        )
    if operation.response is eRoamingAuthorizationStop:
        return eRoamingAuthorizationStop(
            authorization_status=AuthorizationStatus.NOT_AUTHORIZED, status_code=code
        )
    return ack(StatusCodeType.DATA_ERROR, info)


def _answer(partner: OicpPartner, operation: Operation, record: Received, answer: OicpModel) -> web.Response:
    wire = answer.to_wire()
    if partner.validate:
        record.response_errors.extend(
            openapi_errors("response", operation.name, wire, side=partner.role) or []
        )
    record.status, record.response = 200, wire
    return web.json_response(wire)


# --- the handlers: parse, decide, answer ----------------------------------------------------------


def _echo(model: Any) -> dict[str, Any]:
    """The session IDs an answer carries back (oicp-hub-notes §1 "Sessions")."""
    return {
        "session_id": getattr(model, "session_id", None),
        "cpo_partner_session_id": getattr(model, "cpo_partner_session_id", None),
        "emp_partner_session_id": getattr(model, "emp_partner_session_id", None),
    }


def _not_authorized_code(ident: Identification) -> StatusCodeType:
    """102 for RFID, 101 for QR codes, 105 for the EvcoID media (oicp-hub-notes §5)."""
    members = ident.members()
    if not members:
        return StatusCodeType.DATA_ERROR
    if isinstance(members[0], RFIDMifareFamilyIdentification | RFIDIdentification):
        return StatusCodeType.RFID_INVALID_UID
    if isinstance(members[0], QRCodeIdentification):
        return StatusCodeType.QR_CODE_INVALID_CREDENTIALS
    return StatusCodeType.PLC_INVALID_EVCO_ID


class Handlers:
    """EMP: authorization, CDRs, notifications. CPO: remote start/stop and reservations."""

    def __init__(self, partner: OicpPartner) -> None:
        self.partner = partner

    def table(self) -> dict[str, Handler]:
        every: dict[str, Handler] = {
            "eRoamingAuthorizeStart": self.authorize_start,
            "eRoamingAuthorizeStop": self.authorize_stop,
            "eRoamingChargeDetailRecord": self.cdr,
            "eRoamingChargingNotifications": self.notification,
            "eRoamingAuthorizeRemoteStart": self.remote_start,
            "eRoamingAuthorizeRemoteStop": self.remote_stop,
            "eRoamingAuthorizeRemoteReservationStart": self.reservation_start,
            "eRoamingAuthorizeRemoteReservationStop": self.reservation_stop,
        }
        return {name: every[name] for name in ROLE_OPERATIONS[self.partner.role]}

    def _authorized(self, call: Call) -> bool:
        try:
            return token_of(call.model.identification) in self.partner.tokens
        except ValueError as exc:  # no member, or several: a real message carries exactly one
            call.record.errors.append(f"Identification: {exc}")
            return False

    # --- EMP ---------------------------------------------------------------------------------------

    async def authorize_start(self, call: Call) -> OicpModel:
        request = call.model
        await asyncio.sleep(self.partner.authorize_delay)
        if request.session_id is None:  # Hubject creates the session before it asks an EMP (§4.2 step 3)
            call.record.errors.append("a forwarded AuthorizeStart carries the SessionID the hub created")
        echo = _echo(request)
        if not self._authorized(call):
            return eRoamingAuthorizationStart(
                **echo,
                authorization_status=AuthorizationStatus.NOT_AUTHORIZED,
                status_code=status_code(_not_authorized_code(request.identification)),
            )
        echo["emp_partner_session_id"] = echo["emp_partner_session_id"] or f"emp-{uuid.uuid4().hex[:12]}"
        if request.session_id is not None:
            self.partner.sessions[request.session_id] = request
        return eRoamingAuthorizationStart(
            **echo,
            provider_id=self.partner.provider_id,
            authorization_status=AuthorizationStatus.AUTHORIZED,
            status_code=status_code(StatusCodeType.SUCCESS),
        )

    async def authorize_stop(self, call: Call) -> OicpModel:
        request = call.model
        await asyncio.sleep(self.partner.authorize_delay)
        if not self._authorized(call):
            return eRoamingAuthorizationStop(
                **_echo(request),
                authorization_status=AuthorizationStatus.NOT_AUTHORIZED,
                status_code=status_code(_not_authorized_code(request.identification)),
            )
        return eRoamingAuthorizationStop(
            **_echo(request),
            provider_id=self.partner.provider_id,
            authorization_status=AuthorizationStatus.AUTHORIZED,
            status_code=status_code(StatusCodeType.SUCCESS),
        )

    async def cdr(self, call: Call) -> OicpModel:
        if self.partner.refuse_cdrs is not None:
            return ack(StatusCodeType.DATA_ERROR, self.partner.refuse_cdrs, **_echo(call.model))
        self.partner.cdrs.append(call.model)
        return ack(**_echo(call.model))

    async def notification(self, call: Call) -> OicpModel:
        if self.partner.refuse_notifications is not None:
            return ack(StatusCodeType.SYSTEM_ERROR, self.partner.refuse_notifications, **_echo(call.model))
        self.partner.notifications.append(call.model)
        return ack(**_echo(call.model))

    # --- CPO ---------------------------------------------------------------------------------------

    async def _start(self, call: Call, kept: dict[str, OicpModel]) -> OicpModel:
        request = call.model
        await asyncio.sleep(self.partner.remote_delay)
        echo = _echo(request)
        if request.session_id is None:  # the CPO needs it for the CDR; only the EMP may leave it out
            call.record.errors.append("a forwarded remote start or reservation needs the hub's SessionID")
            return ack(StatusCodeType.DATA_ERROR, "SessionID is required towards the CPO", **echo)
        if self.partner.remote_code != StatusCodeType.SUCCESS:
            return ack(self.partner.remote_code, **echo)
        kept[request.session_id] = request
        echo["cpo_partner_session_id"] = echo["cpo_partner_session_id"] or f"cpo-{uuid.uuid4().hex[:12]}"
        return ack(**echo)

    async def _stop(self, call: Call, kept: dict[str, OicpModel]) -> OicpModel:
        request = call.model
        await asyncio.sleep(self.partner.remote_delay)
        if request.session_id not in kept and not self.partner.accept_unknown_sessions:
            return ack(StatusCodeType.SESSION_IS_INVALID, **_echo(request))
        kept.pop(request.session_id, None)
        return ack(**_echo(request))

    async def remote_start(self, call: Call) -> OicpModel:
        return await self._start(call, self.partner.sessions)

    async def remote_stop(self, call: Call) -> OicpModel:
        return await self._stop(call, self.partner.sessions)

    async def reservation_start(self, call: Call) -> OicpModel:
        return await self._start(call, self.partner.reservations)

    async def reservation_stop(self, call: Call) -> OicpModel:
        return await self._stop(call, self.partner.reservations)
