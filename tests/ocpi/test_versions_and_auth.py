"""Versions, version details and authentication on the hub (checklist items 1 to 7, 11, 12)."""

import re

import pytest

from schemas.ocpi.v2_2_1 import OcpiResponse, VersionDetails
from tests.ocpi.conftest import RunningHub, b64

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


async def test_versions_need_a_known_token(hub: RunningHub) -> None:
    status, body, _ = await hub.get("/ocpi/versions")
    assert status == 401
    assert body["status_code"] == 2000 and TIMESTAMP.match(body["timestamp"])
    status, _, _ = await hub.get("/ocpi/versions", token="not-a-token")
    assert status == 401


async def test_token_a_reads_versions_base64_or_raw(hub: RunningHub) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    assert party.token_a
    status, body, _ = await hub.get("/ocpi/versions", token=party.token_a)
    assert status == 200
    envelope = OcpiResponse.model_validate(body)
    assert envelope.status_code == 1000
    assert body["data"] == [{"version": "2.2.1", "url": f"{hub.url}/ocpi/2.2.1"}]
    assert TIMESTAMP.match(body["timestamp"])
    status, _, _ = await hub.get("/ocpi/versions", headers={"Authorization": f"Token {party.token_a}"})
    assert status == 200  # many 2.1.1/2.2 peers send the token un-encoded


async def test_version_details_list_every_module_both_ways(hub: RunningHub) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    assert party.token_a
    status, body, _ = await hub.get("/ocpi/2.2.1", token=party.token_a)
    assert status == 200
    details = VersionDetails.model_validate(body["data"])
    pairs = {(str(e.identifier), e.role.value) for e in details.endpoints}
    assert ("credentials", "SENDER") in pairs
    assert ("hubclientinfo", "SENDER") in pairs
    for module in ("locations", "sessions", "cdrs", "tariffs", "tokens", "commands", "chargingprofiles"):
        assert {(module, "SENDER"), (module, "RECEIVER")} <= pairs
    assert all(e.url.startswith(hub.url + "/ocpi/2.2.1/") for e in details.endpoints)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/ocpi/2.2.1/hubclientinfo"),
        ("GET", "/ocpi/2.2.1/sender/locations"),
        ("PUT", "/ocpi/2.2.1/receiver/locations/NL/CPA/LOC1"),
        ("POST", "/ocpi/2.2.1/sender/tokens/0102/authorize"),
    ],
)
async def test_token_a_opens_only_versions_and_credentials(hub: RunningHub, method: str, path: str) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    status, body, _ = await hub.request(method, path, party.token_a, json={})
    assert status == 401
    assert "token A" in body["status_message"]


async def test_ids_are_echoed_or_generated(hub: RunningHub) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    headers = {
        "X-Request-ID": "r-1",
        "X-Correlation-ID": "c-1",
        "Authorization": f"Token {b64(party.token_a or '')}",
    }
    _, _, answer = await hub.get("/ocpi/versions", headers=headers)
    assert (answer["X-Request-ID"], answer["X-Correlation-ID"]) == ("r-1", "c-1")
    _, _, answer = await hub.get("/ocpi/versions", token=party.token_a)
    assert answer["X-Request-ID"] and answer["X-Correlation-ID"]


async def test_malformed_credentials_body_is_http_400(hub: RunningHub) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    status, body, _ = await hub.request(
        "POST",
        "/ocpi/2.2.1/credentials",
        party.token_a,
        data=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and body["status_code"] == 2001


async def test_invalid_credentials_object_is_2001(hub: RunningHub) -> None:
    party = await hub.admit("NL", "CPA", "CPO")
    status, body, _ = await hub.request("POST", "/ocpi/2.2.1/credentials", party.token_a, json={"token": "x"})
    assert status == 200 and body["status_code"] == 2001
    assert "url" in body["status_message"] or "roles" in body["status_message"]
