"""Every HTTP route the hub serves, in one table (STYLE.md: no registration at import time)."""

from __future__ import annotations

from aiohttp import web

from hub import admin_api, admin_openapi, cdr_admin, health, traffic
from hub.ledger import api as ledger_api
from hub.ocpi import functional, platform
from hub.ocpi.context import VERSION
from hub.oicp import frontdoor

OCPI = f"/ocpi/{VERSION}"


def routes() -> list[web.RouteDef]:
    return [
        web.get("/healthz", health.healthz),
        web.get("/metrics", health.metrics),
        # Admin API (operator token required by middleware for everything under /admin)
        web.get("/admin/api/parties", admin_api.list_parties),
        web.post("/admin/api/parties", admin_api.add_party),
        web.get("/admin/api/parties/{id}", admin_api.show_party),
        web.post("/admin/api/parties/{id}/suspend", admin_api.suspend_party),
        web.post("/admin/api/parties/{id}/token", admin_api.new_token),
        web.post("/admin/api/parties/{id}/connect", admin_api.connect_party),
        web.get("/admin/api/agreements", admin_api.list_agreements),
        web.post("/admin/api/agreements", admin_api.add_agreement),
        web.delete("/admin/api/agreements/{id}", admin_api.remove_agreement),
        web.get("/admin/api/config", admin_api.show_config),
        web.get("/admin/api/traffic", traffic.list_traffic),
        web.get("/admin/api/cdrs", cdr_admin.api_list),
        web.post("/admin/api/cdrs/{id}/retry", cdr_admin.api_retry),
        web.get("/admin/api/ledger/balances", ledger_api.get_balances),
        web.get("/admin/api/ledger/netting", ledger_api.get_netting),
        web.post("/admin/api/settlement/{period}/close", ledger_api.close_period),
        web.get("/admin/api/settlement/{period}/statements/{party}", ledger_api.get_statement),
        web.post("/admin/api/reconcile/{party}/{period}", ledger_api.post_reconcile),
        web.get(admin_openapi.OPENAPI_PATH, admin_openapi.openapi_json),
        # OCPI configuration modules (never routed; no routing headers)
        web.get("/ocpi/versions", platform.versions),
        web.get(OCPI, platform.version_details),
        web.get(f"{OCPI}/credentials", platform.credentials_get),
        web.post(f"{OCPI}/credentials", platform.credentials_post),
        web.put(f"{OCPI}/credentials", platform.credentials_put),
        web.delete(f"{OCPI}/credentials", platform.credentials_delete),
        web.get(f"{OCPI}/hubclientinfo", platform.hubclientinfo_list),
        # OCPI functional modules, each with a sender and a receiver interface (hub/ocpi/endpoints.py)
        web.route("*", OCPI + "/{interface:sender|receiver}/{module}{tail:(/.*)?}", functional.handle),
        # OICP: every operation of Hubject's endpoint table (hub/oicp/frontdoor.py HANDLERS)
        web.route("*", "/api/oicp/{tail:.*}", frontdoor.handle),
    ]
