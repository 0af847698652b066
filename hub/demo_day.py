"""The demo's roaming day, part one: publication, authorisations, a remote start and sessions.

Each step makes the calls a real partner makes, through the simulators, and tells what came back; what the
hub did differently from what the issue promises is recorded in :attr:`Story.problems`, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from hub.demo_payloads import (
    CPA_SITES,
    CPB_EVSES,
    CPB_PRICE_PER_KWH,
    CPO_OCPI,
    CPO_OICP,
    EMA_BLOCKED_UID,
    EMA_CONTRACT,
    EMA_UID,
    EMB_UID,
    EMSP_OCPI,
    EMSP_OICP,
    UNKNOWN_UID,
    amstel_charges,
    at,
    location,
    session,
    tariff,
    token,
    yesterday,
)
from hub.demo_world import Story, World, answer_of, ocpi_ok, oicp_call
from hub.simulators.oicp import sample_evse_record, sample_pricing_record

CPB_PRODUCT = "AC22"


@dataclass
class Day:
    """What the first half of the day hands to the second: the references sessions and CDRs need."""

    now: datetime
    references: dict[str, str] = field(default_factory=dict)  # token UID at Amstel -> authorization_reference
    oicp_sessions: dict[str, str] = field(default_factory=dict)  # what -> OICP SessionID at Spree


# --- publication ---------------------------------------------------------------------------------------


async def publish(world: World, story: Story, day: Day) -> None:
    story.section("Publication: locations, tariffs, tokens, EVSE data, pricing, authentication data")
    for site in CPA_SITES:
        response = await world.cpa.push_location(location(site, day.now))
        story.check(ocpi_ok(response), f"PUT location {site} from {CPO_OCPI.ref}", answer_of(response))
    response = await world.cpa.push_tariff(tariff(day.now))
    story.check(ocpi_ok(response), f"PUT tariff from {CPO_OCPI.ref}", answer_of(response))
    tokens = [token(uid, day.now) for uid in (EMA_UID, EMA_BLOCKED_UID)]
    world.ema.tokens = tokens  # what Tulip answers real-time authorisations from
    for item in tokens:
        response = await world.ema.push_token(item)
        story.check(ocpi_ok(response), f"PUT token {item['uid']} from {EMSP_OCPI.ref}", answer_of(response))
    records = [
        sample_evse_record(evse, name=CPO_OICP.name, charging_pool_id="DE*CPB*P1") for evse in CPB_EVSES
    ]
    answer = await oicp_call(story, "PushEvseData", world.cpb.push_evse_data("fullLoad", records))
    story.check(answer.get("Result") is True, f"PushEvseData from {CPO_OICP.oicp_id}", answer)
    # Spree's price list is offered to Havel only, for now (its contract with Tulip comes later today).
    pricing = world.cpb.push_pricing_products(
        "fullLoad",
        [sample_pricing_record(CPB_PRODUCT, str(CPB_PRICE_PER_KWH))],
        provider_id=EMSP_OICP.oicp_id,
        default_price="0.55",
    )
    answer = await oicp_call(story, "PushPricingProductData", pricing)
    story.check(answer.get("Result") is True, "PushPricingProductData for DE-EMB", answer)
    answer = await oicp_call(
        story, "PushAuthenticationData", world.emb.push_authentication_data("fullLoad", [EMB_UID])
    )
    story.check(answer.get("Result") is True, f"PushAuthenticationData from {EMSP_OICP.oicp_id}", answer)
    await world.settle()
    await _tell_publication(world, story)


async def _tell_publication(world: World, story: Story) -> None:
    store = world.ema.store
    by_owner: dict[str, int] = {}
    for cc, pid, _ in store.locations:
        by_owner[f"{cc}-{pid}"] = by_owner.get(f"{cc}-{pid}", 0) + 1
    evses = sum(len(loc.get("evses") or []) for loc in store.locations.values())
    story.count("locations_at_ocpi_emsp", len(store.locations))
    story.say(
        f"{EMSP_OCPI.ref} received {len(store.locations)} locations with {evses} EVSEs "
        f"({', '.join(f'{n} from {owner}' for owner, n in sorted(by_owner.items()))}) "
        f"and {len(store.tariffs)} tariff"
    )
    story.check(by_owner.get(CPO_OICP.ref, 0) >= 1, "the OICP CPO's EVSEs reach the OCPI eMSP as a location")
    story.say(f"{CPO_OCPI.ref} received {len(world.cpa.store.tokens)} tokens from {EMSP_OCPI.ref}")
    pulled = await oicp_call(story, "PullEvseData", world.emb.pull_evse_data(size=100))
    operators = sorted({str(r.get("OperatorID")) for r in pulled.get("content", [])})
    story.count("evses_pulled_by_oicp_emp", len(pulled.get("content", [])))
    story.say(
        f"{EMSP_OICP.oicp_id} pulled {len(pulled.get('content', []))} EVSE records over OICP "
        f"(operators {', '.join(operators)}): OCPI locations read as OICP EVSE data"
    )


# --- authorisations ------------------------------------------------------------------------------------


async def authorise(world: World, story: Story, day: Day) -> None:
    story.section("Authorisations")
    for uid, owner, expected in (
        (EMA_UID, EMSP_OCPI.ref, "ALLOWED"),
        (EMB_UID, f"{EMSP_OICP.ref}, asked over OICP", "ALLOWED"),
        (UNKNOWN_UID, "nobody", "NOT_ALLOWED"),
    ):
        await _ocpi_authorise(world, story, day, uid, owner, expected)
    world.ema.authorize_result = "BLOCKED"  # Tulip has put this card on its stolen list
    await _ocpi_authorise(world, story, day, EMA_BLOCKED_UID, f"{EMSP_OCPI.ref}, reported stolen", "BLOCKED")
    world.ema.authorize_result = "ALLOWED"
    for uid, evse, what in (
        (EMA_UID, CPB_EVSES[0], "tulip"),
        (EMB_UID, CPB_EVSES[1], "havel"),
        (UNKNOWN_UID, CPB_EVSES[1], "unknown"),
    ):
        await _oicp_authorise(world, story, day, uid, evse, what)


async def _ocpi_authorise(world: World, story: Story, day: Day, uid: str, owner: str, expected: str) -> None:
    where = {"location_id": "AMS-CENTRAAL", "evse_uids": ["AMS-CENTRAAL-1"]}
    response = await world.cpa.authorize(uid, "RFID", where)
    data = response.data if isinstance(response.data, dict) else {}
    allowed = data.get("allowed")
    story.count("authorisations_allowed" if allowed == "ALLOWED" else "authorisations_refused")
    if allowed == "ALLOWED" and data.get("authorization_reference"):
        day.references[uid] = str(data["authorization_reference"])
    story.say(f"{CPO_OCPI.ref} (OCPI) authorises {uid} (token of {owner}): {allowed or answer_of(response)}")
    what = f"POST tokens/{uid}/authorize from {CPO_OCPI.ref} should be {expected}"
    story.check(allowed == expected, what, answer_of(response))


async def _oicp_authorise(world: World, story: Story, day: Day, uid: str, evse: str, what: str) -> None:
    answer = await oicp_call(story, f"AuthorizeStart {uid}", world.cpb.authorize_start(uid, evse))
    status, provider = answer.get("AuthorizationStatus"), answer.get("ProviderID")
    allowed = status == "Authorized"
    story.count("authorisations_allowed" if allowed else "authorisations_refused")
    if allowed and isinstance(answer.get("SessionID"), str):
        day.oicp_sessions[what] = answer["SessionID"]
    code = (answer.get("StatusCode") or {}).get("Code")
    story.say(
        f"{CPO_OICP.oicp_id} (OICP) AuthorizeStart {uid} at {evse}: {status}"
        + (f" by {provider}" if provider else f", code {code}")
    )
    story.check(allowed == (what != "unknown"), f"AuthorizeStart {uid} from {CPO_OICP.oicp_id}", answer)


# --- a remote start ------------------------------------------------------------------------------------


def _spree_evse_at_tulip(world: World) -> tuple[str, str] | None:
    for (cc, pid, _), loc in world.ema.store.locations.items():
        if (cc, pid) == (CPO_OICP.country_code, CPO_OICP.party_id):
            for evse in loc.get("evses") or []:
                if evse.get("evse_id", "").replace("*", "") == CPB_EVSES[0].replace("*", ""):
                    return str(loc["id"]), str(evse["uid"])
    return None


async def remote_start(world: World, story: Story, day: Day) -> None:
    story.section("A remote start: an OCPI eMSP starts a session at an OICP CPO's EVSE")
    target = _spree_evse_at_tulip(world)
    if not story.check(target is not None, f"{EMSP_OCPI.ref} knows {CPB_EVSES[0]} as an OCPI location"):
        return
    assert target is not None
    sent = await world.ema.start_session(
        token(EMA_UID, day.now, contract_id=EMA_CONTRACT),
        target[0],
        evse_uid=target[1],
        authorization_reference="APP-START-1",
    )
    answer = sent.response.data if isinstance(sent.response.data, dict) else {}
    story.say(
        f"{EMSP_OCPI.ref} POST commands/START_SESSION at {target[0]}/{target[1]}: {answer.get('result')}"
    )
    if not story.check(
        answer.get("result") == "ACCEPTED", "START_SESSION to the OICP CPO", answer_of(sent.response)
    ):
        return
    try:
        result = await world.ema.wait_command_result(sent.result_id, timeout=10)
    except TimeoutError:
        story.check(False, "the CommandResult of START_SESSION never came")
        return
    forwarded = world.cpb.received_for("eRoamingAuthorizeRemoteStart")
    if forwarded:
        day.oicp_sessions["remote"] = str(forwarded[-1].body["SessionID"])
    evse = forwarded[-1].body["EvseID"] if forwarded else "nothing"
    story.say(
        f"{CPO_OICP.oicp_id} received AuthorizeRemoteStart for {evse} with EvcoID {EMA_CONTRACT};"
        f" {EMSP_OCPI.ref} got CommandResult {result.get('result')}"
    )
    story.count("remote_starts", 1 if result.get("result") == "ACCEPTED" else 0)
    story.check(result.get("result") == "ACCEPTED" and bool(forwarded), "remote start result", result)


# --- sessions ------------------------------------------------------------------------------------------


async def sessions(world: World, story: Story, day: Day) -> None:
    """Amstel reports Tulip's sessions (OCPI Sessions); Spree notifies Havel (OICP charging notifications)."""
    story.section("Sessions")
    charges = [c for c in amstel_charges(day.now, day.references) if c.token_owner is EMSP_OCPI]
    for charge in charges:
        for status in ("ACTIVE", "COMPLETED"):
            response = await world.cpa.put_session(session(charge, status, day.now))
            story.check(ocpi_ok(response), f"PUT session S-{charge.cdr_id} ({status})", answer_of(response))
    await world.settle()
    received = len(world.ema.store.sessions)
    story.say(
        f"{CPO_OCPI.ref} put {len(charges) * 2} session updates; {EMSP_OCPI.ref} holds {received} sessions"
    )
    havel = day.oicp_sessions.get("havel")
    if havel is None:
        return
    for kind in ("Start", "End"):
        answer = await oicp_call(
            story,
            f"ChargingNotification {kind}",
            world.cpb.send_notification(kind, havel, CPB_EVSES[1], **_times(kind, day)),
        )
        story.check(
            answer.get("Result") is True, f"ChargingNotification {kind} to {EMSP_OICP.oicp_id}", answer
        )
    notes = len(world.emb.received_for("eRoamingChargingNotifications"))
    story.say(f"{CPO_OICP.oicp_id} sent Start and End notifications; {EMSP_OICP.oicp_id} received {notes}")


def _times(kind: str, day: Day) -> dict[str, Any]:
    start = at(yesterday(day.now), 17)
    if kind == "Start":
        return {"charging_start": start}
    return {
        "charging_start": start,
        "charging_end": at(yesterday(day.now), 18),
        "consumed_energy": Decimal(16),
    }
