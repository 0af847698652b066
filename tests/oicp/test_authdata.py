"""Authentication data through the real mutual-TLS hub (oicp-hub-notes §2 #9, #10, §3, §4.2 step 4)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from hub import agreements
from hub.oicp.authdata import OfflineMatch, offline_match
from hub.store.models import OicpAuthData
from schemas.canonical.party import PartyRef
from schemas.oicp.v2_3.authorization import Identification
from schemas.oicp.v2_3.openapi import validate_request
from tests.oicp.conftest import OicpHub, OicpPartnerConn
from tests.oicp.test_evse import call, example

PUSH = "/authdata/v21/providers/{p}/push-request"
PULL = "/authdata/v21/operators/{op}/pull-request"
EVCO = "DE-DCB-C12345678-X"
PIN = "8642"


def media() -> list[dict[str, Any]]:
    """The spec example's five media, one per record as real payloads carry them (notes §8.9)."""
    (record,) = example("emp__eroamingpushauthenticationdata__request.json")["ProviderAuthenticationData"][
        "AuthenticationDataRecord"
    ]
    both = record["Identification"]
    qr_code = {key: value for key, value in both["QRCodeIdentification"].items() if key != "HashedPIN"}
    return [
        {"RFIDMifareFamilyIdentification": {"UID": "12345ABC"}},  # the example's 12345ABCD is no UID
        {"QRCodeIdentification": qr_code | {"PIN": PIN}},
        {"PlugAndChargeIdentification": both["PlugAndChargeIdentification"]},
        {"RemoteIdentification": both["RemoteIdentification"]},
        {
            "RFIDIdentification": both["RFIDIdentification"]
            | {"UID": "7568290FFF765F", "ExpiryDate": "2099-01-23T14:21:23.744Z"}
        },
    ]


def auth_push(action: str, identifications: list[dict[str, Any]], provider: str = "DE-DCB") -> dict[str, Any]:
    body = example("emp__eroamingpushauthenticationdata__request.json")
    body["ActionType"] = action
    body["ProviderAuthenticationData"] = {
        "ProviderID": provider,
        "AuthenticationDataRecord": [
            {"Identification": identification} for identification in identifications
        ],
    }
    return body


async def push(conn: OicpPartnerConn, body: dict[str, Any]) -> str:
    answer = await call(conn, "eRoamingPushAuthenticationData", PUSH.format(p="DE-DCB"), body)
    code: str = answer["StatusCode"]["Code"]
    assert answer["Result"] is (code == "000"), answer
    return code


def medium(**member: Any) -> Identification:
    return Identification.model_validate(member)


@pytest.fixture
async def emp(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "DCB", "EMSP"))


@pytest.fixture
async def cpo(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))


async def test_the_spec_example_pushed_one_medium_per_record(oicp_hub: OicpHub, emp: OicpPartnerConn) -> None:
    _status, answer = await emp.post(
        PUSH.format(p="DE-DCB"), example("emp__eroamingpushauthenticationdata__request.json")
    )
    assert answer["StatusCode"]["Code"] == "022"  # its UID 12345ABCD is not 8, 14 or 20 hex digits
    body = auth_push("fullLoad", media())
    validate_request("eRoamingPushAuthenticationData", "post", body)
    assert await push(emp, body) == "000"
    async with oicp_hub.db.session() as session:
        rows = (await session.execute(select(OicpAuthData))).scalars().all()
    assert sorted(row.lookup_key for row in rows) == [
        "PNC:DEDCBC12345678X",
        "QR:DEDCBC12345678X",
        "REMOTE:DEDCBC12345678X",
        "UID:12345ABC",
        "UID:7568290FFF765F",
    ]
    assert {row.provider_id for row in rows} == {"DE-DCB"}
    # The PIN is never stored in clear, only as the hub's salted hash.
    stored = next(row.record for row in rows if row.lookup_key.startswith("QR:"))
    assert PIN not in stored and '"PIN"' not in stored and '"PinHash":"scrypt$' in stored


async def test_offline_match_for_each_medium(oicp_hub: OicpHub, emp: OicpPartnerConn) -> None:
    assert await push(emp, auth_push("fullLoad", media())) == "000"
    db, party = oicp_hub.db, emp.party.id
    found = OfflineMatch(party, "DE-DCB")
    assert await offline_match(db, medium(RFIDMifareFamilyIdentification={"UID": "12345abc"}), None) == found
    assert (
        await offline_match(db, medium(RFIDMifareFamilyIdentification={"UID": "7568290FFF765F"}), {party})
        == found
    )
    assert (
        await offline_match(db, medium(QRCodeIdentification={"EvcoID": EVCO, "PIN": PIN}), {party}) == found
    )
    assert (
        await offline_match(db, medium(QRCodeIdentification={"EvcoID": "DEDCBC12345678X", "PIN": PIN}), None)
        == found
    )
    assert await offline_match(db, medium(QRCodeIdentification={"EvcoID": EVCO, "PIN": "0000"}), None) is None
    assert await offline_match(db, medium(QRCodeIdentification={"EvcoID": EVCO}), None) is None
    assert await offline_match(db, medium(PlugAndChargeIdentification={"EvcoID": EVCO}), None) == found
    lower = medium(RemoteIdentification={"EvcoID": "de-dcb-C12345678-x"})  # compared upper-cased (§3)
    assert await offline_match(db, lower, None) == found
    assert await offline_match(db, medium(RFIDMifareFamilyIdentification={"UID": "AABBCCDD"}), None) is None
    # Only among the EMPs asked for.
    assert await offline_match(db, medium(PlugAndChargeIdentification={"EvcoID": EVCO}), {party + 1}) is None
    assert await offline_match(db, medium(PlugAndChargeIdentification={"EvcoID": EVCO}), set()) is None


async def test_what_cannot_match_offline(oicp_hub: OicpHub, emp: OicpPartnerConn) -> None:
    expired = {
        "RFIDIdentification": {"UID": "1234ABCD", "RFID": "mifareCls", "ExpiryDate": "2020-01-01T00:00:00Z"}
    }
    hashed = {
        "QRCodeIdentification": {
            "EvcoID": EVCO,
            "HashedPIN": {"Value": "$2a$10$abcdefghijklmnopqrstuv", "Function": "Bcrypt"},
        }
    }
    assert await push(emp, auth_push("fullLoad", [expired, hashed])) == "000"
    db = oicp_hub.db
    assert await offline_match(db, medium(RFIDMifareFamilyIdentification={"UID": "1234ABCD"}), None) is None
    # A HashedPIN the EMP computed (Bcrypt) is stored as given but cannot be checked by the hub.
    assert await offline_match(db, medium(QRCodeIdentification={"EvcoID": EVCO, "PIN": "1234"}), None) is None
    async with db.session() as session:
        stored = (
            await session.execute(
                select(OicpAuthData.record).where(OicpAuthData.lookup_key.startswith("QR:"))
            )
        ).scalar_one()
    assert "$2a$10$abcdefghijklmnopqrstuv" in stored


async def test_action_types_and_refusals(oicp_hub: OicpHub, emp: OicpPartnerConn) -> None:
    rfid, qr_code, pnc, remote, card = media()
    assert await push(emp, auth_push("insert", [rfid, qr_code])) == "000"
    assert await push(emp, auth_push("insert", [rfid])) == "009"  # exists
    assert await push(emp, auth_push("update", [pnc])) == "009"  # missing
    assert (
        await push(emp, auth_push("update", [{"QRCodeIdentification": {"EvcoID": EVCO, "PIN": "1111"}}]))
        == "000"
    )
    assert await push(emp, auth_push("insert", [pnc, remote, card])) == "000"
    assert await push(emp, auth_push("delete", [rfid, pnc])) == "000"
    db, party = oicp_hub.db, emp.party.id
    assert await offline_match(db, medium(RFIDMifareFamilyIdentification={"UID": "12345ABC"}), None) is None
    assert await offline_match(
        db, medium(QRCodeIdentification={"EvcoID": EVCO, "PIN": "1111"}), None
    ) == OfflineMatch(party, "DE-DCB")
    assert await offline_match(db, medium(QRCodeIdentification={"EvcoID": EVCO, "PIN": PIN}), None) is None
    assert await push(emp, auth_push("fullLoad", [])) == "000"
    assert await offline_match(db, medium(RemoteIdentification={"EvcoID": EVCO}), None) is None

    assert (
        await push(emp, auth_push("insert", [rfid, {"RFIDMifareFamilyIdentification": {"UID": "12345abc"}}]))
        == "009"
    )
    foreign = {"RemoteIdentification": {"EvcoID": "DE-XYZ-C12345678-X"}}
    assert await push(emp, auth_push("insert", [foreign])) == "019"
    assert await push(emp, auth_push("insert", [{**rfid, **pnc}])) == "022"  # two media in one record
    await oicp_hub.admit("DE", "XYZ", "EMSP")
    assert await push(emp, auth_push("insert", [rfid], provider="DE-XYZ")) == "017"
    with oicp_hub.ctx.pushes.hold(party, "eRoamingPushAuthenticationData"):
        assert await push(emp, auth_push("insert", [rfid])) == "009"  # one push at a time


async def test_cpo_pulls_the_disclosed_data_of_its_emps(
    oicp_hub: OicpHub, emp: OicpPartnerConn, cpo: OicpPartnerConn
) -> None:
    assert await push(emp, auth_push("fullLoad", media())) == "000"
    answer = await call(
        cpo, "eRoamingPullAuthenticationData", PULL.format(op="DE*ABC"), {"OperatorID": "DE*ABC"}
    )
    (provider,) = answer["AuthenticationData"]["ProviderAuthenticationData"]
    assert provider["ProviderID"] == "DE-DCB"
    pulled = [record["Identification"] for record in provider["AuthenticationDataRecord"]]
    assert {"QRCodeIdentification": {"EvcoID": EVCO}} in pulled  # no PIN, no hash
    assert {"RFIDMifareFamilyIdentification": {"UID": "12345ABC"}} in pulled and len(pulled) == 5
    # Under the explicit policy only EMPs with an agreement are disclosed.
    object.__setattr__(oicp_hub.ctx.settings, "agreements", "explicit")
    answer = await call(
        cpo, "eRoamingPullAuthenticationData", PULL.format(op="DE*ABC"), {"OperatorID": "DE*ABC"}
    )
    assert answer["AuthenticationData"]["ProviderAuthenticationData"] == []
    await agreements.add_agreement(
        oicp_hub.db, agreements.AgreementCreate(cpo=PartyRef.parse("DE-ABC"), emsp=PartyRef.parse("DE-DCB"))
    )
    answer = await call(
        cpo, "eRoamingPullAuthenticationData", PULL.format(op="DE*ABC"), {"OperatorID": "DE*ABC"}
    )
    assert len(answer["AuthenticationData"]["ProviderAuthenticationData"][0]["AuthenticationDataRecord"]) == 5
