"""OCPI 2.2.1 CDR ⇄ canonical Cdr, and the whole cross-protocol path: OICP CDR → priced → OCPI CDR."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from adapters.ocpi.cdrs import from_canonical, to_canonical
from adapters.ocpi.locations import evses_to_location
from adapters.oicp import cdr as oicp_cdr
from adapters.oicp.evse import record_to_evse
from adapters.pricing import price
from schemas.canonical.cdr import AuthMethod, Cdr
from schemas.canonical.money import Money
from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef, TokenType
from schemas.ocpi.v2_2_1.cdrs import CDR
from schemas.oicp.v2_3.cdr import ChargeDetailRecord
from tests.adapters import GUID, ocpi_example, oicp_example, spec_cdr

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_spec_cdr_to_canonical() -> None:
    cdr = to_canonical(ocpi_example("cdr_example.json"))
    assert (cdr.id, cdr.session_id) == ("12345", "12345")  # no session_id in the example
    assert (cdr.cpo, cdr.emsp) == (PartyRef.parse("BE-BEC"), PartyRef.parse("DE-TNM"))
    assert cdr.token == TokenRef(uid="012345678", type=TokenType.RFID, contract_id="DE8ACC12E46L89")
    assert (cdr.evse_id, cdr.location_id, cdr.auth_method) == (
        "BE*BEC*E041503003",
        "LOC1",
        AuthMethod.WHITELIST,
    )
    assert cdr.start == datetime(2015, 6, 29, 21, 39, 9, tzinfo=UTC)
    assert cdr.energy_kwh == Decimal("15.342")
    assert (cdr.cost, cdr.vat, cdr.cost_incl_vat) == (
        Money.of("4.00", "EUR"),
        Money.of("0.40", "EUR"),
        Money.of("4.40", "EUR"),
    )
    assert cdr.product_id == "12"
    assert cdr.priced
    assert not cdr.credit


def test_spec_cdr_round_trip() -> None:
    raw = ocpi_example("cdr_example.json")
    out = from_canonical(to_canonical(raw), NOW)
    CDR.model_validate(out)
    for key in (
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "end_date_time",
        "cdr_token",
        "currency",
    ):
        assert out[key] == raw[key], key
    assert out["auth_method"] == "WHITELIST"
    assert out["total_cost"] == {"excl_vat": 4, "incl_vat": 4.4}
    assert (out["total_energy"], out["total_time"]) == (15.342, 1.9731)  # 1 h 58 min 23 s
    assert out["charging_periods"] == [
        {"start_date_time": "2015-06-29T21:39:09Z", "dimensions": [{"type": "ENERGY", "volume": 15.342}]}
    ]
    assert out["last_updated"] == "2024-05-01T12:00:00Z"


def test_cdr_location_from_the_location_object() -> None:
    location = ocpi_example("location_example.json")
    cdr = to_canonical(ocpi_example("cdr_example.json")).model_copy(update={"evse_id": "BEBECE041503002"})
    out = from_canonical(cdr, NOW, location)
    CDR.model_validate(out)
    assert out["cdr_location"] == {
        "id": "LOC1",
        "name": "Gent Zuid",
        "address": "F.Rooseveltlaan 3A",
        "city": "Gent",
        "postal_code": "9000",
        "country": "BEL",
        "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
        "evse_uid": "3257",
        "evse_id": "BE*BEC*E041503002",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }


def test_a_location_without_the_evse_is_an_error() -> None:
    cdr = to_canonical(ocpi_example("cdr_example.json"))  # E041503003 is not in the location example
    with pytest.raises(ValueError, match="no EVSE"):
        from_canonical(cdr, NOW, ocpi_example("location_example.json"))


def test_unpriced_cdr_is_refused() -> None:
    cdr = to_canonical(ocpi_example("cdr_example.json")).model_copy(update={"cost": None, "vat": None})
    with pytest.raises(ValueError, match="no price"):
        from_canonical(cdr, NOW)


def test_credit_cdr_keeps_its_reference_and_sign() -> None:
    raw = ocpi_example("cdr_example.json") | {
        "id": "12345-C",
        "credit": True,
        "credit_reference_id": "12345",
        "total_cost": {"excl_vat": -4.00, "incl_vat": -4.40},
    }
    cdr = to_canonical(raw)
    assert (cdr.credit, cdr.cost, cdr.vat) == (True, Money.of("-4", "EUR"), Money.of("-0.4", "EUR"))
    out = from_canonical(cdr, NOW)
    CDR.model_validate(out)
    assert (out["credit"], out["credit_reference_id"], out["total_cost"]) == (
        True,
        "12345",
        {"excl_vat": -4, "incl_vat": -4.4},
    )


def test_amounts_are_rounded_to_the_ledgers_precision() -> None:
    raw = ocpi_example("cdr_example.json") | {"total_cost": {"excl_vat": 1.23456}}
    cdr = to_canonical(raw)
    assert (cdr.cost, cdr.vat) == (Money.of("1.2346", "EUR"), None)
    assert from_canonical(cdr, NOW)["total_cost"] == {"excl_vat": 1.2346}


def test_an_invalid_cdr_is_refused() -> None:
    raw: dict[str, Any] = ocpi_example("cdr_example.json")
    del raw["cdr_token"]
    with pytest.raises(ValueError, match="cdr_token"):
        to_canonical(raw)


def _oicp_cdr_priced() -> Cdr:
    record = ChargeDetailRecord.model_validate(spec_cdr())
    cdr = oicp_cdr.to_canonical(record, PartyRef.parse("DE-XYZ"), PartyRef.parse("DE-DCB"))
    products = [oicp_example("cpo__eroamingpushpricingproductdata__request.json")["PricingProductData"]]
    priced = price(cdr, products, None, provider_id="DE-DCB")
    assert priced is not None
    return priced


def test_oicp_cdr_priced_and_sent_to_an_ocpi_emsp() -> None:
    push = oicp_example("cpo__eroamingpushevsedata__request.json")["OperatorEvseData"]
    evse = record_to_evse(push["EvseDataRecord"][0], push["OperatorID"])
    location = evses_to_location([evse], PartyRef.parse("DE-XYZ"), "POOL1", NOW)
    out = from_canonical(_oicp_cdr_priced(), NOW, location)
    CDR.model_validate(out)
    assert (out["country_code"], out["party_id"], out["id"], out["session_id"]) == ("DE", "XYZ", GUID, GUID)
    assert out["cdr_token"] == {
        "country_code": "DE",
        "party_id": "DCB",
        "uid": "DE-DCB-C12345678-X",
        "type": "APP_USER",
        "contract_id": "DE-DCB-C12345678-X",
    }
    assert out["auth_method"] == "COMMAND"
    # The CPO's +02:00 local times, as the same instants in UTC.
    assert (out["start_date_time"], out["end_date_time"]) == ("2020-09-23T12:00:00Z", "2020-09-23T13:40:00Z")
    assert out["charging_periods"][0]["start_date_time"] == "2020-09-23T12:02:30Z"
    assert (out["total_cost"], out["currency"]) == ({"excl_vat": 1.8333}, "EUR")
    assert (out["total_time"], out["total_parking_time"]) == (1.6667, 0.1667)
    assert out["cdr_location"]["evse_uid"] == "DEXYZETEST1"
    assert out["signed_data"]["encoding_method"] == "UNKNOWN"
    assert [value["nature"] for value in out["signed_data"]["signed_values"]] == ["Start", "End"]


def test_minimal_cdr_location_from_the_evse_id_alone() -> None:
    out = from_canonical(_oicp_cdr_priced(), NOW)
    CDR.model_validate(out)
    location = out["cdr_location"]
    assert (location["id"], location["evse_uid"], location["evse_id"]) == (
        "DEXYZETEST1",
        "DEXYZETEST1",
        "DE*XYZ*ETEST1",
    )
    assert (location["country"], location["address"]) == ("DEU", "Unknown")
