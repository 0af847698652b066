"""OICP Identification ⇄ canonical TokenRef (oicp-hub-notes §3, §4.1, §9)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.oicp.identification import (
    from_token,
    lookup_keys,
    provider_of_evco,
    remote_identification,
    to_token,
)
from schemas.canonical.token import TokenRef, TokenType
from schemas.oicp.v2_3 import openapi
from schemas.oicp.v2_3.authorization import Identification
from tests.adapters import oicp_example, only_member

EVCO = "DE-DCB-C12345678-X"


def _identification(member: str) -> Identification:
    # The CDR example's members are the closest to real ones (its QR member has a placeholder EvcoID).
    members = oicp_example("cpo__eroamingchargedetailrecord__request.json")["Identification"]
    members["QRCodeIdentification"] = {"EvcoID": EVCO, "PIN": "1234"}
    return Identification.model_validate(only_member(members, member))


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("RFIDMifareFamilyIdentification", TokenRef(uid="1234ABCD", type=TokenType.RFID)),
        ("RFIDIdentification", TokenRef(uid="1234ABCD", type=TokenType.RFID, contract_id=EVCO)),
        ("QRCodeIdentification", TokenRef(uid=EVCO, type=TokenType.APP_USER, contract_id=EVCO)),
        ("RemoteIdentification", TokenRef(uid=EVCO, type=TokenType.APP_USER, contract_id=EVCO)),
        ("PlugAndChargeIdentification", TokenRef(uid=EVCO, type=TokenType.OTHER, contract_id=EVCO)),
    ],
)
def test_every_member_of_the_spec_example_becomes_a_token(member: str, expected: TokenRef) -> None:
    assert to_token(_identification(member)) == expected


def test_uids_and_evco_ids_are_upper_cased_as_hubject_does() -> None:
    # The OpenAPI regex wants the "C" upper case; the rest may come in any case.
    identification = Identification.model_validate(
        {"PlugAndChargeIdentification": {"EvcoID": "de-dcb-C12345678-x"}}
    )
    assert to_token(identification).uid == EVCO
    rfid = Identification.model_validate({"RFIDMifareFamilyIdentification": {"UID": "7568290fff765f"}})
    assert to_token(rfid).uid == "7568290FFF765F"


def test_an_identification_with_several_members_is_ambiguous() -> None:
    members = oicp_example("cpo__eroamingchargedetailrecord__request.json")["Identification"]
    members["QRCodeIdentification"] = {"EvcoID": EVCO, "PIN": "1234"}
    with pytest.raises(ValueError, match="exactly one"):
        to_token(Identification.model_validate(members))
    with pytest.raises(ValueError, match="exactly one"):
        to_token(Identification())


@pytest.mark.parametrize(
    ("token", "wire"),
    [
        (
            TokenRef(uid="1234abcd", type=TokenType.RFID, contract_id=EVCO),
            {"RFIDMifareFamilyIdentification": {"UID": "1234ABCD"}},
        ),
        (
            TokenRef(uid="app-1", type=TokenType.APP_USER, contract_id=EVCO),
            {"RemoteIdentification": {"EvcoID": EVCO}},
        ),
        (
            TokenRef(uid="adhoc", type=TokenType.AD_HOC_USER, contract_id="de*dcb*123456*3"),
            {"RemoteIdentification": {"EvcoID": "DE*DCB*123456*3"}},
        ),
        (
            TokenRef(uid=EVCO, type=TokenType.OTHER, contract_id=EVCO),
            {"PlugAndChargeIdentification": {"EvcoID": EVCO}},
        ),
    ],
)
def test_from_token_writes_one_valid_member(token: TokenRef, wire: dict[str, Any]) -> None:
    written = from_token(token).to_wire()
    assert written == wire
    openapi.validate_schema("Identification", written, side="cpo")
    openapi.validate_schema("Identification", written, side="emp")


@pytest.mark.parametrize(
    "token",
    [
        TokenRef(uid="012345678", type=TokenType.RFID),  # the OCPI CDR example's uid: 9 digits
        TokenRef(uid="app-1", type=TokenType.APP_USER),  # no contract id
        TokenRef(uid="app-1", type=TokenType.APP_USER, contract_id="DE8ACC12E46L89"),  # not an EvcoID
    ],
)
def test_tokens_without_an_oicp_form_are_refused(token: TokenRef) -> None:
    with pytest.raises(ValueError, match=r"OICP|contract id"):
        from_token(token)


def test_remote_identification_is_what_remote_start_allows() -> None:
    assert remote_identification(EVCO).to_wire() == {"RemoteIdentification": {"EvcoID": EVCO}}


@pytest.mark.parametrize(
    "member", ["RFIDMifareFamilyIdentification", "RemoteIdentification", "PlugAndChargeIdentification"]
)
def test_round_trip_through_the_canonical_token(member: str) -> None:
    identification = _identification(member)
    assert from_token(to_token(identification)) == identification


@pytest.mark.parametrize(
    ("evco_id", "provider"),
    [
        ("DE-8EO-CAet5e4XY-3", "DE8EO"),
        ("DE8EOCAet5e43X1", "DE8EO"),
        ("DE*8EO*Aet5e4*3", "DE8EO"),
        ("de-dcb-c12345678-x", "DEDCB"),
    ],
)
def test_provider_of_evco_is_the_normalised_prefix(evco_id: str, provider: str) -> None:
    assert provider_of_evco(evco_id) == provider


def test_provider_of_evco_refuses_what_is_not_an_evco_id() -> None:
    with pytest.raises(ValueError, match="EvcoID"):
        provider_of_evco("1234ABCD")


def test_lookup_keys_of_pushed_rfid_data_find_card_and_contract() -> None:
    record = oicp_example("emp__eroamingpushauthenticationdata__request.json")
    members = record["ProviderAuthenticationData"]["AuthenticationDataRecord"][0]["Identification"]
    identification = Identification.model_validate(only_member(members, "RFIDIdentification"))
    uid = members["RFIDIdentification"]["UID"].upper()
    evco = members["RFIDIdentification"]["EvcoID"].upper().replace("-", "").replace("*", "")
    assert lookup_keys(identification) == [uid, evco]


def test_lookup_keys_match_whatever_separators_the_cpo_used() -> None:
    pushed = Identification.model_validate({"RemoteIdentification": {"EvcoID": "DE-8EO-CAet5e4XY-3"}})
    asked = Identification.model_validate({"QRCodeIdentification": {"EvcoID": "de8eoCaet5e4xy3", "PIN": "1"}})
    assert lookup_keys(pushed) == lookup_keys(asked) == ["DE8EOCAET5E4XY3"]


@given(
    st.sampled_from([8, 14, 20]).flatmap(lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n))
)
def test_any_valid_uid_survives_a_round_trip(uid: str) -> None:
    identification = Identification.model_validate({"RFIDMifareFamilyIdentification": {"UID": uid}})
    token = to_token(identification)
    assert token.uid == uid.upper()
    assert from_token(token) == identification
