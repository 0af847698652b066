"""What the OICP side of the hub needs at hand: store, settings, routing core, partner clients, limits."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.cache import TtlCache
from hub.config import Settings
from hub.errors import UnknownReceiver
from hub.limits import RateLimiter
from hub.ocpi.context import OcpiContext
from hub.oicp.bridge import Published, published_by_uid
from hub.oicp.client import OicpClient, PartnerLink
from hub.oicp.limits import PushGate
from hub.routing import RoutingCore
from hub.store.batch import Batched
from hub.store.db import Database
from hub.store.models import Party


@dataclass(frozen=True)
class OicpContext:
    db: Database
    settings: Settings
    core: RoutingCore
    client: OicpClient
    ocpi: OcpiContext  # the OCPI side, for messages that cross protocols
    wake: Callable[[], None] = field(default=lambda: None)
    limiter: RateLimiter = field(init=False)
    pushes: PushGate = field(init=False, default_factory=PushGate)
    # UID (normalised) -> party_fk of the EMP that last authorised it (notes §4.2 step 5, "HBS 2.0 cache").
    authorized_by: TtlCache[str, int | None] = field(init=False)
    links: TtlCache[int, PartnerLink | None] = field(init=False)
    tasks: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    # Upper-case UID -> the OCPI tokens published under it; concurrent AuthorizeStarts share one read.
    tokens_by_uid: Batched[str, Published] = field(init=False)

    def __post_init__(self) -> None:
        oicp = self.settings.oicp
        object.__setattr__(self, "limiter", RateLimiter(oicp.rate_limits, oicp.rate_limit_burst))
        object.__setattr__(self, "authorized_by", TtlCache(oicp.authorization_cache_seconds))
        object.__setattr__(self, "links", TtlCache(self.settings.ocpi.cache_seconds))
        object.__setattr__(self, "tokens_by_uid", Batched(functools.partial(published_by_uid, self.db)))

    def background(self, task: asyncio.Task[None]) -> None:
        """Keep a task that outlives its request (a command carried out over OICP) until it ends."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self.drain()

    async def link(self, party_fk: int) -> PartnerLink:
        """How to reach an OICP partner (base URLs, CA); cached like every other routing fact."""

        async def load() -> PartnerLink | None:
            async with self.db.session() as session:
                party = await session.get(Party, party_fk)
            return PartnerLink.of(party) if party is not None else None

        found = await self.links.get(party_fk, load)
        if found is None:
            raise UnknownReceiver(f"no partner {party_fk}")
        return found
