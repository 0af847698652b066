"""Every OCPI 2.2.1 spec example of a routed module passes through the hub and arrives byte for byte.

Objects are re-homed to the test parties (country code and party id) in memory; the files are never
edited. The known non-conforming examples (``../shared/spec/ocpi-2.2.1/README.md``) are expected to be
refused by the strict receiver, as they should be.
"""

import json
from typing import Any

import pytest

from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import EXAMPLES, example, owned_by

BACKEND_NEUTRAL = True  # routing/protocol logic: SQLite only (tests/conftest.py)

CPO, EMSP = ("NL", "CPA"), ("DE", "EMA")
NON_CONFORMING = {"location_put_example_add_evse.json", "tariff_put_example.json"}


def names(prefix: str) -> list[str]:
    if not EXAMPLES.exists():
        return []
    return sorted(path.name for path in EXAMPLES.glob(f"{prefix}*.json"))


def rehomed(obj: dict[str, Any], owner: tuple[str, str], token_owner: tuple[str, str] | None = None) -> str:
    """The example with its owner changed, written with the example's own number formats kept."""
    from hub.ocpi.hubstore import dump_exact, load_exact

    data = load_exact(json.dumps(obj)) if not isinstance(obj, str) else load_exact(obj)
    data = {**data, "country_code": owner[0], "party_id": owner[1]}
    if token_owner and isinstance(data.get("cdr_token"), dict):
        data["cdr_token"] = {**data["cdr_token"], "country_code": token_owner[0], "party_id": token_owner[1]}
    return dump_exact(data)


async def relayed(sender: Any, receiver: Any, method: str, module: str, path: str, raw: str, to: Any) -> Any:
    response = await sender.call(method, module, "RECEIVER", path, json=json.loads(raw), to=to)
    last = next(r for r in reversed(receiver.received) if r.module == module)
    return response, last


@pytest.mark.parametrize(
    "name", names("location_example") + names("tariff_") + names("token_example") + names("session_example")
)
async def test_full_objects_arrive_unchanged(hub: RunningHub, platform: PlatformFactory, name: str) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    text = (EXAMPLES / name).read_text()
    module = {"location": "locations", "tariff": "tariffs", "token": "tokens", "session": "sessions"}[
        name.split("_")[0]
    ]
    if module == "tokens":
        sender, receiver, raw, to = emsp, cpo, rehomed(json.loads(text), EMSP), CPO
        path = f"DE/EMA/{json.loads(text)['uid']}"
    else:
        sender, receiver, to = cpo, emsp, EMSP
        raw = rehomed(json.loads(text), CPO, token_owner=EMSP)
        path = f"NL/CPA/{json.loads(text)['id']}"
    if name in NON_CONFORMING:
        response, _ = await relayed(sender, receiver, "PUT", module, path, raw, to)
        assert response.status_code == 2001  # the strict receiver refuses it; the hub relayed its answer
        return
    response, arrived = await relayed(sender, receiver, "PUT", module, path, raw, to)
    assert response.status_code == 1000, response.body
    assert json.loads(arrived.raw) == json.loads(raw)
    assert receiver.violations == []


@pytest.mark.parametrize(
    ("name", "module", "path"),
    [
        ("location_patch_example_location.json", "locations", "NL/CPA/{location}"),
        ("location_patch_example_status.json", "locations", "NL/CPA/{location}/{evse}"),
        ("location_patch_example_remove_evse.json", "locations", "NL/CPA/{location}/{evse}"),
        ("location_patch_example_tariff.json", "locations", "NL/CPA/{location}/{evse}/{connector}"),
        ("session_patch_example_total_cost.json", "sessions", "NL/CPA/{session}"),
        ("session_patch_example_charging_period.json", "sessions", "NL/CPA/{session}"),
    ],
)
async def test_patches_arrive_byte_for_byte(
    hub: RunningHub, platform: PlatformFactory, name: str, module: str, path: str
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), *CPO)
    session = json.loads(rehomed(example("session_example_1_simple_start.json"), CPO, token_owner=EMSP))
    await cpo.push_location(location, to=EMSP)
    await cpo.put_session(session, to=EMSP)
    evse = location["evses"][0]
    target = path.format(
        location=location["id"],
        evse=evse["uid"],
        connector=evse["connectors"][0]["id"],
        session=session["id"],
    )
    raw = (EXAMPLES / name).read_text()
    response = await cpo.call("PATCH", module, "RECEIVER", target, json=json.loads(raw), to=EMSP)
    assert response.status_code == 1000, response.body
    arrived = next(r for r in reversed(emsp.received) if r.method == "PATCH")
    assert json.loads(arrived.raw) == json.loads(raw)
    assert emsp.violations == []


async def test_cdr_example_arrives_unchanged(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    raw = rehomed(example("cdr_example.json"), CPO, token_owner=EMSP)
    async with hub.http.post(
        f"{hub.url}/ocpi/2.2.1/receiver/cdrs",
        data=raw.encode(),
        headers={**_auth(cpo), "Content-Type": "application/json", **cpo.routing_headers(CPO, EMSP)},
    ) as response:
        assert response.status == 201
    await hub.settle()
    arrived = next(r for r in emsp.received if r.module == "cdrs")
    assert arrived.raw == raw  # byte for byte: stored as received, delivered as stored


def _auth(sim: Any) -> dict[str, str]:
    from tests.ocpi.conftest import b64

    return {"Authorization": f"Token {b64(sim.peer.outbound_token)}"}


async def test_non_conforming_evse_example_is_refused_by_the_receiver_and_relayed(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), *CPO)
    await cpo.push_location(location, to=EMSP)
    evse = example("location_put_example_add_evse.json")  # floor, integer physical_reference (README)
    path = f"NL/CPA/{location['id']}/{evse['uid']}"
    response = await cpo.call("PUT", "locations", "RECEIVER", path, json=evse, to=EMSP)
    assert response.status_code == 2001
    assert response.headers["OCPI-from-party-id"] == "EMA"  # the receiver's own answer, relayed
