"""The OCPI 2.2.1 wire models against the spec's own example payloads, plus unit tests of the edge rules.

The examples live in ``../shared/spec/ocpi-2.2.1/examples`` next to the repository. They are CC BY-ND:
never edited; a test that needs a variant loads one and changes a copy in memory.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas.ocpi.v2_2_1 import (
    CDR,
    EVSE,
    Capability,
    Connector,
    ConnectorType,
    Credentials,
    DisplayText,
    Endpoint,
    EnergyMix,
    Facility,
    Hours,
    ImageCategory,
    Location,
    ModuleID,
    OcpiResponse,
    ParkingRestriction,
    ParkingType,
    Price,
    Session,
    SessionStatus,
    Tariff,
    Token,
    TokenType,
    Version,
    VersionDetails,
    VersionNumber,
)
from schemas.ocpi.v2_2_1.common import OcpiDateTime, OcpiNumber, format_datetime, validate_patch

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "ocpi-2.2.1" / "examples"
MISSING_REASON = f"OCPI 2.2.1 examples folder not found at {EXAMPLES} (expected ../shared next to the repo)"

DATETIME: TypeAdapter[datetime] = TypeAdapter(OcpiDateTime)
_LOOKS_LIKE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

# --- Which model parses which example ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How to read one example: a whole object, a PATCH body, or a response envelope around ``target``."""

    kind: Literal["object", "patch", "envelope"]
    target: Any
    wrapper: str | None = None  # the fragments wrap their object in one key, e.g. {"energy_mix": {...}}


# The first matching prefix wins, so the specific ones come first.
RULES: list[tuple[str, Case]] = [
    ("transport_and_format_get_token_list_", Case("envelope", list[Token])),
    ("transport_and_format_get_token_", Case("envelope", Token)),
    ("transport_and_format_version_details_", Case("envelope", VersionDetails)),
    ("transport_and_format_version_info_", Case("envelope", list[Version])),
    ("versions_info_", Case("object", list[Version])),
    ("version_details_", Case("object", VersionDetails)),
    ("credentials_", Case("object", Credentials)),
    # The spec sends these PATCHes to a Location, an EVSE and a Connector URL respectively.
    ("location_patch_example_remove_evse", Case("patch", EVSE)),
    ("location_patch_example_status", Case("patch", EVSE)),
    ("location_patch_example_tariff", Case("patch", Connector)),
    ("location_patch_", Case("patch", Location)),
    ("location_put_example_add_evse", Case("object", EVSE)),
    ("location_hours_", Case("object", Hours)),
    ("location_regularhours_", Case("object", Hours, wrapper="opening_times")),
    ("location_energymix_", Case("object", EnergyMix, wrapper="energy_mix")),
    ("location_example", Case("object", Location)),
    ("session_patch_", Case("patch", Session)),
    ("session_example_", Case("object", Session)),
    ("cdr_", Case("object", CDR)),
    ("tariffrestriction_", Case("object", Tariff)),
    ("tariff_", Case("object", Tariff)),
    ("token_patch_", Case("patch", Token)),
    ("token_", Case("object", Token)),
    ("type_displaytext_", Case("object", DisplayText)),
]

# Listed as non-conforming in the examples README; they must keep failing until the spec fixes them.
KNOWN_BAD = {
    "location_put_example_add_evse.json": "integer physical_reference; connector lacks required fields",
    "tariff_put_example.json": "has no last_updated, which is required",
}


def case_for(name: str) -> Case | None:
    return next((case for prefix, case in RULES if name.startswith(prefix)), None)


def example_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.json")) if EXAMPLES.is_dir() else []


def example_params() -> list[Any]:
    if not EXAMPLES.is_dir():
        return [pytest.param("<missing>", marks=pytest.mark.skip(reason=MISSING_REASON))]
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BAD[name]))
        if name in KNOWN_BAD
        else name
        for name in example_names()
    ]


def load(name: str) -> Any:
    # parse_float=Decimal: the original numbers, exactly, for the round-trip comparison.
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def normalise(value: Any) -> Any:
    """Compare datetimes as instants and numbers as decimals; everything else as is."""
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str) and _LOOKS_LIKE_DATETIME.match(value):
        return DATETIME.validate_python(value)
    return value


def assert_wire_form(value: Any) -> None:
    """What we write is plain JSON: numbers are numbers (not Decimal, not str), datetimes end in Z."""
    if isinstance(value, dict):
        for item in value.values():
            assert_wire_form(item)
    elif isinstance(value, list):
        for item in value:
            assert_wire_form(item)
    else:
        assert not isinstance(value, Decimal | datetime), value
        if isinstance(value, str) and _LOOKS_LIKE_DATETIME.match(value):
            assert value.endswith("Z"), value
            assert "+00:00" not in value, value


def round_trip(target: Any, payload: Any) -> Any:
    adapter: TypeAdapter[Any] = TypeAdapter(target)
    parsed = adapter.validate_python(payload)
    dumped = adapter.dump_python(parsed, mode="json", exclude_unset=True, by_alias=True)
    assert_wire_form(dumped)
    json.dumps(dumped)  # serialisable as it stands
    assert normalise(dumped) == normalise(payload)
    return parsed


# --- The examples -----------------------------------------------------------------------------------


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_every_example_file_is_mapped() -> None:
    names = example_names()
    assert names, "the examples folder is empty"
    unmapped = [name for name in names if case_for(name) is None]
    assert not unmapped, f"new example files need a rule in RULES: {unmapped}"
    assert set(KNOWN_BAD) <= set(names), "a known-bad example disappeared; update KNOWN_BAD"


@pytest.mark.parametrize("name", example_params())
def test_example_parses_and_round_trips(name: str) -> None:
    case = case_for(name)
    assert case is not None, f"{name} has no rule in RULES"
    payload = load(name)
    if case.wrapper is not None:
        assert set(payload) == {case.wrapper}
        payload = payload[case.wrapper]

    if case.kind == "object":
        round_trip(case.target, payload)
    elif case.kind == "envelope":
        envelope = round_trip(OcpiResponse, payload)
        assert envelope.status_code == 1000
        round_trip(case.target, payload["data"])
    else:
        patch = validate_patch(case.target, payload)
        assert set(patch) == set(payload)
        # Every field of the example PATCH is a field of the target, so the rule's target is right.
        assert set(payload) <= set(case.target.model_fields)
        assert patch["last_updated"].tzinfo is UTC


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_unknown_fields_survive_at_every_level() -> None:
    payload = copy.deepcopy(load("location_example.json"))
    payload["x_hub_note"] = {"nested": [1, 2.50, "three"]}
    payload["evses"][0]["x_floor_name"] = "basement"
    payload["evses"][0]["connectors"][0]["capabilities"] = ["ISO_15118_2_PLUG_AND_CHARGE"]  # 2.3.0 field
    location = round_trip(Location, payload)
    assert location.model_extra == {"x_hub_note": {"nested": [1, Decimal("2.50"), "three"]}}


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_example_values_are_typed() -> None:
    cdr = CDR.model_validate(load("cdr_example.json"))
    assert cdr.total_cost.excl_vat == Decimal("4.00")
    assert isinstance(cdr.total_energy, Decimal)
    assert isinstance(cdr.charging_periods[0].dimensions[0].volume, Decimal)
    assert isinstance(cdr.cdr_location.connector_standard, ConnectorType)
    session = Session.model_validate(load("session_example_1_simple_start.json"))
    assert session.status is SessionStatus.PENDING
    assert session.total_cost is not None
    assert session.total_cost.incl_vat is None


# --- OcpiDateTime -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "written"),
    [
        ("2015-06-29T20:39:09Z", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        ("2015-06-29T20:39:09", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC), "2015-06-29T20:39:09Z"),
        (
            "2016-12-29T17:45:09.2Z",
            datetime(2016, 12, 29, 17, 45, 9, 200_000, tzinfo=UTC),
            "2016-12-29T17:45:09.2Z",
        ),
        (
            "2018-01-01T01:08:01.123",
            datetime(2018, 1, 1, 1, 8, 1, 123_000, tzinfo=UTC),
            "2018-01-01T01:08:01.123Z",
        ),
        ("2018-01-01T01:08:01+00:00", datetime(2018, 1, 1, 1, 8, 1, tzinfo=UTC), "2018-01-01T01:08:01Z"),
        ("2018-01-01T03:08:01+02:00", datetime(2018, 1, 1, 1, 8, 1, tzinfo=UTC), "2018-01-01T01:08:01Z"),
    ],
)
def test_datetime_forms(text: str, expected: datetime, written: str) -> None:
    parsed = DATETIME.validate_python(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC
    assert DATETIME.dump_python(parsed, mode="json") == written
    assert DATETIME.validate_json(json.dumps(text)) == expected


def test_datetime_is_never_written_with_an_offset() -> None:
    naive = datetime(2020, 3, 9, 10, 17, 9)
    aware = datetime(2020, 3, 9, 10, 17, 9, tzinfo=UTC)
    assert format_datetime(naive) == format_datetime(aware) == "2020-03-09T10:17:09Z"
    response = OcpiResponse(status_code=1000, timestamp=aware)
    assert '"timestamp":"2020-03-09T10:17:09Z"' in response.model_dump_json()
    assert response.model_dump(mode="json")["timestamp"] == "2020-03-09T10:17:09Z"


@pytest.mark.parametrize("bad", [1435617549, "yesterday", "2015-13-01T00:00:00Z"])
def test_datetime_rejects_non_rfc3339(bad: Any) -> None:
    with pytest.raises(ValidationError):
        DATETIME.validate_python(bad)


# --- Numbers ----------------------------------------------------------------------------------------


def test_numbers_are_decimal_inside_and_json_numbers_outside() -> None:
    price = Price.model_validate_json('{"excl_vat": 0.1, "incl_vat": 0.0006}')
    assert price.excl_vat == Decimal("0.1")
    assert isinstance(price.excl_vat, Decimal)
    assert isinstance(price.incl_vat, Decimal)
    dumped = price.model_dump(mode="json")
    assert dumped == {"excl_vat": 0.1, "incl_vat": 0.0006}
    assert not any(isinstance(value, str) for value in dumped.values())
    assert price.model_dump_json() == '{"excl_vat":0.1,"incl_vat":0.0006}'


def test_numbers_from_python_keep_their_value() -> None:
    assert Price(excl_vat=Decimal("4.40")).model_dump(mode="json") == {"excl_vat": 4.4, "incl_vat": None}
    assert Price.model_validate({"excl_vat": 3}).model_dump(mode="json")["excl_vat"] == 3
    assert Price.model_validate({"excl_vat": 0.1}).excl_vat == Decimal("0.1")  # via str, not binary
    assert TypeAdapter(OcpiNumber).dump_python(Decimal("-2.5"), mode="json") == -2.5


def test_boolean_is_not_a_number() -> None:
    with pytest.raises(ValidationError):
        Price.model_validate({"excl_vat": True})


# --- Enums: OpenEnums take unknown values, closed enums do not ---------------------------------------


def _connector(**changes: Any) -> dict[str, Any]:
    connector = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 16,
        "last_updated": "2019-06-24T12:39:09Z",
    }
    return connector | changes


def _evse(**changes: Any) -> dict[str, Any]:
    evse = {"uid": "3256", "status": "AVAILABLE", "connectors": [_connector()], "last_updated": "2019-06-24"}
    return evse | changes


def test_open_enum_keeps_known_values_as_enum_and_unknown_as_str() -> None:
    known = Connector.model_validate(_connector())
    assert known.standard is ConnectorType.IEC_62196_T2
    future = Connector.model_validate(_connector(standard="SAE_J3400"))
    assert future.standard == "SAE_J3400"
    assert not isinstance(future.standard, ConnectorType)
    assert future.model_dump(mode="json")["standard"] == "SAE_J3400"


@pytest.mark.parametrize(
    ("model", "payload", "field", "known"),
    [
        (EVSE, _evse(capabilities=["RESERVABLE", "ISO_15118_PNC"]), "capabilities", Capability.RESERVABLE),
        (
            EVSE,
            _evse(parking_restrictions=["EV_ONLY", "TAXIS"]),
            "parking_restrictions",
            ParkingRestriction.EV_ONLY,
        ),
    ],
)
def test_open_enum_lists(model: type[BaseModel], payload: dict[str, Any], field: str, known: Any) -> None:
    values = getattr(model.model_validate(payload), field)
    assert values[0] is known
    assert type(values[1]) is str


def test_other_open_enums() -> None:
    token = {
        "country_code": "de",
        "party_id": "tnm",
        "uid": "1",
        "type": "EMAID",
        "contract_id": "DE8ACC12E46L89",
        "issuer": "x",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": "2019-06-19T02:11:11Z",
    }
    assert Token.model_validate(token).type == "EMAID"
    assert Token.model_validate(token | {"type": "RFID"}).type is TokenType.RFID
    endpoint = Endpoint.model_validate({"identifier": "nltnm-tokens", "role": "SENDER", "url": "https://x"})
    assert endpoint.identifier == "nltnm-tokens"
    assert Endpoint.model_validate(endpoint.model_dump() | {"identifier": "cdrs"}).identifier is ModuleID.CDRS
    assert Version.model_validate({"version": "2.3.0", "url": "https://x"}).version == "2.3.0"
    assert Version.model_validate({"version": "2.2.1", "url": "https://x"}).version is VersionNumber.V2_2_1
    location = _location(parking_type="ON_ROOF", facilities=["WIFI", "SAUNA"])
    location["images"] = [{"url": "https://x/i.png", "category": "DRONE", "type": "png"}]
    parsed = Location.model_validate(location)
    assert parsed.parking_type == "ON_ROOF"
    assert parsed.facilities == [Facility.WIFI, "SAUNA"]
    assert parsed.images is not None
    assert parsed.images[0].category == "DRONE"
    assert Location.model_validate(_location(parking_type="ON_STREET")).parking_type is ParkingType.ON_STREET
    assert ImageCategory("OWNER") is ImageCategory.OWNER


def _location(**changes: Any) -> dict[str, Any]:
    location = {
        "country_code": "BE",
        "party_id": "BEC",
        "id": "LOC1",
        "publish": True,
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
        "time_zone": "Europe/Brussels",
        "last_updated": "2015-06-29T20:39:09Z",
    }
    return location | changes


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (Connector, _connector(format="PLUG")),
        (Connector, _connector(power_type="AC_4_PHASE")),
        (EVSE, _evse(status="BROKEN")),
    ],
)
def test_closed_enums_reject_unknown_values(model: type[BaseModel], payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_session_status_is_closed() -> None:
    payload = copy.deepcopy(load("session_example_2_short_finished.json"))
    payload["status"] = "PAUSED"
    with pytest.raises(ValidationError, match="status"):
        Session.model_validate(payload)


# --- Field rules ------------------------------------------------------------------------------------


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_credit_cdr_needs_a_reference() -> None:
    payload = copy.deepcopy(load("cdr_example.json"))
    payload |= {"id": "12345-C", "credit": True}
    with pytest.raises(ValidationError, match="credit_reference_id"):
        CDR.model_validate(payload)
    payload["credit_reference_id"] = "12345"
    assert CDR.model_validate(payload).credit is True


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MISSING_REASON)
def test_cdr_id_length() -> None:
    payload = copy.deepcopy(load("cdr_example.json"))
    assert CDR.model_validate(payload | {"id": "x" * 39}).id == "x" * 39
    with pytest.raises(ValidationError, match="id"):
        CDR.model_validate(payload | {"id": "x" * 40})


def test_country_code_and_party_id() -> None:
    lower = Location.model_validate(_location(country_code="be", party_id="bec"))
    assert (lower.country_code, lower.party_id) == ("be", "bec")  # kept as sent; compare with ci_key
    for bad in ({"country_code": "BEL"}, {"country_code": "B1"}, {"party_id": "BE"}, {"party_id": "BE-C"}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            Location.model_validate(_location(**bad))


def test_lengths_are_lenient_except_ids() -> None:
    # The errata raised address to 255 and real data exceeds the limits, so strings are not capped.
    long_address = Location.model_validate(_location(address="x" * 300, name="y" * 300))
    assert len(long_address.address) == 300
    with pytest.raises(ValidationError, match="id"):
        Location.model_validate(_location(id="x" * 37))


def test_required_lists_need_an_element() -> None:
    with pytest.raises(ValidationError, match="connectors"):
        EVSE.model_validate(_evse(connectors=[]))
    with pytest.raises(ValidationError, match="roles"):
        Credentials.model_validate({"token": "t", "url": "https://x", "roles": []})


# --- validate_patch ---------------------------------------------------------------------------------


def test_patch_requires_last_updated() -> None:
    with pytest.raises(ValidationError, match="last_updated") as info:
        validate_patch(Token, {"valid": False})
    assert info.value.errors()[0]["loc"] == ("last_updated",)


def test_patch_validates_present_fields_only() -> None:
    patch = validate_patch(Session, {"kwh": 15.5, "last_updated": "2019-06-23T08:16:02"})
    assert patch == {"kwh": Decimal("15.5"), "last_updated": datetime(2019, 6, 23, 8, 16, 2, tzinfo=UTC)}


def test_patch_errors_name_the_field() -> None:
    body = {
        "status": "PAUSED",
        "charging_periods": [{"start_date_time": "2019-06-23T08:16:02Z", "dimensions": []}],
        "last_updated": "2019-06-23T08:16:02Z",
    }
    with pytest.raises(ValidationError) as info:
        validate_patch(Session, body)
    locs = {error["loc"] for error in info.value.errors()}
    assert locs == {("status",), ("charging_periods", 0, "dimensions")}


def test_patch_keeps_unknown_fields_and_rejects_null_required_fields() -> None:
    patch = validate_patch(EVSE, {"x_custom": [1], "last_updated": "2019-06-24T12:39:09Z"})
    assert patch["x_custom"] == [1]
    with pytest.raises(ValidationError, match="status"):
        validate_patch(EVSE, {"status": None, "last_updated": "2019-06-24T12:39:09Z"})
    assert validate_patch(Location, {"name": None, "last_updated": "2019-06-24T12:39:09Z"})["name"] is None
