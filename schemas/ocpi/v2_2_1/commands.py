"""Commands module: the command request bodies (eMSP -> CPO) and the responses and results.

Each request carries ``response_url``, where the CPO later POSTs the CommandResult; a hub rewrites it.
"""

from __future__ import annotations

from enum import StrEnum

from schemas.ocpi.v2_2_1.common import URL, DisplayText, Id36, OcpiDateTime, OcpiModel
from schemas.ocpi.v2_2_1.tokens import Token


class CommandResponseType(StrEnum):
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


class CommandType(StrEnum):
    """The last path segment of a command POST; not a body field."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CancelReservation(OcpiModel):
    response_url: URL
    reservation_id: Id36


class ReserveNow(OcpiModel):
    response_url: URL
    token: Token
    expiry_date: OcpiDateTime
    reservation_id: Id36
    location_id: Id36
    evse_uid: Id36 | None = None
    authorization_reference: Id36 | None = None


class StartSession(OcpiModel):
    response_url: URL
    token: Token
    location_id: Id36
    # Required when connector_id is given; the CPO answers REJECTED otherwise (not checked here).
    evse_uid: Id36 | None = None
    connector_id: Id36 | None = None
    authorization_reference: Id36 | None = None


class StopSession(OcpiModel):
    response_url: URL
    session_id: Id36


class UnlockConnector(OcpiModel):
    response_url: URL
    location_id: Id36
    evse_uid: Id36
    connector_id: Id36


class CommandResponse(OcpiModel):
    result: CommandResponseType
    timeout: int
    message: list[DisplayText] | None = None


class CommandResult(OcpiModel):
    result: CommandResultType
    message: list[DisplayText] | None = None
