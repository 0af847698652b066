"""The OICP partner simulators on loopback: their servers driven with aiohttp, their clients against a
small fake hub behind mutual TLS, and ``roamhub simulate --protocol oicp`` as a process.

Every body either side sends is also checked here against Hubject's OpenAPI files, independently of the
simulator's own checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import ssl
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub import parties
from hub.config import Settings
from hub.pki import certs, init_ca, issue_party_cert, partner_for_peer_cert, peer_certificate_der
from hub.pki import server_ssl_context as hub_ssl_context
from hub.pki.files import write_private, write_public
from hub.simulators.oicp import (
    HubRefused,
    OicpPartner,
    run_oicp_simulator,
    sample_cdr,
    sample_evse_record,
    sample_pricing_record,
)
from hub.store.db import Database
from hub.store.types import utcnow
from schemas.oicp.v2_3 import find_operation
from schemas.oicp.v2_3.openapi import (
    SPEC_DIR,
    OpenApiValidationError,
    validate_request,
    validate_response,
)

pytestmark = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason=f"Hubject's OICP definitions not at {SPEC_DIR}")

OPERATOR = "DE*ABC"
PROVIDER = "DE-DCB"
UID = "7568290FFF765F"
EVCO = "DE-DCB-C12345678-X"
SESSION = "b2688855-7f00-0002-6d8e-48d883f6abb6"
EVSE = "DE*ABC*E840*6487"
CEST = timezone(timedelta(hours=2))

AUTHORIZE_START = f"/api/oicp/charging/v21/operators/{OPERATOR}/authorize/start"
AUTHORIZE_STOP = f"/api/oicp/charging/v21/operators/{OPERATOR}/authorize/stop"
CDR = f"/api/oicp/cdrmgmt/v22/operators/{OPERATOR}/charge-detail-record"
NOTIFICATIONS = "/api/oicp/notificationmgmt/v11/charging-notifications"
REMOTE_START = f"/api/oicp/charging/v21/providers/{PROVIDER}/authorize-remote/start"
REMOTE_STOP = f"/api/oicp/charging/v21/providers/{PROVIDER}/authorize-remote/stop"
RESERVE = f"/api/oicp/reservation/v11/providers/{PROVIDER}/reservation-start-request"
UNRESERVE = f"/api/oicp/reservation/v11/providers/{PROVIDER}/reservation-stop-request"


def rfid(uid: str = UID) -> dict[str, Any]:
    return {"RFIDMifareFamilyIdentification": {"UID": uid}}


def authorize_body(ident: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    body = {"SessionID": SESSION, "OperatorID": OPERATOR, "EvseID": EVSE, "Identification": ident or rfid()}
    return {**body, **changes}


def remote_body(**changes: Any) -> dict[str, Any]:
    body = {
        "SessionID": SESSION,
        "ProviderID": PROVIDER,
        "EvseID": EVSE,
        "Identification": {"RemoteIdentification": {"EvcoID": EVCO}},
    }
    return {**body, **changes}


@pytest.fixture
async def emp() -> AsyncIterator[OicpPartner]:
    async with OicpPartner("emp", provider_id=PROVIDER, tokens=[UID]) as partner:
        yield partner


@pytest.fixture
async def cpo() -> AsyncIterator[OicpPartner]:
    async with OicpPartner("cpo", operator_id=OPERATOR) as partner:
        yield partner


async def post(partner: OicpPartner, path: str, body: Any, **kwargs: Any) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": kwargs.pop("content_type", "application/json")}
    async with (
        aiohttp.ClientSession() as http,
        http.post(partner.base_url + path, data=data, headers=headers, **kwargs) as response,
    ):
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


def answered_validly(partner: OicpPartner) -> None:
    """Every answer the simulator gave passes Hubject's response schema for its side."""
    for record in partner.received:
        assert record.response_errors == []
        if record.operation is not None and record.status == 200:
            validate_response(record.operation, "POST", record.response, side=partner.role)


# --- EMP server --------------------------------------------------------------------------------------


async def test_emp_authorizes_its_tokens_and_echoes_the_session(emp: OicpPartner) -> None:
    status, body = await post(emp, AUTHORIZE_START, authorize_body(rfid(UID), CPOPartnerSessionID="c-1"))

    assert status == 200
    assert body["AuthorizationStatus"] == "Authorized"
    assert body["StatusCode"] == {"Code": "000", "Description": "Success"}
    assert body["ProviderID"] == PROVIDER
    assert (body["SessionID"], body["CPOPartnerSessionID"]) == (SESSION, "c-1")
    assert body["EMPPartnerSessionID"].startswith("emp-")
    assert SESSION in emp.sessions
    [record] = emp.received
    assert record.operation == "eRoamingAuthorizeStart" and record.valid and record.errors == []
    assert record.path == AUTHORIZE_START and json.loads(record.raw) == record.body
    answered_validly(emp)


@pytest.mark.parametrize(
    ("ident", "code"),
    [
        (rfid("AAAAAAAA"), "102"),
        ({"QRCodeIdentification": {"EvcoID": EVCO, "PIN": "1234"}}, "101"),
        ({"PlugAndChargeIdentification": {"EvcoID": EVCO}}, "105"),
    ],
    ids=["rfid", "qr", "pnc"],
)
async def test_emp_refuses_unknown_tokens_with_the_medium_code(
    emp: OicpPartner, ident: dict[str, Any], code: str
) -> None:
    status, body = await post(emp, AUTHORIZE_START, authorize_body(ident))

    assert status == 200
    assert body["AuthorizationStatus"] == "NotAuthorized"
    assert body["StatusCode"]["Code"] == code
    assert "ProviderID" not in body and emp.sessions == {}
    assert emp.received[0].valid
    answered_validly(emp)


async def test_authorize_hook_adds_and_revokes_tokens(emp: OicpPartner) -> None:
    pnc = {"PlugAndChargeIdentification": {"EvcoID": EVCO}}
    emp.authorize(EVCO.lower())
    assert (await post(emp, AUTHORIZE_START, authorize_body(pnc)))[1]["AuthorizationStatus"] == "Authorized"
    stop = authorize_body(pnc)
    assert (await post(emp, AUTHORIZE_STOP, stop))[1]["AuthorizationStatus"] == "Authorized"

    emp.revoke(EVCO)
    _, refused = await post(emp, AUTHORIZE_STOP, stop)
    assert (refused["AuthorizationStatus"], refused["StatusCode"]["Code"]) == ("NotAuthorized", "105")
    assert all(record.valid for record in emp.received)
    answered_validly(emp)


async def test_authorize_delay_slows_the_answer(emp: OicpPartner) -> None:
    emp.authorize_delay = 0.3
    started = time.monotonic()
    _, body = await post(emp, AUTHORIZE_START, authorize_body())
    assert time.monotonic() - started >= 0.3
    assert body["AuthorizationStatus"] == "Authorized"

    with pytest.raises(TimeoutError):
        await post(emp, AUTHORIZE_START, authorize_body(), timeout=aiohttp.ClientTimeout(total=0.1))


async def test_emp_stores_cdrs_or_refuses_them(emp: OicpPartner) -> None:
    start = datetime(2024, 6, 1, 10, 0, tzinfo=CEST)
    cdr = sample_cdr(SESSION, EVSE, UID, start, start + timedelta(hours=1), "12.345")
    wire = cdr.to_wire()
    validate_request("eRoamingChargeDetailRecord", "POST", wire)  # the sample is valid for both sides

    status, body = await post(emp, CDR, {**wire, "CPOPartnerSessionID": "c-9"})

    assert status == 200
    assert body == {
        "Result": True,
        "StatusCode": {"Code": "000", "Description": "Success"},
        "SessionID": SESSION,
        "CPOPartnerSessionID": "c-9",
    }
    [stored] = emp.cdrs
    assert stored.consumed_energy == Decimal("12.345") and stored.charging_start == start
    assert wire["ChargingStart"] == "2024-06-01T10:00:00+02:00"  # the offset is kept, never UTC

    emp.refuse_cdrs = "duplicate CDR"
    _, refused = await post(emp, CDR, wire)
    assert refused["Result"] is False
    assert refused["StatusCode"] == {
        "Code": "022",
        "Description": "Data error",
        "AdditionalInfo": "duplicate CDR",
    }
    assert len(emp.cdrs) == 1
    assert all(record.valid for record in emp.received)
    answered_validly(emp)


async def test_emp_accepts_charging_notifications_of_every_type(emp: OicpPartner) -> None:
    base = {"SessionID": SESSION, "EvseID": EVSE, "OperatorID": OPERATOR}
    bodies = [
        {**base, "Type": "Start", "ChargingStart": "2024-06-01T10:00:00+02:00"},
        {
            **base,
            "Type": "Progress",
            "ChargingStart": "2024-06-01T10:00:00+02:00",
            "EventOccurred": "2024-06-01T10:05:00+02:00",
            "ChargingDuration": 300000,
        },
        {**base, "Type": "End", "ChargingEnd": "2024-06-01T11:00:00+02:00", "ConsumedEnergy": 12.5},
        {**base, "Type": "Error", "ErrorType": "ConnectorError"},
    ]
    for body in bodies:
        status, answer = await post(emp, NOTIFICATIONS, body)
        assert (status, answer["Result"], answer["SessionID"]) == (200, True, SESSION)

    assert [n.type.value for n in emp.notifications] == ["Start", "Progress", "End", "Error"]
    emp.refuse_notifications = "no endpoint"
    _, refused = await post(emp, NOTIFICATIONS, bodies[0])
    assert (refused["Result"], refused["StatusCode"]["Code"]) == (False, "021")
    assert len(emp.notifications) == 4
    assert all(record.valid for record in emp.received)
    answered_validly(emp)


async def test_offline_partner_answers_503_and_still_records(emp: OicpPartner) -> None:
    emp.offline = True
    status, _ = await post(emp, AUTHORIZE_START, authorize_body())
    assert status == 503
    assert emp.sessions == {}
    [record] = emp.received
    assert (record.operation, record.status) == ("eRoamingAuthorizeStart", 503)

    emp.offline = False
    assert (await post(emp, AUTHORIZE_START, authorize_body()))[0] == 200


# --- what a hub can get wrong ---------------------------------------------------------------------


async def test_a_body_breaking_the_schema_is_recorded_and_answered_022(emp: OicpPartner) -> None:
    body = authorize_body()
    del body["Identification"]

    status, answer = await post(emp, AUTHORIZE_START, body)

    assert status == 200
    assert (answer["AuthorizationStatus"], answer["StatusCode"]["Code"]) == ("NotAuthorized", "022")
    [record] = emp.received
    assert record.validated and not record.valid
    assert any("'Identification' is a required property" in error for error in record.errors)
    assert any(error.startswith("model: Identification") for error in record.errors)
    answered_validly(emp)


async def test_nulls_ids_and_media_the_hub_got_wrong_are_recorded(emp: OicpPartner) -> None:
    # Hubject-style null optionals: invalid for the files unless the partner is told to allow them.
    await post(emp, AUTHORIZE_START, authorize_body(PartnerProductID=None))
    emp.allow_null = True
    await post(emp, AUTHORIZE_START, authorize_body(PartnerProductID=None))
    # The path names another operator than the body; then an Identification with two media.
    await post(emp, AUTHORIZE_START.replace("DE*ABC", "DE*XYZ"), authorize_body())
    _, two = await post(
        emp, AUTHORIZE_START, authorize_body({**rfid(), "RemoteIdentification": {"EvcoID": EVCO}})
    )
    # No SessionID: the hub forwards AuthorizeStart only after creating the session.
    no_session = authorize_body()
    del no_session["SessionID"]
    await post(emp, AUTHORIZE_START, no_session)

    nulls, allowed, path, media, missing = emp.received
    assert any("PartnerProductID" in error and "None is not of type" in error for error in nulls.errors)
    assert allowed.valid
    assert path.errors == ["the path's operatorID 'DE*XYZ' differs from the body's OperatorID 'DE*ABC'"]
    assert two["AuthorizationStatus"] == "NotAuthorized"
    assert any("exactly one member" in error for error in media.errors)
    assert missing.errors == ["a forwarded AuthorizeStart carries the SessionID the hub created"]
    answered_validly(emp)


async def test_non_json_unknown_paths_and_the_other_roles_operations(emp: OicpPartner) -> None:
    status, answer = await post(emp, CDR, b"{not json", content_type="text/plain")
    assert (status, answer["Result"], answer["StatusCode"]["Code"]) == (200, False, "022")
    assert emp.received[-1].errors == [
        "Content-Type must be application/json, got text/plain",
        "the body is not a JSON object",
    ]
    assert emp.received[-1].raw == b"{not json"

    status, answer = await post(emp, REMOTE_START, remote_body())  # a CPO's operation
    assert status == 404
    assert answer == {
        "StatusCode": {"Code": "001", "Description": f"OICP service not found for URI: {REMOTE_START}"}
    }
    assert emp.received[-1].operation is None
    assert emp.received[-1].errors == [f"POST {REMOTE_START} is not served by a simulated emp"]
    async with aiohttp.ClientSession() as http, http.get(emp.base_url + AUTHORIZE_START) as response:
        assert response.status == 404
    assert emp.cdrs == []


# --- CPO server --------------------------------------------------------------------------------------


async def test_cpo_starts_and_stops_remote_sessions(cpo: OicpPartner) -> None:
    status, started = await post(cpo, REMOTE_START, remote_body(EMPPartnerSessionID="e-1"))
    assert status == 200
    assert (started["Result"], started["StatusCode"]["Code"], started["SessionID"]) == (True, "000", SESSION)
    assert started["EMPPartnerSessionID"] == "e-1" and started["CPOPartnerSessionID"].startswith("cpo-")
    assert SESSION in cpo.sessions

    stop = {"SessionID": SESSION, "ProviderID": PROVIDER, "EvseID": EVSE}
    _, stopped = await post(cpo, REMOTE_STOP, stop)
    assert (stopped["Result"], stopped["StatusCode"]["Code"]) == (True, "000")
    assert cpo.sessions == {}
    _, again = await post(cpo, REMOTE_STOP, stop)  # the session is gone: 400 (oicp-hub-notes §5)
    assert (again["Result"], again["StatusCode"]["Code"]) == (False, "400")
    cpo.accept_unknown_sessions = True
    assert (await post(cpo, REMOTE_STOP, stop))[1]["Result"] is True
    assert all(record.valid for record in cpo.received)
    answered_validly(cpo)


async def test_cpo_remote_code_delay_and_missing_session(cpo: OicpPartner) -> None:
    cpo.remote_code = "602"
    cpo.remote_delay = 0.2
    started = time.monotonic()
    _, busy = await post(cpo, REMOTE_START, remote_body())
    assert time.monotonic() - started >= 0.2
    assert busy["Result"] is False
    assert busy["StatusCode"] == {"Code": "602", "Description": "EVSE already in use / wrong token"}
    assert cpo.sessions == {}

    cpo.remote_code, cpo.remote_delay = "000", 0.0
    body = remote_body()
    del body["SessionID"]
    _, refused = await post(cpo, REMOTE_START, body)
    assert (refused["Result"], refused["StatusCode"]["Code"]) == (False, "022")
    assert any("'SessionID' is a required property" in error for error in cpo.received[-1].errors)
    answered_validly(cpo)


async def test_cpo_reservations(cpo: OicpPartner) -> None:
    _, reserved = await post(cpo, RESERVE, remote_body(Duration=15))
    assert reserved["Result"] is True
    assert cpo.reservations[SESSION].duration == 15 and cpo.sessions == {}
    stop = {"SessionID": SESSION, "ProviderID": PROVIDER, "EvseID": EVSE}
    assert (await post(cpo, UNRESERVE, stop))[1]["Result"] is True
    assert cpo.reservations == {}
    assert [r.operation for r in cpo.received] == [
        "eRoamingAuthorizeRemoteReservationStart",
        "eRoamingAuthorizeRemoteReservationStop",
    ]
    assert all(record.valid for record in cpo.received)
    answered_validly(cpo)


def test_constructor_checks_role_and_ids() -> None:
    with pytest.raises(ValueError, match="role"):
        OicpPartner("hub", operator_id=OPERATOR)
    with pytest.raises(ValueError, match="needs its operator_id"):
        OicpPartner("cpo", provider_id=PROVIDER)
    with pytest.raises(ValueError, match="not a ProviderID"):
        OicpPartner("emp", provider_id="nope!")


# --- the client side against a fake hub behind mutual TLS -------------------------------------------


@dataclass
class Pki:
    """A throw-away CA with a server certificate for 127.0.0.1 and one partner's files."""

    ca: Path
    cert: Path
    key: Path
    server: ssl.SSLContext
    client_der: bytes


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    now = utcnow()
    ca = certs.build_ca("Fake hub", now)
    server_key, client_key = certs.new_key(), certs.new_key()
    server_cert = certs.build_server_cert(ca, server_key, "Fake hub", ["127.0.0.1"], now)
    client_cert = certs.build_client_cert(
        ca, client_key, common_name=OPERATOR, organisation="Sim", uri="urn:roamhub:party:1", now=now
    )
    files = {name: directory / name for name in ("ca.pem", "cert.pem", "key.pem", "server.pem", "server.key")}
    write_public(files["ca.pem"], certs.cert_pem(ca.cert))
    write_public(files["cert.pem"], certs.cert_pem(client_cert))
    write_private(files["key.pem"], certs.key_pem(client_key))
    write_public(files["server.pem"], certs.cert_pem(server_cert))
    write_private(files["server.key"], certs.key_pem(server_key))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.verify_mode = ssl.CERT_REQUIRED
    server.load_verify_locations(cafile=str(files["ca.pem"]))
    server.load_cert_chain(str(files["server.pem"]), str(files["server.key"]))
    return Pki(files["ca.pem"], files["cert.pem"], files["key.pem"], server, certs.cert_der(client_cert))


ACK = {"Result": True, "StatusCode": {"Code": "000", "Description": "Success"}}
PAGE = {
    "content": [],
    "number": 0,
    "size": 20,
    "totalElements": 0,
    "totalPages": 0,
    "first": True,
    "last": True,
    "numberOfElements": 0,
    "StatusCode": {"Code": "000"},
}
CANNED: dict[str, dict[str, Any]] = {
    "eRoamingAuthorizeStart": {
        "SessionID": SESSION,
        "ProviderID": PROVIDER,
        "AuthorizationStatus": "Authorized",
        "StatusCode": {"Code": "000"},
    },
    "eRoamingAuthorizeStop": {
        "SessionID": SESSION,
        "AuthorizationStatus": "Authorized",
        "StatusCode": {"Code": "000"},
    },
    "eRoamingGetChargeDetailRecords": PAGE,
    "eRoamingPullEvseData": PAGE,
    "eRoamingPullEvseStatus": {"EvseStatuses": {"OperatorEvseStatus": []}},
    "eRoamingPullEvseStatusByOperatorID": {"EvseStatuses": {"OperatorEvseStatus": []}},
    "eRoamingPullEvseStatusByID": {"EVSEStatusRecords": {"EvseStatusRecord": []}},
    "eRoamingPullPricingProductData": {"PricingProductData": []},
    "eRoamingPullEVSEPricing": {"EVSEPricing": []},
}


@dataclass
class FakeHub:
    url: str
    calls: list[tuple[str, dict[str, str], bytes, bytes | None]] = field(default_factory=list)
    status: int = 200  # what the next answers' HTTP status is

    def bodies(self) -> list[Any]:
        return [json.loads(raw) for _, _, raw, _ in self.calls]


@contextlib.asynccontextmanager
async def fake_hub(context: ssl.SSLContext, answer: Any = None) -> AsyncIterator[FakeHub]:
    """A TLS site under /api/oicp that records each call and answers as Hubject would, validly."""
    hub = FakeHub("")

    async def handle(request: web.Request) -> web.Response:
        hub.calls.append(
            (request.path, dict(request.query), await request.read(), peer_certificate_der(request))
        )
        if answer is not None:
            return web.json_response(await answer(request))
        operation = find_operation(request.path)
        if hub.status != 200 or operation is None:
            return web.json_response({"StatusCode": {"Code": "017"}}, status=hub.status)
        return web.json_response(CANNED.get(operation.name, ACK))

    app = web.Application()
    app.router.add_post("/api/oicp/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    hub.url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield hub
    finally:
        await runner.cleanup()


async def connected(partner: OicpPartner, hub: FakeHub, pki: Pki) -> OicpPartner:
    await partner.connect(hub.url, cert=str(pki.cert), key=str(pki.key), ca=str(pki.ca))
    return partner


async def test_cpo_client_sends_valid_bodies_over_mutual_tls(cpo: OicpPartner, pki: Pki) -> None:
    start = datetime(2024, 6, 1, 10, 0, tzinfo=CEST)
    async with fake_hub(pki.server) as hub:
        await connected(cpo, hub, pki)
        await cpo.push_evse_data("fullLoad", [sample_evse_record(EVSE)], operator_name="ABC Charging")
        await cpo.push_evse_status("update", {EVSE: "Available"})
        answer = await cpo.authorize_start(UID.lower(), EVSE)
        await cpo.authorize_stop(SESSION, UID, EVSE)
        await cpo.send_cdr(sample_cdr(SESSION, EVSE, UID, start, start + timedelta(minutes=30), 7))
        await cpo.push_pricing_products("fullLoad", [sample_pricing_record()], default_price="0.30")
        await cpo.push_evse_pricing("fullLoad", {EVSE: ["AC1"]})
        await cpo.send_notification("Start", SESSION, EVSE, charging_start=start)
        await cpo.send_notification("Error", SESSION, EVSE, error_type="ConnectorError")

    assert answer["AuthorizationStatus"] == "Authorized" and SESSION in cpo.sessions
    paths = [path for path, _, _, _ in hub.calls]
    assert paths == [
        "/api/oicp/evsepush/v23/operators/DE*ABC/data-records",
        "/api/oicp/evsepush/v21/operators/DE*ABC/status-records",
        AUTHORIZE_START,
        AUTHORIZE_STOP,
        CDR,
        "/api/oicp/dynamicpricing/v10/operators/DE*ABC/pricing-products",
        "/api/oicp/dynamicpricing/v10/operators/DE*ABC/evse-pricing",
        NOTIFICATIONS,
        NOTIFICATIONS,
    ]
    for path, body in zip(paths, hub.bodies(), strict=True):
        validate_request(path, "POST", body, side="cpo")
    assert {der for _, _, _, der in hub.calls} == {pki.client_der}  # our certificate, on every call
    bodies = hub.bodies()
    assert bodies[0]["OperatorEvseData"]["OperatorName"] == "ABC Charging"
    assert bodies[1]["OperatorEvseStatus"]["EvseStatusRecord"] == [
        {"EvseID": EVSE, "EvseStatus": "Available"}
    ]
    assert bodies[2]["Identification"] == rfid(UID)  # upper-cased, as Hubject does
    assert bodies[4]["ConsumedEnergy"] == 7 and bodies[4]["ChargingStart"] == "2024-06-01T10:00:00+02:00"
    assert bodies[5]["PricingProductData"]["ProviderID"] == "*"
    assert bodies[8] == {
        "Type": "Error",
        "SessionID": SESSION,
        "EvseID": EVSE,
        "OperatorID": OPERATOR,
        "ErrorType": "ConnectorError",
    }
    assert cpo.answer_errors == []


async def test_emp_client_sends_valid_bodies_over_mutual_tls(emp: OicpPartner, pki: Pki) -> None:
    since = datetime(2024, 6, 1, tzinfo=UTC)
    async with fake_hub(pki.server) as hub:
        await connected(emp, hub, pki)
        await emp.push_authentication_data("fullLoad", [UID, EVCO])
        pulled = await emp.pull_evse_data(page=2, size=100, last_call=since)
        await emp.pull_evse_status()
        await emp.pull_evse_status_by_id([EVSE])
        await emp.pull_evse_status_by_operator([OPERATOR])
        await emp.remote_start(EVSE, EVCO)
        await emp.remote_stop(SESSION, EVSE)
        await emp.reservation_start(EVSE, EVCO, duration=30)
        await emp.reservation_stop(SESSION, EVSE)
        await emp.get_cdrs(since, since + timedelta(days=1), page=1, size=50, forwarded=False)
        await emp.pull_pricing_products([OPERATOR])
        await emp.pull_evse_pricing([OPERATOR])

    assert pulled == PAGE
    base = "/api/oicp"
    paths = [path for path, _, _, _ in hub.calls]
    assert paths == [
        f"{base}/authdata/v21/providers/{PROVIDER}/push-request",
        f"{base}/evsepull/v23/providers/{PROVIDER}/data-records",
        f"{base}/evsepull/v21/providers/{PROVIDER}/status-records",
        f"{base}/evsepull/v21/providers/{PROVIDER}/status-records-by-id",
        f"{base}/evsepull/v21/providers/{PROVIDER}/status-records-by-operator-id",
        REMOTE_START,
        REMOTE_STOP,
        RESERVE,
        UNRESERVE,
        f"{base}/cdrmgmt/v22/providers/{PROVIDER}/get-charge-detail-records-request",
        f"{base}/dynamicpricing/v10/providers/{PROVIDER}/pricing-products",
        f"{base}/dynamicpricing/v10/providers/{PROVIDER}/evse-pricing",
    ]
    bodies = hub.bodies()
    for path, body in zip(paths, bodies, strict=True):
        operation = find_operation(path)
        assert operation is not None
        validate_request(operation.name, "POST", body, side="emp")
    assert hub.calls[1][1] == {"page": "2", "size": "100"} and hub.calls[9][1] == {"page": "1", "size": "50"}
    assert bodies[1]["LastCall"] == "2024-06-01T00:00:00Z"
    records = bodies[0]["ProviderAuthenticationData"]["AuthenticationDataRecord"]
    assert [r["Identification"] for r in records] == [
        rfid(),
        {"PlugAndChargeIdentification": {"EvcoID": EVCO}},
    ]
    assert bodies[5]["Identification"] == {"RemoteIdentification": {"EvcoID": EVCO}}
    assert re.fullmatch(
        r"[0-9a-f-]{36}", bodies[5]["SessionID"]
    )  # the EMP schema wants one; Hubject replaces it
    assert bodies[7]["Duration"] == 30 and bodies[9]["CDRForwarded"] is False
    assert {der for _, _, _, der in hub.calls} == {pki.client_der}
    assert emp.answer_errors == []


async def test_an_invalid_body_is_refused_before_sending(cpo: OicpPartner, pki: Pki) -> None:
    async with fake_hub(pki.server) as hub:
        await connected(cpo, hub, pki)
        with pytest.raises(OpenApiValidationError, match="Plugs"):
            await cpo.push_evse_data("insert", [sample_evse_record(EVSE, plugs=["Quantum Plug"])])
        answer = await cpo.post_raw("evsepush/v23/operators/DE*ABC/data-records", b'{"ActionType": 1')
    assert [raw for _, _, raw, _ in hub.calls] == [b'{"ActionType": 1']  # only the raw one went out
    assert hub.calls[0][0] == "/api/oicp/evsepush/v23/operators/DE*ABC/data-records"
    assert (answer.status, answer.body) == (200, ACK)


async def test_a_refusal_raises_with_the_hubs_body_and_bad_answers_are_noted(
    emp: OicpPartner, pki: Pki
) -> None:
    async with fake_hub(pki.server) as hub:
        await connected(emp, hub, pki)
        hub.status = 401
        with pytest.raises(HubRefused) as refused:
            await emp.pull_evse_status()
    assert (refused.value.status, refused.value.body) == (401, {"StatusCode": {"Code": "017"}})

    async def broken(request: web.Request) -> dict[str, Any]:
        return {"EvseStatuses": {"OperatorEvseStatus": [{"OperatorID": "nope"}]}}

    async with fake_hub(pki.server, broken) as hub:
        await connected(emp, hub, pki)
        await emp.pull_evse_status()
    assert emp.answer_errors and all(e.startswith("eRoamingPullEvseStatus: ") for e in emp.answer_errors)


async def test_no_client_certificate_no_connection(emp: OicpPartner, pki: Pki) -> None:
    async with fake_hub(pki.server) as hub:
        await emp.connect(hub.url, ca=str(pki.ca))
        with pytest.raises(aiohttp.ClientError):
            await emp.pull_evse_status()
    assert hub.calls == []


async def test_a_partner_server_over_tls_sees_the_hubs_certificate(pki: Pki) -> None:
    async with OicpPartner("emp", provider_id=PROVIDER, tokens=[UID], ssl=pki.server) as emp:
        assert emp.base_url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(str(pki.cert), str(pki.key))
        status, body = await post(emp, AUTHORIZE_START, authorize_body(), ssl=context)
    assert (status, body["AuthorizationStatus"]) == (200, "Authorized")
    assert emp.received[0].peer_cert == pki.client_der


async def test_files_from_pki_issue_work_against_the_hubs_listener(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """The real partner CA, certificate files and TLS listener context of the hub, not a stand-in."""
    await init_ca(settings)
    data = {"name": "Sim CPO", "country_code": "DE", "party_id": "ABC", "roles": ["CPO"], "protocol": "oicp"}
    data |= {"operator_id": OPERATOR}
    party = await parties.add_party(db, settings, parties.PartyCreate.model_validate(data))
    issued = await issue_party_cert(db, settings, party.id, tmp_path / "out")

    async def whoami(request: web.Request) -> dict[str, Any]:
        caller = await partner_for_peer_cert(db, peer_certificate_der(request))
        return {**ACK, "StatusCode": {"Code": "000", "AdditionalInfo": ",".join(sorted(caller.operator_ids))}}

    async with (
        OicpPartner("cpo", operator_id=OPERATOR) as cpo,
        fake_hub(hub_ssl_context(settings), whoami) as hub,
    ):
        await cpo.connect(hub.url, cert=str(issued.cert), key=str(issued.key), ca=str(issued.ca))
        answer = await cpo.push_evse_status("fullLoad", {EVSE: "Occupied"})
    assert answer["StatusCode"]["AdditionalInfo"] == "DEABC"


# --- run_oicp_simulator and the command line -------------------------------------------------------


async def test_run_oicp_simulator_serves_until_cancelled(capsys: pytest.CaptureFixture[str]) -> None:
    task = asyncio.create_task(run_oicp_simulator("cpo", host="127.0.0.1", port=0, operator_id=OPERATOR))
    printed: list[str] = []
    for _ in range(200):
        printed += re.findall(r"^http://127\.0\.0\.1:\d+$", capsys.readouterr().out, re.MULTILINE)
        if printed:
            break
        await asyncio.sleep(0.02)
    [base_url] = printed  # the base URL alone on a line, for scripts
    async with aiohttp.ClientSession() as http, http.post(base_url + REMOTE_START, json=remote_body()) as r:
        assert (await r.json())["Result"] is True
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_roamhub_simulate_emp_oicp_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ROAMHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/hub.db",
        "ROAMHUB_LOG_FORMAT": "json",
    }
    sim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "simulate",
        "emp",
        "--protocol",
        "oicp",
        "--provider-id",
        PROVIDER,
        "--authorize",
        UID,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert sim.stdout is not None
        base_url = (await asyncio.wait_for(sim.stdout.readline(), 20)).decode().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        async with aiohttp.ClientSession() as http:
            async with http.post(base_url + AUTHORIZE_START, json=authorize_body()) as response:
                body = await response.json()
            async with http.post(
                base_url + AUTHORIZE_START, json=authorize_body(rfid("AAAAAAAA"))
            ) as response:
                refused = await response.json()
        assert (body["AuthorizationStatus"], body["ProviderID"]) == ("Authorized", PROVIDER)
        assert refused["StatusCode"]["Code"] == "102"
        sim.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(sim.wait(), 10) == 0
    finally:
        if sim.returncode is None:
            sim.kill()
            await sim.wait()


async def test_roamhub_simulate_oicp_refuses_bad_input(tmp_path: Path) -> None:
    env = {**os.environ, "ROAMHUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/hub.db"}

    async def run(*argv: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub",
            "simulate",
            *argv,
            cwd=tmp_path,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 20)
        return process.returncode or 0, err.decode()

    code, err = await run("cpo", "--protocol", "oicp", "--operator-id", "not-an-id")
    assert code == 2 and "'not-an-id' is not an OperatorID" in err
    code, err = await run("emp", "--protocol", "oicp", "--hub-url", "https://127.0.0.1:1")
    assert code == 2 and "needs --cert, --key and --ca" in err
    missing = str(tmp_path / "missing.pem")
    code, err = await run(
        "emp",
        "--protocol",
        "oicp",
        "--hub-url",
        "https://127.0.0.1:1",
        "--cert",
        missing,
        "--key",
        missing,
        "--ca",
        missing,
    )
    assert code == 2 and "--cert/--key/--ca cannot be used" in err
