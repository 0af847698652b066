"""The front door of OCPI functional modules: authenticate, police routing headers, dispatch.

Requests with special handling (broadcasts to the hub, open routing, commands, CDRs, ...) are listed in
:data:`HANDLERS`, the one table of who handles what; everything else with ``OCPI-to-*`` naming a party is a
direct request, relayed with the caller's bytes untouched (ocpi-hub-notes §2.7, §7).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from hub.errors import Forbidden, MalformedBody, NotFound, ReceiverNotConnected, RoutingError, UnknownReceiver
from hub.keys import OCPI, PRESENCE, ROUTING
from hub.ocpi import broadcast, callbacks, cdrs, open_routing, routing_headers
from hub.ocpi.auth import registered_caller
from hub.ocpi.endpoints import FUNCTIONAL_MODULES
from hub.ocpi.relay import BODY_METHODS, Inbound, answer, connection_of, forward, hub_link

log = structlog.get_logger("hub.ocpi.functional")

Handler = Callable[[Inbound], Awaitable[web.StreamResponse]]
Matcher = Callable[[Inbound], bool]

# (matcher, handler): the first match wins; no match means a direct request (TO = a party), relayed as is.
# The whole of the hub's OCPI routing policy reads here, in one table.
HANDLERS: list[tuple[Matcher, Handler]] = [
    (cdrs.is_post, cdrs.post),  # stored before the answer, delivered through the outbox
    (cdrs.is_location_get, cdrs.location_get),  # the CPO reads a CDR back through the hub's Location
    (cdrs.is_pull, cdrs.pull),  # GET All via hub: an eMSP's own CDRs
    (broadcast.is_push, broadcast.push),  # TO = hub (or none): store, answer, fan out
    (broadcast.is_get_all, broadcast.get_all),  # TO = hub on a Sender: from the store
    (open_routing.is_session_push, open_routing.session_push),  # to the token owner, never broadcast
    (open_routing.is_charging_preferences, open_routing.charging_preferences),  # by the session index
    (open_routing.is_authorize, open_routing.authorize),  # by the token index when no TO
    (open_routing.is_direct_indexed_push, open_routing.direct_indexed_push),  # relay, and index it
    # Commands and charging profiles: response_url rewritten to the hub, results proxied back.
    *callbacks.CALLBACK_HANDLERS,
]


async def handle(request: web.Request) -> web.StreamResponse:
    inbound = await _admit(request)
    for matches, handler in HANDLERS:
        if matches(inbound):
            return await handler(inbound)
    return await direct(inbound)


async def _admit(request: web.Request) -> Inbound:
    module = request.match_info["module"]
    if module not in FUNCTIONAL_MODULES:
        raise NotFound(f"the hub does not route a module called {module!r}")
    ctx = request.app[OCPI]
    caller = await registered_caller(request)
    ctx.limiter.take(caller.party_fk, module)  # per platform and module; HTTP 429 beyond it
    await request.app[PRESENCE].seen(caller.party_fk, caller.status)
    own = await connection_of(ctx, caller.party_fk)
    if own is None:
        raise ReceiverNotConnected("this platform has no completed registration")
    routing = routing_headers.parse(request.headers)
    try:
        routing_headers.check_sender(routing, own.roles)
    except Forbidden:
        log.warning("security.from_header_refused", platform=caller.party_fk, claimed=str(routing.sender))
        raise
    inbound = Inbound(
        request=request,
        ctx=ctx,
        core=request.app[ROUTING],
        caller=caller,
        own=own,
        routing=routing,
        body=await request.read(),
        module=module,
        interface=request.match_info["interface"].upper(),
        segments=[s for s in request.match_info.get("tail", "").split("/") if s],
    )
    if request.method in BODY_METHODS and inbound.body:
        if request.content_type != "application/json":
            raise MalformedBody(f"Content-Type must be application/json, not {request.content_type}")
        _ = inbound.json  # malformed JSON is refused here (HTTP 400), never relayed
    return inbound


async def direct(inbound: Inbound) -> web.StreamResponse:
    """TO names a party: relay to the platform hosting it, and its answer back unchanged."""
    receiver = inbound.routing.receiver
    if receiver is None:
        raise UnknownReceiver("no OCPI-to-* headers, and the hub cannot resolve a receiver for this request")
    if inbound.core.is_hub(receiver):
        raise RoutingError(f"{inbound.module} {inbound.method} addressed to the hub itself is not supported")
    target, reply = await forward(inbound, receiver)
    return answer(inbound, reply, target.ref, replace={"Link": hub_link(inbound, reply.headers.get("Link"))})
