"""Per-partner, per-operation rate limits: one token bucket per (partner, operation).

A bucket refills at the configured calls per minute and holds up to ``burst`` of a minute's figure, so a
partner may burst briefly but never starves another (each has its own buckets). Beyond it the answer is
HTTP 429 in the caller's protocol. Limits are per process: with several workers each enforces its own share.
OICP uses Hubject's Acceptable Use Policy figures by default (oicp-hub-notes §7); OCPI has none published,
so its limit is off unless the operator sets one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from hub.errors import RateLimited


class RateLimiter:
    def __init__(self, per_minute: Mapping[str, int], burst: float, *, default: int = 0) -> None:
        self._limits = per_minute
        self._default = default
        self._burst = burst
        self._buckets: dict[tuple[int, str], tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, party_fk: int, operation: str, *, now: float | None = None) -> None:
        """Spend one call of this partner's allowance, or raise :class:`RateLimited` (HTTP 429)."""
        per_minute = self._limits.get(operation, self._default)
        if per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        capacity = max(1.0, per_minute * self._burst)
        tokens, at = self._buckets.get((party_fk, operation), (capacity, now))
        tokens = min(capacity, tokens + (now - at) * per_minute / 60.0)
        if tokens < 1.0:
            self._buckets[(party_fk, operation)] = (tokens, now)
            error = RateLimited(f"{operation} is limited to {per_minute} calls per minute per partner")
            error.retry_after = max(1, math.ceil((1.0 - tokens) * 60.0 / per_minute))
            raise error
        self._buckets[(party_fk, operation)] = (tokens - 1.0, now)
