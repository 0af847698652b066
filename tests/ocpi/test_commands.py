"""Commands through the hub: the response_url proxied both ways (ocpi-hub-notes §6.6, checklist 48 to 50)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlmodel import col
from structlog.testing import capture_logs

from hub.keys import OCPI
from hub.ocpi import callbacks
from hub.simulators.ocpi import OcpiPlatform
from hub.simulators.ocpi_wire import SimResponse
from hub.store.models import Callback, RouteIndex
from hub.store.types import utcnow
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually

EMSP = ("DE", "EMA")
CPO = ("NL", "CPA")
COMMANDS = "/ocpi/2.2.1/sender/commands/"


def token() -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "EMA",
        "uid": "012345678",
        "type": "RFID",
        "contract_id": "DE8ACC12E46L89",
        "issuer": "TheNewMotion",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": "2024-01-01T00:00:00Z",
    }


async def pair(hub: RunningHub, platform: PlatformFactory) -> tuple[OcpiPlatform, OcpiPlatform]:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    return emsp, cpo


def hub_url_seen(cpo: OcpiPlatform, command: str) -> str:
    """The response_url the CPO got with its latest ``command``."""
    sent = [r for r in cpo.received if r.module == "commands" and r.path.endswith(f"/{command}")]
    return str(sent[-1].body["response_url"])


async def post_result(cpo: OcpiPlatform, url: str, result: str, *, to: tuple[str, str] = EMSP) -> SimResponse:
    return await cpo.call("POST", "commands", "SENDER", raw_url=url, json={"result": result}, to=to)


async def stored(hub: RunningHub) -> list[Callback]:
    async with hub.db.session() as session:
        return list((await session.execute(select(Callback))).scalars())


async def expire_all(hub: RunningHub) -> None:
    async with hub.db.transaction() as session:
        await session.execute(update(Callback).values(expires_at=utcnow() - timedelta(minutes=1)))


async def index(hub: RunningHub, kind: str, key: str, owner: tuple[str, str]) -> None:
    async with hub.db.transaction() as session:
        session.add(RouteIndex(kind=kind, key=key.upper(), country_code=owner[0], party_id=owner[1]))


async def test_start_session_end_to_end(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    sent = await emsp.start_session(token(), "LOC1", evse_uid="EVSE1", connector_id="1", to=CPO)
    # The synchronous CommandResponse comes back as the CPO wrote it, FROM = CPO (item 50).
    assert sent.response.status == 200 and sent.response.status_code == 1000
    assert sent.response.data == {"result": "ACCEPTED", "timeout": 30}
    assert (sent.response.headers["OCPI-from-party-id"], sent.response.headers["OCPI-to-party-id"]) == (
        "CPA",
        "EMA",
    )
    assert await emsp.wait_command_result(sent.result_id) == {"result": "ACCEPTED"}

    command = next(r for r in cpo.received if r.module == "commands")
    original = f"{emsp.base_url}/ocpi/2.2.1/commands-results/{sent.result_id}"
    assert command.body["response_url"].startswith(f"{hub.url}{COMMANDS}START_SESSION/")
    # What the eMSP sent, in its order (the simulator appends response_url).
    expected = {"token": token(), "location_id": "LOC1", "evse_uid": "EVSE1", "connector_id": "1"}
    expected["response_url"] = original
    # Only response_url changed, every key in its place; the eMSP's URL never reached the CPO (item 48).
    assert list(command.body) == list(expected)
    assert {**command.body, "response_url": original} == expected
    seen_by_cpo = json.dumps([(r.path, r.query, dict(r.headers), r.body) for r in cpo.received])
    assert emsp.base_url not in seen_by_cpo

    result = next(r for r in emsp.received if r.path.endswith(sent.result_id))
    assert (result.headers["OCPI-from-party-id"], result.headers["OCPI-to-party-id"]) == ("CPA", "EMA")
    assert result.headers["X-Correlation-ID"] == sent.response.headers["X-Correlation-ID"]
    await eventually(lambda: len(cpo.result_posts) == 1)
    answered = cpo.result_posts[0]
    assert answered.status_code == 1000 and answered.headers["OCPI-from-party-id"] == "EMA"
    assert [row.completed_at is not None for row in await stored(hub)] == [True]
    assert emsp.violations == [] and cpo.violations == []


async def test_result_for_an_unknown_id_is_404(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    for path in ("START_SESSION/not-an-id", "START_SESSION", "START_SESSION/a/b"):
        response = await post_result(cpo, f"{hub.url}{COMMANDS}{path}", "ACCEPTED")
        assert (response.status, response.status_code) == (404, 2001), path
    assert emsp.command_results == {}


async def test_result_from_another_platform_is_refused(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    intruder = await connected(hub, platform, ("NL", "CPB", "CPO"))
    cpo.command_result_delay = 0.3  # the genuine result comes after the intruder's attempt
    sent = await emsp.start_session(token(), "LOC1", to=CPO)
    hub_url = hub_url_seen(cpo, "START_SESSION")
    with capture_logs() as logs:
        refused = await post_result(intruder, hub_url, "FAILED")
    assert refused.status_code == 2001 and "another platform" in refused.body["status_message"]
    assert any(entry["event"] == "security.callback_refused" for entry in logs)
    assert await emsp.wait_command_result(sent.result_id) == {"result": "ACCEPTED"}
    assert emsp.command_results[sent.result_id] == [{"result": "ACCEPTED"}]  # nothing else was forwarded
    # Used once: a replay by the right CPO finds nothing either.
    assert (await post_result(cpo, hub_url, "FAILED")).status == 404
    assert emsp.violations == []


async def test_result_after_expiry_is_404(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    cpo.command_result_delay = 0.3
    sent = await emsp.start_session(token(), "LOC1", to=CPO)
    [row] = await stored(hub)
    assert row.expires_at is not None
    # Expiry is the CPO's timeout (30 s) plus the margin (item 50).
    expected = utcnow() + timedelta(seconds=30) + callbacks.EXPIRY_MARGIN
    assert abs((row.expires_at - expected).total_seconds()) < 5
    await expire_all(hub)
    await eventually(lambda: len(cpo.result_posts) == 1)
    assert (cpo.result_posts[0].status, cpo.result_posts[0].status_code) == (404, 2001)
    assert sent.result_id not in emsp.command_results
    assert await callbacks.purge_expired(hub.app[OCPI]) == 1
    assert await stored(hub) == []


async def test_reserve_now_url_lives_until_expiry(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    body = {
        "token": token(),
        "expiry_date": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reservation_id": "res-1",
        "location_id": "LOC1",
    }
    sent = await emsp.send_command("RESERVE_NOW", body, to=CPO)
    assert sent.response.data["result"] == "ACCEPTED"
    await emsp.wait_command_result(sent.result_id)
    [row] = await stored(hub)
    assert row.completed_at is None and row.expires_at == expiry + callbacks.EXPIRY_MARGIN

    # The CPO cancels later, on the same URL, with a correlation id of its own.
    cancelled = await post_result(cpo, hub_url_seen(cpo, "RESERVE_NOW"), "CANCELED_RESERVATION")
    assert cancelled.status_code == 1000
    assert emsp.command_results[sent.result_id] == [
        {"result": "ACCEPTED"},
        {"result": "CANCELED_RESERVATION"},
    ]
    results = [r for r in emsp.received if r.path.endswith(sent.result_id)]
    assert {r.headers["X-Correlation-ID"] for r in results} == {sent.response.headers["X-Correlation-ID"]}

    # The accepted reservation was indexed: a CANCEL_RESERVATION without TO finds the CPO.
    cancel = await emsp.send_command("CANCEL_RESERVATION", {"reservation_id": "RES-1"})
    assert cancel.response.data == {"result": "ACCEPTED", "timeout": 30}
    assert await emsp.wait_command_result(cancel.result_id) == {"result": "ACCEPTED"}

    await expire_all(hub)
    late = await post_result(cpo, hub_url_seen(cpo, "RESERVE_NOW"), "CANCELED_RESERVATION")
    assert (late.status, late.status_code) == (404, 2001)
    assert emsp.violations == [] and cpo.violations == []


async def test_rejected_command_leaves_no_mapping(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    cpo.command_response = "REJECTED"
    sent = await emsp.stop_session("SES1", to=CPO)
    assert sent.response.data == {"result": "REJECTED", "timeout": 30}
    assert await stored(hub) == []
    late = await post_result(cpo, hub_url_seen(cpo, "STOP_SESSION"), "ACCEPTED")
    assert (late.status, late.status_code) == (404, 2001)
    assert emsp.command_results == {}


async def test_open_routing_by_location_and_session(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    other = await connected(hub, platform, ("NL", "CPB", "CPO"))
    await index(hub, "location", "LOC1", CPO)
    await index(hub, "session", "SES1", CPO)
    started = await emsp.start_session(token(), "loc1")  # no TO; index keys are case-insensitive
    stopped = await emsp.stop_session("SES1")
    for sent in (started, stopped):
        assert sent.response.status_code == 1000
        assert sent.response.headers["OCPI-from-party-id"] == "CPA"
        assert await emsp.wait_command_result(sent.result_id) == {"result": "ACCEPTED"}
    assert {r.headers["OCPI-to-party-id"] for r in cpo.received if r.module == "commands"} == {"CPA"}

    unknown = await emsp.start_session(token(), "NOWHERE")
    assert unknown.response.status_code == 4001
    assert "cannot resolve" in unknown.response.body["status_message"]
    await index(hub, "location", "LOC1", ("NL", "CPB"))  # two owners: ambiguous
    assert (await emsp.start_session(token(), "LOC1")).response.status_code == 4001
    assert not [r for r in other.received if r.module == "commands"]
    assert emsp.violations == [] and cpo.violations == []


async def test_unreachable_partners_leak_no_urls(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    cpo.command_result_delay = 0.3
    sent = await emsp.start_session(token(), "LOC1", to=CPO)
    await emsp.stop()  # gone before the result comes: the CPO hears 4003, without the eMSP's URL
    await eventually(lambda: len(cpo.result_posts) == 1)
    failed = cpo.result_posts[0]
    assert failed.status_code == 4003 and emsp.base_url not in failed.body["status_message"]
    [row] = await stored(hub)
    assert row.completed_at is None  # not delivered: the CPO may try again until expiry
    await emsp.start()
    retried = await post_result(cpo, hub_url_seen(cpo, "START_SESSION"), "ACCEPTED")
    assert retried.status_code == 1000
    assert emsp.command_results[sent.result_id] == [{"result": "ACCEPTED"}]

    await cpo.stop()  # the hub's result URL is not leaked to the eMSP either, and no mapping is kept
    down = await emsp.start_session(token(), "LOC1", to=CPO)
    assert down.response.status_code == 4003
    assert "/sender/commands/" not in down.response.body["status_message"]
    assert [row.id for row in await stored(hub)] == [row.id]


@pytest.mark.parametrize(
    ("command", "body", "named"),
    [
        ("FLY_TO_THE_MOON", {"location_id": "LOC1"}, "FLY_TO_THE_MOON"),
        ("START_SESSION", {"token": token()}, "location_id"),
        ("UNLOCK_CONNECTOR", {"location_id": "LOC1", "evse_uid": "E1"}, "connector_id"),
        ("STOP_SESSION", {"session_id": "S1", "response_url": "ftp://example.com/x"}, "response_url"),
        # Not the requester's own host: the hub would be made to POST into its own network (SSRF).
        ("STOP_SESSION", {"session_id": "S1", "response_url": "http://169.254.169.254/latest"}, "own hosts"),
    ],
)
async def test_invalid_commands_are_2001(
    hub: RunningHub, platform: PlatformFactory, command: str, body: dict[str, Any], named: str
) -> None:
    emsp, cpo = await pair(hub, platform)
    payload = {"response_url": f"{emsp.base_url}/ocpi/2.2.1/commands-results/x", **body}
    response = await emsp.call("POST", "commands", "RECEIVER", command, json=payload, to=CPO)
    assert response.status_code == 2001
    assert named in response.body["status_message"]
    assert not [r for r in cpo.received if r.module == "commands"]
    assert await stored(hub) == []


async def test_purge_keeps_live_mappings(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp, cpo = await pair(hub, platform)
    cpo.command_result_delay = 5.0  # no result during this test: the mapping stays open
    await emsp.start_session(token(), "LOC1", to=CPO)
    [live] = await stored(hub)
    now = utcnow()
    async with hub.db.transaction() as session:
        for name, kind, completed, expires in (
            ("done", "command", now, now + timedelta(hours=1)),
            ("old", "chargingprofile", None, now - timedelta(seconds=1)),
            ("cdr", "cdr", None, now - timedelta(seconds=1)),  # another module's; not ours to purge
        ):
            session.add(
                Callback(
                    id=name,
                    kind=kind,
                    target_url="http://example.com/",
                    caller_party_fk=live.caller_party_fk,
                    sender_country_code="NL",
                    sender_party_id="CPA",
                    receiver_country_code="DE",
                    receiver_party_id="EMA",
                    completed_at=completed,
                    expires_at=expires,
                )
            )
    assert await callbacks.purge_expired(hub.app[OCPI]) == 2
    assert sorted(row.id for row in await stored(hub)) == sorted([live.id, "cdr"])
    assert await callbacks.purge_expired(hub.app[OCPI]) == 0
    async with hub.db.session() as session:
        kinds = (await session.execute(select(col(Callback.kind)))).scalars().all()
    assert sorted(kinds) == ["cdr", "command"]
