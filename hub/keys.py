"""Typed application state (``web.AppKey``), in one module so every part of the hub can import it."""

from __future__ import annotations

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
