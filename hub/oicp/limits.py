"""The one-push-at-a-time rule of OICP data pushes (oicp-hub-notes §1); rate limits are in hub/limits.py.

Data pushes must be sequential per partner and operation: a second one while the first runs is 009. The
rule is kept per process: with several workers, two pushes landing on different workers both proceed
(each is still one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hub.errors import Conflict


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
