"""The demo's roaming day, part two: CDRs (with a duplicate, a credit and a held one), an eMSP offline for
a while, and the close of the settlement period."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import col

from hub import cdr_admin, parties
from hub.demo_day import CPB_PRODUCT, Day
from hub.demo_payloads import (
    CPB_EVSES,
    CPB_PRICE_PER_KWH,
    CPO_OCPI,
    CPO_OICP,
    EMA_CONTRACT,
    EMA_UID,
    EMB_UID,
    EMSP_OCPI,
    EMSP_OICP,
    amstel_charges,
    at,
    cdr,
    credit_cdr,
    late_charges,
    yesterday,
)
from hub.demo_world import Story, World, answer_of, ocpi_ok, oicp_call
from hub.simulators.oicp import identification, sample_cdr, sample_pricing_record
from hub.store.models import Cdr, OutboxItem
from schemas.canonical.party import ConnectionStatus


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    """Poll ``check`` until it is true or ``timeout`` seconds pass (the hub works in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _deliveries(world: World, cdr_ids: list[str]) -> dict[str, str]:
    async with world.db.session() as session:
        rows = (await session.execute(select(Cdr).where(col(Cdr.cdr_id).in_(cdr_ids)))).scalars()
        return {row.cdr_id: row.delivery for row in rows}


# --- CDRs from the OCPI CPO ----------------------------------------------------------------------------


async def ocpi_cdrs(world: World, story: Story, day: Day) -> None:
    story.section(f"CDRs from {CPO_OCPI.ref} (OCPI)")
    charges = amstel_charges(day.now, day.references)
    for charge in charges:
        response = await world.cpa.post_cdr(cdr(charge, day.now))
        ok = ocpi_ok(response) and response.status == 201
        story.count("cdrs_accepted" if ok else "cdrs_refused")
        cost = f"{charge.kwh} kWh, {charge.cost} EUR excl. VAT"
        story.say(f"POST {charge.cdr_id} for {charge.token_owner.ref}: {cost} -> HTTP {response.status}")
        story.check(ok, f"POST cdrs {charge.cdr_id} from {CPO_OCPI.ref}", answer_of(response))
    again = await world.cpa.post_cdr(cdr(charges[0], day.now))
    story.say(
        f"POST {charges[0].cdr_id} again (a retry after a lost answer) -> HTTP {again.status}: nothing new"
    )
    duplicate = ocpi_ok(again) and again.status == 200
    story.count("cdrs_duplicates", int(duplicate))
    story.check(duplicate, "a re-POSTed CDR is answered 200", answer_of(again))
    credit = await world.cpa.post_cdr(credit_cdr(charges[1], day.now))
    story.say(
        f"POST {charges[1].cdr_id}-CR, a credit CDR refunding {charges[1].cdr_id} ({-charges[1].cost} EUR)"
        f" -> HTTP {credit.status}"
    )
    story.count("cdrs_credits", int(credit.status == 201))
    story.count("cdrs_accepted", int(credit.status == 201))
    story.check(ocpi_ok(credit) and credit.status == 201, "the credit CDR is accepted", answer_of(credit))
    await world.settle()
    posts = world.ema.store.cdr_posts
    story.say(
        f"{EMSP_OCPI.ref} received {sum(posts.values())} CDR POSTs for {len(posts)} CDRs "
        f"(the duplicate was not sent on)"
    )
    story.check(max(posts.values(), default=0) == 1, "each CDR reaches the OCPI eMSP once", dict(posts))
    havel = world.emb.received_for("eRoamingChargeDetailRecord")
    story.say(f"{EMSP_OICP.oicp_id} received {len(havel)} CDR over OICP ({charges[2].cdr_id}, translated)")
    story.check(len(havel) == 1, f"{charges[2].cdr_id} reaches the OICP EMP as an OICP CDR")


# --- CDRs from the OICP CPO ----------------------------------------------------------------------------


async def oicp_cdrs(world: World, story: Story, day: Day) -> None:
    story.section(f"CDRs from {CPO_OICP.oicp_id} (OICP), priced by the hub from its pricing products")
    d = yesterday(day.now)
    await _oicp_cdr(world, story, "tulip", EMA_UID, CPB_EVSES[0], at(d, 13), Decimal(12), day)
    await _oicp_cdr(world, story, "havel", EMB_UID, CPB_EVSES[1], at(d, 17), Decimal(16), day)
    await world.settle()
    deliveries = await _deliveries(world, [day.oicp_sessions.get("tulip", "?")])
    held = list(deliveries.values()) == ["held"]
    story.count("cdrs_held", int(held))
    story.say(
        f"the CDR for {EMSP_OCPI.ref} is {next(iter(deliveries.values()), 'missing')}: "
        f"no price of {CPO_OICP.oicp_id}'s applies to {EMSP_OCPI.ref} yet, and it is never sent as free"
    )
    story.check(held, "an unpriced OICP CDR for an OCPI eMSP is held", deliveries)
    pricing = world.cpb.push_pricing_products(
        "fullLoad",
        [sample_pricing_record(f"{CPB_PRODUCT}T", str(CPB_PRICE_PER_KWH))],
        provider_id=EMSP_OCPI.ref,
        default_price="0.55",
    )
    answer = await oicp_call(story, "PushPricingProductData for NL-EMA", pricing)
    offer = f"its product {CPB_PRODUCT}T at {CPB_PRICE_PER_KWH} EUR/kWh"
    story.say(f"{CPO_OICP.oicp_id} now offers {EMSP_OCPI.ref} {offer} (PushPricingProductData)")
    story.check(answer.get("Result") is True, "PushPricingProductData for NL-EMA", answer)
    before = len(world.ema.store.cdr_posts)
    await _oicp_cdr(
        world,
        story,
        "remote",
        EMA_CONTRACT,
        CPB_EVSES[0],
        at(d, 15),
        Decimal(11),
        day,
        product=f"{CPB_PRODUCT}T",
    )
    await world.settle()
    arrived = len(world.ema.store.cdr_posts) - before
    story.say(f"{EMSP_OCPI.ref} received {arrived} OCPI CDR from {CPO_OICP.ref}, priced by the hub")
    story.check(arrived == 1, "a priced OICP CDR reaches the OCPI eMSP")


async def _oicp_cdr(
    world: World,
    story: Story,
    what: str,
    token_: str,
    evse: str,
    start: datetime,
    kwh: Decimal,
    day: Day,
    product: str = CPB_PRODUCT,
) -> None:
    session_id = day.oicp_sessions.get(what)
    if not story.check(session_id is not None, f"an OICP session to send the {what} CDR for"):
        return
    assert session_id is not None
    ident = identification(token_, remote=what == "remote")
    record = sample_cdr(
        session_id, evse, ident, start, start + timedelta(hours=1), kwh, partner_product_id=product
    )
    answer = await oicp_call(story, f"ChargeDetailRecord {session_id}", world.cpb.send_cdr(record))
    story.count("cdrs_accepted" if answer.get("Result") is True else "cdrs_refused")
    result = answer.get("Result")
    story.say(f"ChargeDetailRecord at {evse}, {kwh} kWh (session {session_id[:8]}...): Result {result}")
    story.check(answer.get("Result") is True, f"eRoamingChargeDetailRecord {session_id}", answer)


# --- an eMSP offline for a while -----------------------------------------------------------------------


async def _status(world: World, ref: str) -> str:
    return (await parties.get_party(world.db, world.settings, world.party_ids[ref])).status


async def offline(world: World, story: Story, day: Day) -> None:
    story.section(f"{EMSP_OCPI.ref} offline for a while")
    await world.ema.stop()
    story.say(f"{EMSP_OCPI.ref}'s platform stops answering")
    charges = late_charges(day.now)
    for charge in charges:
        response = await world.cpa.post_cdr(cdr(charge, day.now))
        story.count("cdrs_accepted" if response.status == 201 else "cdrs_refused")
        story.say(
            f"POST {charge.cdr_id} for {EMSP_OCPI.ref} -> HTTP {response.status}: stored, booked, queued"
        )
        story.check(
            ocpi_ok(response), f"POST cdrs {charge.cdr_id} while the eMSP is away", answer_of(response)
        )
    gone = await eventually(lambda: _is(world, EMSP_OCPI.ref, ConnectionStatus.OFFLINE), 8)
    story.check(gone, "the liveness check marks the silent eMSP OFFLINE")
    story.say(f"liveness check: {EMSP_OCPI.ref} is {await _status(world, EMSP_OCPI.ref)}")
    await _tell_pending(world, story, [c.cdr_id for c in charges])
    try:
        await world.ema.start()  # same port, same registration: it simply answers again
    except OSError as exc:
        story.check(False, f"{EMSP_OCPI.ref} could not listen on its port again", exc)
        return
    story.say(f"{EMSP_OCPI.ref}'s platform is back")
    ids = [c.cdr_id for c in charges]
    delivered = await eventually(lambda: _all_delivered(world, ids), 20)
    story.say(f"liveness check: {EMSP_OCPI.ref} is {await _status(world, EMSP_OCPI.ref)}")
    posts = {
        cdr_id: world.ema.store.cdr_posts[(CPO_OCPI.country_code, CPO_OCPI.party_id, cdr_id)]
        for cdr_id in ids
    }
    story.say(f"the outbox's retries delivered {', '.join(f'{k} x{n}' for k, n in posts.items())}")
    story.count("cdrs_caught_up", sum(1 for n in posts.values() if n == 1))
    story.check(
        delivered and set(posts.values()) == {1}, "queued CDRs delivered once when the eMSP is back", posts
    )


async def _is(world: World, ref: str, status: ConnectionStatus) -> bool:
    return await _status(world, ref) == status.value


async def _all_delivered(world: World, cdr_ids: list[str]) -> bool:
    return set((await _deliveries(world, cdr_ids)).values()) == {"delivered"}


async def _tell_pending(world: World, story: Story, cdr_ids: list[str]) -> None:
    pending = [v for v in await cdr_admin.list_cdrs(world.db, delivery="pending") if v.cdr_id in cdr_ids]
    async with world.db.session() as session:
        items = (await session.execute(select(OutboxItem).where(col(OutboxItem.kind) == "cdr"))).scalars()
        attempts = {int(i.payload["cdr"]): i.attempts for i in items if i.delivered_at is None}
    story.count("cdrs_pending_while_offline", len(pending))
    story.say("roamhub cdrs list --delivery pending:")
    for view in pending:
        tried = f"{attempts.get(view.id, 0)} attempt(s) so far"
        story.say(f"  {view.id:>3}  {view.cdr_id}  {view.cpo} -> {view.emsp}  {view.delivery}, {tried}")
    story.check(len(pending) == len(cdr_ids), "the CDRs wait as pending while the eMSP is away", pending)
