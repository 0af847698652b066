"""Pieces the OICP simulators share: which operations a role serves, the request record, Hubject's verdict.

Nothing here does network I/O; :mod:`hub.simulators.oicp_server` and :mod:`hub.simulators.oicp_client`
build on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import structlog
from multidict import CIMultiDict

from schemas.oicp.v2_3 import StatusCode, StatusCodeType, eRoamingAcknowledgement
from schemas.oicp.v2_3.openapi import (
    OpenApiValidationError,
    SpecNotFoundError,
    validate_request,
    validate_response,
)

log = structlog.get_logger("hub.simulators.oicp")

Role = Literal["cpo", "emp"]

ROLE_OPERATIONS: dict[Role, tuple[str, ...]] = {
    # What Hubject forwards to each role (oicp-hub-notes §2, "Hub→EMP" and "Hub→CPO" legs).
    "emp": (
        "eRoamingAuthorizeStart",
        "eRoamingAuthorizeStop",
        "eRoamingChargeDetailRecord",
        "eRoamingChargingNotifications",
    ),
    "cpo": (
        "eRoamingAuthorizeRemoteStart",
        "eRoamingAuthorizeRemoteStop",
        "eRoamingAuthorizeRemoteReservationStart",
        "eRoamingAuthorizeRemoteReservationStop",
    ),
}


@dataclass
class Received:
    """One request the hub made to a simulated partner, recorded before it is judged.

    ``errors`` lists what the sender got wrong (Hubject's OpenAPI, the wire model, IDs in path and body);
    a simulator never raises on them, so a test asserts ``received.errors == []``. ``response_errors``
    would list violations in our own answer (a simulator bug).
    """

    operation: str | None  # our operation name, e.g. eRoamingAuthorizeStart; None for a path not served
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: Any  # the parsed JSON; None when the body was not JSON
    raw: bytes  # the body exactly as it arrived, to check that a hub relays bytes unchanged
    at: datetime
    peer_cert: bytes | None = None  # DER of the TLS client certificate the caller presented
    errors: list[str] = field(default_factory=list)
    validated: bool = False  # checked against Hubject's files (False when they are not installed)
    status: int | None = None  # the HTTP status we answered with
    response: Any = None  # the JSON we answered with
    response_errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Checked against Hubject's definitions, and nothing was wrong with it."""
        return self.validated and not self.errors


def json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def openapi_errors(
    kind: Literal["request", "response"], operation: str, body: Any, *, side: Role, allow_null: bool = False
) -> list[str] | None:
    """Hubject's verdict on a body: its violations (empty when valid), or None without the spec files."""
    check = validate_request if kind == "request" else validate_response
    try:
        check(operation, "POST", body, side=side, allow_null=allow_null)
    except OpenApiValidationError as exc:
        return exc.errors
    except SpecNotFoundError as exc:
        log.warning("simulator.spec_missing", error=str(exc))
        return None
    return []


def status_code(code: StatusCodeType | str, info: str | None = None) -> StatusCode:
    """A StatusCode with the official description; a code outside the list (e.g. 401) goes without one."""
    try:
        return StatusCode.of(StatusCodeType(code), info)
    except ValueError:
        return StatusCode(code=code, additional_info=info)


def ack(
    code: StatusCodeType | str = StatusCodeType.SUCCESS, info: str | None = None, **echo: Any
) -> eRoamingAcknowledgement:
    """An Acknowledgement: ``Result`` is true exactly when the code is 000 (oicp-hub-notes §2.1)."""
    return eRoamingAcknowledgement(
        result=code == StatusCodeType.SUCCESS, status_code=status_code(code, info), **echo
    )
