"""Broadcast push and GET All (ocpi-hub-notes §2.7, checklist 27 to 32, 39 to 42).

A push of a Location, Tariff or Token with TO = the hub (or no TO at all) is validated, answered by the
hub itself, stored for GET All, and sent on to every connected platform of the opposite role that
implements the module's receiver, with FROM = the hub and the owner's URL unchanged. Receivers' errors are
logged, never relayed, and never retried (§2.8: pushes are not queued). A GET with TO = the hub on a
Sender interface is answered from what was stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.errors import HubError, InvalidParameters, NotFound
from hub.keys import BROADCASTER
from hub.middleware import CORRELATION_ID
from hub.ocpi import hubstore, indexes
from hub.ocpi.context import OcpiContext
from hub.ocpi.endpoints import find_endpoint
from hub.ocpi.envelope import ocpi_timestamp
from hub.ocpi.pagination import page_headers, page_request
from hub.ocpi.relay import Inbound, roles_of, send
from hub.store.models import OcpiConnection, Party
from hub.store.types import utcnow
from hub.validation import first_error
from schemas.canonical.party import ConnectionStatus, PartyRef, Protocol, Role
from schemas.ocpi.v2_2_1 import EVSE, Connector, Location, Tariff, Token, validate_patch

log = structlog.get_logger("hub.ocpi.broadcast")

BROADCAST_MODULES = ("locations", "tariffs", "tokens")
_METHODS = {"locations": ("PUT", "PATCH"), "tariffs": ("PUT", "DELETE"), "tokens": ("PUT", "PATCH")}
# Who hears a broadcast (§2.7): a CPO's reaches eMSPs, NSPs and OTHER; an eMSP's or OTHER's reaches CPOs.
_AUDIENCE = {
    Role.CPO: frozenset({Role.EMSP, Role.NSP, Role.OTHER, Role.SCSP}),
    Role.EMSP: frozenset({Role.CPO}),
    Role.OTHER: frozenset({Role.CPO}),
    Role.NSP: frozenset({Role.CPO}),
    Role.SCSP: frozenset({Role.CPO}),
}


def to_hub(inbound: Inbound) -> bool:
    receiver = inbound.routing.receiver
    return receiver is None or inbound.core.is_hub(receiver)


def is_push(inbound: Inbound) -> bool:
    return inbound.module in BROADCAST_MODULES and inbound.interface == "RECEIVER" and to_hub(inbound)


def is_get_all(inbound: Inbound) -> bool:
    return (
        inbound.module in BROADCAST_MODULES
        and inbound.method == "GET"
        and inbound.interface == "SENDER"
        and to_hub(inbound)
    )


# --- validation --------------------------------------------------------------------------------------


def _validate(model: type[BaseModel], body: Any, patch: bool) -> None:
    if not isinstance(body, dict):
        raise InvalidParameters("the body must be a JSON object", field="body")
    try:
        if patch:
            validate_patch(model, body)
        else:
            model.model_validate(body)
    except ValidationError as exc:
        raise first_error(exc) from exc


def _same(body: dict[str, Any], field: str, expected: str) -> None:
    if field in body and not str(body[field]).upper() == expected.upper():
        raise InvalidParameters(
            f"{field} {body[field]!r} in the body differs from {expected!r} in the URL", field=field
        )


def _check(inbound: Inbound, owner: PartyRef, segments: list[str], body: Any) -> None:
    """Client-owned object rules: the URL owner is the sender, URL ids equal body ids (checklist 41, 42)."""
    if owner != inbound.sender:
        raise InvalidParameters(
            f"objects of {inbound.sender} are pushed under its own URL, not {owner}", field="url"
        )
    if inbound.method == "DELETE":
        return
    patch = inbound.method == "PATCH"
    depth = len(segments)
    if inbound.module == "locations":
        model: type[BaseModel] = (Location, EVSE, Connector)[depth - 3]
        id_field = ("id", "uid", "id")[depth - 3]
    else:
        model, id_field = (Tariff, "id") if inbound.module == "tariffs" else (Token, "uid")
    _validate(model, body, patch)
    _same(body, id_field, segments[-1])
    if depth == 3:
        _same(body, "country_code", owner.country_code)
        _same(body, "party_id", owner.party_id)


def _segments(inbound: Inbound) -> tuple[PartyRef, list[str]]:
    segments = inbound.segments
    most = 5 if inbound.module == "locations" else 3
    if not 3 <= len(segments) <= most:
        raise InvalidParameters(
            f"{inbound.module} pushes go to /{{country_code}}/{{party_id}}/{{id}}"
            + ("[/{evse_uid}[/{connector_id}]]" if inbound.module == "locations" else ""),
            field="url",
        )
    if inbound.method not in _METHODS[inbound.module]:
        raise InvalidParameters(f"{inbound.method} is not part of the {inbound.module} receiver interface")
    try:
        owner = PartyRef(country_code=segments[0], party_id=segments[1])
    except ValueError as exc:
        raise InvalidParameters(
            f"{segments[0]}/{segments[1]} is not a country code and party id", field="url"
        ) from exc
    return owner, segments


# --- push to the hub ---------------------------------------------------------------------------------


async def push(inbound: Inbound) -> web.StreamResponse:
    owner, segments = _segments(inbound)
    body = hubstore.load_exact(inbound.body) if inbound.body else None
    _check(inbound, owner, segments, body)
    await _store(inbound, owner, segments, body)
    inbound.request.app[BROADCASTER].fan_out(inbound, owner)
    return inbound.ok()


async def _store(inbound: Inbound, owner: PartyRef, segments: list[str], body: Any) -> None:
    db, module, object_id = inbound.ctx.db, inbound.module, segments[2]
    object_type = inbound.request.query.get("type", "RFID").upper() if module == "tokens" else ""
    if inbound.method == "DELETE":
        if not await hubstore.delete(db, module, owner.country_code, owner.party_id, object_id):
            raise NotFound(f"no {module} {object_id} of {owner} at the hub")
        return
    patch = inbound.method == "PATCH"

    def build(stored: str | None) -> tuple[str, datetime]:
        current = hubstore.load_exact(stored) if stored is not None else None
        if module == "locations":
            merged = hubstore.merge_location(
                current,
                body,
                evse_uid=segments[3] if len(segments) > 3 else None,
                connector_id=segments[4] if len(segments) > 4 else None,
                patch=patch,
            )
        elif patch:
            if current is None:
                raise hubstore.UnknownObject(f"unknown {module} {object_id}; PUT it first", field="uid")
            merged = {**current, **body}
        else:
            merged = body
        text = inbound.body.decode("utf-8") if merged is body else hubstore.dump_exact(merged)
        return text, hubstore.parse_datetime(merged.get("last_updated", ocpi_timestamp(utcnow())))

    also = None
    if not patch and module != "tariffs":
        # A PATCH changes an object that is already stored, so already indexed: every EVSE status change
        # comes this way, and refreshing the index on each cost a third of its time.
        kind, index_key = (
            (indexes.LOCATION, object_id)
            if module == "locations"
            else (indexes.TOKEN, indexes.token_key(object_id, object_type))
        )

        async def also(session: AsyncSession) -> None:
            await indexes.remember_in(session, kind, index_key, owner)

    # The merge, the write and the routing index in one transaction with the row locked.
    await hubstore.update(
        db,
        module,
        owner.country_code,
        owner.party_id,
        object_id,
        object_type=object_type,
        party_fk=inbound.caller.party_fk,
        build=build,
        also=also,
    )


# --- fan-out -----------------------------------------------------------------------------------------


class Broadcaster:
    """Sends broadcasts in the background with bounded concurrency; shutdown waits for what is under way."""

    def __init__(self, ctx: OcpiContext, *, concurrency: int = 64) -> None:
        self._ctx = ctx
        self._hub = PartyRef(country_code=ctx.settings.country_code, party_id=ctx.settings.party_id)
        self._limit = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def fan_out(self, inbound: Inbound, owner: PartyRef) -> None:
        task = asyncio.create_task(
            self._fan_out(
                inbound.module,
                inbound.method,
                inbound.tail,
                inbound.body,
                inbound.caller.party_fk,
                owner,
                inbound.sender_roles,
                inbound.request[CORRELATION_ID],
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publish(
        self, module: str, method: str, tail: str, body: bytes, *, owner: PartyRef, owner_platform: int
    ) -> None:
        """Fan out an object the hub wrote on a CPO's behalf (an OICP CPO's EVSEs as OCPI locations)."""
        task = asyncio.create_task(
            self._fan_out(
                module, method, tail, body, owner_platform, owner, frozenset({Role.CPO}), str(uuid.uuid4())
            )
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self.drain()

    async def _fan_out(
        self,
        module: str,
        method: str,
        tail: str,
        body: bytes,
        sender_platform: int,
        owner: PartyRef,
        owner_roles: frozenset[Role],
        correlation_id: str,
    ) -> None:
        ctx = self._ctx
        audience = frozenset().union(*(_AUDIENCE.get(role, frozenset()) for role in owner_roles))
        # Every status change of every EVSE comes this way: the receivers (and their endpoints' JSON)
        # are read once per ``[ocpi] cache_seconds``, not once per update.
        receivers = await ctx.receivers.get(
            (module, audience, sender_platform),
            lambda: receivers_for(ctx, module, audience, exclude=sender_platform),
        )
        allowed = await _agreed(ctx, owner, owner_roles, receivers)
        results = await asyncio.gather(
            *(self._deliver(r, method, tail, body, correlation_id) for r in allowed), return_exceptions=True
        )
        failed = sum(1 for r in results if r is not True)
        log.info("broadcast.sent", module=module, owner=str(owner), receivers=len(allowed), failed=failed)

    async def _deliver(
        self, receiver: Receiver, method: str, tail: str, body: bytes, correlation_id: str
    ) -> bool:
        async with self._limit:
            try:
                reply = await send(
                    self._ctx,
                    receiver.connection,
                    method,
                    receiver.url + tail,
                    sender=self._hub,
                    receiver=receiver.party,
                    body=body if method != "DELETE" else None,
                    correlation_id=correlation_id,
                )
            except HubError as exc:
                log.info("broadcast.delivery_failed", to=str(receiver.party), error=str(exc))
                return False
        ok = reply.status < 300 and reply.status_code == 1000
        if not ok:
            log.info(
                "broadcast.delivery_refused",
                to=str(receiver.party),
                http=reply.status,
                ocpi=reply.status_code,
            )
        return ok


class Receiver:
    __slots__ = ("connection", "party", "roles", "url")

    def __init__(self, connection: OcpiConnection, party: PartyRef, roles: frozenset[Role], url: str) -> None:
        self.connection, self.party, self.roles, self.url = connection, party, roles, url


async def receivers_for(
    ctx: OcpiContext, module: str, audience: frozenset[Role], *, exclude: int
) -> list[Receiver]:
    """Connected OCPI platforms with a party in ``audience`` and a receiver for ``module``."""
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(OcpiConnection)
            .join(Party, col(Party.id) == col(OcpiConnection.party_fk))
            .where(
                col(Party.status) == ConnectionStatus.CONNECTED.value,
                col(Party.protocol) == Protocol.OCPI.value,
            )
            .where(col(Party.id) != exclude)
        )
        connections = list(rows.scalars())
    found = []
    for connection in connections:
        url = find_endpoint(connection.endpoints, module, "RECEIVER")
        party = _first_in(connection, audience)
        if url is not None and party is not None:
            found.append(Receiver(connection, party, roles_of(connection, party), url.rstrip("/")))
    return found


def _first_in(connection: OcpiConnection, audience: frozenset[Role]) -> PartyRef | None:
    for role in connection.roles:
        if Role(str(role["role"])) in audience:
            return PartyRef(country_code=str(role["country_code"]), party_id=str(role["party_id"]))
    return None


async def _agreed(
    ctx: OcpiContext, owner: PartyRef, owner_roles: frozenset[Role], receivers: list[Receiver]
) -> list[Receiver]:
    """The receivers the owner's objects may reach under the operator's policy (one query, not one each)."""
    from hub import agreements

    if ctx.settings.agreements == "open":
        return receivers

    emsps = (
        await agreements.counterparts(ctx.db, ctx.settings, owner, Role.CPO)
        if Role.CPO in owner_roles
        else None
    )
    cpos = (
        await agreements.counterparts(ctx.db, ctx.settings, owner, Role.EMSP)
        if Role.EMSP in owner_roles
        else None
    )

    def may_reach(receiver: Receiver) -> bool:
        if emsps is not None and Role.EMSP in receiver.roles:
            return receiver.party in emsps
        if cpos is not None and Role.CPO in receiver.roles:
            return receiver.party in cpos
        return True

    return [receiver for receiver in receivers if may_reach(receiver)]


# --- GET All -----------------------------------------------------------------------------------------


def list_response(inbound: Inbound, bodies: Sequence[str], headers: dict[str, str]) -> web.Response:
    """A list answer whose objects are the stored JSON texts, byte for byte."""
    timestamp = ocpi_timestamp(utcnow())
    text = '{"data":[' + ",".join(bodies) + f'],"status_code":1000,"timestamp":"{timestamp}"}}'
    response = inbound.ok(None, headers=headers)
    response.text = text
    response.content_type = "application/json"
    return response


async def get_all(inbound: Inbound) -> web.StreamResponse:
    if inbound.segments:
        return await _get_one(inbound)
    ctx = inbound.ctx
    page = page_request(inbound.request, ctx.settings.ocpi.page_limit)
    bodies, total = await hubstore.page(ctx.db, inbound.module, page)
    headers = page_headers(ctx.url(inbound.request.path), inbound.request, page, total)
    return list_response(inbound, bodies, headers)


async def _get_one(inbound: Inbound) -> web.StreamResponse:
    """A single object from the store (checklist 31); a location's EVSE or connector by sub-path."""
    segments = inbound.segments
    stored = await hubstore.find_by_id(inbound.ctx.db, inbound.module, segments[0])
    if stored is None:
        raise NotFound(f"no {inbound.module} {segments[0]} was broadcast to the hub")
    obj: Any = hubstore.load_exact(stored.body)
    for key, value in zip(("evses", "connectors"), segments[1:3], strict=False):
        id_field = "uid" if key == "evses" else "id"
        obj = next((c for c in obj.get(key) or [] if str(c.get(id_field, "")).upper() == value.upper()), None)
        if obj is None:
            raise NotFound(f"no {key[:-1]} {value} in {segments[0]}")
    return single_response(inbound, hubstore.dump_exact(obj))


def single_response(inbound: Inbound, body: str) -> web.Response:
    """One object answer whose data is the given JSON text, byte for byte."""
    response = inbound.ok(None)
    response.text = '{"data":' + body + f',"status_code":1000,"timestamp":"{ocpi_timestamp(utcnow())}"}}'
    response.content_type = "application/json"
    return response
