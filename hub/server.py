"""Running the hub: logging, the app, a TCP site, and a clean stop on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
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
