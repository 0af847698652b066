"""Every HTTP route the hub serves, in one table (STYLE.md: no registration at import time)."""

from __future__ import annotations

from aiohttp import web

from hub import admin_api, health


def routes() -> list[web.RouteDef]:
    return [
        web.get("/healthz", health.healthz),
        web.get("/metrics", health.metrics),
        # Admin API (operator token required by middleware for everything under /admin)
        web.get("/admin/api/parties", admin_api.list_parties),
        web.post("/admin/api/parties", admin_api.add_party),
        web.get("/admin/api/parties/{id}", admin_api.show_party),
        web.post("/admin/api/parties/{id}/suspend", admin_api.suspend_party),
        web.get("/admin/api/agreements", admin_api.list_agreements),
        web.post("/admin/api/agreements", admin_api.add_agreement),
        web.delete("/admin/api/agreements/{id}", admin_api.remove_agreement),
        web.get("/admin/api/config", admin_api.show_config),
    ]
