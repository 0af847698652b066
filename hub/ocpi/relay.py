"""Relaying OCPI requests to the platform that hosts a party, and shaping the answer for the caller.

Everything a module handler needs is in :class:`Inbound`: the request already authenticated, its routing
headers policed, its body read (and checked to be JSON). :func:`forward` sends it on to a party's platform;
:func:`answer` turns the receiver's reply into the caller's response.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web
from multidict import CIMultiDict

from hub.errors import ReceiverNotConnected, UnknownReceiver
from hub.middleware import CORRELATION_ID, REQUEST_ID
from hub.ocpi import routing_headers
from hub.ocpi.auth import Caller
from hub.ocpi.client import OcpiReply
from hub.ocpi.context import OcpiContext
from hub.ocpi.endpoints import find_endpoint
from hub.ocpi.responses import ocpi_response
from hub.routing import RoutingCore, Target
from hub.store.models import OcpiConnection
from hub.validation import loads
from schemas.canonical.party import PartyRef, Protocol, Role

log = structlog.get_logger("hub.ocpi.relay")

BODY_METHODS = ("POST", "PUT", "PATCH")
# Answer headers worth passing back from the receiver; the rest are hop-by-hop or the hub's own.
_PASS_BACK = ("X-Total-Count", "X-Limit", "Location", "Link")


@dataclass
class Inbound:
    """One functional-module request: authenticated, routing headers policed, body read."""

    request: web.Request
    ctx: OcpiContext
    core: RoutingCore
    caller: Caller
    own: OcpiConnection
    routing: routing_headers.RoutingHeaders
    body: bytes
    module: str
    interface: str  # "SENDER" or "RECEIVER": which of the hub's interfaces was called
    segments: list[str] = field(default_factory=list)  # decoded path segments below the module
    downstream_base: str | None = None  # the receiver's endpoint the request was forwarded to

    @property
    def method(self) -> str:
        return self.request.method

    @functools.cached_property
    def json(self) -> Any:
        return loads(self.body) if self.body else None

    @property
    def sender(self) -> PartyRef:
        return self.routing.sender

    @property
    def sender_roles(self) -> frozenset[Role]:
        return roles_of(self.own, self.sender)

    @property
    def tail(self) -> str:
        """The caller's path below the module, still percent-encoded, with its query string."""
        request = self.request
        prefix = f"/ocpi/2.2.1/{request.match_info['interface']}/{self.module}"
        raw = request.rel_url.raw_path
        tail = raw[len(prefix) :] if raw.startswith(prefix) else ""
        query = request.rel_url.raw_query_string
        return tail + (f"?{query}" if query else "")

    def ok(
        self, data: Any = None, *, headers: Mapping[str, str] | None = None, status: int = 200
    ) -> web.Response:
        """An answer from the hub itself (FROM = the hub, TO = the caller)."""
        hub = PartyRef(country_code=self.ctx.settings.country_code, party_id=self.ctx.settings.party_id)
        merged = {**routing_headers.response_headers(hub, self.sender), **(headers or {})}
        return ocpi_response(data, headers=merged, http_status=status)


def roles_of(connection: OcpiConnection, ref: PartyRef) -> frozenset[Role]:
    return frozenset(
        Role(str(r["role"]))
        for r in connection.roles
        if PartyRef(country_code=str(r["country_code"]), party_id=str(r["party_id"])) == ref
    )


async def connection_of(ctx: OcpiContext, party_fk: int) -> OcpiConnection | None:
    """A platform's connection (endpoints, token), read-only; cached for ``[ocpi] cache_seconds``."""

    async def load() -> OcpiConnection | None:
        async with ctx.db.session() as session:
            return await session.get(OcpiConnection, party_fk)

    connection: OcpiConnection | None = await ctx.connections.get(party_fk, load)
    return connection


async def reachable(
    inbound: Inbound, ref: PartyRef, *, prefer: Role | None = None
) -> tuple[Target, OcpiConnection]:
    """The connected OCPI platform behind ``ref``, after the agreements check; 4001/4003/49xx otherwise."""
    core = inbound.core
    target = await core.resolve(ref, prefer=prefer)
    await core.check_agreement(inbound.sender, inbound.sender_roles, target.ref, target.roles)
    core.require_connected(target)
    if target.protocol != Protocol.OCPI:
        raise ReceiverNotConnected(
            f"{target.ref} speaks {target.protocol}; cross-protocol routing is not open yet"
        )
    connection = await connection_of(inbound.ctx, target.party_fk)
    if connection is None:
        raise ReceiverNotConnected(f"{target.ref} has not completed its OCPI registration")
    return target, connection


def endpoint(connection: OcpiConnection, target: Target, module: str, interface: str) -> str:
    base = find_endpoint(connection.endpoints, module, interface)
    if base is None:
        raise UnknownReceiver(f"{target.ref} does not implement the {module} {interface}")
    return base.rstrip("/")


async def send(
    ctx: OcpiContext,
    connection: OcpiConnection,
    method: str,
    url: str,
    *,
    sender: PartyRef,
    receiver: PartyRef,
    body: bytes | None = None,
    correlation_id: str | None = None,
    timeout: float | None = None,
) -> OcpiReply:
    """One OCPI request to a platform, with routing headers, a new X-Request-ID, and its token."""
    headers = {
        "X-Request-ID": str(uuid.uuid4()),
        routing_headers.FROM_COUNTRY: sender.country_code,
        routing_headers.FROM_PARTY: sender.party_id,
        routing_headers.TO_COUNTRY: receiver.country_code,
        routing_headers.TO_PARTY: receiver.party_id,
    }
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    if body is not None:
        headers["Content-Type"] = "application/json"
    return await ctx.client.request(
        method,
        url,
        token=ctx.vault.decrypt(connection.token_b),
        encode=connection.encode_token,
        data=body,
        headers=headers,
        timeout=timeout,
    )


def timeout_for(inbound: Inbound) -> float:
    if inbound.module == "tokens" and inbound.method == "POST":
        return (
            inbound.ctx.settings.ocpi.authorize_timeout
        )  # fast, so the CPO can fall back to ALLOWED_OFFLINE
    return inbound.ctx.settings.ocpi.timeout


async def forward(
    inbound: Inbound,
    ref: PartyRef,
    *,
    tail: str | None = None,
    body: bytes | None = None,
    receiver_header: PartyRef | None = None,
    prefer: Role | None = None,
) -> tuple[Target, OcpiReply]:
    """Send the inbound request on to ``ref``'s platform, on the same module and interface."""
    target, connection = await reachable(inbound, ref, prefer=prefer)
    inbound.downstream_base = endpoint(connection, target, inbound.module, inbound.interface)
    url = inbound.downstream_base + (inbound.tail if tail is None else tail)
    reply = await send(
        inbound.ctx,
        connection,
        inbound.method,
        url,
        sender=inbound.sender,
        receiver=receiver_header or ref,
        body=(inbound.body if body is None else body) if inbound.method in BODY_METHODS else None,
        correlation_id=inbound.request[CORRELATION_ID],
        timeout=timeout_for(inbound),
    )
    log.info(
        "ocpi.relayed",
        module=inbound.module,
        method=inbound.method,
        sender=str(inbound.sender),
        receiver=str(target.ref),
        http=reply.status,
        ocpi=reply.status_code,
    )
    return target, reply


def answer(
    inbound: Inbound,
    reply: OcpiReply,
    responder: PartyRef,
    *,
    replace: Mapping[str, str | None] | None = None,
) -> web.Response:
    """The receiver's answer, unchanged but for the first hop's ids and routing headers (and ``replace``)."""
    headers: CIMultiDict[str] = CIMultiDict()
    for name in _PASS_BACK:
        if name in reply.headers:
            headers[name] = reply.headers[name]
    for name, value in (replace or {}).items():
        headers.popall(name, None)
        if value is not None:
            headers[name] = value
    headers.update(routing_headers.response_headers(responder, inbound.sender))
    headers["X-Request-ID"] = inbound.request[REQUEST_ID]
    headers["X-Correlation-ID"] = inbound.request[CORRELATION_ID]
    headers["Content-Type"] = reply.headers.get("Content-Type", "application/json")
    return web.Response(status=reply.status, body=reply.raw, headers=headers)


def hub_link(inbound: Inbound, link: str | None) -> str | None:
    """A receiver's pagination ``Link`` pointed back at the hub, so the caller can follow it (checklist 37).

    The next page keeps its query; the caller follows it with the same routing headers and the hub relays
    it to the same receiver. A link outside the receiver's endpoint is passed on as it came.
    """
    base = inbound.downstream_base
    if not link or base is None:
        return link
    start, end = link.find("<"), link.find(">")
    if start < 0 or end < start:
        return link
    url = link[start + 1 : end]
    if not url.startswith(base):
        log.info("ocpi.link_not_rewritten", module=inbound.module)
        return link
    hub_base = inbound.ctx.url(f"/ocpi/2.2.1/{inbound.interface.lower()}/{inbound.module}")
    return f"{link[:start]}<{hub_base}{url[len(base) :]}>{link[end + 1 :]}"
