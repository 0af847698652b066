"""Remote start/stop: OCPI commands in, OICP AuthorizeRemoteStart/Stop out, the Acknowledgement back as an
OCPI CommandResult (oicp-hub-notes §2 rows 3 and 4, §5; ocpi-hub-notes §6.6)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.ocpi.commands import (
    command_response,
    command_result,
    start_session_to_canonical,
    stop_session_to_canonical,
)
from adapters.oicp.remote import outcome_of_ack, remote_start_body, remote_stop_body
from schemas.canonical.command import CommandOutcome, CommandStatus, RemoteStart, RemoteStop
from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef, TokenType
from schemas.ocpi.v2_2_1.commands import CommandResponse, CommandResult
from schemas.oicp.v2_3 import openapi
from schemas.oicp.v2_3.common import eRoamingAcknowledgement
from tests.adapters import GUID, ocpi_example, oicp_example

EVCO = "DE-DCB-C12345678-X"


def _start_session() -> dict[str, Any]:
    token = ocpi_example("token_example_1_app_user.json") | {"contract_id": EVCO}
    return {
        "response_url": "https://emsp.example/commands/START_SESSION/1",
        "token": token,
        "location_id": "LOC1",
        "evse_uid": "3256",
        "connector_id": "1",
        "authorization_reference": "auth-1",
    }


def test_start_session_becomes_a_remote_start() -> None:
    start = start_session_to_canonical(_start_session())
    assert start == RemoteStart(
        token=TokenRef(uid="bdf21bce-fc97-11e8-8eb2-f2801f1b9fd1", type=TokenType.APP_USER, contract_id=EVCO),
        emsp=PartyRef.parse("DE-TNM"),
        location_id="LOC1",
        evse_uid="3256",
        connector_id="1",
        authorization_reference="auth-1",
    )


def test_start_session_without_a_token_is_refused() -> None:
    body = _start_session()
    del body["token"]
    with pytest.raises(ValueError, match="token"):
        start_session_to_canonical(body)


def test_stop_session() -> None:
    body = {"response_url": "https://emsp.example/r/2", "session_id": "SESSION-1"}
    assert stop_session_to_canonical(body) == RemoteStop(session_id="SESSION-1")


def test_remote_start_body_validates_against_hubjects_openapi() -> None:
    start = start_session_to_canonical(_start_session())
    body = remote_start_body(start, GUID, "DE-DCB", "DE*XYZ*ETEST1")
    assert body == {
        "SessionID": GUID,
        "EMPPartnerSessionID": "auth-1",
        "ProviderID": "DE-DCB",
        "EvseID": "DE*XYZ*ETEST1",
        "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
    }
    openapi.validate_request("eRoamingAuthorizeRemoteStart", "POST", body, strict_lengths=True)


def test_remote_start_body_keeps_the_spec_examples_fields() -> None:
    example = oicp_example("cpo__eroamingauthorizeremotestart__request.json")
    start = RemoteStart(
        token=TokenRef(uid=EVCO, type=TokenType.APP_USER, contract_id=EVCO),
        product_id=example["PartnerProductID"],
        authorization_reference=example["EMPPartnerSessionID"],
    )
    body = remote_start_body(start, GUID, example["ProviderID"], example["EvseID"])
    expected = {
        key: example[key] for key in ("EMPPartnerSessionID", "EvseID", "PartnerProductID", "ProviderID")
    }
    assert body == expected | {
        "SessionID": GUID,
        "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
    }
    openapi.validate_request("eRoamingAuthorizeRemoteStart", "POST", body)


def test_remote_start_needs_an_evco_id() -> None:
    start = RemoteStart(token=TokenRef(uid="04A2B3C4", type=TokenType.RFID))
    with pytest.raises(ValueError, match="contract id"):
        remote_start_body(start, GUID, "DE-DCB", "DE*XYZ*ETEST1")
    start = RemoteStart(token=TokenRef(uid="x", type=TokenType.APP_USER, contract_id="DE8ACC12E46L89"))
    with pytest.raises(ValueError, match="EvcoID"):
        remote_start_body(start, GUID, "DE-DCB", "DE*XYZ*ETEST1")


def test_remote_stop_body_matches_the_spec_example() -> None:
    example = oicp_example("cpo__eroamingauthorizeremotestop__request.json")
    body = remote_stop_body(
        RemoteStop(session_id="ocpi-session-7"),
        example["SessionID"],
        example["ProviderID"],
        example["EvseID"],
        emp_partner_session_id=example["EMPPartnerSessionID"],
    )
    assert body == {key: value for key, value in example.items() if key != "CPOPartnerSessionID"}
    openapi.validate_request("eRoamingAuthorizeRemoteStop", "POST", body, strict_lengths=True)


def test_the_spec_acknowledgement_is_accepted() -> None:
    outcome = outcome_of_ack(oicp_example("cpo__eroamingauthorizeremotestart__response.json"))
    assert outcome.accepted
    assert outcome.status is CommandStatus.ACCEPTED
    assert command_result(outcome) == {
        "result": "ACCEPTED",
        "message": [{"language": "en", "text": "string"}],
    }


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("501", CommandStatus.FAILED),
        ("510", CommandStatus.FAILED),
        ("601", CommandStatus.EVSE_OCCUPIED),
        ("602", CommandStatus.EVSE_OCCUPIED),
        ("603", CommandStatus.REJECTED),
        ("604", CommandStatus.REJECTED),
        ("700", CommandStatus.EVSE_INOPERATIVE),
        ("310", CommandStatus.TIMEOUT),
        ("320", CommandStatus.NOT_SUPPORTED),
        ("400", CommandStatus.UNKNOWN_SESSION),
        ("210", CommandStatus.REJECTED),
        ("017", CommandStatus.REJECTED),
        ("022", CommandStatus.FAILED),
        ("500", CommandStatus.FAILED),  # the integration guide's code, not in the spec
    ],
)
def test_negative_acknowledgements(code: str, status: CommandStatus) -> None:
    ack = {"Result": False, "StatusCode": {"Code": code, "Description": "why", "AdditionalInfo": "more"}}
    outcome = outcome_of_ack(eRoamingAcknowledgement.model_validate(ack))
    assert outcome == CommandOutcome(accepted=False, status=status, message=f"OICP {code}: why - more")
    result = command_result(outcome)
    CommandResult.model_validate(result)
    expected = "REJECTED" if status is CommandStatus.UNKNOWN_SESSION else status.value
    assert result["result"] == expected


def test_a_bare_negative_acknowledgement_still_explains_itself() -> None:
    outcome = outcome_of_ack({"Result": False, "StatusCode": {"Code": "700"}})
    assert outcome.message == "OICP 700"
    assert command_result(outcome) == {
        "result": "EVSE_INOPERATIVE",
        "message": [{"language": "en", "text": "OICP 700"}],
    }


def test_command_response() -> None:
    accepted = command_response(True, 60)
    assert accepted == {"result": "ACCEPTED", "timeout": 60}
    rejected = command_response(False, 0, "EVSE unknown")
    assert rejected == {
        "result": "REJECTED",
        "timeout": 0,
        "message": [{"language": "en", "text": "EVSE unknown"}],
    }
    CommandResponse.model_validate(rejected)


def test_outcome_cannot_contradict_itself() -> None:
    with pytest.raises(ValueError, match="contradicts"):
        CommandOutcome(accepted=True, status=CommandStatus.REJECTED)
    assert CommandOutcome.of(CommandStatus.ACCEPTED).accepted
