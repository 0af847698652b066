"""OCPI 2.2.1 Locations ⇄ canonical EVSEs, over every full Location example of the spec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.ocpi.locations import evse_uid_for, evses_to_location, location_to_evses, oicp_evse_id
from adapters.oicp.evse import record_to_evse
from schemas.canonical.evse import EvseStatus
from schemas.canonical.party import PartyRef
from schemas.ocpi.v2_2_1.locations import Location
from tests.adapters import ocpi_example, oicp_example

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LOCATION_EXAMPLES = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]


def _owner(location: dict[str, Any]) -> PartyRef:
    return PartyRef(country_code=location["country_code"], party_id=location["party_id"])


@pytest.mark.parametrize("name", LOCATION_EXAMPLES)
def test_spec_locations_round_trip(name: str) -> None:
    location = ocpi_example(name)
    evses = location_to_evses(location, _owner(location))
    with_ids = [evse for evse in location.get("evses", []) if evse.get("evse_id")]
    assert [evse.uid for evse in evses] == [evse["uid"] for evse in with_ids]
    if not evses:
        return
    rebuilt = evses_to_location(evses, _owner(location), location["id"], NOW)
    Location.model_validate(rebuilt)
    for key in ("country_code", "party_id", "id", "address", "city", "country", "time_zone", "publish"):
        assert rebuilt[key] == location[key], key
    assert rebuilt["last_updated"] == "2024-05-01T12:00:00Z"
    for before, after in zip(with_ids, rebuilt["evses"], strict=True):
        assert (after["uid"], after["status"]) == (before["uid"], before["status"])
        assert after["evse_id"] == oicp_evse_id(before["evse_id"])
        for old, new in zip(before["connectors"], after["connectors"], strict=True):
            for key in ("id", "standard", "format", "power_type", "max_voltage", "max_amperage"):
                assert new[key] == old[key], key


def test_location_fields_carried_by_each_evse() -> None:
    location = ocpi_example("location_example_parking_garage_opening_hours.json")
    [evse, *_] = location_to_evses(location, _owner(location))
    assert evse.operator_id == f"{location['country_code']}*{location['party_id']}"
    assert evse.location_id == location["id"]
    assert evse.address.time_zone == location["time_zone"]
    assert evse.opening_hours is not None
    assert evse.opening_hours.twentyfourseven is location["opening_times"]["twentyfourseven"]
    assert len(evse.opening_hours.regular) == len(location["opening_times"]["regular_hours"])


def test_evses_without_evse_id_are_skipped() -> None:
    location = ocpi_example("location_example.json")
    del location["evses"][0]["evse_id"]
    location["evses"][1]["evse_id"] = "not an evse id"
    assert location_to_evses(location, _owner(location)) == []


@pytest.mark.parametrize(
    ("ocpi", "oicp"),
    [
        ("NL*ABC*E123", "NL*ABC*E123"),
        ("NLABCE123", "NLABCE123"),
        ("nl*abc*e123", "NL*ABC*E123"),
        ("NL-ABC-E123", "NL*ABC*E123"),
        ("+49*810*000*438", "+49*810*000*438"),
        ("NL*ABC*123", None),
        ("", None),
    ],
)
def test_oicp_evse_id(ocpi: str, oicp: str | None) -> None:
    assert oicp_evse_id(ocpi) == oicp


def test_evse_uid_for_is_the_comparable_evse_id() -> None:
    assert evse_uid_for("DE*AB7*E840*6487") == "DEAB7E8406487"
    assert evse_uid_for("deab7e8406487") == "DEAB7E8406487"
    long_din = "+49*810*" + "1234567890" * 3 + "12"
    uid = evse_uid_for(long_din)
    assert len(uid) == 36
    assert uid == evse_uid_for(long_din)
    assert uid != evse_uid_for(long_din[:-1] + "3")


def test_oicp_record_becomes_an_ocpi_location() -> None:
    push = oicp_example("cpo__eroamingpushevsedata__request.json")["OperatorEvseData"]
    evse = record_to_evse(push["EvseDataRecord"][0], push["OperatorID"], operator_name=push["OperatorName"])
    evse = evse.model_copy(update={"status": EvseStatus.CHARGING})
    location = evses_to_location([evse], PartyRef.parse("DE-ABC"), "POOL1", NOW)
    Location.model_validate(location)
    assert location["address"] == "EUREF CAMPUS 22"
    assert location["operator"] == {"name": "ABC technologies"}
    assert location["energy_mix"] == {"is_green_energy": True}
    assert location["parking_type"] == "PARKING_GARAGE"
    [ocpi_evse] = location["evses"]
    assert (ocpi_evse["uid"], ocpi_evse["evse_id"], ocpi_evse["status"]) == (
        "DEXYZETEST1",
        "DE*XYZ*ETEST1",
        "CHARGING",
    )
    assert ocpi_evse["capabilities"] == ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE"]
    assert ocpi_evse["last_updated"] == "2018-01-23T14:04:29.377Z"
    assert location["opening_times"]["twentyfourseven"] is False
    assert len(location["opening_times"]["regular_hours"]) == 7


def test_a_location_needs_evses_and_a_time_zone() -> None:
    with pytest.raises(ValueError, match="at least one"):
        evses_to_location([], PartyRef.parse("DE-ABC"), "L", NOW)
    push = oicp_example("cpo__eroamingpushevsedata__request.json")["OperatorEvseData"]
    record = push["EvseDataRecord"][0]
    record["Address"] = record["Address"] | {"Country": "USA"}
    del record["Address"]["TimeZone"]
    evse = record_to_evse(record, "DE*ABC")
    with pytest.raises(ValueError, match="time zone"):
        evses_to_location([evse], PartyRef.parse("DE-ABC"), "L", NOW)
