"""kill -9 of the hub while a CPO floods it with CDRs: nothing that was acknowledged is lost or doubled.

The hub runs as its own process; the CPO and eMSP are simulators in this process. Every CDR that got a
success answer must be in the database exactly once after a restart, and reach the eMSP (delivery is at
least once; the eMSP's store, keyed by CDR id, is the receiver's de-duplicated view).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub.simulators.ocpi import OcpiPlatform
from tests.faults.procs import HubProcess, admit, delivered_ids, flood, hub_env, kept
from tests.ocpi.conftest import eventually, free_port


async def test_kill_9_during_a_cdr_flood_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    db_url = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    env = hub_env(db_url, port)
    cpo_party = await admit(env, tmp_path, "CPA", "CPO")
    emsp_party = await admit(env, tmp_path, "EMA", "EMSP")
    hub = HubProcess(tmp_path, env, port)
    emsp = OcpiPlatform(roles=[("NL", "EMA", "EMSP")], timeout=5)
    cpo = OcpiPlatform(roles=[("NL", "CPA", "CPO")], timeout=5)
    acked: list[str] = []
    try:
        await hub.start()
        await emsp.start()
        await cpo.start()
        await emsp.register(emsp_party["versions_url"], emsp_party["token_a"])
        await cpo.register(cpo_party["versions_url"], cpo_party["token_a"])
        stop = asyncio.Event()
        flooders = [asyncio.create_task(flood(cpo, acked, f"F{n}", stop)) for n in range(8)]
        await eventually(lambda: len(acked) >= 150, timeout=30)
        hub.kill()  # mid-flood: some CDRs are in flight, some deliveries half done
        killed_at = len(acked)
        await asyncio.sleep(0.3)
        await hub.start()
        await asyncio.sleep(1.0)  # the flood goes on against the restarted hub
        stop.set()
        await asyncio.gather(*flooders)
        await eventually(lambda: set(acked) <= delivered_ids(emsp), timeout=60)
    finally:
        await cpo.stop()
        await emsp.stop()
        await hub.stop()

    result = await kept(db_url, emsp)
    with capsys.disabled():
        print(
            f"\nkill -9 fault: acknowledged {len(acked)} CDRs ({killed_at} before the kill), "
            f"stored {len(result.per_id)}, delivered {result.delivered} distinct "
            f"({result.delivered_twice} re-sent after the crash, de-duplicated by the eMSP), "
            f"booked {result.entries} journal entries for {result.cdrs} stored CDRs"
        )
    result.check(acked, emsp)
