"""Per-partner, per-operation rate limits and the one-push-at-a-time rule (oicp-hub-notes §1, §7).

Hubject's Acceptable Use Policy gives calls per minute per partner and operation; beyond them it answers
HTTP 429. A token bucket per (partner, operation) allows the configured rate with a burst of up to
``rate_limit_burst`` of a minute's figure, so one greedy partner never starves another. Data pushes must be
sequential per partner and operation: a second one while the first runs is 009. Both are per process: with
several workers each enforces its own share (documented in the README).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from hub.config import OicpSettings
from hub.errors import Conflict, RateLimited


class RateLimiter:
    def __init__(self, settings: OicpSettings) -> None:
        self._limits = settings.rate_limits
        self._burst = settings.rate_limit_burst
        self._buckets: dict[tuple[int, str], tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, party_fk: int, operation: str, *, now: float | None = None) -> None:
        """Spend one call of this partner's allowance, or raise :class:`RateLimited` (HTTP 429)."""
        per_minute = self._limits.get(operation, 0)
        if per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        capacity = max(1.0, per_minute * self._burst)
        tokens, at = self._buckets.get((party_fk, operation), (capacity, now))
        tokens = min(capacity, tokens + (now - at) * per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[(party_fk, operation)] = (tokens, now)
            raise RateLimited(f"{operation} is limited to {per_minute} calls per minute per partner")
        self._buckets[(party_fk, operation)] = (tokens - 1.0, now)


class PushGate:
    """At most one push in progress per (partner, operation); a parallel one is refused with 009."""

    def __init__(self) -> None:
        self._busy: set[tuple[int, str]] = set()

    @contextmanager
    def hold(self, party_fk: int, operation: str) -> Iterator[None]:
        key = (party_fk, operation)
        if key in self._busy:
            raise Conflict(f"a push of {operation} by this partner is already in progress")
        self._busy.add(key)
        try:
            yield
        finally:
            self._busy.discard(key)
