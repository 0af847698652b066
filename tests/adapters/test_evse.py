"""OICP EvseDataRecord/EvseStatus ⇄ canonical Evse; records checked against Hubject's OpenAPI."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.ocpi.locations import location_to_evses
from adapters.oicp.evse import (
    UnmappableEvse,
    evse_to_pull_record,
    evse_to_record,
    record_to_evse,
    status_from_canonical,
    status_to_canonical,
)
from schemas.canonical.evse import (
    Connector,
    ConnectorFormat,
    Evse,
    EvseStatus,
    OpeningHours,
    PowerType,
    RegularHours,
)
from schemas.canonical.party import PartyRef
from schemas.oicp.v2_3 import openapi
from schemas.oicp.v2_3.evse_data import EvseDataRecord
from schemas.oicp.v2_3.evse_status import EvseStatus as OicpEvseStatus
from tests.adapters import ocpi_example, oicp_example

HOTLINE = "+3292000000"


def _pushed_record() -> dict[str, Any]:
    push: dict[str, Any] = oicp_example("cpo__eroamingpushevsedata__request.json")
    return dict(push["OperatorEvseData"]["EvseDataRecord"][0])


def _ocpi_evses() -> list[Evse]:
    return location_to_evses(ocpi_example("location_example.json"), PartyRef.parse("BE-BEC"))


def _valid_everywhere(record: dict[str, Any]) -> None:
    openapi.validate_schema("EvseDataRecord", record, side="cpo", strict_lengths=True)
    openapi.validate_schema("EvseDataRecord", record, side="emp", strict_lengths=True)


# --- Status -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oicp", "canonical"),
    [
        ("Available", EvseStatus.AVAILABLE),
        ("Reserved", EvseStatus.RESERVED),
        ("Occupied", EvseStatus.CHARGING),
        ("OutOfService", EvseStatus.INOPERATIVE),
        ("EvseNotFound", EvseStatus.REMOVED),
        ("Unknown", EvseStatus.UNKNOWN),
    ],
)
def test_oicp_status_to_canonical_and_back(oicp: str, canonical: EvseStatus) -> None:
    assert status_to_canonical(oicp) is canonical
    assert status_from_canonical(canonical) == oicp


@pytest.mark.parametrize(
    ("canonical", "oicp"),
    [
        (EvseStatus.BLOCKED, "Occupied"),
        (EvseStatus.CHARGING, "Occupied"),
        (EvseStatus.INOPERATIVE, "OutOfService"),
        (EvseStatus.OUTOFORDER, "OutOfService"),
        (EvseStatus.REMOVED, "EvseNotFound"),
        (EvseStatus.PLANNED, "Unknown"),
    ],
)
def test_ocpi_statuses_without_a_twin(canonical: EvseStatus, oicp: str) -> None:
    assert status_from_canonical(canonical) == oicp
    assert status_from_canonical(canonical.value) == oicp


def test_every_canonical_status_has_an_oicp_status() -> None:
    assert {status_from_canonical(status) for status in EvseStatus} == {s.value for s in OicpEvseStatus}


def test_an_unknown_oicp_status_is_refused() -> None:
    with pytest.raises(ValueError, match="EvseStatus"):
        status_to_canonical("Charging")


# --- OICP → canonical -------------------------------------------------------------------------------


def test_spec_push_record_to_canonical() -> None:
    evse = record_to_evse(_pushed_record(), "DE*ABC", operator_name="ABC technologies")
    assert evse.evse_id == "DE*XYZ*ETEST1"
    assert evse.uid == "DEXYZETEST1"
    assert evse.operator_id == "DE*ABC"
    assert evse.location_id == "DE*ABC*P1234TEST*1"
    assert evse.status is EvseStatus.UNKNOWN
    assert evse.name == "ABC Charging Station Test"
    assert (evse.address.street, evse.address.house_number, evse.address.country) == (
        "EUREF CAMPUS",
        "22",
        "DEU",
    )
    assert evse.address.time_zone == "Europe/Berlin"
    assert (evse.coordinates.latitude, evse.coordinates.longitude) == (
        Decimal("52.480495"),
        Decimal("13.356465"),
    )
    assert evse.connectors == (
        Connector(
            id="1",
            standard="IEC_62196_T2",
            format=ConnectorFormat.SOCKET,
            power_type=PowerType.AC_3_PHASE,
            max_voltage=480,
            max_amperage=32,
            max_electric_power=22000,
        ),
    )
    assert evse.capabilities == ("RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE")
    assert evse.parking_type == "PARKING_GARAGE"
    assert evse.opening_hours == OpeningHours(
        twentyfourseven=False,
        regular=tuple(RegularHours(weekday=day, begin="09:00", end="18:00") for day in range(1, 8)),
    )
    assert evse.renewable_energy is True
    assert evse.accessibility == "Restricted access"
    assert evse.hotline_phone_number == "+49123123123123"


def test_record_model_and_dict_give_the_same_evse() -> None:
    raw = _pushed_record()
    assert record_to_evse(EvseDataRecord.model_validate(raw), "DE*ABC") == record_to_evse(raw, "DE*ABC")


@pytest.mark.parametrize(
    ("coordinates", "latitude", "longitude"),
    [
        ({"DecimalDegree": {"Latitude": "50.110924", "Longitude": "-8.682127"}}, "50.110924", "-8.682127"),
        ({"Google": {"Coordinates": "47.662249, 9.360922"}}, "47.662249", "9.360922"),
        (
            {"DegreeMinuteSeconds": {"Latitude": "52°28'49.782''", "Longitude": "-13°21'23.274''"}},
            "52.480495",
            "-13.356465",
        ),
    ],
)
def test_every_geo_coordinates_format(coordinates: dict[str, Any], latitude: str, longitude: str) -> None:
    record = _pushed_record() | {"GeoCoordinates": coordinates}
    point = record_to_evse(record, "DE*ABC").coordinates
    assert (point.latitude, point.longitude) == (Decimal(latitude), Decimal(longitude))


def test_plugs_without_ocpi_counterpart_and_weekday_hours() -> None:
    record = _pushed_record() | {
        "Plugs": ["AVCON Connector", "CCS Combo 2 Plug (Cable Attached)"],
        "ChargingFacilities": [{"PowerType": "DC", "Power": 50}],
        "OpeningTimes": [{"Period": [{"begin": "08:00", "end": "20:00"}], "on": "Workdays"}],
        "Address": _pushed_record()["Address"] | {"Country": "XYZ", "TimeZone": "UTC+02:00"},
    }
    evse = record_to_evse(record, "DE*ABC")
    [connector] = evse.connectors
    assert (connector.standard, connector.format, connector.power_type) == (
        "IEC_62196_T2_COMBO",
        "CABLE",
        "DC",
    )
    assert (connector.max_voltage, connector.max_amperage, connector.max_electric_power) == (400, 125, 50000)
    assert [hours.weekday for hours in evse.opening_hours.regular] == [1, 2, 3, 4, 5]  # type: ignore[union-attr]
    assert evse.address.time_zone == "Etc/GMT-2"


# --- canonical → OICP -------------------------------------------------------------------------------


def test_ocpi_location_example_becomes_valid_oicp_records() -> None:
    first, second = _ocpi_evses()
    record = evse_to_record(first, hotline=HOTLINE)
    _valid_everywhere(record)
    assert record["EvseID"] == "BE*BEC*E041503001"
    assert record["Plugs"] == ["Type 2 Connector (Cable Attached)", "Type 2 Outlet"]
    # 3 x 220 V x 16 A = 10.56 kW; the CPO schema wants whole kW.
    assert record["ChargingFacilities"] == [
        {"PowerType": "AC_3_PHASE", "Power": 11, "Voltage": 220, "Amperage": 16}
    ]
    assert record["Address"] == {
        "Country": "BEL",
        "City": "Gent",
        "Street": "F.Rooseveltlaan 3A",
        "PostalCode": "9000",
        "HouseNum": "",
        "Floor": "-1",
    }
    assert record["GeoCoordinates"] == {"DecimalDegree": {"Latitude": "51.047599", "Longitude": "3.729944"}}
    assert record["ValueAddedServices"] == ["Reservation"]
    assert record["AccessibilityLocation"] == "OnStreet"
    assert record["IsOpen24Hours"] is True
    assert record["HotlinePhoneNumber"] == HOTLINE
    assert record["ChargingStationID"] == "LOC1"
    push = {
        "ActionType": "fullLoad",
        "OperatorEvseData": {
            "OperatorID": "BE*BEC",
            "OperatorName": "BeCharged",
            "EvseDataRecord": [record, evse_to_record(second, hotline=HOTLINE)],
        },
    }
    openapi.validate_request("eRoamingPushEvseData", "POST", push, strict_lengths=True)


def test_pull_record_names_its_operator() -> None:
    record = evse_to_pull_record(_ocpi_evses()[0], operator_name="fallback", hotline=HOTLINE)
    assert (record["OperatorID"], record["OperatorName"]) == ("BE*BEC", "BeCharged")
    openapi.validate_schema("PullEvseDataRecord", record, side="emp", strict_lengths=True)


def test_spec_record_round_trip_through_canonical() -> None:
    raw = _pushed_record()
    record = evse_to_record(record_to_evse(raw, "DE*ABC"))
    _valid_everywhere(record)
    for key in ("EvseID", "Plugs", "RenewableEnergy", "Accessibility", "HotlinePhoneNumber", "IsOpen24Hours"):
        assert record[key] == raw[key], key
    assert record["OpeningTimes"] == raw["OpeningTimes"]
    assert record["AccessibilityLocation"] == raw["AccessibilityLocation"]
    assert record["ChargingFacilities"] == [
        {"PowerType": "AC_3_PHASE", "Power": 22, "Voltage": 480, "Amperage": 32}
    ]
    assert record["AuthenticationModes"] == raw["AuthenticationModes"]
    assert record["ValueAddedServices"] == raw["ValueAddedServices"]
    assert record["GeoCoordinates"] == {"DecimalDegree": {"Latitude": "52.480495", "Longitude": "13.356465"}}
    assert record["lastUpdate"] == "2018-01-23T14:04:29.377Z"


def test_hotline_is_never_invented() -> None:
    evse = _ocpi_evses()[0]
    with pytest.raises(ValueError, match="HotlinePhoneNumber"):
        evse_to_record(evse)
    with pytest.raises(ValueError, match="HotlinePhoneNumber"):
        evse_to_record(evse, hotline="0800 123")


def test_an_evse_without_an_oicp_plug_is_unmappable() -> None:
    evse = _ocpi_evses()[0]
    gbt = evse.connectors[0].model_copy(update={"standard": "GBT_DC", "power_type": PowerType.DC})
    with pytest.raises(UnmappableEvse):
        evse_to_record(evse.model_copy(update={"connectors": (gbt,)}), hotline=HOTLINE)


def test_out_of_range_voltage_and_amperage_are_left_out() -> None:
    evse = _ocpi_evses()[0]
    dc = Connector(
        id="1",
        standard="IEC_62196_T2_COMBO",
        format=ConnectorFormat.CABLE,
        power_type=PowerType.DC,
        max_voltage=1000,
        max_amperage=500,
        max_electric_power=350000,
    )
    record = evse_to_record(evse.model_copy(update={"connectors": (dc,)}), hotline=HOTLINE)
    assert record["ChargingFacilities"] == [{"PowerType": "DC", "Power": 350}]
    _valid_everywhere(record)


def test_restricted_hours_and_payment_capabilities() -> None:
    evse = _ocpi_evses()[0].model_copy(
        update={
            "capabilities": ("RFID_READER", "REMOTE_START_STOP_CAPABLE", "CREDIT_CARD_PAYABLE"),
            "parking_restrictions": ("CUSTOMERS",),
            "opening_hours": OpeningHours(
                twentyfourseven=False,
                regular=(
                    RegularHours(weekday=1, begin="08:00", end="12:00"),
                    RegularHours(weekday=1, begin="13:00", end="18:00"),
                    RegularHours(weekday=6, begin="10:00", end="14:00"),
                ),
            ),
        }
    )
    record = evse_to_record(evse, hotline=HOTLINE)
    _valid_everywhere(record)
    assert record["AuthenticationModes"] == ["NFC RFID Classic", "REMOTE", "Direct Payment"]
    assert record["PaymentOptions"] == ["Contract", "Direct"]
    assert record["ValueAddedServices"] == ["None"]
    assert record["Accessibility"] == "Restricted access"
    assert record["IsOpen24Hours"] is False
    assert record["OpeningTimes"] == [
        {"Period": [{"begin": "08:00", "end": "12:00"}, {"begin": "13:00", "end": "18:00"}], "on": "Monday"},
        {"Period": [{"begin": "10:00", "end": "14:00"}], "on": "Saturday"},
    ]


def test_pulled_record_names_its_operator() -> None:
    pulled = oicp_example("emp__eroamingpullevsedata__response.json")["content"][0]
    evse = record_to_evse(pulled, pulled["OperatorId"])  # the example spells it OperatorId
    assert (evse.operator_id, evse.operator_name) == ("DE*ABC", "ABC technologies")
    assert evse.connectors[0].max_electric_power == 22000
    record = evse_to_pull_record(evse, operator_name="unused")
    openapi.validate_schema("PullEvseDataRecord", record, side="emp", strict_lengths=True)
    assert (record["OperatorID"], record["OperatorName"]) == ("DE*ABC", "ABC technologies")
