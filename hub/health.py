"""Liveness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import structlog
from aiohttp import web

from hub.keys import DB, METRICS
from hub.metrics import CONTENT_TYPE

log = structlog.get_logger("hub.health")


async def healthz(request: web.Request) -> web.Response:
    try:
        await request.app[DB].ping()
    except Exception as exc:
        log.error("health.database_unreachable", error=type(exc).__name__)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def metrics(request: web.Request) -> web.Response:
    response = web.Response(body=request.app[METRICS].render())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
