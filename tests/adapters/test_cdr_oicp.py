"""OICP ChargeDetailRecord ⇄ canonical Cdr; produced CDRs checked against Hubject's OpenAPI (both sides)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.oicp.cdr import from_canonical, to_canonical
from schemas.canonical.cdr import AuthMethod, Cdr, SignedValue
from schemas.canonical.party import PartyRef
from schemas.canonical.token import TokenRef, TokenType
from schemas.oicp.v2_3 import openapi
from schemas.oicp.v2_3.cdr import ChargeDetailRecord
from tests.adapters import CEST, GUID, spec_cdr

CPO = PartyRef.parse("DE-XYZ")
EMSP = PartyRef.parse("DE-DCB")
EVCO = "DE-DCB-C12345678-X"


def _valid(body: dict[str, Any]) -> None:
    openapi.validate_request("eRoamingChargeDetailRecord", "POST", body, side="emp", strict_lengths=True)
    openapi.validate_request("eRoamingChargeDetailRecord", "POST", body, side="cpo", strict_lengths=True)


def test_spec_cdr_to_canonical() -> None:
    cdr = to_canonical(ChargeDetailRecord.model_validate(spec_cdr()), CPO, EMSP)
    assert (cdr.id, cdr.session_id, cdr.cpo, cdr.emsp) == (GUID, GUID, CPO, EMSP)
    assert cdr.token == TokenRef(uid=EVCO, type=TokenType.APP_USER, contract_id=EVCO)
    assert cdr.auth_method is AuthMethod.COMMAND
    assert cdr.evse_id == "DE*XYZ*ETEST1"
    assert cdr.start == datetime(2020, 9, 23, 14, 0, tzinfo=CEST)
    assert cdr.start.utcoffset() == timedelta(hours=2)
    assert cdr.charging_end == datetime(2020, 9, 23, 15, 32, 30, tzinfo=CEST)
    assert (cdr.energy_kwh, cdr.meter_start, cdr.meter_end) == (Decimal(10), Decimal(0), Decimal(10))
    assert cdr.product_id == "AC 1"
    assert cdr.signed_values == (
        SignedValue(nature="Start", signed_data=spec_cdr()["SignedMeteringValues"][0]["SignedMeteringValue"]),
        SignedValue(nature="End", signed_data=spec_cdr()["SignedMeteringValues"][1]["SignedMeteringValue"]),
    )
    assert cdr.public_key == "a9sdh839alskldh/WEDjaskdjis20ij2wdpasodpjlkofi3ed3ed"
    assert not cdr.priced


def test_rfid_cdr_is_an_auth_request() -> None:
    cdr = to_canonical(
        ChargeDetailRecord.model_validate(spec_cdr("RFIDMifareFamilyIdentification")), CPO, EMSP
    )
    assert cdr.token == TokenRef(uid="1234ABCD", type=TokenType.RFID)
    assert cdr.auth_method is AuthMethod.AUTH_REQUEST


def test_round_trip_keeps_every_field_and_offset() -> None:
    raw = spec_cdr()
    cdr = to_canonical(ChargeDetailRecord.model_validate(raw), CPO, EMSP)
    body = from_canonical(cdr, GUID, "DE*XYZ", "DE-DCB")
    _valid(body)
    for key in ("SessionID", "EvseID", "Identification", "PartnerProductID", "SignedMeteringValues"):
        assert body[key] == raw[key], key
    for key in ("SessionStart", "ChargingStart", "ChargingEnd", "SessionEnd"):
        assert body[key] == raw[key], key  # the CPO's +02:00 is kept, not turned into UTC
    assert (body["ConsumedEnergy"], body["MeterValueStart"], body["MeterValueEnd"]) == (10, 0, 10)
    assert body["CalibrationLawVerificationInfo"] == {
        "PublicKey": raw["CalibrationLawVerificationInfo"]["PublicKey"]
    }
    assert "CPOPartnerSessionID" not in body
    assert "HubOperatorID" not in body
    assert "HubProviderID" not in body


def _ocpi_sourced(**changes: Any) -> Cdr:
    """A CDR as an OCPI CPO would have sent it: UTC, no charging times, the CPO's own session id."""
    fields: dict[str, Any] = {
        "id": "CDR-1",
        "session_id": "CPO-SESSION-9",
        "cpo": PartyRef.parse("BE-BEC"),
        "emsp": EMSP,
        "token": TokenRef(uid="04A1B2C3D4E5F6", type=TokenType.RFID, contract_id=EVCO),
        "evse_id": "BE*BEC*E041503003",
        "start": datetime(2015, 6, 29, 21, 39, 9, tzinfo=UTC),
        "end": datetime(2015, 6, 29, 23, 37, 32, tzinfo=UTC),
        "energy_kwh": Decimal("15.3426"),
    }
    return Cdr(**(fields | changes))


def test_ocpi_sourced_cdr_for_an_oicp_emp() -> None:
    body = from_canonical(_ocpi_sourced(), GUID, "BE*BEC", None, emp_partner_session_id="emp-7")
    _valid(body)
    assert body["Identification"] == {"RFIDMifareFamilyIdentification": {"UID": "04A1B2C3D4E5F6"}}
    assert (body["ChargingStart"], body["ChargingEnd"]) == (body["SessionStart"], body["SessionEnd"])
    assert body["SessionStart"] == "2015-06-29T21:39:09Z"
    assert body["ConsumedEnergy"] == 15.343  # rounded to Wh
    assert (body["CPOPartnerSessionID"], body["EMPPartnerSessionID"]) == ("CPO-SESSION-9", "emp-7")


def test_hub_partner_ids_when_the_evse_or_contract_belongs_to_a_sub_partner() -> None:
    cdr = _ocpi_sourced(token=TokenRef(uid=EVCO, type=TokenType.APP_USER, contract_id=EVCO))
    body = from_canonical(cdr, GUID, "BE*HUB", "DE-HUB")
    _valid(body)
    assert (body["HubOperatorID"], body["HubProviderID"]) == ("BE*HUB", "DE-HUB")
    same = from_canonical(cdr, GUID, "BEBEC", "DE*DCB")
    assert "HubOperatorID" not in same
    assert "HubProviderID" not in same


def test_at_most_ten_signed_values_start_and_end_kept() -> None:
    values = [SignedValue(nature="Start", signed_data="S")]
    values += [SignedValue(nature="Intermediate", signed_data=f"I{i}") for i in range(12)]
    values += [SignedValue(nature="End", signed_data="E")]
    body = from_canonical(_ocpi_sourced(signed_values=tuple(values)), GUID, "BE*BEC", None)
    _valid(body)
    signed = body["SignedMeteringValues"]
    assert len(signed) == 10
    assert [signed[0]["MeteringStatus"], signed[-1]["MeteringStatus"]] == ["Start", "End"]
    assert {value["MeteringStatus"] for value in signed[1:-1]} == {"Progress"}
    assert signed[-1]["SignedMeteringValue"] == "E"


@pytest.mark.parametrize(
    "changes",
    [
        {"token": TokenRef(uid="012345678", type=TokenType.RFID, contract_id="DE8ACC12E46L89")},
        {"evse_id": "BE-BEC-041503003"},
    ],
)
def test_cdrs_without_an_oicp_form_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"OICP|EvseID"):
        from_canonical(_ocpi_sourced(**changes), GUID, "BE*BEC", None)
