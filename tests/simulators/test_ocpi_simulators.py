"""The OCPI simulators against each other, on loopback: a CPO platform registers directly with an eMSP.

No mocks: both sides are real aiohttp servers, so every request below is judged by a strict peer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.simulators import OcpiPlatform, RegistrationFailed, run_simulator
from hub.simulators.ocpi_wire import RECEIVER, SENDER

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared/spec/ocpi-2.2.1/examples"
CPO = ("BE", "BEC")  # the owner of the spec's example locations and CDRs
EMSP = ("DE", "TNM")  # the issuer of the spec's example RFID token


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"spec example {name} not found under {EXAMPLES}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
async def emsp() -> AsyncIterator[OcpiPlatform]:
    async with OcpiPlatform(roles=[(*EMSP, "EMSP")], name="Test eMSP") as platform:
        yield platform


@pytest.fixture
async def cpo() -> AsyncIterator[OcpiPlatform]:
    async with OcpiPlatform(roles=[(*CPO, "CPO")], name="Test CPO") as platform:
        yield platform


@pytest.fixture
async def pair(cpo: OcpiPlatform, emsp: OcpiPlatform) -> tuple[OcpiPlatform, OcpiPlatform]:
    """The CPO registered with the eMSP; the eMSP handed out token A."""
    await cpo.register(emsp.versions_url, emsp.issue_token_a())
    return cpo, emsp


def encoded(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


# --- credentials -----------------------------------------------------------------------------------


async def test_registration_exchanges_tokens_a_b_c_and_endpoints(
    cpo: OcpiPlatform, emsp: OcpiPlatform
) -> None:
    token_a = emsp.issue_token_a()

    credentials = await cpo.register(emsp.versions_url, token_a)

    assert cpo.peer is not None and emsp.peer is not None
    token_b, token_c = cpo.peer.inbound_token, credentials.token
    assert len({token_a, token_b, token_c}) == 3
    assert cpo.peer.outbound_token == token_c == emsp.peer.inbound_token
    assert emsp.peer.outbound_token == token_b
    assert [(r.country_code, r.party_id, r.role.value) for r in credentials.roles] == [(*EMSP, "EMSP")]
    assert ("locations", RECEIVER) in cpo.peer.endpoints and ("tokens", SENDER) in cpo.peer.endpoints
    assert ("commands", RECEIVER) in emsp.peer.endpoints and ("locations", SENDER) in emsp.peer.endpoints
    # The eMSP fetched the CPO's versions and details with token B before answering (§4.2 step 4).
    assert [r.path for r in cpo.received] == ["/ocpi/versions", "/ocpi/2.2.1"]
    assert all(r.headers["Authorization"] == encoded(token_b) for r in cpo.received)
    spent = await cpo.send("GET", emsp.versions_url, token=token_a)
    assert spent.status == 401
    assert cpo.violations == []


async def test_token_a_opens_only_versions_and_credentials(cpo: OcpiPlatform, emsp: OcpiPlatform) -> None:
    token_a = emsp.issue_token_a()
    assert (await cpo.send("GET", emsp.versions_url, token=token_a)).status == 200

    response = await cpo.send(
        "GET", f"{emsp.base_url}/ocpi/2.2.1/receiver/locations/BE/BEC/LOC1", token=token_a
    )

    assert response.status == 401
    assert emsp.violations and "token A" in emsp.violations[-1]


@pytest.mark.parametrize(
    ("break_cpo", "expected"),
    [
        (lambda p: setattr(p, "fail_versions", True), 3001),
        (lambda p: setattr(p, "versions", ["2.1.1"]), 3002),
        (lambda p: p.omit_modules.add("credentials"), 3003),
    ],
    ids=["versions-fail", "no-2.2.1", "no-credentials-endpoint"],
)
async def test_a_strict_peer_refuses_a_broken_registrant(
    cpo: OcpiPlatform, emsp: OcpiPlatform, break_cpo: Any, expected: int
) -> None:
    break_cpo(cpo)
    token_a = emsp.issue_token_a()

    with pytest.raises(RegistrationFailed) as refused:
        await cpo.register(emsp.versions_url, token_a)

    assert refused.value.status_code == expected
    assert emsp.peer is None and cpo.peer is None
    assert (await cpo.send("GET", emsp.versions_url, token=token_a)).status == 200  # A is not spent


async def test_registering_with_a_peer_without_2_2_1_fails_before_posting(
    cpo: OcpiPlatform, emsp: OcpiPlatform
) -> None:
    emsp.versions = ["2.1.1"]

    with pytest.raises(RegistrationFailed, match=r"not 2\.2\.1"):
        await cpo.register(emsp.versions_url, emsp.issue_token_a())

    assert not any(r.method == "POST" for r in emsp.received)


async def test_second_post_is_405(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, _ = pair
    assert cpo.peer is not None
    url = cpo.peer.endpoint("credentials", SENDER)
    assert url is not None

    response = await cpo.send("POST", url, token=cpo.peer.outbound_token, json=cpo.credentials("x" * 20))

    assert response.status == 405


async def test_credentials_put_rekeys_both_ways(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    assert cpo.peer is not None and emsp.peer is not None
    old_b, old_c = cpo.peer.inbound_token, cpo.peer.outbound_token

    credentials = await cpo.update_credentials()

    assert credentials.token not in (old_c, old_b)
    assert cpo.peer.outbound_token == credentials.token == emsp.peer.inbound_token
    assert emsp.peer.outbound_token == cpo.peer.inbound_token != old_b
    assert (await cpo.send("GET", emsp.versions_url, token=old_c)).status == 401
    assert (await emsp.send("GET", cpo.versions_url, token=old_b)).status == 401
    assert (await cpo.call("GET", "credentials", SENDER)).status_code == 1000


async def test_credentials_delete_unregisters(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    assert cpo.peer is not None
    token_c, url = cpo.peer.outbound_token, cpo.peer.endpoint("credentials", SENDER)
    assert url is not None

    await cpo.unregister()

    assert cpo.peer is None and emsp.peer is None
    assert (await cpo.send("GET", url, token=token_c)).status == 401
    # PUT and DELETE without a registration are 405 (§4.2), even with a fresh token A.
    assert (await cpo.send("DELETE", url, token=emsp.issue_token_a())).status == 405


# --- transport rules -------------------------------------------------------------------------------


async def test_missing_and_unknown_tokens_are_401(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair

    missing = await cpo.call("GET", "credentials", SENDER, headers={"Authorization": None})
    unknown = await cpo.call("GET", "credentials", SENDER, headers={"Authorization": encoded("nope")})

    assert (missing.status, missing.status_code) == (401, 2000)
    assert unknown.status == 401
    assert len(emsp.violations) == 2


async def test_a_raw_token_is_accepted_too(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    cpo.encode_tokens = False

    response = await cpo.call("GET", "credentials", SENDER)

    assert response.status_code == 1000
    assert (
        emsp.received[-1].headers["Authorization"] == f"Token {cpo.peer.outbound_token if cpo.peer else ''}"
    )


async def test_functional_request_without_routing_headers_is_refused(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair
    location = example("location_example.json")
    no_from = {"OCPI-from-country-code": None, "OCPI-from-party-id": None}

    response = await cpo.call("PUT", "locations", RECEIVER, "BE/BEC/LOC1", json=location, headers=no_from)

    assert (response.status, response.status_code) == (200, 2001)
    assert emsp.store.locations == {}
    assert "OCPI-from-*" in emsp.violations[-1]


async def test_routing_headers_on_a_configuration_module_are_a_violation(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair

    response = await cpo.call("GET", "credentials", SENDER, headers=cpo.routing_headers(CPO, EMSP))

    assert response.status_code == 2001
    assert "SHALL NOT" in emsp.violations[-1]


async def test_a_to_party_not_on_the_platform_is_refused(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair

    response = await cpo.push_location(example("location_example.json"), to=("NL", "XXX"))

    assert response.status_code == 2001
    assert "NL-XXX" in emsp.violations[-1]


# --- modules ---------------------------------------------------------------------------------------


async def test_pushed_location_lands_unchanged_with_swapped_routing_headers(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair
    location = example("location_example.json")

    response = await cpo.push_location(location)

    assert (response.status, response.status_code) == (201, 1000)
    assert emsp.store.locations[("BE", "BEC", "LOC1")] == location
    request = emsp.received[-1]
    assert request.headers["OCPI-to-party-id"] == "TNM" and request.headers["OCPI-from-party-id"] == "BEC"
    assert response.headers["X-Request-ID"] == request.headers["X-Request-ID"]
    assert response.headers["X-Correlation-ID"] == request.headers["X-Correlation-ID"]
    assert (response.headers["OCPI-from-party-id"], response.headers["OCPI-to-party-id"]) == ("TNM", "BEC")
    assert response.body["timestamp"].endswith("Z")
    assert emsp.violations == []


async def test_evse_patch_changes_the_evse_and_bumps_only_its_parent(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair
    location = example("location_example.json")
    await cpo.push_location(location)
    patch = {"status": "CHARGING", "last_updated": "2015-07-01T10:00:00Z"}

    response = await cpo.patch_evse("LOC1", "3256", patch)

    assert response.status_code == 1000
    expected = copy.deepcopy(location)
    expected["evses"][0] |= patch
    expected["last_updated"] = patch["last_updated"]
    assert emsp.store.locations[("BE", "BEC", "LOC1")] == expected


async def test_patch_without_last_updated_is_2001(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    await cpo.push_location(example("location_example.json"))

    response = await cpo.patch_evse("LOC1", "3256", {"status": "CHARGING"})

    assert response.status_code == 2001
    assert emsp.store.locations[("BE", "BEC", "LOC1")]["evses"][0]["status"] == "AVAILABLE"


async def test_session_patch_appends_charging_periods(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    session = example("session_example_2_short_finished.json")
    patch = example("session_patch_example_charging_period.json")
    await cpo.put_session(session)

    response = await cpo.patch_session("101", patch)

    stored = emsp.store.sessions[("BE", "BEC", "101")]
    assert response.status_code == 1000
    assert stored["charging_periods"] == session["charging_periods"] + patch["charging_periods"]
    assert stored["kwh"] == patch["kwh"]


async def test_put_with_a_different_id_in_the_url_is_2001(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    location = example("location_example.json")

    response = await cpo.call("PUT", "locations", RECEIVER, "BE/BEC/OTHER", json=location)

    assert response.status_code == 2001
    assert emsp.store.locations == {}


async def test_authorize_allowed_blocked_and_unknown(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    token = example("token_example_2_full_rfid.json")
    emsp.tokens = [token]

    allowed = await cpo.authorize(token["uid"], location={"location_id": "LOC1"})
    emsp.authorize_result = "BLOCKED"
    blocked = await cpo.authorize(token["uid"])
    unknown = await cpo.authorize("NOPE")

    assert (allowed.status, allowed.data["allowed"], allowed.data["token"]) == (200, "ALLOWED", token)
    assert allowed.data["location"] == {"location_id": "LOC1"}
    assert (blocked.status, blocked.data["allowed"]) == (200, "BLOCKED")  # HTTP 200 for BLOCKED (#528)
    assert (unknown.status, unknown.status_code) == (404, 2004)
    assert emsp.violations == []


async def test_cdr_post_answers_a_location_that_serves_the_cdr(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair
    cdr = example("cdr_example.json")

    posted = await cpo.post_cdr(cdr)
    fetched = await cpo.get_cdr(posted.headers["Location"])
    await cpo.post_cdr(cdr)

    assert (posted.status, posted.status_code) == (201, 1000)
    assert posted.headers["Location"].startswith(emsp.base_url)
    assert fetched.data == cdr
    assert emsp.store.cdr_posts[("BE", "BEC", "12345")] == 2  # a double delivery is visible


async def test_start_session_result_arrives_at_the_response_url(
    pair: tuple[OcpiPlatform, OcpiPlatform],
) -> None:
    cpo, emsp = pair
    cpo.command_result_delay = 0.05
    token = example("token_example_2_full_rfid.json")

    sent = await emsp.start_session(token, "LOC1", evse_uid="3256", connector_id="1")
    result = await emsp.wait_command_result(sent.result_id, timeout=2)

    assert sent.response.data == {"result": "ACCEPTED", "timeout": 30}
    assert result == {"result": "ACCEPTED"}
    command = next(r for r in cpo.received if r.path.endswith("/START_SESSION"))
    delivery = next(r for r in emsp.received if "commands-results" in r.path)
    assert (delivery.headers["OCPI-from-party-id"], delivery.headers["OCPI-to-party-id"]) == ("BEC", "TNM")
    assert delivery.headers["X-Correlation-ID"] == command.headers["X-Correlation-ID"]
    assert cpo.result_posts[0].status_code == 1000
    assert cpo.violations == [] and emsp.violations == []


async def test_a_result_for_an_unknown_id_is_404(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    url = f"{emsp.base_url}/ocpi/2.2.1/commands-results/unknown"

    response = await cpo.call("POST", "commands", SENDER, raw_url=url, json={"result": "ACCEPTED"})

    assert (response.status, response.status_code) == (404, 2001)


async def test_sender_lists_are_paginated(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    base = example("location_example.json")
    cpo.own["locations"] = [
        base | {"id": f"LOC{n}", "last_updated": f"2020-01-0{n}T00:00:00Z"} for n in (1, 2, 3)
    ]
    cpo.page_limit = 2

    first = await emsp.get_list("locations", params={"date_from": "2020-01-01T00:00:00Z"})
    everything = await emsp.fetch_all("locations")
    newer = await emsp.fetch_all("locations", params={"date_from": "2020-01-02T00:00:00Z"})
    sessions = await emsp.get_list("sessions")

    assert [loc["id"] for loc in first.data] == ["LOC1", "LOC2"]
    assert (first.headers["X-Total-Count"], first.headers["X-Limit"]) == ("3", "2")
    assert "offset=2" in first.headers["Link"] and "date_from=2020-01-01" in first.headers["Link"]
    assert [loc["id"] for loc in everything] == ["LOC1", "LOC2", "LOC3"]
    assert [loc["id"] for loc in newer] == ["LOC2", "LOC3"]
    assert sessions.status_code == 2001  # date_from is required on the Sessions list (§2.4)


async def test_hubclientinfo_put_and_get(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    info = {"party_id": "ALL", "country_code": "NL", "role": "CPO", "status": "PLANNED"}
    info["last_updated"] = "2019-09-27T14:33:00Z"

    put = await cpo.call("PUT", "hubclientinfo", RECEIVER, "NL/ALL", json=info)
    got = await cpo.call("GET", "hubclientinfo", RECEIVER, "NL/ALL")
    wrong = await cpo.call("PUT", "hubclientinfo", RECEIVER, "NL/XYZ", json=info)

    assert put.status_code == 1000 and got.data == info
    assert emsp.client_info[("NL", "ALL", "CPO")] == info
    assert wrong.status_code == 2001


async def test_run_simulator_registers_and_runs_until_cancelled(emsp: OcpiPlatform) -> None:
    task = asyncio.create_task(
        run_simulator(
            "cpo",
            host="127.0.0.1",
            port=0,
            hub_versions_url=emsp.versions_url,
            token_a=emsp.issue_token_a(),
            country_code="NL",
            party_id="SIM",
        )
    )
    for _ in range(200):
        if emsp.peer is not None:
            break
        await asyncio.sleep(0.01)

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

    assert emsp.peer is not None
    assert [(r["country_code"], r["party_id"], r["role"]) for r in emsp.peer.roles] == [("NL", "SIM", "CPO")]


async def test_connector_patch_bumps_its_evse_and_location(pair: tuple[OcpiPlatform, OcpiPlatform]) -> None:
    cpo, emsp = pair
    location = example("location_example.json")
    await cpo.push_location(location)
    patch = {"max_amperage": 32, "last_updated": "2015-07-02T10:00:00Z"}

    response = await cpo.patch_location("LOC1", patch, evse_uid="3257", connector_id="1")

    expected = copy.deepcopy(location)
    expected["evses"][1]["connectors"][0] |= patch
    expected["evses"][1]["last_updated"] = expected["last_updated"] = patch["last_updated"]
    assert response.status_code == 1000
    assert emsp.store.locations[("BE", "BEC", "LOC1")] == expected


def test_a_platform_with_both_roles_serves_the_union() -> None:
    platform = OcpiPlatform(roles=[("NL", "CPA", "CPO"), ("NL", "MSP", "EMSP")])

    table = platform.endpoint_table()

    assert {
        ("locations", SENDER),
        ("locations", RECEIVER),
        ("commands", SENDER),
        ("commands", RECEIVER),
    } <= set(table)
    assert platform.party_for("locations", SENDER) == ("NL", "CPA")
    assert platform.party_for("tokens", SENDER) == ("NL", "MSP")
    with pytest.raises(ValueError, match="roles must be among"):
        OcpiPlatform(roles=[("NL", "HUB", "HUB")])
