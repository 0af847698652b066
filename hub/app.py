"""The application factory: state, lifecycles and middlewares around the route table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from hub.config import Settings
from hub.crypto import admin_token, load_vault
from hub.keys import ADMIN_TOKEN, DB, METRICS, SETTINGS, VAULT
from hub.metrics import Metrics
from hub.middleware import admin_auth, request_context
from hub.routes import routes
from hub.store import migrate
from hub.store.db import Database

log = structlog.get_logger("hub.app")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[request_context, admin_auth],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[VAULT] = load_vault(settings)
    app[ADMIN_TOKEN] = admin_token(settings)
    app.cleanup_ctx.append(_database)
    app.router.add_routes(routes())
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open the database, bring its schema up to date (an empty or outdated one is upgraded), close it."""
    db = Database(app[SETTINGS].database)
    await migrate.upgrade(db.engine)
    app[DB] = db
    log.info("database.ready", backend=db.engine.dialect.name)
    yield
    await db.close()
