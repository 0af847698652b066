"""Is a platform there? Traffic from it says yes; silence gets a versions GET (ocpi-hub-notes §5, item 54).

A platform silent for ``[ocpi] liveness_interval`` seconds is checked with a GET on its versions endpoint,
which has no side effects. A failed check makes it OFFLINE; a good check or any request from it makes it
CONNECTED again. Each change is announced through HubClientInfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta

import structlog
from sqlalchemy import or_, select
from sqlmodel import col

from hub.background import LoopLog, stop_gracefully
from hub.errors import HubError
from hub.ocpi.context import OcpiContext
from hub.parties import set_status
from hub.store.models import OcpiConnection, Party
from hub.store.types import utcnow
from schemas.canonical.party import ConnectionStatus

log = structlog.get_logger("hub.ocpi.presence")

_TOUCH_EVERY = 30.0  # seconds: traffic refreshes last_seen at most this often per worker


class Presence:
    def __init__(self, ctx: OcpiContext) -> None:
        self._ctx = ctx
        self._touched: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def seen(self, party_fk: int, status: str) -> None:
        """Record traffic from a platform; bring it back to CONNECTED if it was OFFLINE."""
        now = time.monotonic()
        if (
            status != ConnectionStatus.OFFLINE
            and now - self._touched.get(party_fk, -_TOUCH_EVERY) < _TOUCH_EVERY
        ):
            return
        self._touched[party_fk] = now
        async with self._ctx.db.transaction() as session:
            connection = await session.get(OcpiConnection, party_fk)
            if connection is not None:
                connection.last_seen_at = utcnow()
            party = await session.get(Party, party_fk)
            if party is not None and party.status == ConnectionStatus.OFFLINE and connection is not None:
                set_status(session, party, ConnectionStatus.CONNECTED)
                log.info("presence.back_online", party=party_fk)
                self._ctx.forget(party_fk)
        self._ctx.wake()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ocpi-liveness")

    async def stop(self) -> None:
        """Let a check under way finish, then stop."""
        self._stopping.set()
        await stop_gracefully(self._task)

    async def _run(self) -> None:
        interval = self._ctx.settings.ocpi.liveness_interval
        loop_log = LoopLog(log, "presence")
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.2, min(60.0, interval / 5))):
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            with loop_log.cycle():
                await self.check_once()

    async def check_once(self) -> int:
        """Check every platform that has been silent too long; returns how many were checked."""
        silence = utcnow() - timedelta(seconds=self._ctx.settings.ocpi.liveness_interval)
        async with self._ctx.db.session() as session:
            rows = (
                await session.execute(
                    select(col(OcpiConnection.party_fk))
                    .join(Party, col(Party.id) == col(OcpiConnection.party_fk))
                    .where(
                        col(Party.status).in_(
                            [ConnectionStatus.CONNECTED.value, ConnectionStatus.OFFLINE.value]
                        )
                    )
                    .where(col(OcpiConnection.last_seen_at) <= silence)
                    .where(
                        or_(
                            col(OcpiConnection.checked_at).is_(None),
                            col(OcpiConnection.checked_at) <= silence,
                        )
                    )
                )
            ).scalars()
            due = list(rows)
        results = await asyncio.gather(*(self._check(party_fk) for party_fk in due))
        return len(results)

    async def _check(self, party_fk: int) -> None:
        async with self._ctx.db.session() as session:
            connection = await session.get(OcpiConnection, party_fk)
        if connection is None:
            return
        alive = await self._ping(connection)
        async with self._ctx.db.transaction() as session:
            connection = await session.get(OcpiConnection, party_fk)
            party = await session.get(Party, party_fk)
            if connection is None or party is None:
                return
            connection.checked_at = utcnow()
            if alive:
                connection.last_seen_at = utcnow()
            wanted = ConnectionStatus.CONNECTED if alive else ConnectionStatus.OFFLINE
            changed = party.status != wanted and party.status in (
                ConnectionStatus.CONNECTED,
                ConnectionStatus.OFFLINE,
            )
            if changed:
                set_status(session, party, wanted)
                log.info("presence.status_changed", party=party_fk, status=wanted.value)
        if changed:  # a check that changes nothing must not empty every worker's caches of tokens and routes
            self._ctx.forget(party_fk)
            self._ctx.wake()

    async def _ping(self, connection: OcpiConnection) -> bool:
        try:
            reply = await self._ctx.client.request(
                "GET",
                connection.versions_url,
                token=self._ctx.vault.decrypt(connection.token_b),
                encode=connection.encode_token,
                timeout=self._ctx.settings.ocpi.connect_timeout + 5,
            )
        except HubError:
            return False
        return reply.status == 200 and reply.status_code == 1000
