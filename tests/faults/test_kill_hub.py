"""kill -9 of the hub while a CPO floods it with CDRs: nothing that was acknowledged is lost or doubled.

The hub runs as its own process; the CPO and eMSP are simulators in this process. Every CDR that got a
success answer must be in the database exactly once after a restart, and reach the eMSP (delivery is at
least once; the eMSP's store, keyed by CDR id, is the receiver's de-duplicated view).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub.config import DatabaseSettings
from hub.ledger.balances import balances
from hub.simulators.ocpi import OcpiPlatform
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry
from tests.ocpi.conftest import eventually, free_port
from tests.ocpi.examples import cdr_of


class HubProcess:
    def __init__(self, cwd: Path, env: dict[str, str], port: int) -> None:
        self.cwd, self.env, self.port = cwd, env, port
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hub",
            "serve",
            "--port",
            str(self.port),
            cwd=self.cwd,
            env=self.env,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the hub did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def admit(env: dict[str, str], cwd: Path, pid: str, role: str) -> dict[str, Any]:
    argv = [
        "party",
        "add",
        "--name",
        pid,
        "--country",
        "NL",
        "--party-id",
        pid,
        "--role",
        role,
        "--protocol",
        "ocpi",
        "--json",
    ]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return dict(json.loads(out))


async def flood(cpo: OcpiPlatform, acked: list[str], prefix: str, stop: asyncio.Event) -> None:
    number = 0
    while not stop.is_set():
        cdr_id = f"{prefix}-{number}"
        number += 1
        try:
            answer = await cpo.post_cdr(cdr_of(("NL", "CPA"), ("NL", "EMA"), cdr_id=cdr_id))
        except (TimeoutError, aiohttp.ClientError, OSError):
            await asyncio.sleep(0.01)
            continue
        if answer.status in (200, 201) and answer.status_code == 1000:
            acked.append(cdr_id)


async def test_kill_9_during_a_cdr_flood_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    db_url = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    env = {
        **os.environ,
        "ROAMHUB_DATABASE_URL": db_url,
        "ROAMHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ROAMHUB_LOG_FORMAT": "json",
        "ROAMHUB_OUTBOX_LEASE": "2",
        "ROAMHUB_OUTBOX_BACKOFF_BASE": "0.1",
        "ROAMHUB_OUTBOX_POLL_INTERVAL": "0.1",
    }
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
        await eventually(lambda: set(acked) <= {key[2] for key in emsp.store.cdrs}, timeout=60)
    finally:
        await cpo.stop()
        await emsp.stop()
        await hub.stop()

    db = Database(DatabaseSettings(url=db_url))
    try:
        async with db.session() as session:
            per_id = dict(
                (await session.execute(select(Cdr.cdr_id, func.count()).group_by(Cdr.cdr_id))).all()  # type: ignore[call-overload]
            )
            cdrs = (await session.execute(select(func.count()).select_from(Cdr))).scalar_one()
            entries = (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one()
            booked_ids = (
                await session.execute(select(func.count(func.distinct(JournalEntry.source_cdr_fk))))
            ).scalar_one()
        positions = (await balances(db)).positions
    finally:
        await db.close()
    delivered_twice = sum(1 for count in emsp.store.cdr_posts.values() if count > 1)
    with capsys.disabled():
        print(
            f"\nkill -9 fault: acknowledged {len(acked)} CDRs ({killed_at} before the kill), "
            f"stored {len(per_id)}, delivered {len(emsp.store.cdrs)} distinct "
            f"({delivered_twice} re-sent after the crash, de-duplicated by the eMSP), "
            f"booked {entries} journal entries for {cdrs} stored CDRs"
        )
    assert all(per_id.get(cdr_id) == 1 for cdr_id in acked)  # every acknowledged CDR stored exactly once
    assert set(acked) <= {key[2] for key in emsp.store.cdrs}  # and delivered
    assert max(per_id.values()) == 1
    assert entries == booked_ids == cdrs  # every stored CDR booked exactly once
    by_currency: dict[str, Decimal] = {}
    for position in positions:
        by_currency[position.position.currency] = (
            by_currency.get(position.position.currency, Decimal(0)) + position.position.amount
        )
    assert by_currency and all(total == 0 for total in by_currency.values())  # the ledger balances
