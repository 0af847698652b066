"""A roaming day on loopback: two CPOs and two eMSPs, every OCPI module through the hub.

Locations and tariffs broadcast, tokens broadcast, a real-time authorisation, START_SESSION with its async
result, session PUT and PATCH, charging preferences, a CDR and a credit CDR, an eMSP offline while CDRs
arrive and receiving them once it is back, a pull of CDRs from the hub, a paginated list proxied through the
hub, and the operator's view of traffic and CDRs. Every simulator checks every request it gets.
"""

from typing import Any

from hub.traffic import TRAFFIC
from tests.conftest import ADMIN_TOKEN
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually
from tests.ocpi.examples import HUB, cdr_of, example, owned_by, token_of


async def test_a_roaming_day(hub: RunningHub, platform: PlatformFactory) -> None:
    emsp_a = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    emsp_b = await connected(hub, platform, ("BE", "EMB", "EMSP"))
    cpo_a = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpo_b = await connected(hub, platform, ("FR", "CPB", "CPO"))
    everyone = (emsp_a, emsp_b, cpo_a, cpo_b)

    # Publication: CPO A broadcasts a location and a tariff, eMSP A broadcasts a token.
    location = owned_by(example("location_example.json"), "NL", "CPA")
    tariff = owned_by(example("tariff_4_complex.json"), "NL", "CPA")
    token = token_of("DE", "EMA")
    assert (await cpo_a.push_location(location, to=HUB)).status_code == 1000
    assert (await cpo_a.push_tariff(tariff, to=HUB)).status_code == 1000
    assert (await emsp_a.push_token(token, to=HUB)).status_code == 1000
    await hub.broadcasts()
    for emsp in (emsp_a, emsp_b):
        assert list(emsp.store.locations.values()) == [location]
        assert list(emsp.store.tariffs.values()) == [tariff]
    for cpo in (cpo_a, cpo_b):
        assert list(cpo.store.tokens.values()) == [token]

    # Real-time authorisation by CPO B of eMSP A's token (open routing by the token index).
    emsp_a.tokens = [token]
    info = await cpo_b.authorize(token["uid"], location={"location_id": "LOC1"})
    assert info.data["allowed"] == "ALLOWED" and info.data["token"] == token

    # Remote start: eMSP A -> CPO A, and the CPO's async result back to eMSP A's own URL.
    sent = await emsp_a.start_session(token, location["id"], to=("NL", "CPA"))
    assert sent.response.status_code == 1000 and sent.response.data["result"] == "ACCEPTED"
    result = await emsp_a.wait_command_result(sent.result_id)
    assert result["result"] == "ACCEPTED"

    # The session: PUT and PATCH from CPO A to the token owner, then charging preferences back.
    session = owned_by(example("session_example_1_simple_start.json"), "NL", "CPA")
    session["cdr_token"] = {**session["cdr_token"], "country_code": "DE", "party_id": "EMA"}
    assert (await cpo_a.put_session(session)).status_code == 1000
    assert (
        await cpo_a.patch_session(session["id"], example("session_patch_example_total_cost.json"))
    ).status_code == 1000
    stored_session = emsp_a.store.sessions[("NL", "CPA", session["id"].upper())]
    assert stored_session["total_cost"] == example("session_patch_example_total_cost.json")["total_cost"]
    preferences = {"profile_type": "GREEN", "energy_need": 20}
    answer = await emsp_a.call(
        "PUT", "sessions", "SENDER", f"{session['id']}/charging_preferences", json=preferences
    )
    assert answer.status_code == 1000 and answer.data == "ACCEPTED"

    # CDRs: a CDR and its credit to eMSP A; eMSP B offline while CPO B's CDRs for it arrive.
    cdr = cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="DAY-1")
    posted = await cpo_a.post_cdr(cdr)
    assert posted.status == 201
    credit = cdr_of(("NL", "CPA"), ("DE", "EMA"), cdr_id="DAY-1-C")
    credit.update(credit=True, credit_reference_id="DAY-1")
    assert (await cpo_a.post_cdr(credit)).status == 201
    await emsp_b.stop()
    for number in range(3):
        assert (
            await cpo_b.post_cdr(cdr_of(("FR", "CPB"), ("BE", "EMB"), cdr_id=f"B-{number}"))
        ).status == 201
    await hub.settle()
    assert set(emsp_a.store.cdrs) == {("NL", "CPA", "DAY-1"), ("NL", "CPA", "DAY-1-C")}
    await emsp_b.start()
    await eventually(lambda: len(emsp_b.store.cdrs) == 3, timeout=10)
    pulled = await emsp_b.fetch_all("cdrs", to=HUB)
    assert [c["id"] for c in pulled] == ["B-0", "B-1", "B-2"]
    assert (await cpo_a.get_cdr(posted.headers["Location"], to=("DE", "EMA"))).data == cdr

    # A list proxied from one party, paginated: the Link points at the hub, and following it works.
    cpo_a.own["locations"] = [
        owned_by({**location, "id": f"OWN{n}", "last_updated": f"2030-01-0{n + 1}T00:00:00Z"}, "NL", "CPA")
        for n in range(5)
    ]
    first = await emsp_a.call("GET", "locations", "SENDER", params={"limit": "2"}, to=("NL", "CPA"))
    assert first.headers["Link"].startswith(f"<{hub.url}/ocpi/2.2.1/sender/locations?")
    pages = await emsp_a.fetch_all("locations", params={"limit": "2"}, to=("NL", "CPA"))
    assert [loc["id"] for loc in pages] == [f"OWN{n}" for n in range(5)]

    # The operator sees the traffic and where every CDR is.
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with hub.http.get(f"{hub.url}/admin/api/cdrs", headers=headers) as response:
        deliveries: list[dict[str, Any]] = await response.json()
    assert sorted(d["delivery"] for d in deliveries) == ["delivered"] * 5
    await hub.app[TRAFFIC].flush()
    async with hub.http.get(f"{hub.url}/admin/api/traffic?limit=500", headers=headers) as response:
        traffic = await response.json()
    modules = {row["module"] for row in traffic}
    assert {"locations", "tariffs", "tokens", "commands", "sessions", "cdrs", "credentials"} <= modules
    assert all(sim.violations == [] for sim in everyone), [sim.violations for sim in everyone]
