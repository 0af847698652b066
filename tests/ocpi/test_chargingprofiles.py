"""Charging profiles through the hub: response_url in the query or the body, proxied (§6.7, checklist 51)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from hub.ocpi import callbacks
from hub.simulators.ocpi import OcpiPlatform
from hub.simulators.ocpi_wire import SimResponse
from hub.store.models import Callback, RouteIndex
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

EMSP = ("DE", "EMA")
CPO = ("NL", "CPA")
RESULTS = "/ocpi/2.2.1/sender/chargingprofiles/results/"
PROFILE = {
    "charging_profile": {
        "charging_rate_unit": "W",
        "charging_profile_period": [{"start_period": 0, "limit": 11000.0}],
    }
}


async def pair(hub: RunningHub, platform: PlatformFactory) -> tuple[OcpiPlatform, OcpiPlatform]:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    return emsp, cpo


async def profile_call(
    emsp: OcpiPlatform, method: str, url: str, *, to: tuple[str, str] | None = CPO, session_id: str = "SES1"
) -> SimResponse:
    """GET, PUT or DELETE on the chargingprofiles Receiver with ``url`` as the response_url."""
    if method == "PUT":
        body, params = {**PROFILE, "response_url": url}, None
    else:
        body, params = None, {"response_url": url, **({"duration": "900"} if method == "GET" else {})}
    return await emsp.call(
        method, "chargingprofiles", "RECEIVER", session_id, json=body, params=params, to=to
    )


def response_url_seen(cpo: OcpiPlatform) -> str:
    call = [r for r in cpo.received if r.module == "chargingprofiles"][-1]
    return str(call.body["response_url"] if call.method == "PUT" else call.query["response_url"])


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
async def test_response_url_is_rewritten_and_proxied(
    hub: RunningHub, platform: PlatformFactory, method: str
) -> None:
    emsp, cpo = await pair(hub, platform)
    result_id = uuid.uuid4().hex
    # A query of its own must survive being a query parameter (GET, DELETE) and come back intact.
    original = emsp.command_response_url(result_id, CPO) + "?ref=a%2Fb&n=1"
    response = await profile_call(emsp, method, original)
    assert response.status_code == 1000 and response.data == {"result": "ACCEPTED", "timeout": 30}
    assert await emsp.wait_command_result(result_id) == {"result": "ACCEPTED"}

    call = next(r for r in cpo.received if r.module == "chargingprofiles")
    assert response_url_seen(cpo).startswith(f"{hub.url}{RESULTS}")
    if method == "PUT":
        assert call.body == {**PROFILE, "response_url": response_url_seen(cpo)}
    if method == "GET":
        assert call.query["duration"] == "900"
    seen_by_cpo = json.dumps([(r.path, r.query, dict(r.headers), r.body) for r in cpo.received])
    assert emsp.base_url not in seen_by_cpo

    delivered = next(r for r in emsp.received if r.path.endswith(result_id))
    assert delivered.query == {"ref": "a/b", "n": "1"}
    assert (delivered.headers["OCPI-from-party-id"], delivered.headers["OCPI-to-party-id"]) == ("CPA", "EMA")
    assert delivered.headers["X-Correlation-ID"] == response.headers["X-Correlation-ID"]
    async with hub.db.session() as session:
        [row] = (await session.execute(select(Callback))).scalars().all()
    assert (row.kind, row.detail, row.completed_at is not None) == ("chargingprofile", method, True)
    assert emsp.violations == [] and cpo.violations == []


async def test_results_only_from_the_platform_asked(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    intruder = await connected(hub, platform, ("NL", "CPB", "CPO"))
    cpo.command_result_delay = 0.3
    result_id = uuid.uuid4().hex
    await profile_call(emsp, "PUT", emsp.command_response_url(result_id, CPO))
    hub_url = response_url_seen(cpo)
    refused = await intruder.call(
        "POST", "chargingprofiles", "SENDER", raw_url=hub_url, json={"result": "REJECTED"}, to=EMSP
    )
    assert refused.status_code == 2001
    assert await emsp.wait_command_result(result_id) == {"result": "ACCEPTED"}
    assert emsp.command_results[result_id] == [{"result": "ACCEPTED"}]
    unknown = await cpo.call(
        "POST", "chargingprofiles", "SENDER", raw_url=f"{hub.url}{RESULTS}nope", json={"result": "ACCEPTED"}
    )
    assert (unknown.status, unknown.status_code) == (404, 2001)


async def test_open_routing_by_session_index(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    async with hub.db.transaction() as session:
        session.add(
            RouteIndex(
                kind="session",
                key="SES1",
                country_code="NL",
                party_id="CPA",
                peer_country_code="DE",
                peer_party_id="EMA",
            )
        )
    result_id = uuid.uuid4().hex
    response = await profile_call(emsp, "DELETE", emsp.command_response_url(result_id, CPO), to=None)
    assert response.status_code == 1000 and response.headers["OCPI-from-party-id"] == "CPA"
    assert await emsp.wait_command_result(result_id) == {"result": "ACCEPTED"}
    unknown = await profile_call(emsp, "GET", emsp.command_response_url("x", CPO), to=None, session_id="S9")
    assert unknown.status_code == 4001 and "cannot resolve" in unknown.body["status_message"]

    # An unsolicited ActiveChargingProfile without TO goes to the session's eMSP, here one without a
    # chargingprofiles Sender (the simulator has none): resolved, then 4001 naming that party.
    active = {"start_date_time": "2024-01-01T00:00:00Z", **PROFILE}
    pushed = await cpo.call("PUT", "chargingprofiles", "SENDER", "SES1", json=active)
    assert pushed.status_code == 4001 and "DE-EMA" in pushed.body["status_message"]
    lost = await cpo.call("PUT", "chargingprofiles", "SENDER", "S9", json=active)
    assert lost.status_code == 4001 and "cannot resolve" in lost.body["status_message"]


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("DELETE", {}, "response_url"),
        ("GET", {"response_url": "http://example.com/r"}, "duration"),
        ("PUT", None, "charging_profile"),
        ("POST", None, "POST"),
    ],
)
async def test_invalid_requests(
    hub: RunningHub, platform: PlatformFactory, method: str, params: dict[str, str] | None, named: str
) -> None:
    emsp, cpo = await pair(hub, platform)
    body: dict[str, Any] | None = (
        {"response_url": "http://example.com/r"} if method in ("PUT", "POST") else None
    )
    response = await emsp.call(
        method, "chargingprofiles", "RECEIVER", "SES1", json=body, params=params, to=CPO
    )
    assert response.status_code in (2000, 2001)
    assert named in response.body["status_message"]
    assert not [r for r in cpo.received if r.module == "chargingprofiles"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Written by the caller: spacing and the number's spelling pass untouched.
        (
            b'{"charging_profile": {"limit": 11000.00}, "response_url" : "http://e/r", "x": 1.10}',
            b'{"charging_profile": {"limit": 11000.00}, "response_url" : "http://hub/h", "x": 1.10}',
        ),
        # Escaped slashes: not found as written, so re-serialised (keys in place).
        (
            b'{"response_url": "http:\\/\\/e\\/r", "x": 1}',
            b'{"response_url":"http://hub/h","x":1}',
        ),
        # A nested pair spelt plainly while the top-level one is escaped: never the nested one alone.
        (
            b'{"response_url": "http:\\/\\/e/r", "n": {"response_url": "http://e/r"}}',
            b'{"response_url":"http://hub/h","n":{"response_url":"http://e/r"}}',
        ),
    ],
)
def test_response_url_rewrite_keeps_the_callers_bytes(raw: bytes, expected: bytes) -> None:
    assert callbacks.rewrite_response_url(raw, json.loads(raw), "http://hub/h") == expected
