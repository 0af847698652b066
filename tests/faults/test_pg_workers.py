"""Two hub workers on one port and one PostgreSQL database; kill -9 of one mid-flood loses nothing (#8).

The workers share nothing but the database (README, "Running on PostgreSQL with several workers"): the
kernel spreads the CPO's connections over both (SO_REUSEPORT), and both outbox dispatchers claim
deliveries from the same table. One is killed with ``kill -9`` while a CPO floods CDRs; the other keeps
answering and takes over the deliveries the dead one had claimed once their lease runs out; the killed one
is then started again and rejoins. Every CDR that got a yes must be stored once, delivered, booked once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from hub.simulators.ocpi import OcpiPlatform
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.faults.procs import HubProcess, admit, delivered_ids, flood, hub_env, kept, postgres_database
from tests.ocpi.conftest import eventually, free_port

pytestmark = [
    pytest.mark.disruptive,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES),
]


async def test_kill_9_of_one_of_two_workers_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    async with postgres_database() as db_url:
        env = hub_env(db_url, port)
        # The CLI migrates the empty database, once, before any worker starts.
        cpo_party = await admit(env, tmp_path, "CPA", "CPO")
        emsp_party = await admit(env, tmp_path, "EMA", "EMSP")
        victim = HubProcess(tmp_path, env, port, name="worker-a")
        survivor = HubProcess(tmp_path, env, port, name="worker-b")
        emsp = OcpiPlatform(roles=[("NL", "EMA", "EMSP")], timeout=5)
        cpo = OcpiPlatform(roles=[("NL", "CPA", "CPO")], timeout=5)
        acked: list[str] = []
        refused: Counter[tuple[int, int | None]] = Counter()
        try:
            await asyncio.gather(victim.start(), survivor.start())
            await emsp.start()
            await cpo.start()
            await emsp.register(emsp_party["versions_url"], emsp_party["token_a"])
            await cpo.register(cpo_party["versions_url"], cpo_party["token_a"])
            stop = asyncio.Event()
            flooders = [asyncio.create_task(flood(cpo, acked, f"W{n}", stop, refused)) for n in range(8)]
            await eventually(lambda: len(acked) >= 100, timeout=30)
            victim.kill()  # mid-flood: its requests in flight die, its claimed deliveries are abandoned
            killed_at = len(acked)
            await victim.reap()
            await asyncio.sleep(1.0)  # the survivor alone answers the flood
            alone = len(acked) - killed_at
            await victim.start()  # and the killed worker rejoins
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*flooders)
            await eventually(lambda: set(acked) <= delivered_ids(emsp), timeout=30)
            survivor_up = survivor.running
        finally:
            await cpo.stop()
            await emsp.stop()
            await victim.stop()
            await survivor.stop()
        result = await kept(db_url, emsp)
    unexpected = victim.log_events("http.unexpected_error") + survivor.log_events("http.unexpected_error")
    with capsys.disabled():
        print(
            f"\ntwo workers on PostgreSQL, kill -9 of one: sent {len(acked) + sum(refused.values())} CDRs, "
            f"acknowledged {len(acked)} ({killed_at} before the kill, {alone} by the survivor alone), "
            f"not acknowledged {dict(refused)}; stored {len(result.per_id)}, "
            f"delivered {result.delivered} distinct ({result.delivered_twice} sent twice, de-duplicated by "
            f"the eMSP), booked {result.entries} journal entries for {result.cdrs} stored CDRs, "
            f"ledger totals {result.totals}; unexpected errors in the workers' logs: {unexpected}"
        )
    assert survivor_up, "the surviving worker died"
    assert alone > 0, "the surviving worker did not go on answering"
    assert unexpected == 0
    assert set(refused) <= {(0, None)}, "a worker answered something other than yes while alive"
    result.check(acked, emsp)
