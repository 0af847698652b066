"""What the process-level fault scenarios share: hub processes, admitting parties through the CLI, a CDR
flood from a simulated CPO, a fresh PostgreSQL database, and the final accounting of what was kept.

The hub runs as its own process (``python -m hub serve``), one or several on one port; the CPO and eMSP are
simulators in the test's process. The verdict is always the same: every CDR the CPO got a success answer
for is stored exactly once, has reached the eMSP (delivery is at least once; the eMSP's store, keyed by CDR
id, is the receiver's de-duplicated view), is booked exactly once, and the ledger balances per currency.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from hub.config import DatabaseSettings
from hub.ledger.balances import balances
from hub.simulators.ocpi import OcpiPlatform
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry
from tests.conftest import POSTGRES_URL
from tests.ocpi.examples import cdr_of


class HubProcess:
    """``python -m hub serve --port P`` as a child process, its log (JSON lines) in ``cwd/<name>.<n>.log``.

    Several may share a port (the server binds with SO_REUSEPORT); a health check on the port may then be
    answered by another worker, so :meth:`start` also waits for this process's own ``hub.started`` line.
    """

    def __init__(self, cwd: Path, env: dict[str, str], port: int, name: str = "hub") -> None:
        self.cwd, self.env, self.port, self.name = cwd, env, port, name
        self.process: asyncio.subprocess.Process | None = None
        self.logs: list[Path] = []

    async def start(self) -> None:
        log = self.cwd / f"{self.name}.{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as stderr:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "hub",
                "serve",
                "--port",
                str(self.port),
                cwd=self.cwd,
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if self.process.returncode is not None:
                    break
                if '"hub.started"' in log.read_text(errors="replace"):
                    try:
                        async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                            if response.status == 200:
                                return
                    except aiohttp.ClientConnectionError:
                        pass
                await asyncio.sleep(0.05)
        tail = log.read_text(errors="replace")[-2000:]
        raise AssertionError(f"the hub ({self.name}) did not start:\n{tail}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def reap(self) -> None:
        """Wait for a killed process, so that its port and connections are gone."""
        assert self.process is not None
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()

    def log_events(self, event: str) -> int:
        """How many log lines of every run of this process name ``event`` (e.g. ``http.unexpected_error``)."""
        needle = f'"event": "{event}"'
        return sum(log.read_text(errors="replace").count(needle) for log in self.logs if log.exists())


def hub_env(db_url: str, port: int) -> dict[str, str]:
    """A hub process's environment for the fault scenarios: its database and URL, secrets every worker and
    the CLI share (README), JSON logs, and a short lease and back-off so recovery shows within seconds."""
    return {
        **os.environ,
        "ROAMHUB_DATABASE_URL": db_url,
        "ROAMHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "ROAMHUB_ADMIN_TOKEN": "fault-operator-token",
        "ROAMHUB_SECURITY_SECRET_KEY": Fernet.generate_key().decode(),
        "ROAMHUB_LOG_FORMAT": "json",
        "ROAMHUB_OUTBOX_LEASE": "2",
        "ROAMHUB_OUTBOX_BACKOFF_BASE": "0.1",
        "ROAMHUB_OUTBOX_POLL_INTERVAL": "0.1",
    }


async def admit(env: dict[str, str], cwd: Path, pid: str, role: str) -> dict[str, Any]:
    """``python -m hub party add``: admits an OCPI party (and migrates the database first)."""
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


async def flood(
    cpo: OcpiPlatform,
    acked: list[str],
    prefix: str,
    stop: asyncio.Event,
    refused: Counter[tuple[int, int | None]] | None = None,
) -> None:
    """POST new CDRs (CPA to EMA) one after another until ``stop``; ids that got a yes go to ``acked``.

    Answers other than a yes are counted in ``refused`` by (HTTP status, OCPI status code; None when the
    body is no OCPI envelope), and requests that got no answer at all under ``(0, None)``.
    """
    number = 0
    while not stop.is_set():
        cdr_id = f"{prefix}-{number}"
        number += 1
        try:
            answer = await cpo.post_cdr(cdr_of(("NL", "CPA"), ("NL", "EMA"), cdr_id=cdr_id))
        except (TimeoutError, aiohttp.ClientError, OSError):
            if refused is not None:
                refused[(0, None)] += 1
            await asyncio.sleep(0.01)
            continue
        if answer.status in (200, 201) and answer.status_code == 1000:
            acked.append(cdr_id)
        elif refused is not None:
            refused[(answer.status, answer.status_code)] += 1


def delivered_ids(emsp: OcpiPlatform) -> set[str]:
    """The CDR ids the eMSP has received (its store is keyed by country, party and CDR id)."""
    return {key[2] for key in emsp.store.cdrs}


@dataclass
class Kept:
    """What the database holds after a scenario, and what the eMSP received."""

    per_id: dict[str, int]  # CDR id -> stored rows
    cdrs: int  # stored CDRs
    entries: int  # journal entries
    booked: int  # distinct CDRs the journal entries book
    totals: dict[str, Decimal]  # the sum of all ledger positions, per currency
    delivered: int  # distinct CDRs the eMSP holds
    delivered_twice: int  # of those, how many it was sent more than once (at least once delivery)

    def check(self, acked: list[str], emsp: OcpiPlatform) -> None:
        assert acked, "nothing was acknowledged: the scenario proved nothing"
        missing = [cdr_id for cdr_id in acked if self.per_id.get(cdr_id) != 1]
        assert not missing, f"acknowledged but not stored exactly once: {missing[:10]}"
        undelivered = set(acked) - delivered_ids(emsp)
        assert not undelivered, f"acknowledged but not delivered: {sorted(undelivered)[:10]}"
        assert max(self.per_id.values()) == 1  # nothing at all is stored twice
        assert self.entries == self.booked == self.cdrs  # every stored CDR booked exactly once
        assert self.totals and all(total == 0 for total in self.totals.values())  # the ledger balances


async def kept(db_url: str, emsp: OcpiPlatform) -> Kept:
    db = Database(DatabaseSettings(url=db_url))
    try:
        async with db.session() as session:
            per_id: dict[str, int] = dict(
                (await session.execute(select(Cdr.cdr_id, func.count()).group_by(Cdr.cdr_id))).all()  # type: ignore[call-overload]
            )
            cdrs = (await session.execute(select(func.count()).select_from(Cdr))).scalar_one()
            entries = (await session.execute(select(func.count()).select_from(JournalEntry))).scalar_one()
            booked = (
                await session.execute(select(func.count(func.distinct(JournalEntry.source_cdr_fk))))
            ).scalar_one()
        positions = (await balances(db)).positions
    finally:
        await db.close()
    totals: dict[str, Decimal] = {}
    for position in positions:
        currency = position.position.currency
        totals[currency] = totals.get(currency, Decimal(0)) + position.position.amount
    return Kept(
        per_id=per_id,
        cdrs=cdrs,
        entries=entries,
        booked=booked,
        totals=totals,
        delivered=len(emsp.store.cdrs),
        delivered_twice=sum(1 for count in emsp.store.cdr_posts.values() if count > 1),
    )


async def _on_server(statement: str) -> None:
    """Run one statement on the test server's own database, outside any transaction."""
    assert POSTGRES_URL is not None
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the test server (ROAMHUB_TEST_POSTGRES_URL), dropped afterwards."""
    assert POSTGRES_URL is not None
    base, _, _ = POSTGRES_URL.rpartition("/")
    name = f"roamhub_fault_{uuid.uuid4().hex[:12]}"
    await _on_server(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
