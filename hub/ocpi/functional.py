"""The front door of OCPI functional modules: authenticate, check routing headers, route, relay.

A direct request (TO = a party) is relayed to the platform hosting that party with a new X-Request-ID,
the same X-Correlation-ID, and the caller's body bytes untouched, so ``last_updated``, number formats and
unknown fields arrive exactly as sent (ocpi-hub-notes §2.7, §7). The receiver's answer comes back unchanged
except for the ids of the first hop.
"""

from __future__ import annotations

import uuid

import structlog
from aiohttp import web
from multidict import CIMultiDict

from hub.errors import Forbidden, NotFound, ReceiverNotConnected, RoutingError, UnknownReceiver
from hub.keys import OCPI, PRESENCE, ROUTING
from hub.middleware import CORRELATION_ID, REQUEST_ID
from hub.ocpi import routing_headers
from hub.ocpi.auth import Caller, registered_caller
from hub.ocpi.context import OcpiContext
from hub.ocpi.endpoints import FUNCTIONAL_MODULES, find_endpoint
from hub.routing import RoutingCore, Target
from hub.store.models import OcpiConnection
from hub.validation import loads
from schemas.canonical.party import PartyRef, Protocol, Role

log = structlog.get_logger("hub.ocpi.functional")

# Answer headers worth passing back from the receiver; the rest are hop-by-hop or the hub's own.
_PASS_BACK = ("X-Total-Count", "X-Limit", "Location", "Link")
_BODY_METHODS = ("POST", "PUT", "PATCH")


def _tail(request: web.Request) -> str:
    """The caller's path below the module, still percent-encoded, with its query string."""
    prefix = f"/ocpi/2.2.1/{request.match_info['interface']}/{request.match_info['module']}"
    raw = request.rel_url.raw_path
    tail = raw[len(prefix) :] if raw.startswith(prefix) else request.match_info.get("tail", "")
    query = request.rel_url.raw_query_string
    return tail + (f"?{query}" if query else "")


async def _connection(ctx: OcpiContext, party_fk: int) -> OcpiConnection | None:
    async with ctx.db.session() as session:
        return await session.get(OcpiConnection, party_fk)


def _roles_of(connection: OcpiConnection, ref: PartyRef) -> frozenset[Role]:
    return frozenset(
        Role(str(r["role"]))
        for r in connection.roles
        if PartyRef(country_code=str(r["country_code"]), party_id=str(r["party_id"])) == ref
    )


async def handle(request: web.Request) -> web.StreamResponse:
    module = request.match_info["module"]
    if module not in FUNCTIONAL_MODULES:
        raise NotFound(f"the hub does not route a module called {module!r}")
    ctx, core = request.app[OCPI], request.app[ROUTING]
    caller = await registered_caller(request)
    await request.app[PRESENCE].seen(caller.party_fk, caller.status)
    own = await _connection(ctx, caller.party_fk)
    if own is None:
        raise ReceiverNotConnected("this platform has no completed registration")
    routing = routing_headers.parse(request.headers)
    try:
        routing_headers.check_sender(routing, own.roles)
    except Forbidden:
        log.warning("security.from_header_refused", platform=caller.party_fk, claimed=str(routing.sender))
        raise
    body = await request.read()
    if request.method in _BODY_METHODS and body:
        loads(body)  # malformed JSON is refused here, never relayed
    if routing.receiver is None:
        raise UnknownReceiver("no OCPI-to-* headers, and the hub cannot resolve a receiver for this request")
    if core.is_hub(routing.receiver):
        raise RoutingError(f"{module} {request.method} addressed to the hub itself is not supported")
    return await _direct(request, ctx, core, caller, own, routing, body)


async def _direct(
    request: web.Request,
    ctx: OcpiContext,
    core: RoutingCore,
    caller: Caller,
    own: OcpiConnection,
    routing: routing_headers.RoutingHeaders,
    body: bytes,
) -> web.StreamResponse:
    assert routing.receiver is not None
    target = await core.resolve(routing.receiver)
    await core.check_agreement(routing.sender, _roles_of(own, routing.sender), target.ref, target.roles)
    core.require_connected(target)
    if target.protocol != Protocol.OCPI:
        raise ReceiverNotConnected(
            f"{target.ref} speaks {target.protocol}; cross-protocol routing is not open yet"
        )
    connection = await _connection(ctx, target.party_fk)
    if connection is None:
        raise ReceiverNotConnected(f"{target.ref} has not completed its OCPI registration")
    interface = request.match_info["interface"].upper()
    base = find_endpoint(connection.endpoints, request.match_info["module"], interface)
    if base is None:
        raise UnknownReceiver(
            f"{target.ref} does not implement the {request.match_info['module']} {interface}"
        )
    return await _relay(request, ctx, connection, target, base.rstrip("/") + _tail(request), routing, body)


def _forward_headers(request: web.Request, routing: routing_headers.RoutingHeaders) -> dict[str, str]:
    headers = {
        "X-Request-ID": str(uuid.uuid4()),  # every hop gets its own (spec: unique message ids)
        "X-Correlation-ID": request[CORRELATION_ID],
        routing_headers.FROM_COUNTRY: routing.sender.country_code,
        routing_headers.FROM_PARTY: routing.sender.party_id,
    }
    if routing.receiver is not None:
        headers[routing_headers.TO_COUNTRY] = routing.receiver.country_code
        headers[routing_headers.TO_PARTY] = routing.receiver.party_id
    if request.content_type and request.body_exists:
        headers["Content-Type"] = request.headers.get("Content-Type", "application/json")
    return headers


def _timeout(ctx: OcpiContext, request: web.Request) -> float:
    if request.match_info["module"] == "tokens" and request.method == "POST":
        return ctx.settings.ocpi.authorize_timeout  # fast, so the CPO can fall back to ALLOWED_OFFLINE
    return ctx.settings.ocpi.timeout


async def _relay(
    request: web.Request,
    ctx: OcpiContext,
    connection: OcpiConnection,
    target: Target,
    url: str,
    routing: routing_headers.RoutingHeaders,
    body: bytes,
) -> web.Response:
    reply = await ctx.client.request(
        request.method,
        url,
        token=ctx.vault.decrypt(connection.token_b),
        encode=connection.encode_token,
        data=body if request.method in _BODY_METHODS else None,
        headers=_forward_headers(request, routing),
        timeout=_timeout(ctx, request),
    )
    headers: CIMultiDict[str] = CIMultiDict()
    for name in _PASS_BACK:
        if name in reply.headers:
            headers[name] = reply.headers[name]
    headers.update(routing_headers.response_headers(target.ref, routing.sender))
    headers["X-Request-ID"] = request[REQUEST_ID]
    headers["X-Correlation-ID"] = request[CORRELATION_ID]
    log.info(
        "ocpi.relayed",
        module=request.match_info["module"],
        method=request.method,
        sender=str(routing.sender),
        receiver=str(target.ref),
        http=reply.status,
        ocpi=reply.status_code,
    )
    content_type = reply.headers.get("Content-Type", "application/json")
    response = web.Response(status=reply.status, body=reply.raw, headers=headers)
    response.headers["Content-Type"] = content_type
    return response
