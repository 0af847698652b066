"""Short-lived, per-process caches for what every forwarded request would otherwise read again.

A hub worker answers thousands of requests a second with the same few facts: who a token belongs to,
where a party's platform is, which endpoints it has. Those change rarely (registration, suspension) and
other workers learn of a change within ``ttl`` seconds; the worker that makes a change forgets the old
fact at once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, *, maxsize: int = 10_000) -> None:
        self._ttl = ttl
        self._maxsize = maxsize
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or ``load()``'s, remembered for ``ttl`` seconds (not at all when ttl is 0)."""
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        if self._ttl > 0:
            self._items[key] = (now + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return value

    def peek(self, key: K) -> V | None:
        """The cached value if it is still fresh; never loads."""
        hit = self._items.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def put(self, key: K, value: V) -> None:
        """Remember a value learnt elsewhere (not at all when ttl is 0)."""
        if self._ttl > 0:
            self._items[key] = (time.monotonic() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)

    def forget(self, key: K | None = None) -> None:
        """Drop one key, or everything."""
        if key is None:
            self._items.clear()
        else:
            self._items.pop(key, None)
