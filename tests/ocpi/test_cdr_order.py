"""CDRs reach each eMSP in the order their owner sent them, through retries, and a partner that is down is
asked once per back-off, not once per CDR (issue #8: "in order per CDR owner, with back-off that never
hammers it")."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hub.keys import DB
from hub.simulators.ocpi import OcpiPlatform
from hub.store.models import OutboxItem
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected, eventually
from tests.ocpi.examples import cdr_of


def arrivals_of(emsp: OcpiPlatform, cpo: tuple[str, str]) -> list[str]:
    return [key[2] for key in emsp.store.cdr_arrivals if key[:2] == cpo]


async def post_all(cpo: OcpiPlatform, owner: tuple[str, str], ids: list[str]) -> None:
    for cdr_id in ids:
        answer = await cpo.post_cdr(cdr_of(owner, ("DE", "EMA"), cdr_id=cdr_id))
        assert answer.status == 201, answer.body


@pytest.mark.parametrize("hub_overrides", [{"outbox_backoff_base": 2.0}])
async def test_a_retried_cdr_is_not_overtaken_by_its_owners_later_cdrs(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpa = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpb = await connected(hub, platform, ("NL", "CPB", "CPO"))
    emsp.flaky_cdrs = {"A2"}  # the eMSP fails A2 once: it comes back after a 2 s back-off
    a_ids, b_ids = [f"A{n}" for n in range(6)], [f"B{n}" for n in range(4)]
    await post_all(cpa, ("NL", "CPA"), a_ids)
    await post_all(cpb, ("NL", "CPB"), b_ids)
    await eventually(lambda: len(emsp.store.cdrs) == len(a_ids) + len(b_ids), timeout=20)

    assert arrivals_of(emsp, ("NL", "CPA")) == a_ids  # A3..A5 waited behind A2's retry
    assert arrivals_of(emsp, ("NL", "CPB")) == b_ids
    order = [key[2] for key in emsp.store.cdr_arrivals]
    assert order.index("B3") < order.index("A2")  # another owner's line is not held up by A2
    assert all(count == 1 for count in emsp.store.cdr_posts.values())


async def test_an_emsp_down_for_a_while_gets_everything_in_order_without_being_hammered(
    hub: RunningHub, platform: PlatformFactory
) -> None:
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpa = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cpb = await connected(hub, platform, ("NL", "CPB", "CPO"))
    await emsp.stop()
    a_ids, b_ids = [f"A{n}" for n in range(12)], [f"B{n}" for n in range(5)]
    await asyncio.gather(post_all(cpa, ("NL", "CPA"), a_ids), post_all(cpb, ("NL", "CPB"), b_ids))
    await asyncio.sleep(1.0)  # back-off base 0.05 s: several rounds of retries against the closed port
    await hub.settle()

    async with hub.app[DB].session() as session:
        queued = list(
            (await session.execute(select(OutboxItem).where(OutboxItem.line.is_not(None)))).scalars()
        )
    tried = {item.line: item.attempts for item in queued if item.attempts}
    waited = [item for item in queued if item.attempts == 0]
    assert len(tried) == 2 and all(attempts >= 2 for attempts in tried.values())  # each line's head retried
    assert len(waited) == len(a_ids) + len(b_ids) - 2  # the rest never sent while the eMSP was down
    assert all(item.delivered_at is None and item.dead_at is None for item in queued)

    await emsp.start()
    await eventually(lambda: len(emsp.store.cdrs) == len(a_ids) + len(b_ids), timeout=20)
    assert arrivals_of(emsp, ("NL", "CPA")) == a_ids
    assert arrivals_of(emsp, ("NL", "CPB")) == b_ids
    assert all(count == 1 for count in emsp.store.cdr_posts.values())
