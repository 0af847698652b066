"""The direct baseline of scenario 4: a tiny OICP endpoint that answers AuthorizeStart itself (no hub).

It stands for what a CPO gets when the party that decides is one mutual-TLS hop away: the same path,
the same request bytes, a decision from the eMSP's own token (the card the benchmark presents) and an
eRoamingAuthorizationStart answer with a fresh SessionID. No schema validation, no database. It runs in
the partners process and listens twice on loopback: with mutual TLS (the direct baseline) and in plain
HTTP (the upstream of the TLS pass-through proxy, as the hub's own onward leg to an OCPI eMSP is).
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from hub.bench import TOKEN_UID
from hub.bench.oicp_wire import AUTHORIZE_START_ROUTE, OPERATOR_ID, authorization_start


@dataclass
class Answered:
    """AuthorizeStarts the endpoint answered since the last reset."""

    count: int = 0


ANSWERED = web.AppKey("answered", Answered)


async def authorize_start(request: web.Request) -> web.Response:
    try:
        body = json.loads(await request.read())
        uid = body["Identification"]["RFIDMifareFamilyIdentification"]["UID"]
    except (ValueError, KeyError, TypeError):
        return web.json_response({"Result": False, "StatusCode": {"Code": "022"}}, status=400)
    request.app[ANSWERED].count += 1
    authorized = request.match_info["operatorID"] == OPERATOR_ID and str(uid).upper() == TOKEN_UID
    return web.json_response(authorization_start(body, str(uuid.uuid4()), authorized))


def build_app(answered: Answered) -> web.Application:
    app = web.Application()
    app[ANSWERED] = answered
    app.router.add_post(AUTHORIZE_START_ROUTE, authorize_start)
    return app


@asynccontextmanager
async def running(answered: Answered, tls: ssl.SSLContext) -> AsyncIterator[dict[str, str]]:
    """Both listeners on free loopback ports: ``{"tls": "https://...", "plain": "http://..."}``."""
    runner = web.AppRunner(build_app(answered), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls).start()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        (_, tls_port), (_, plain_port) = (address[:2] for address in runner.addresses)
        yield {"tls": f"https://127.0.0.1:{tls_port}", "plain": f"http://127.0.0.1:{plain_port}"}
    finally:
        await runner.cleanup()
