"""Running the hub: logging, the app, a TCP site, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog
from aiohttp import web

from hub.app import create_app
from hub.config import Settings
from hub.crypto import admin_token_file
from hub.logs import configure_logging

log = structlog.get_logger("hub.server")


async def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    configure_logging(settings.log)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, port = host or settings.host, port or settings.port
    site = web.TCPSite(runner, host, port, reuse_port=True)
    await site.start()
    if settings.oicp.listen_port:
        from hub.pki import server_ssl_context

        oicp_host = settings.oicp.listen_host or host
        tls = web.TCPSite(
            runner,
            oicp_host,
            settings.oicp.listen_port,
            ssl_context=server_ssl_context(settings),
            reuse_port=True,
        )
        await tls.start()
        log.info("hub.oicp_listening", listen=f"https://{oicp_host}:{settings.oicp.listen_port}")
    tune_gc(settings.gc_threshold)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "hub.started",
        listen=f"http://{host}:{port}",
        public_url=settings.public_url,
        versions_url=settings.url("/ocpi/versions"),
        admin_token_from="configuration" if settings.admin.token else str(admin_token_file(settings)),
    )
    try:
        await stop.wait()
    finally:
        log.info("hub.stopping")
        await runner.cleanup()


def tune_gc(threshold: int) -> None:
    """Keep the cyclic garbage collector off the hot path once the hub has started.

    Started, the hub holds a few hundred thousand long-lived objects (modules, the ORM's mappers, compiled
    statements, caches), and with Python's default of a collection every 700 net allocations, collections
    that rescan them took a fifth of a loaded worker's CPU (and stalled it up to 150 ms). What exists now is
    frozen out of the collector's sight, and the young generation collected every ``threshold`` net
    allocations. Reference counting still frees almost everything at once; only cycles wait for the
    collector, and they still get collected. ``threshold`` 0 leaves Python's defaults alone.
    """
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)
    log.info("hub.gc_tuned", frozen=gc.get_freeze_count(), threshold=threshold)
