"""Broadcast push to the hub, GET All from its store, EVSE/connector merges (checklist 27 to 32, 39 to 42)."""

import asyncio

import pytest

from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually
from tests.ocpi.examples import EXAMPLES, HUB, example, owned_by, token_of


async def test_location_broadcast_reaches_every_emsp_and_is_kept_for_get_all(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp_a = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    emsp_b = await connected(hub, platform, ("BE", "EMB", "EMSP"))
    other_cpo = await connected(hub, platform, ("NL", "CPB", "CPO"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    location["x_extension"] = {"kept": 1.50}
    answer = await cpo.push_location(location, to=HUB)
    # The hub answers itself (FROM = hub), before and whatever the receivers say.
    assert answer.status_code == 1000
    assert (answer.headers["OCPI-from-country-code"], answer.headers["OCPI-from-party-id"]) == HUB
    key = ("NL", "CPA", location["id"].upper())
    await eventually(lambda: key in emsp_a.store.locations and key in emsp_b.store.locations)
    assert emsp_a.store.locations[key] == location
    put = next(r for r in emsp_b.received if r.module == "locations")
    # FROM = hub, TO = the receiver, and the URL keeps the owner's country and party (§2.7).
    assert (put.headers["OCPI-from-party-id"], put.headers["OCPI-to-party-id"]) == ("HUB", "EMB")
    assert put.path.endswith(f"/NL/CPA/{location['id']}")
    assert not [
        r for r in other_cpo.received if r.module == "locations"
    ]  # CPOs do not hear a CPO's broadcast
    # GET All via the hub, with the owner's country and party in each object.
    everything = await emsp_a.call("GET", "locations", "SENDER", to=HUB)
    assert everything.status_code == 1000
    assert everything.data == [location]
    assert everything.headers["X-Total-Count"] == "1"
    assert emsp_a.violations == emsp_b.violations == cpo.violations == []


async def test_receiver_errors_are_not_relayed_to_the_sender(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    await emsp.stop()  # the receiver is unreachable
    answer = await cpo.push_tariff(owned_by(example("tariff_1_simple_2hour.json"), "NL", "CPA"), to=HUB)
    assert answer.status_code == 1000
    await hub.broadcasts()


async def test_evse_and_connector_changes_merge_into_the_stored_location(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    await cpo.push_location(location, to=HUB)
    evse_uid = location["evses"][0]["uid"]
    patch = {"status": "CHARGING", "last_updated": "2030-01-01T10:00:00Z"}
    assert (await cpo.patch_evse(location["id"], evse_uid, patch, to=HUB)).status_code == 1000
    connector = dict(
        location["evses"][0]["connectors"][0], max_amperage=32, last_updated="2030-01-02T00:00:00Z"
    )
    path = f"NL/CPA/{location['id']}/{evse_uid}/{connector['id']}"
    assert (await cpo.call("PUT", "locations", "RECEIVER", path, json=connector, to=HUB)).status_code == 1000
    stored = (await emsp.call("GET", "locations", "SENDER", location["id"], to=HUB)).data
    evse = stored["evses"][0]
    assert evse["status"] == "CHARGING"
    assert evse["connectors"][0]["max_amperage"] == 32
    # Parents' last_updated bumped to the newest child change (§6.1, checklist 40).
    assert evse["last_updated"] == "2030-01-02T00:00:00Z"
    assert stored["last_updated"] == "2030-01-02T00:00:00Z"
    one = await emsp.call(
        "GET", "locations", "SENDER", f"{location['id']}/{evse_uid}/{connector['id']}", to=HUB
    )
    assert one.data["max_amperage"] == 32
    # date_from filters on the bumped last_updated.
    later = await emsp.call(
        "GET", "locations", "SENDER", params={"date_from": "2030-01-01T12:00:00Z"}, to=HUB
    )
    assert [loc["id"] for loc in later.data] == [location["id"]]


async def test_concurrent_changes_to_evses_of_one_location_are_all_kept(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    """Each PATCH is merged into the location as stored when it is written, not as read before."""
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = owned_by(example("location_example.json"), "NL", "CPA")
    template = location["evses"][0]
    location["evses"] = [{**template, "uid": f"EVSE-{n}", "evse_id": f"NL*CPA*E{n}"} for n in range(12)]
    assert (await cpo.push_location(location, to=HUB)).status_code == 1000
    patch = {"status": "CHARGING", "last_updated": "2030-01-01T10:00:00Z"}
    answers = await asyncio.gather(
        *(cpo.patch_evse(location["id"], evse["uid"], patch, to=HUB) for evse in location["evses"])
    )
    assert [a.status_code for a in answers] == [1000] * 12
    stored = (await emsp.call("GET", "locations", "SENDER", location["id"], to=HUB)).data
    assert {evse["uid"]: evse["status"] for evse in stored["evses"]} == {
        f"EVSE-{n}": "CHARGING" for n in range(12)
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("NL/CPA/OTHER", None, "id"),  # URL id differs from body id
        ("NL/CPB/{id}", None, "url"),  # another party's URL
        ("NL/CPA/{id}", {"country_code": "BE"}, "country_code"),
        ("NL/CPA/{id}", {"coordinates": {"latitude": 1}}, "coordinates"),
        ("NL/CPA", None, "url"),
    ],
)
async def test_invalid_pushes_are_2001_and_not_broadcast(
    hub: RunningHub,
    platform: PlatformFactory,
    path: str,
    body: dict | None,
    field: str,  # type: ignore[type-arg]
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    location = {**owned_by(example("location_example.json"), "NL", "CPA"), **(body or {})}
    response = await cpo.call(
        "PUT", "locations", "RECEIVER", path.format(id=location["id"]), json=location, to=HUB
    )
    assert response.status_code == 2001
    assert field in response.body["status_message"]
    await hub.broadcasts()
    assert not [r for r in emsp.received if r.module == "locations"]


async def test_patch_needs_last_updated_and_a_stored_object(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    missing = await cpo.patch_location(
        "LOC404", {"name": "x", "last_updated": "2030-01-01T00:00:00Z"}, to=HUB
    )
    assert missing.status_code == 2001 and "PUT it first" in missing.body["status_message"]
    location = owned_by(example("location_example.json"), "NL", "CPA")
    await cpo.push_location(location, to=HUB)
    no_date = await cpo.patch_location(location["id"], {"name": "x"}, to=HUB)
    assert no_date.status_code == 2001 and "last_updated" in no_date.body["status_message"]


async def test_tokens_broadcast_to_cpos_and_tariff_delete(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo_a = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpo_b = await connected(hub, platform, ("NL", "CPB", "CPO"))
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    token = token_of("DE", "EMA")
    assert (await emsp.push_token(token, to=HUB)).status_code == 1000
    await eventually(lambda: len(cpo_a.store.tokens) == 1 and len(cpo_b.store.tokens) == 1)
    tokens = await cpo_a.call("GET", "tokens", "SENDER", to=HUB)
    assert tokens.data == [token]
    tariff = owned_by(example("tariff_4_complex.json"), "NL", "CPA")
    await cpo_a.push_tariff(tariff, to=HUB)
    await eventually(lambda: len(emsp.store.tariffs) == 1)
    assert (await cpo_a.delete_tariff(tariff["id"], to=HUB)).status_code == 1000
    await eventually(lambda: len(emsp.store.tariffs) == 0)
    assert (await emsp.call("GET", "tariffs", "SENDER", to=HUB)).data == []


@pytest.mark.parametrize("hub_overrides", [{"agreements": "explicit"}])
async def test_broadcast_respects_agreements(hub: RunningHub, platform: PlatformFactory) -> None:
    from hub import agreements

    emsp_a = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    emsp_b = await connected(hub, platform, ("BE", "EMB", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    await agreements.add_agreement(
        hub.db, agreements.AgreementCreate.model_validate({"cpo": "NL-CPA", "emsp": "DE-EMA"})
    )
    await cpo.push_location(owned_by(example("location_example.json"), "NL", "CPA"), to=HUB)
    await hub.broadcasts()
    assert len(emsp_a.store.locations) == 1
    assert len(emsp_b.store.locations) == 0
    # The other way round: an eMSP's tokens reach only the CPOs it has an agreement with.
    cpo_b = await connected(hub, platform, ("NL", "CPB", "CPO"))
    assert (await emsp_a.push_token(token_of("DE", "EMA"), to=HUB)).status_code == 1000
    await hub.broadcasts()
    assert (len(cpo.store.tokens), len(cpo_b.store.tokens)) == (1, 0)


async def test_get_all_is_paginated(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    for number in range(5):
        tariff = owned_by(example("tariff_1_simple_2hour.json"), "NL", "CPA")
        tariff["id"] = f"T{number}"
        await cpo.push_tariff(tariff, to=HUB)
    first = await emsp.call("GET", "tariffs", "SENDER", params={"limit": "2"}, to=HUB)
    assert [t["id"] for t in first.data] == ["T0", "T1"]
    assert first.headers["X-Total-Count"] == "5"
    everything = await emsp.fetch_all("tariffs", params={"limit": "2"}, to=HUB)
    assert [t["id"] for t in everything] == [f"T{n}" for n in range(5)]


async def test_spec_examples_pass_through_unchanged(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    names = [
        "location_example.json",
        "location_example_parking_garage_opening_hours.json",
        "location_example_uc2_destination_charger.json",
        "location_example_uc3_destination_charger_not_published.json",
        "location_example_uc4_limited_visibility.json",
        "location_example_uc5_home_charge_point.json",
    ]
    for name in names:
        location = owned_by(example(name), "NL", "CPA")
        assert (await cpo.push_location(location, to=("DE", "EMA"))).status_code == 1000, name
        assert emsp.store.locations[("NL", "CPA", location["id"].upper())] == location, name
    for name in sorted(path.name for path in EXAMPLES.glob("tariff_*.json")):
        if name == "tariff_put_example.json":
            continue  # known non-conforming (no last_updated): the receiver refuses it, as it should
        tariff = owned_by(example(name), "NL", "CPA")
        assert (await cpo.push_tariff(tariff, to=("DE", "EMA"))).status_code == 1000, name
        assert emsp.store.tariffs[("NL", "CPA", tariff["id"].upper())] == tariff, name
    assert emsp.violations == []
