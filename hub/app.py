"""The application factory: state, lifecycles and middlewares around the route table."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

from hub import admission, outbox, traffic
from hub.background import LoopLog
from hub.config import Settings
from hub.crypto import admin_token, load_vault
from hub.keys import (
    ADMIN_TOKEN,
    BROADCASTER,
    DB,
    DISPATCHER,
    HTTP,
    METRICS,
    OCPI,
    OICP,
    PRESENCE,
    ROUTING,
    SETTINGS,
    VAULT,
)
from hub.ledger.booking import book_unbooked
from hub.metrics import Metrics
from hub.middleware import admin_auth, request_context
from hub.ocpi import callbacks, cdrs, hubclientinfo
from hub.ocpi.broadcast import Broadcaster
from hub.ocpi.client import OcpiClient
from hub.ocpi.context import OcpiContext
from hub.ocpi.presence import Presence
from hub.oicp import cdrs as oicp_cdrs
from hub.oicp.client import OicpClient
from hub.oicp.context import OicpContext
from hub.outbox import Dispatcher
from hub.routes import routes
from hub.routing import RoutingCore
from hub.store import migrate
from hub.store.db import Database

log = structlog.get_logger("hub.app")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[admission.admit, traffic.record_inbound, request_context, admin_auth],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    app[admission.ADMISSION] = admission.Admission(settings.max_in_flight, app[METRICS])
    app[VAULT] = load_vault(settings)
    app[ADMIN_TOKEN] = admin_token(settings)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(traffic.lifecycle)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(_ocpi)
    app.router.add_routes(routes())
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open the database, bring its schema up to date (an empty or outdated one is upgraded), close it."""
    db = Database(app[SETTINGS].database)
    await migrate.upgrade(db.engine)
    app[DB] = db
    log.info("database.ready", backend=db.engine.dialect.name)
    booked = await book_unbooked(db, app[SETTINGS])  # CDRs stored before the ledger, or priced since
    if booked:
        log.info("ledger.caught_up", entries=booked)
    yield
    await db.close()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    """One outbound HTTP session per process, with bounded connections (DESIGN.md: outbound HTTP)."""
    connector = aiohttp.TCPConnector(limit=512, limit_per_host=64, ttl_dns_cache=300)
    async with aiohttp.ClientSession(connector=connector, raise_for_status=False) as session:
        app[HTTP] = session
        yield


async def _ocpi(app: web.Application) -> AsyncIterator[None]:
    """The OCPI side: partner client, outbox dispatcher (HubClientInfo pushes) and liveness checks."""
    settings = app[SETTINGS]
    holder: list[Dispatcher] = []
    ctx = OcpiContext(
        db=app[DB],
        settings=settings,
        vault=app[VAULT],
        client=OcpiClient(app[HTTP], settings.ocpi, recorder=app[traffic.TRAFFIC]),
        wake=lambda line=None: holder[0].wake(line) if holder else None,
    )
    dispatcher = Dispatcher(
        app[DB],
        {
            outbox.CLIENT_INFO: functools.partial(hubclientinfo.push, ctx),
            cdrs.CDR_DELIVERY: functools.partial(cdrs.deliver, ctx),
            oicp_cdrs.OICP_CDR_DELIVERY: lambda item: oicp_cdrs.deliver(app[OICP], item),
        },
        prepare={cdrs.CDR_DELIVERY: functools.partial(cdrs.prepare, ctx)},
        on_dead={
            cdrs.CDR_DELIVERY: functools.partial(cdrs.dead, ctx),
            oicp_cdrs.OICP_CDR_DELIVERY: functools.partial(cdrs.dead, ctx),
        },
        poll_interval=settings.outbox_poll_interval,
        backoff_base=settings.outbox_backoff_base,
        max_attempts=settings.outbox_max_attempts,
        lease=settings.outbox_lease,
    )
    holder.append(dispatcher)
    presence = Presence(ctx)
    app[OCPI], app[DISPATCHER], app[PRESENCE] = ctx, dispatcher, presence
    app[ROUTING] = RoutingCore(app[DB], settings, targets=ctx.targets)
    app[OICP] = OicpContext(
        db=app[DB],
        settings=settings,
        core=app[ROUTING],
        client=OicpClient(app[HTTP], settings, recorder=app[traffic.TRAFFIC]),
        ocpi=ctx,
        wake=ctx.wake,
    )
    app[BROADCASTER] = broadcaster = Broadcaster(ctx)
    dispatcher.start()
    presence.start()
    purge = asyncio.create_task(_purge_callbacks(ctx), name="callbacks-purge")
    yield
    purge.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purge
    await presence.stop()
    await dispatcher.stop()
    await broadcaster.close()
    await app[OICP].close()


async def _purge_callbacks(ctx: OcpiContext, every: float = 60.0) -> None:
    """Used and expired response_url mappings go (ocpi-hub-notes §6.6, hub handling rule 5)."""
    loop_log = LoopLog(log, "callbacks.purge")
    while True:
        await asyncio.sleep(every)
        with loop_log.cycle():
            await callbacks.purge_expired(ctx)
