"""PostgreSQL restarted under a CDR flood: clear 503s while it is away, no crash, reconnect by itself (#8).

One hub worker on PostgreSQL; a CPO floods CDRs; the PostgreSQL server is restarted (``pg_ctlcluster ...
restart``: a fast shutdown that ends every connection, then a start). While it is away the hub must answer
each POST with HTTP 503 and an OCPI envelope (3000, "nothing was stored, send it again"), never a 500 or no
answer; afterwards it must reconnect on its own (the pool pings a connection before lending it) and go on
acknowledging, and its outbox dispatcher must go on delivering. In the end every CDR that got a yes is
stored once, delivered, booked once, and the ledger balances.

The server is shared with the other tests: this one waits until it accepts connections again, whatever
happens, so that the tests after it are not hurt.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from hub.simulators.ocpi import OcpiPlatform
from tests.conftest import NO_POSTGRES, POSTGRES_URL
from tests.faults.procs import HubProcess, admit, delivered_ids, flood, hub_env, kept, postgres_database
from tests.ocpi.conftest import eventually, free_port

pytestmark = [
    pytest.mark.disruptive,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES),
]

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", None}


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL cluster of this machine, as ``pg_lsclusters`` lists it (Debian's postgresql-common)."""

    version: str
    name: str
    host: str
    port: int

    async def restart(self) -> None:
        process = await asyncio.create_subprocess_exec(
            "pg_ctlcluster",
            self.version,
            self.name,
            "restart",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await process.communicate()
        assert process.returncode == 0, f"pg_ctlcluster restart failed: {out.decode(errors='replace')}"

    async def start(self) -> None:
        process = await asyncio.create_subprocess_exec(
            "pg_ctlcluster",
            self.version,
            self.name,
            "start",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await process.wait()

    async def accepting(self) -> bool:
        process = await asyncio.create_subprocess_exec(
            "pg_isready", "-q", "-h", self.host, "-p", str(self.port), "-t", "1"
        )
        return await process.wait() == 0

    async def wait_accepting(self, timeout: float = 30.0) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.accepting():
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.1)
        return True


def local_cluster() -> Cluster | str:
    """The local cluster serving ROAMHUB_TEST_POSTGRES_URL, or why this test cannot restart it."""
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    host, port = url.host, url.port or 5432
    if host not in LOCAL_HOSTS:
        return f"PostgreSQL at {host}:{port} is not on this machine: this test cannot restart it"
    tools = ("pg_lsclusters", "pg_ctlcluster", "pg_isready")
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        return f"restarting PostgreSQL needs {', '.join(missing)} (Debian's postgresql-common)"
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False)  # noqa: S607
    for line in listed.stdout.splitlines():
        fields = line.split()  # Ver Cluster Port Status Owner Data-directory Log-file
        if len(fields) >= 5 and fields[2] == str(port):
            if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != fields[4]:
                return f"restarting cluster {fields[0]}/{fields[1]} needs root or its owner {fields[4]}"
            return Cluster(fields[0], fields[1], host or "127.0.0.1", port)
    return f"no PostgreSQL cluster of this machine listens on port {port} (pg_lsclusters)"


async def test_a_postgres_restart_under_a_cdr_flood_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = local_cluster()
    if isinstance(cluster, str):
        pytest.skip(cluster)
    port = free_port()
    loop = asyncio.get_running_loop()
    async with postgres_database() as db_url:
        env = hub_env(db_url, port)
        cpo_party = await admit(env, tmp_path, "CPA", "CPO")  # migrates the empty database
        emsp_party = await admit(env, tmp_path, "EMA", "EMSP")
        hub = HubProcess(tmp_path, env, port)
        emsp = OcpiPlatform(roles=[("NL", "EMA", "EMSP")], timeout=5)
        cpo = OcpiPlatform(roles=[("NL", "CPA", "CPO")], timeout=5)
        acked: list[str] = []
        refused: Counter[tuple[int, int | None]] = Counter()
        stop = asyncio.Event()
        flooders: list[asyncio.Task[None]] = []
        restart: asyncio.Task[None] | None = None
        try:
            await hub.start()
            await emsp.start()
            await cpo.start()
            await emsp.register(emsp_party["versions_url"], emsp_party["token_a"])
            await cpo.register(cpo_party["versions_url"], cpo_party["token_a"])
            flooders = [asyncio.create_task(flood(cpo, acked, f"R{n}", stop, refused)) for n in range(8)]
            await eventually(lambda: len(acked) >= 100, timeout=30)
            before = len(acked)
            started = loop.time()
            restart = asyncio.create_task(cluster.restart())
            await restart  # the flood goes on meanwhile
            assert await cluster.wait_accepting(), "PostgreSQL did not come back"
            away = loop.time() - started
            back = len(acked)  # acknowledged before PostgreSQL accepted connections again
            await eventually(lambda: len(acked) >= back + 50, timeout=20)  # acknowledgements resume
            stop.set()
            await asyncio.gather(*flooders)
            await eventually(lambda: set(acked) <= delivered_ids(emsp), timeout=30)
            hub_up = hub.running
        finally:
            stop.set()
            await asyncio.gather(*flooders, return_exceptions=True)
            await cpo.stop()
            await emsp.stop()
            await hub.stop()
            if restart is not None:  # never leave the shared server down, whatever failed
                await asyncio.gather(restart, return_exceptions=True)
                if not await cluster.wait_accepting():
                    await cluster.start()
                    await cluster.wait_accepting()
        result = await kept(db_url, emsp)
    after_restart = acked[back:]
    unexpected = hub.log_events("http.unexpected_error")
    with capsys.disabled():
        print(
            f"\nPostgreSQL restart under load: restarted cluster {cluster.version}/{cluster.name} after "
            f"{before} acknowledged CDRs, back after {away:.1f} s; sent {len(acked) + sum(refused.values())} "
            f"CDRs, acknowledged {len(acked)} ({len(after_restart)} after the restart), "
            f"not acknowledged {dict(refused)} by (HTTP, OCPI status); stored {len(result.per_id)}, "
            f"delivered {result.delivered} distinct ({result.delivered_twice} sent twice, de-duplicated by "
            f"the eMSP), booked {result.entries} journal entries for {result.cdrs} stored CDRs, "
            f"ledger totals {result.totals}; unexpected errors in the hub's log: {unexpected}"
        )
    assert hub_up, "the hub died"
    assert refused[(503, 3000)] > 0, "no request was refused: PostgreSQL was not away long enough to tell"
    assert set(refused) == {(503, 3000)}, "while PostgreSQL was away the hub answered other than 503/3000"
    assert unexpected == 0
    # Requests recover (acknowledged again) and so does the outbox (CDRs stored after the restart delivered).
    assert len(after_restart) >= 50 and set(after_restart) <= delivered_ids(emsp)
    result.check(acked, emsp)
