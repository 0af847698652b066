"""Admission control: a bounded number of partner requests in flight per worker; beyond it, 503 at once.

Per-partner rate limits (hub/limits.py) keep one partner from starving the others; they do not stop the
sum of all partners from asking more than the worker's core can do. Past that point every request still
gets started, the event loop's queue grows, each answer comes later, clients time out and send again, and
memory follows the queue. So the hub counts the OCPI and OICP requests it is working on and, at the limit
(``max_in_flight``), answers a new one straight away with HTTP 503 and ``Retry-After``, in the caller's
protocol (OCPI status 3000, OICP StatusCode 001), before reading its body or touching the database: nothing
of it was done, so sending it again is safe, and what was already accepted is finished as usual.

The operator's own doors (admin API, health, metrics) are never refused: they are how one looks at a hub
that is busy. A refusal is not written to the traffic log (that would be work again, per refused request);
the metrics count them per protocol and a warning is logged at most once a second. The count is per
process; with several workers each admits its own share.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from hub import errors
from hub.metrics import Metrics
from hub.middleware import partner_protocol, render_error

log = structlog.get_logger("hub.admission")


class Admission:
    """Counts the partner requests in flight; ``limit`` 0 admits everything."""

    def __init__(self, limit: int, metrics: Metrics | None = None, *, log_every: float = 1.0) -> None:
        self.limit = limit
        self.in_flight = 0
        self.refused = 0  # since start
        self._metrics = metrics
        self._log_every = log_every
        self._unlogged = 0
        self._logged_at = float("-inf")
        if metrics is not None:
            metrics.in_flight.set_function(lambda: self.in_flight)

    def full(self) -> bool:
        return 0 < self.limit <= self.in_flight

    def refuse(self, protocol: str) -> errors.Overloaded:
        self.refused += 1
        self._unlogged += 1
        if self._metrics is not None:
            self._metrics.shed.labels(protocol).inc()
        now = time.monotonic()
        if now - self._logged_at >= self._log_every:  # at most one a second: shedding is cheap, logs not
            log.warning("http.overloaded", in_flight=self.in_flight, limit=self.limit, refused=self._unlogged)
            self._logged_at, self._unlogged = now, 0
        return errors.Overloaded(
            f"{self.in_flight} requests are in progress at this hub worker, its limit; "
            f"nothing of this one was done, send it again in a second"
        )


ADMISSION = web.AppKey("admission", Admission)


@web.middleware
async def admit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware: a refused request costs no more than its answer."""
    admission = request.app[ADMISSION]
    protocol = partner_protocol(request.path) if admission.limit else None
    if protocol is None:
        return await handler(request)
    if admission.full():
        return render_error(request, admission.refuse(protocol))
    admission.in_flight += 1
    try:
        return await handler(request)
    finally:
        admission.in_flight -= 1
