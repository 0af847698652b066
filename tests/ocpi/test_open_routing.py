"""Open routing (no TO): sessions by token owner, authorisation by token index (checklist 33, 43, 44)."""

from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import HUB, example, owned_by, token_of


def session_of(cpo: tuple[str, str], emsp: tuple[str, str]) -> dict:  # type: ignore[type-arg]
    session = owned_by(example("session_example_1_simple_start.json"), *cpo)
    session["cdr_token"] = {**session["cdr_token"], "country_code": emsp[0], "party_id": emsp[1]}
    return session


async def test_sessions_go_to_the_token_owner_and_patches_follow(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp_a = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    emsp_b = await connected(hub, platform, ("BE", "EMB", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    session = session_of(("NL", "CPA"), ("BE", "EMB"))
    put = await cpo.put_session(session)  # no TO: open routing
    assert put.status_code == 1000
    assert put.headers["OCPI-from-party-id"] == "EMB"
    key = ("NL", "CPA", session["id"].upper())
    assert key in emsp_b.store.sessions and key not in emsp_a.store.sessions
    # A PATCH carries no cdr_token: the hub routes it by what it learnt from the PUT. Periods are appended.
    patch = example("session_patch_example_charging_period.json")
    assert (await cpo.patch_session(session["id"], patch)).status_code == 1000
    stored = emsp_b.store.sessions[key]
    assert len(stored["charging_periods"]) == len(session.get("charging_periods") or []) + 1
    # TO = the hub is not a broadcast for sessions: it is routed the same way (checklist 34).
    assert (await cpo.put_session(session, to=HUB)).headers["OCPI-from-party-id"] == "EMB"
    assert not [r for r in emsp_a.received if r.module == "sessions"]


async def test_session_patch_for_an_unknown_session_is_4001(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    patch = example("session_patch_example_total_cost.json")
    assert (await cpo.patch_session("NO-SUCH-SESSION", patch)).status_code == 4001


async def test_authorization_by_token_index(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    token = token_of("DE", "EMA")
    emsp.tokens = [token]
    await emsp.push_token(token, to=HUB)
    references = {"location_id": "LOC1", "evse_uids": ["EVSE1"]}
    allowed = await cpo.authorize(token["uid"], location=references)
    assert allowed.status == 200 and allowed.status_code == 1000
    # The eMSP's AuthorizationInfo comes back unchanged, the token included.
    assert allowed.data["allowed"] == "ALLOWED" and allowed.data["token"] == token
    assert allowed.headers["OCPI-from-party-id"] == "EMA"
    emsp.authorize_result = "BLOCKED"
    blocked = await cpo.authorize(token["uid"])
    assert blocked.status == 200 and blocked.data["allowed"] == "BLOCKED"


async def test_unknown_token_is_http_404_with_2004(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    await connected(hub, platform, ("DE", "EMA", "EMSP"))
    unknown = await cpo.authorize("DEADBEEF")
    assert unknown.status == 404 and unknown.status_code == 2004


async def test_tokens_pushed_directly_are_indexed_too(hub: RunningHub, platform: PlatformFactory) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    token = token_of("DE", "EMA", uid="AABBCCDD")
    emsp.tokens = [token]
    assert (await emsp.push_token(token, to=("NL", "CPA"))).status_code == 1000
    assert (await cpo.authorize("AABBCCDD")).data["allowed"] == "ALLOWED"
    # The index is per token type: the same uid as APP_USER is unknown.
    assert (await cpo.authorize("AABBCCDD", type="APP_USER")).status_code == 2004


async def test_unreachable_emsp_answers_fast_so_the_cpo_can_fall_back(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    token = token_of("DE", "EMA")
    await emsp.push_token(token, to=HUB)
    await hub.broadcasts()
    await emsp.stop()
    gone = await cpo.authorize(token["uid"])
    assert gone.status_code == 4003
