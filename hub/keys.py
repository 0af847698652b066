"""Typed application state (``web.AppKey``), in one module so every part of the hub can import it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from hub.config import Settings
from hub.crypto import Vault
from hub.metrics import Metrics
from hub.store.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
VAULT = web.AppKey("vault", Vault)
METRICS = web.AppKey("metrics", Metrics)
ADMIN_TOKEN = web.AppKey("admin_token", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)

if TYPE_CHECKING:
    from hub.ocpi.broadcast import Broadcaster
    from hub.ocpi.context import OcpiContext
    from hub.ocpi.presence import Presence
    from hub.oicp.context import OicpContext
    from hub.outbox import Dispatcher
    from hub.routing import RoutingCore

OCPI: web.AppKey[OcpiContext] = web.AppKey("ocpi")
PRESENCE: web.AppKey[Presence] = web.AppKey("presence")
DISPATCHER: web.AppKey[Dispatcher] = web.AppKey("dispatcher")
ROUTING: web.AppKey[RoutingCore] = web.AppKey("routing")
BROADCASTER: web.AppKey[Broadcaster] = web.AppKey("broadcaster")
OICP: web.AppKey[OicpContext] = web.AppKey("oicp")
