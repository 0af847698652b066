"""Short-lived, per-process caches for what every forwarded request would otherwise read again.

A hub worker answers thousands of requests a second with the same few facts: who a token belongs to,
where a party's platform is, which endpoints it has. Those change rarely (registration, suspension) and
other workers learn of a change within ``ttl`` seconds; the worker that makes a change forgets the old
fact at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values remembered for ``ttl`` seconds; concurrent misses of one key share a single load.

    Without that, every request in flight when an entry expires would run its own query at the same
    moment (sixteen look-ups of one token instead of one), and on PostgreSQL queue for the pool.
    """

    def __init__(self, ttl: float, *, maxsize: int = 10_000) -> None:
        self._ttl = ttl
        self._maxsize = maxsize
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loading: dict[K, asyncio.Future[V]] = {}
        # Bumped by forget(): a load begun before it may have read what was just changed, so it is
        # neither stored nor joined by later callers.
        self._generation = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or ``load()``'s, remembered for ``ttl`` seconds (not at all when ttl is 0)."""
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if self._ttl <= 0:
            return await load()
        task = self._loading.get(key)
        if task is None:
            # Its own task: a caller that goes away (a client hanging up) cancels only its own wait.
            task = asyncio.ensure_future(self._load(key, load, now + self._ttl, self._generation))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        return await asyncio.shield(task)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]], expires: float, generation: int) -> V:
        try:
            value = await load()
        finally:
            if self._loading.get(key) is asyncio.current_task():
                del self._loading[key]
        if generation == self._generation:
            self._store(key, expires, value)
        return value

    def _store(self, key: K, expires: float, value: V) -> None:
        self._items[key] = (expires, value)
        self._items.move_to_end(key)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def peek(self, key: K) -> V | None:
        """The cached value if it is still fresh; never loads."""
        hit = self._items.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: K, value: V) -> None:
        """Remember a value learnt elsewhere (not at all when ttl is 0)."""
        if self._ttl > 0:
            self._store(key, time.monotonic() + self._ttl, value)

    def forget(self, key: K | None = None) -> None:
        """Drop one key, or everything."""
        self._generation += 1
        if key is None:
            self._loading.clear()
            self._items.clear()
        else:
            self._loading.pop(key, None)
            self._items.pop(key, None)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A load whose every caller went away: its error is theirs, not a "never retrieved" warning."""
    if not task.cancelled():
        task.exception()
