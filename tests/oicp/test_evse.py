"""EVSE data and status through the real mutual-TLS hub (oicp-hub-notes §1, §2 #11-#16, §5).

Requests are built from Hubject's own examples (copied and changed in memory) and every answer is checked
against Hubject's OpenAPI files.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest

from hub import agreements
from hub.ocpi import hubstore
from schemas.canonical.party import PartyRef
from schemas.oicp.v2_3.common import format_datetime
from schemas.oicp.v2_3.openapi import SPEC_DIR, validate_request, validate_response
from tests.oicp.conftest import OicpHub, OicpPartnerConn

PUSH_DATA = "/evsepush/v23/operators/{op}/data-records"
PUSH_STATUS = "/evsepush/v21/operators/{op}/status-records"
PULL_DATA = "/evsepull/v23/providers/{p}/data-records"
PULL_STATUS = "/evsepull/v21/providers/{p}/status-records"
BY_ID = "/evsepull/v21/providers/{p}/status-records-by-id"
BY_OPERATOR = "/evsepull/v21/providers/{p}/status-records-by-operator-id"


@cache
def _example(name: str) -> str:
    path = SPEC_DIR / "examples" / name
    if not path.exists():
        pytest.skip(f"OICP spec examples not found at {path.parent}")
    return path.read_text(encoding="utf-8")


def example(name: str) -> Any:
    """A fresh copy of one of Hubject's example payloads (the files are never changed)."""
    return json.loads(_example(name))


def record(evse_id: str, *, coordinates: str = "52.480495 13.356465", **changes: Any) -> dict[str, Any]:
    """The spec's EVSE data record for another EvseID and place."""
    body = example("cpo__eroamingpushevsedata__request.json")["OperatorEvseData"]["EvseDataRecord"][0]
    body |= {"EvseID": evse_id, "GeoCoordinates": {"Google": {"Coordinates": coordinates}}}
    for name in ("deltaType", "lastUpdate", "GeoChargingPointEntrance"):
        body.pop(name)
    return body | changes


def data_push(action: str, records: list[dict[str, Any]], operator: str = "DE*ABC") -> dict[str, Any]:
    body = {
        "ActionType": action,
        "OperatorEvseData": {
            "OperatorID": operator,
            "OperatorName": "ABC technologies",
            "EvseDataRecord": records,
        },
    }
    validate_request("eRoamingPushEvseData", "post", body)
    return body


def status_push(action: str, statuses: dict[str, str], operator: str = "DE*ABC") -> dict[str, Any]:
    body = example("cpo__eroamingpushevsestatus__request.json")
    body["ActionType"] = action
    body["OperatorEvseStatus"] |= {
        "OperatorID": operator,
        "EvseStatusRecord": [{"EvseID": evse, "EvseStatus": status} for evse, status in statuses.items()],
    }
    return body


def pull(**fields: Any) -> dict[str, Any]:
    return {"ProviderID": "DE-DCB", "GeoCoordinatesResponseFormat": "DecimalDegree", **fields}


async def call(conn: OicpPartnerConn, operation: str, path: str, body: Any) -> dict[str, Any]:
    """POST, expect HTTP 200, and check the answer against Hubject's OpenAPI for the operation."""
    status, answer = await conn.post(path, body)
    assert status == 200, answer
    validate_response(operation, "post", answer)
    return answer


async def push(conn: OicpPartnerConn, path: str, body: dict[str, Any]) -> str:
    """The StatusCode a push is answered with (``Result`` must agree with it)."""
    operation = "eRoamingPushEvseData" if "data-records" in path else "eRoamingPushEvseStatus"
    answer = await call(conn, operation, path.format(op="DE*ABC"), body)
    code: str = answer["StatusCode"]["Code"]
    assert answer["Result"] is (code == "000"), answer
    return code


async def pulled(conn: OicpPartnerConn, body: dict[str, Any], query: str = "") -> dict[str, Any]:
    return await call(conn, "eRoamingPullEvseData", PULL_DATA.format(p="DE-DCB") + query, body)


def ids(page: dict[str, Any]) -> list[str]:
    return [item["EvseID"] for item in page["content"]]


def statuses(answer: dict[str, Any]) -> dict[str, str]:
    groups = answer["EvseStatuses"]["OperatorEvseStatus"]
    return {r["EvseID"]: r["EvseStatus"] for group in groups for r in group["EvseStatusRecord"]}


def now() -> str:
    return format_datetime(datetime.now(UTC))


@pytest.fixture
async def cpo(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "ABC", "CPO"))


@pytest.fixture
async def emp(oicp_hub: OicpHub) -> OicpPartnerConn:
    return await oicp_hub.connect(await oicp_hub.admit("DE", "DCB", "EMSP"))


# --- PushEvseData -----------------------------------------------------------------------------------


async def test_spec_example_is_stored_and_pulled_back(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    body = example("cpo__eroamingpushevsedata__request.json")
    # The example's EVSE is of a sub-operator (DE*XYZ) the hub does not know: not DE*ABC's, 018.
    assert await push(cpo, PUSH_DATA, body) == "018"
    body["OperatorEvseData"]["EvseDataRecord"][0]["EvseID"] = "DE*ABC*ETEST1"
    assert await push(cpo, PUSH_DATA, body) == "000"

    page = await pulled(emp, pull())
    assert (page["totalElements"], page["first"], page["last"]) == (1, True, True)
    (got,) = page["content"]
    sent = body["OperatorEvseData"]["EvseDataRecord"][0]
    assert (got["OperatorID"], got["OperatorName"]) == ("DE*ABC", "ABC technologies")
    assert got["GeoCoordinates"] == {"DecimalDegree": {"Latitude": "52.480495", "Longitude": "13.356465"}}
    assert got["ChargingStationNames"] == sent["ChargingStationNames"]
    assert got["EnvironmentalImpact"] == {"CO2Emission": 30.3} and got["OpeningTimes"] == sent["OpeningTimes"]
    assert "deltaType" not in got and got["lastUpdate"] != sent["lastUpdate"]  # the hub's own time


async def test_action_types_insert_update_delete_full_load(
    cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    e1, e2, e3 = "DE*ABC*E1", "DE*ABC*E2", "DE*ABC*E3"
    assert await push(cpo, PUSH_DATA, data_push("insert", [record(e1), record(e2)])) == "000"
    assert await push(cpo, PUSH_DATA, data_push("insert", [record(e1)])) == "009"  # exists
    assert await push(cpo, PUSH_DATA, data_push("update", [record(e3)])) == "009"  # missing
    renamed = record(e1, ChargingStationNames=[{"lang": "de", "value": "Umbenannt"}])
    assert await push(cpo, PUSH_DATA, data_push("update", [renamed])) == "000"
    assert await push(cpo, PUSH_DATA, data_push("delete", [record(e2)])) == "000"
    page = await pulled(emp, pull())
    assert ids(page) == [e1]
    assert page["content"][0]["ChargingStationNames"] == [{"lang": "de", "value": "Umbenannt"}]
    # A deleted record may be inserted again; a fullLoad replaces the set, an empty one deletes all.
    assert await push(cpo, PUSH_DATA, data_push("insert", [record(e2)])) == "000"
    assert await push(cpo, PUSH_DATA, data_push("fullLoad", [record(e3), record(e2)])) == "000"
    assert ids(await pulled(emp, pull())) == [e2, e3]
    assert await push(cpo, PUSH_DATA, data_push("fullLoad", [])) == "000"
    assert (await pulled(emp, pull()))["totalElements"] == 0


async def test_evse_ids_must_be_the_operators_and_listed_once(
    oicp_hub: OicpHub, cpo: OicpPartnerConn
) -> None:
    await oicp_hub.admit("DE", "OTH", "CPO")
    assert await push(cpo, PUSH_DATA, data_push("insert", [record("DE*OTH*E1")])) == "018"
    # Compared without '*' and in upper case (notes §4.1): DEABCE1 is DE*ABC*E1.
    twice = data_push("insert", [record("DE*ABC*E1"), record("deabcE1")])
    assert await push(cpo, PUSH_DATA, twice) == "018"
    assert await push(cpo, PUSH_DATA, data_push("insert", [record("DEABCE1")])) == "000"
    # The body's OperatorID must be the caller's (017), and the path's.
    answer = await call(
        cpo, "eRoamingPushEvseData", PUSH_DATA.format(op="DE*ABC"), data_push("insert", [], "DE*OTH")
    )
    assert answer["StatusCode"]["Code"] == "017"


async def test_unreadable_coordinates_are_022(cpo: OicpPartnerConn) -> None:
    bad = record("DE*ABC*E1", GeoCoordinates={"Google": {"Coordinates": "north of Berlin"}})
    assert (
        await push(
            cpo,
            PUSH_DATA,
            {
                "ActionType": "insert",
                "OperatorEvseData": {"OperatorID": "DE*ABC", "OperatorName": "ABC", "EvseDataRecord": [bad]},
            },
        )
        == "022"
    )


async def test_pushes_are_sequential_per_partner_and_operation(
    oicp_hub: OicpHub, cpo: OicpPartnerConn
) -> None:
    party = cpo.party.id
    with oicp_hub.ctx.pushes.hold(party, "eRoamingPushEvseData"):  # a push of this partner under way
        assert await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1")])) == "009"
        assert await push(cpo, PUSH_STATUS, status_push("fullLoad", {})) == "000"  # another operation
    assert await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1")])) == "000"


# --- PullEvseData -----------------------------------------------------------------------------------


async def test_last_call_answers_what_changed_with_delta_types(
    cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    await push(
        cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1"), record("DE*ABC*E2"), record("DE*ABC*E4")])
    )
    await asyncio.sleep(0.01)
    last_call = now()
    await asyncio.sleep(0.01)
    await push(
        cpo, PUSH_DATA, data_push("update", [record("DE*ABC*E1", IsOpen24Hours=True, OpeningTimes=[])])
    )
    await push(cpo, PUSH_DATA, data_push("delete", [record("DE*ABC*E2")]))
    await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E3")]))
    # An update that changes nothing is no change.
    await push(cpo, PUSH_DATA, data_push("update", [record("DE*ABC*E4")]))

    page = await pulled(emp, pull(LastCall=last_call))
    assert {r["EvseID"]: r["deltaType"] for r in page["content"]} == {
        "DE*ABC*E1": "update",
        "DE*ABC*E2": "delete",
        "DE*ABC*E3": "insert",
    }
    assert ids(await pulled(emp, pull(LastCall=now()))) == []
    for mixed in ({"OperatorIds": ["DE*ABC"]}, {"CountryCodes": ["DEU"]}):
        refused = await pulled(emp, pull(LastCall=last_call, **mixed))
        assert refused["StatusCode"]["Code"] == "022" and refused["content"] == []


async def test_pages_and_sizes(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    await push(cpo, PUSH_DATA, data_push("fullLoad", [record(f"DE*ABC*E{n}") for n in range(5)]))
    page = await pulled(emp, pull(), "?page=1&size=2")
    assert ids(page) == ["DE*ABC*E2", "DE*ABC*E3"]
    assert (page["number"], page["size"], page["totalElements"], page["totalPages"]) == (1, 2, 5, 3)
    assert (page["first"], page["last"], page["numberOfElements"]) == (False, False, 2)
    last = await pulled(emp, pull(), "?page=2&size=2")
    assert ids(last) == ["DE*ABC*E4"] and last["last"] is True
    assert (await pulled(emp, pull(), "?size=5000"))["size"] == 2000  # at most 2000 (notes §2 #12)
    assert (await pulled(emp, pull()))["size"] == 20
    for bad in ("?size=0", "?page=-1"):
        assert (await pulled(emp, pull(), bad))["StatusCode"]["Code"] == "022"


async def test_filters(oicp_hub: OicpHub, cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    vienna = record("DE*ABC*E2", coordinates="48.208176,16.373819", IsHubjectCompatible=False)
    vienna["Address"] = vienna["Address"] | {"Country": "AUT", "City": "Wien"}
    await push(cpo, PUSH_DATA, data_push("fullLoad", [record("DE*ABC*E1"), vienna]))
    other = await oicp_hub.connect(await oicp_hub.admit("DE", "OTH", "CPO"))
    await call(
        other,
        "eRoamingPushEvseData",
        PUSH_DATA.format(op="DE*OTH"),
        data_push("insert", [record("DE*OTH*E9", RenewableEnergy=False)], "DE*OTH"),
    )

    berlin = {"DecimalDegree": {"Latitude": "52.52", "Longitude": "13.405"}}
    assert ids(await pulled(emp, pull(SearchCenter={"GeoCoordinates": berlin, "Radius": 10}))) == [
        "DE*ABC*E1",
        "DE*OTH*E9",
    ]
    assert ids(await pulled(emp, pull(SearchCenter={"GeoCoordinates": berlin, "Radius": 600}))) == [
        "DE*ABC*E1",
        "DE*ABC*E2",
        "DE*OTH*E9",
    ]
    assert ids(await pulled(emp, pull(CountryCodes=["AUT"]))) == ["DE*ABC*E2"]
    assert ids(await pulled(emp, pull(OperatorIds=["DEOTH"]))) == ["DE*OTH*E9"]
    assert ids(await pulled(emp, pull(OperatorIDs=["DE*ABC"]))) == [
        "DE*ABC*E1",
        "DE*ABC*E2",
    ]  # both spellings
    assert ids(await pulled(emp, pull(IsHubjectCompatible=False))) == ["DE*ABC*E2"]
    assert ids(await pulled(emp, pull(RenewableEnergy=False))) == ["DE*OTH*E9"]
    assert ids(await pulled(emp, pull(AuthenticationModes=["PnC"]))) == []
    assert ids(await pulled(emp, pull(AuthenticationModes=["REMOTE", "PnC"], OperatorIds=["DE*ABC"]))) == [
        "DE*ABC*E1",
        "DE*ABC*E2",
    ]
    assert ids(await pulled(emp, pull(Accessibility=["Free publicly accessible"]))) == []
    assert ids(await pulled(emp, pull(CalibrationLawDataAvailability=["Local"], IsOpen24Hours=False))) != []
    unreadable = {"GeoCoordinates": {"Google": {"Coordinates": "here"}}, "Radius": 1}
    assert (await pulled(emp, pull(SearchCenter=unreadable)))["StatusCode"]["Code"] == "022"


async def test_coordinates_in_the_requested_format(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    entrance = {"DegreeMinuteSeconds": {"Latitude": "52°28'49.782''", "Longitude": "13°21'23.274''"}}
    await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1", GeoChargingPointEntrance=entrance)]))
    (google,) = (await pulled(emp, pull(GeoCoordinatesResponseFormat="Google")))["content"]
    assert google["GeoCoordinates"] == {"Google": {"Coordinates": "52.480495 13.356465"}}
    assert google["GeoChargingPointEntrance"] == {"Google": {"Coordinates": "52.480495 13.356465"}}
    (dms,) = (await pulled(emp, pull(GeoCoordinatesResponseFormat="DegreeMinuteSeconds")))["content"]
    assert dms["GeoCoordinates"] == {
        "DegreeMinuteSeconds": {"Latitude": "52°28'49.7820''", "Longitude": "13°21'23.2740''"}
    }


async def test_contracts_decide_which_operators_an_emp_sees(
    oicp_hub: OicpHub, cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1")]))
    await push(cpo, PUSH_STATUS, status_push("insert", {"DE*ABC*E1": "Available"}))
    # The operator's policy is a setting read on every request; tests switch it on the running hub.
    object.__setattr__(oicp_hub.ctx.settings, "agreements", "explicit")
    assert ids(await pulled(emp, pull())) == []
    assert (
        statuses(
            await call(
                emp, "eRoamingPullEvseStatus", PULL_STATUS.format(p="DE-DCB"), {"ProviderID": "DE-DCB"}
            )
        )
        == {}
    )
    by_id = await call(
        emp,
        "eRoamingPullEvseStatusByID",
        BY_ID.format(p="DE-DCB"),
        {"ProviderID": "DE-DCB", "EvseID": ["DE*ABC*E1"]},
    )
    assert by_id["EVSEStatusRecords"]["EvseStatusRecord"][0]["EvseStatus"] == "EvseNotFound"
    await agreements.add_agreement(
        oicp_hub.db, agreements.AgreementCreate(cpo=PartyRef.parse("DE-ABC"), emsp=PartyRef.parse("DE-DCB"))
    )
    assert ids(await pulled(emp, pull())) == ["DE*ABC*E1"]


# --- PushEvseStatus and the status pulls ------------------------------------------------------------


async def test_statuses_pushed_and_pulled_three_ways(
    oicp_hub: OicpHub, cpo: OicpPartnerConn, emp: OicpPartnerConn
) -> None:
    await push(cpo, PUSH_DATA, data_push("fullLoad", [record(f"DE*ABC*E{n}") for n in (1, 2, 3)]))
    body = status_push(
        "fullLoad", {"DE*ABC*E1": "Available", "DE*ABC*E2": "Occupied", "DE*ABC*E3": "Available"}
    )
    assert await push(cpo, PUSH_STATUS, body) == "000"
    # A status for an EVSE without a data record: 009, once the operator has pushed data (notes §2 #13).
    assert await push(cpo, PUSH_STATUS, status_push("update", {"DE*ABC*E9": "Available"})) == "009"
    assert await push(cpo, PUSH_STATUS, status_push("insert", {"DE*ABC*E1": "Occupied"})) == "009"
    assert await push(cpo, PUSH_STATUS, status_push("update", {"DE*ABC*E1": "Reserved"})) == "000"
    assert await push(cpo, PUSH_STATUS, status_push("update", {"DE*OTH*E1": "Reserved"})) == "018"
    await push(cpo, PUSH_DATA, data_push("delete", [record("DE*ABC*E3")]))  # its status goes too

    path = PULL_STATUS.format(p="DE-DCB")
    everything = await call(emp, "eRoamingPullEvseStatus", path, {"ProviderID": "DE-DCB"})
    assert everything["EvseStatuses"]["OperatorEvseStatus"][0]["OperatorID"] == "DE*ABC"
    assert statuses(everything) == {"DE*ABC*E1": "Reserved", "DE*ABC*E2": "Occupied"}
    occupied = await call(
        emp, "eRoamingPullEvseStatus", path, {"ProviderID": "DE-DCB", "EvseStatus": "Occupied"}
    )
    assert statuses(occupied) == {"DE*ABC*E2": "Occupied"}
    berlin = {"Google": {"Coordinates": "52.5 13.4"}}
    near = {"ProviderID": "DE-DCB", "SearchCenter": {"GeoCoordinates": berlin, "Radius": 1}}
    assert statuses(await call(emp, "eRoamingPullEvseStatus", path, near)) == {}

    by_operator = example("emp__eroamingpullevsestatusbyoperatorid__request.json")
    for where in (BY_OPERATOR, PULL_STATUS):  # own path, and the 2.3 OpenAPI's oneOf path (notes §8.4)
        answer = await call(emp, "eRoamingPullEvseStatusByOperatorID", where.format(p="DE-DCB"), by_operator)
        assert statuses(answer) == {"DE*ABC*E1": "Reserved", "DE*ABC*E2": "Occupied"}

    by_id = example("emp__eroamingpullevsestatusbyid__request.json")
    by_id["EvseID"] = ["DE*ABC*E2", "DEABCE1", "DE*ABC*E3", "DE*ABC*E404", "DE*XYZ*ETEST1"]
    for where in (BY_ID, PULL_STATUS):
        answer = await call(emp, "eRoamingPullEvseStatusByID", where.format(p="DE-DCB"), by_id)
        assert [(r["EvseID"], r["EvseStatus"]) for r in answer["EVSEStatusRecords"]["EvseStatusRecord"]] == [
            ("DE*ABC*E2", "Occupied"),
            ("DEABCE1", "Reserved"),
            ("DE*ABC*E3", "EvseNotFound"),
            ("DE*ABC*E404", "EvseNotFound"),
            ("DE*XYZ*ETEST1", "EvseNotFound"),
        ]
    too_many = {"ProviderID": "DE-DCB", "EvseID": [f"DE*ABC*E{n}" for n in range(101)]}
    # Refused while parsing, before the handler: the front door renders that answer (022).
    _status, refused = await emp.post(BY_ID.format(p="DE-DCB"), too_many)
    assert refused["StatusCode"]["Code"] == "022"


async def test_status_push_rules(cpo: OicpPartnerConn, emp: OicpPartnerConn) -> None:
    # A CPO that never pushed EVSE data may publish statuses alone (documented leniency).
    assert await push(cpo, PUSH_STATUS, status_push("insert", {"DE*ABC*E1": "Available"})) == "000"
    assert await push(cpo, PUSH_STATUS, status_push("insert", {"DE*ABC*E2": "OutOfService"})) == "000"
    assert await push(cpo, PUSH_STATUS, status_push("delete", {"DE*ABC*E1": "Available"})) == "000"
    answer = await call(
        emp, "eRoamingPullEvseStatus", PULL_STATUS.format(p="DE-DCB"), {"ProviderID": "DE-DCB"}
    )
    assert statuses(answer) == {"DE*ABC*E2": "OutOfService"}
    assert (await pulled(emp, pull()))["totalElements"] == 0  # statuses are not data records
    assert (
        await push(
            cpo, PUSH_STATUS, status_push("fullLoad", {"DE*ABC*E1": "Available", "deabcE1": "Occupied"})
        )
        == "018"
    )
    # Its first data push makes the rule strict: E2 has a status but no data record.
    await push(cpo, PUSH_DATA, data_push("insert", [record("DE*ABC*E1")]))
    assert await push(cpo, PUSH_STATUS, status_push("update", {"DE*ABC*E2": "Available"})) == "009"
    assert await push(cpo, PUSH_STATUS, status_push("fullLoad", {"DE*ABC*E1": "Occupied"})) == "000"
    answer = await call(
        emp, "eRoamingPullEvseStatus", PULL_STATUS.format(p="DE-DCB"), {"ProviderID": "DE-DCB"}
    )
    assert statuses(answer) == {"DE*ABC*E1": "Occupied"}


async def test_status_push_for_another_operator_is_017(oicp_hub: OicpHub, cpo: OicpPartnerConn) -> None:
    await oicp_hub.admit("DE", "OTH", "CPO")
    body = status_push("fullLoad", {"DE*OTH*E1": "Available"}, operator="DE*OTH")
    assert await push(cpo, PUSH_STATUS, body) == "017"


# --- EVSEs of OCPI CPOs -----------------------------------------------------------------------------

NO_ADAPTERS = importlib.util.find_spec("adapters.ocpi.locations") is None


@pytest.mark.skipif(NO_ADAPTERS, reason="adapters.ocpi.locations (OCPI location adapter) is not written yet")
async def test_ocpi_cpos_evses_are_pulled_like_oicp_ones(oicp_hub: OicpHub, emp: OicpPartnerConn) -> None:
    ocpi = await oicp_hub.admit("BE", "BEC", "CPO", protocol="ocpi", name="BeCharged platform")
    location = json.loads((SPEC_DIR.parent / "ocpi-2.2.1" / "examples" / "location_example.json").read_text())

    async def store(body: dict[str, Any]) -> None:
        await hubstore.save(
            oicp_hub.db,
            "locations",
            "BE",
            "BEC",
            body["id"],
            party_fk=ocpi.id,
            body=json.dumps(body),
            last_updated=hubstore.parse_datetime(body["last_updated"]),
        )

    await store(location)
    page = await pulled(emp, pull())
    assert ids(page) == ["BE*BEC*E041503001", "BE*BEC*E041503002"]
    assert {(r["OperatorID"], r["OperatorName"]) for r in page["content"]} == {("BE*BEC", "BeCharged")}
    assert page["content"][0]["GeoCoordinates"] == {
        "DecimalDegree": {"Latitude": "51.047599", "Longitude": "3.729944"}
    }
    assert ids(await pulled(emp, pull(OperatorIds=["BE*BEC"], CountryCodes=["BEL"]))) == ids(page)

    answer = await call(
        emp, "eRoamingPullEvseStatus", PULL_STATUS.format(p="DE-DCB"), {"ProviderID": "DE-DCB"}
    )
    assert statuses(answer) == {"BE*BEC*E041503001": "Available", "BE*BEC*E041503002": "Reserved"}
    by_id = await call(
        emp,
        "eRoamingPullEvseStatusByID",
        BY_ID.format(p="DE-DCB"),
        {"ProviderID": "DE-DCB", "EvseID": ["BE*BEC*E041503002", "BE*BEC*E9"]},
    )
    assert [r["EvseStatus"] for r in by_id["EVSEStatusRecords"]["EvseStatusRecord"]] == [
        "Reserved",
        "EvseNotFound",
    ]

    # The OCPI CPO removes one EVSE: a delta pull names it deleted, a full pull leaves it out.
    changed = copy.deepcopy(location)
    changed["evses"][1] |= {"status": "REMOVED", "last_updated": "2015-07-01T10:00:00Z"}
    changed["last_updated"] = "2015-07-01T10:00:00Z"
    await store(changed)
    delta = await pulled(emp, pull(LastCall="2015-06-30T00:00:00Z"))
    assert [(r["EvseID"], r["deltaType"]) for r in delta["content"]] == [("BE*BEC*E041503002", "delete")]
    assert ids(await pulled(emp, pull())) == ["BE*BEC*E041503001"]
