"""OCPI 2.2.1 Commands ⇄ canonical RemoteStart/RemoteStop/CommandOutcome (ocpi-hub-notes §6.6).

``response_url`` is not translated: the hub stores the eMSP's URL and gives the CPO its own
(ocpi-hub-notes §6.6 "Hub handling of response_url"), whatever protocol the CPO speaks.
"""

from __future__ import annotations

from typing import Any

from adapters.ocpi.tokens import to_token
from schemas.canonical.command import CommandOutcome, CommandStatus, RemoteStart, RemoteStop
from schemas.canonical.party import PartyRef
from schemas.ocpi.v2_2_1.commands import (
    CommandResponse,
    CommandResponseType,
    CommandResult,
    CommandResultType,
    StartSession,
    StopSession,
)
from schemas.ocpi.v2_2_1.common import DisplayText

_LANGUAGE = "en"
_RESULT_VALUES = {result.value for result in CommandResultType}
# CommandResultType has no UNKNOWN_SESSION (a CommandResponse value): a stop for a session the CPO does
# not know is, as a result, a rejected command.
_RESULT: dict[CommandStatus, CommandResultType] = {
    **{status: CommandResultType(status.value) for status in CommandStatus if status.value in _RESULT_VALUES},
    CommandStatus.UNKNOWN_SESSION: CommandResultType.REJECTED,
}


def start_session_to_canonical(body: dict[str, Any]) -> RemoteStart:
    """A START_SESSION body (validated by the wire model) as a canonical RemoteStart.

    The token's owner becomes ``emsp``: an eMSP may only start sessions with its own tokens.
    """
    command = StartSession.model_validate(body)
    return RemoteStart(
        token=to_token(command.token),
        emsp=PartyRef(country_code=command.token.country_code, party_id=command.token.party_id),
        location_id=command.location_id,
        evse_uid=command.evse_uid,
        connector_id=command.connector_id,
        authorization_reference=command.authorization_reference,
    )


def stop_session_to_canonical(body: dict[str, Any]) -> RemoteStop:
    """A STOP_SESSION body as a canonical RemoteStop (the OCPI session id the eMSP knows)."""
    return RemoteStop(session_id=StopSession.model_validate(body).session_id)


def command_result(outcome: CommandOutcome) -> dict[str, Any]:
    """The CommandResult (JSON) the hub POSTs to the eMSP's ``response_url``."""
    result = CommandResult(result=_RESULT[outcome.status], message=_message(outcome.message))
    return result.model_dump(mode="json", exclude_none=True)


def command_response(accepted: bool, timeout: int, message: str | None = None) -> dict[str, Any]:
    """The synchronous CommandResponse (JSON): ACCEPTED or REJECTED, with ``timeout`` in seconds."""
    kind = CommandResponseType.ACCEPTED if accepted else CommandResponseType.REJECTED
    response = CommandResponse(result=kind, timeout=timeout, message=_message(message))
    return response.model_dump(mode="json", exclude_none=True)


def _message(text: str | None) -> list[DisplayText] | None:
    return [DisplayText(language=_LANGUAGE, text=text[:512])] if text else None
