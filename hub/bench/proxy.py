"""The proxy baseline: a minimal aiohttp pass-through, the physical limit of one Python hop on this machine.

Every request is sent on to ``--upstream`` with the same method, path, query, headers and body bytes, and the
answer comes back the same way. No parsing, no database, one pooled client session. With ``--tls-cert``,
``--tls-key`` and ``--tls-ca`` it listens with mutual TLS, as the hub's OICP listener does (the proxy
baseline of the OICP scenario), and still relays in plain HTTP. It prints one JSON line
(``{"ready": true, "port": ...}``) once it listens, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web

from hub.bench import emit
from hub.bench.oicp_wire import server_context

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones aiohttp recomputes for the next hop.
_DROP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
UPSTREAM = web.AppKey("upstream", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)


def _passable(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.lower() not in _DROP}


async def relay(request: web.Request) -> web.Response:
    body = await request.read()
    url = request.app[UPSTREAM] + request.rel_url.raw_path_qs
    async with request.app[HTTP].request(
        request.method,
        url,
        data=body or None,
        headers=_passable(request.headers),
        allow_redirects=False,
    ) as answer:
        payload = await answer.read()
        return web.Response(status=answer.status, body=payload, headers=_passable(answer.headers))


async def _client(app: web.Application) -> AsyncIterator[None]:
    connector = aiohttp.TCPConnector(limit=512, limit_per_host=512)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as http:
        app[HTTP] = http
        yield


def build_app(upstream: str) -> web.Application:
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app.cleanup_ctx.append(_client)
    app.router.add_route("*", "/{tail:.*}", relay)
    return app


async def serve(upstream: str, port: int, tls: ssl.SSLContext | None = None) -> None:
    runner = web.AppRunner(build_app(upstream), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emit({"ready": True, "port": int(runner.addresses[0][1])})
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hub.bench.proxy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8100")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--tls-cert", help="listen with mutual TLS: the server certificate (PEM)")
    parser.add_argument("--tls-key", help="its private key")
    parser.add_argument("--tls-ca", help="the CA client certificates must chain to")
    args = parser.parse_args()
    tls = None
    if args.tls_cert or args.tls_key or args.tls_ca:
        if not (args.tls_cert and args.tls_key and args.tls_ca):
            parser.error("--tls-cert, --tls-key and --tls-ca go together")
        tls = server_context(args.tls_cert, args.tls_key, args.tls_ca)
    asyncio.run(serve(args.upstream, args.port, tls))


if __name__ == "__main__":
    main()
