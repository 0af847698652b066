"""Routing headers on functional modules, and direct routing through the hub (checklist 8 to 10, 20 to 26)."""

import json
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from hub.store.models import Party
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "ocpi-2.2.1" / "examples"


def example(name: str) -> dict:  # type: ignore[type-arg]
    if not EXAMPLES.exists():
        pytest.skip(f"spec examples not found at {EXAMPLES}")
    return json.loads((EXAMPLES / name).read_text())


def owned_by(location: dict, cc: str, pid: str) -> dict:  # type: ignore[type-arg]
    return {**location, "country_code": cc, "party_id": pid}


async def test_direct_push_arrives_byte_for_byte(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    location["x_vendor_field"] = {"kept": True}  # unknown fields must survive the hub
    response = await cpo.push_location(location, to=("DE", "EMA"))
    assert response.status in (200, 201), response.body
    assert response.status_code == 1000
    stored = emsp.store.locations[("NL", "CPA", location["id"].upper())]
    assert stored == location
    put = next(r for r in emsp.received if r.method == "PUT" and r.module == "locations")
    # New request id on the second hop, same correlation id, routing headers unchanged.
    assert put.headers["OCPI-from-party-id"] == "CPA" and put.headers["OCPI-to-party-id"] == "EMA"
    assert put.headers["X-Correlation-ID"] == response.headers["X-Correlation-ID"]
    assert put.headers["X-Request-ID"] != response.headers["X-Request-ID"]
    # The answer's routing headers are swapped: FROM the receiver, TO the requester.
    assert (response.headers["OCPI-from-party-id"], response.headers["OCPI-to-party-id"]) == ("EMA", "CPA")
    assert emsp.violations == [] and cpo.violations == []


async def test_from_header_must_be_the_callers_own_party(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    other_cpo = await connected(hub, platform, ("NL", "CPB", "CPO"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    for spoofed in (("NL", "CPB"), ("XX", "NOB"), ("DE", "EMA")):
        with capture_logs() as logs:
            response = await cpo.call(
                "PUT",
                "locations",
                "RECEIVER",
                f"NL/CPA/{location['id']}",
                json=location,
                to=("DE", "EMA"),
                from_=spoofed,
            )
        assert response.status_code == 2001
        assert "not a party of this platform" in response.body["status_message"]
        assert any(entry["event"] == "security.from_header_refused" for entry in logs)
    assert not [r for r in emsp.received if r.module == "locations"]  # nothing was forwarded
    assert other_cpo.violations == []


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"OCPI-from-country-code": None, "OCPI-from-party-id": None}, "OCPI-from-country-code"),
        ({"OCPI-from-party-id": None}, "OCPI-from-party-id"),
        ({"OCPI-to-country-code": None}, "OCPI-to-country-code"),
        ({"OCPI-from-party-id": "TOOLONG"}, "OCPI-from-country-code"),
    ],
)
async def test_incomplete_routing_headers_are_2001(
    hub: RunningHub,
    platform: PlatformFactory,
    headers: dict,
    field: str,  # type: ignore[type-arg]
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    response = await cpo.call("GET", "tariffs", "RECEIVER", "NL/CPA/T1", to=("DE", "EMA"), headers=headers)
    assert response.status_code == 2001
    assert field in response.body["status_message"]


async def test_unknown_offline_and_unimplemented_receivers(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    from hub import parties

    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    unknown = await cpo.call("GET", "tariffs", "RECEIVER", "NL/CPA/T1", to=("FR", "ZZZ"))
    assert unknown.status_code == 4001
    planned = await hub.admit("BE", "EMP", "EMSP")
    assert (await cpo.call("GET", "tariffs", "RECEIVER", "NL/CPA/T1", to=("BE", "EMP"))).status_code == 4003
    # The eMSP does not implement the tokens receiver (that is a CPO interface).
    assert (await cpo.call("GET", "tokens", "RECEIVER", "NL/CPA/T1", to=("DE", "EMA"))).status_code == 4001
    async with hub.db.session() as session:
        party = await session.get(Party, 1)
    assert party is not None
    await parties.suspend_party(hub.db, hub.settings, planned.id)
    await emsp.stop()
    gone = await cpo.call("GET", "tariffs", "RECEIVER", "NL/CPA/T1", to=("DE", "EMA"))
    assert gone.status_code == 4003


@pytest.mark.parametrize("ocpi_overrides", [{"timeout": 0.3}])
async def test_no_answer_in_time_is_4002(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    token = {**example("token_example_2_full_rfid.json"), "country_code": "DE", "party_id": "EMA"}
    emsp.tokens = [token]
    assert (await cpo.authorize(token["uid"], to=("DE", "EMA"))).data["allowed"] == "ALLOWED"
    emsp.authorize_delay = 1.0
    slow = await cpo.authorize(token["uid"], to=("DE", "EMA"))
    assert slow.status_code == 4002
    # A GET the other way round is unaffected by the slow authorisation endpoint.
    assert (await emsp.call("GET", "locations", "SENDER", to=("NL", "CPA"))).status_code == 1000


async def test_receiver_errors_come_back_unchanged(hub: RunningHub, platform: PlatformFactory) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    # URL id differs from body id: the eMSP answers 2001 itself, and the hub relays it.
    response = await cpo.call("PUT", "locations", "RECEIVER", "NL/CPA/OTHER", json=location, to=("DE", "EMA"))
    assert response.status_code == 2001
    assert response.headers["OCPI-from-party-id"] == "EMA"


@pytest.mark.parametrize("hub_overrides", [{"agreements": "explicit"}])
async def test_explicit_policy_needs_an_agreement(hub: RunningHub, platform: PlatformFactory) -> None:
    from hub import agreements

    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    refused = await cpo.push_location(location, to=("DE", "EMA"))
    assert refused.status_code == 4901
    assert "no roaming agreement" in refused.body["status_message"]
    assert not [r for r in emsp.received if r.module == "locations"]
    await agreements.add_agreement(
        hub.db, agreements.AgreementCreate.model_validate({"cpo": "NL-CPA", "emsp": "DE-EMA"})
    )
    assert (await cpo.push_location(location, to=("DE", "EMA"))).status_code == 1000
