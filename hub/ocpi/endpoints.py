"""The hub's own OCPI 2.2.1 endpoints, and lookups in the endpoint maps partners gave us."""

from __future__ import annotations

from typing import Any

from hub.ocpi.context import VERSION, OcpiContext

# Functional modules the hub routes; each has a SENDER and a RECEIVER interface on the hub
# (ocpi-hub-notes §4.1: the "Typical implementations" table marks the hub as Both).
FUNCTIONAL_MODULES = ("cdrs", "chargingprofiles", "commands", "locations", "sessions", "tariffs", "tokens")
CONFIGURATION_MODULES = ("credentials", "hubclientinfo", "versions")


def module_path(module: str, interface: str) -> str:
    """Where the hub serves a module's interface. Sender and receiver paths are apart because their
    sub-paths collide (``locations/{id}/{evse}/{connector}`` vs ``locations/{cc}/{pid}/{id}``)."""
    return f"/ocpi/{VERSION}/{interface.lower()}/{module}"


def hub_endpoints(ctx: OcpiContext) -> list[dict[str, str]]:
    endpoints = [
        {"identifier": "credentials", "role": "SENDER", "url": ctx.url(f"/ocpi/{VERSION}/credentials")},
        {"identifier": "hubclientinfo", "role": "SENDER", "url": ctx.url(f"/ocpi/{VERSION}/hubclientinfo")},
    ]
    for module in FUNCTIONAL_MODULES:
        for interface in ("SENDER", "RECEIVER"):
            endpoints.append(
                {"identifier": module, "role": interface, "url": ctx.url(module_path(module, interface))}
            )
    return endpoints


def find_endpoint(endpoints: list[dict[str, Any]], module: str, interface: str) -> str | None:
    """The URL a partner announced for a module and interface, if any (module ids are case-sensitive)."""
    for endpoint in endpoints:
        if endpoint.get("identifier") == module and str(endpoint.get("role", "")).upper() == interface:
            return str(endpoint["url"])
    return None
