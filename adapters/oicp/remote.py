"""OICP AuthorizeRemoteStart/Stop (charging v2.1) from canonical commands, and their Acknowledgement as a
canonical CommandOutcome (oicp-hub-notes §2 rows 3 and 4, §5, §9).

OICP remote commands are synchronous: the CPO's Acknowledgement is the final answer, so it maps straight
onto an outcome. StatusCode mapping (Result true is always ACCEPTED):

| Code | outcome | why |
|---|---|---|
| 501 Communication to EVSE failed | FAILED | the command never reached the charge point |
| 510 No EV connected to EVSE | FAILED | the charge point could not carry it out |
| 601 EVSE already reserved | EVSE_OCCUPIED | someone else holds the EVSE |
| 602 EVSE already in use / wrong token | EVSE_OCCUPIED | |
| 603 Unknown EVSE ID, 604 not Hubject compatible | REJECTED | no such EVSE for roaming |
| 700 EVSE out of service | EVSE_INOPERATIVE | |
| 310 Partner did not respond | TIMEOUT | the CPO did not answer in time (60 s, notes §7) |
| 320 Service not available | NOT_SUPPORTED | the CPO does not offer remote commands |
| 400 Session is invalid | UNKNOWN_SESSION | a stop for a session that is closed or not the EMP's |
| 017, 210, 300 | REJECTED | not allowed: locked, no contract, no such partner |
| anything else (001, 021, 022, ...) | FAILED | |
"""

from __future__ import annotations

from typing import Any

from adapters.oicp.identification import remote_identification
from schemas.canonical.command import CommandOutcome, CommandStatus, RemoteStart, RemoteStop
from schemas.oicp.v2_3.authorization import eRoamingAuthorizeRemoteStart, eRoamingAuthorizeRemoteStop
from schemas.oicp.v2_3.common import StatusCodeType, eRoamingAcknowledgement

_OUTCOMES: dict[str, CommandStatus] = {
    StatusCodeType.COMMUNICATION_TO_EVSE_FAILED: CommandStatus.FAILED,
    StatusCodeType.NO_EV_CONNECTED: CommandStatus.FAILED,
    StatusCodeType.EVSE_ALREADY_RESERVED: CommandStatus.EVSE_OCCUPIED,
    StatusCodeType.EVSE_ALREADY_IN_USE: CommandStatus.EVSE_OCCUPIED,
    StatusCodeType.UNKNOWN_EVSE_ID: CommandStatus.REJECTED,
    StatusCodeType.EVSE_NOT_HUBJECT_COMPATIBLE: CommandStatus.REJECTED,
    StatusCodeType.EVSE_OUT_OF_SERVICE: CommandStatus.EVSE_INOPERATIVE,
    StatusCodeType.PARTNER_DID_NOT_RESPOND: CommandStatus.TIMEOUT,
    StatusCodeType.SERVICE_NOT_AVAILABLE: CommandStatus.NOT_SUPPORTED,
    StatusCodeType.SESSION_IS_INVALID: CommandStatus.UNKNOWN_SESSION,
    StatusCodeType.UNAUTHORIZED_ACCESS: CommandStatus.REJECTED,
    StatusCodeType.NO_VALID_CONTRACT: CommandStatus.REJECTED,
    StatusCodeType.PARTNER_NOT_FOUND: CommandStatus.REJECTED,
}


def remote_start_body(start: RemoteStart, session_id: str, provider_id: str, evse_id: str) -> dict[str, Any]:
    """eRoamingAuthorizeRemoteStart (JSON) towards an OICP CPO, where SessionID is mandatory.

    The driver is named by RemoteIdentification{EvcoID = the token's contract id}, the only member OICP
    allows here (notes §3): ValueError when the contract id is not an EvcoID. The OCPI
    ``authorization_reference`` travels as EMPPartnerSessionID, which the CPO echoes in its CDR.
    """
    if start.token.contract_id is None:
        raise ValueError("a remote start needs the token's contract id (EvcoID)")
    message = eRoamingAuthorizeRemoteStart(
        session_id=session_id,
        emp_partner_session_id=start.authorization_reference,
        provider_id=provider_id,
        evse_id=evse_id,
        identification=remote_identification(start.token.contract_id),
        partner_product_id=start.product_id,
    )
    return message.to_wire()


def remote_stop_body(
    stop: RemoteStop,
    session_id: str,
    provider_id: str,
    evse_id: str,
    *,
    emp_partner_session_id: str | None = None,
) -> dict[str, Any]:
    """eRoamingAuthorizeRemoteStop (JSON) for the OICP ``session_id`` the hub mapped ``stop`` to.

    ``stop.session_id`` is the eMSP's name for the session, which the hub has already resolved to
    ``session_id``; it is not sent. Pass the EMPPartnerSessionID the start carried, if any, so the CPO
    sees the same one again.
    """
    message = eRoamingAuthorizeRemoteStop(
        session_id=session_id,
        emp_partner_session_id=emp_partner_session_id,
        provider_id=provider_id,
        evse_id=evse_id,
    )
    return message.to_wire()


def outcome_of_ack(ack: dict[str, Any] | eRoamingAcknowledgement) -> CommandOutcome:
    """The canonical outcome of the CPO's Acknowledgement (see the table in the module docstring)."""
    parsed = ack if isinstance(ack, eRoamingAcknowledgement) else eRoamingAcknowledgement.model_validate(ack)
    code = parsed.status_code
    if parsed.result:
        return CommandOutcome.of(CommandStatus.ACCEPTED, code.description)
    status = _OUTCOMES.get(str(code.code), CommandStatus.FAILED)
    return CommandOutcome.of(status, _message(str(code.code), code.description, code.additional_info))


def _message(code: str, description: str | None, additional_info: str | None) -> str:
    parts = [part for part in (description, additional_info) if part]
    return f"OICP {code}: {' - '.join(parts)}" if parts else f"OICP {code}"
