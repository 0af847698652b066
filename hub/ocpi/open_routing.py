"""Open routing (no ``OCPI-to-*``) of sessions and authorisations, and the indexes that make it possible.

OCPI leaves it to the hub how to find the receiver (issue #501). Sessions go to the token owner named in
``cdr_token`` (a PATCH, which need not carry it, by the session index); a real-time authorisation to the
eMSP that pushed the token. Direct pushes of locations, sessions and tokens are watched to keep the indexes
current (ocpi-hub-notes §12.2, §12.4). What cannot be resolved is 4001, or 2004 for an unknown token.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.errors import InvalidParameters, UnknownReceiver, UnknownToken
from hub.ocpi import indexes
from hub.ocpi.broadcast import to_hub
from hub.ocpi.client import OcpiReply
from hub.ocpi.relay import Inbound, answer, forward
from hub.oicp import directory, from_ocpi
from schemas.canonical.party import PartyRef, Protocol, Role


def _accepted(reply: OcpiReply) -> bool:
    return reply.status < 300 and reply.status_code == 1000


def _ref(data: Any, what: str) -> PartyRef:
    try:
        return PartyRef(country_code=str(data["country_code"]), party_id=str(data["party_id"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidParameters(f"{what} needs a valid country_code and party_id", field=what) from exc


# --- sessions ----------------------------------------------------------------------------------------


def is_session_push(inbound: Inbound) -> bool:
    return (
        inbound.module == "sessions"
        and inbound.interface == "RECEIVER"
        and inbound.method in ("PUT", "PATCH")
    )


async def session_push(inbound: Inbound) -> web.StreamResponse:
    """Sessions are never broadcast (GDPR): TO = hub or no TO means 'to the token owner'."""
    body = inbound.json
    session_id = inbound.segments[2] if len(inbound.segments) >= 3 else None
    receiver = inbound.routing.receiver
    if to_hub(inbound):
        receiver = await _session_owner(inbound, body, session_id)
    assert receiver is not None
    target, reply = await forward(inbound, receiver, receiver_header=receiver, prefer=Role.EMSP)
    if _accepted(reply) and session_id and inbound.method == "PUT":
        await indexes.remember(inbound.ctx.db, indexes.SESSION, session_id, inbound.sender, peer=target.ref)
    return answer(inbound, reply, target.ref)


async def _session_owner(inbound: Inbound, body: Any, session_id: str | None) -> PartyRef:
    if isinstance(body, dict) and isinstance(body.get("cdr_token"), dict):
        return _ref(body["cdr_token"], "cdr_token")
    if session_id is not None:
        peer = await indexes.peer(inbound.ctx.db, indexes.SESSION, session_id, inbound.sender)
        if peer is not None:
            return peer
    raise UnknownReceiver("cannot tell whose session this is: no OCPI-to-* headers and no cdr_token")


def is_charging_preferences(inbound: Inbound) -> bool:
    return (
        inbound.module == "sessions"
        and inbound.interface == "SENDER"
        and inbound.method == "PUT"
        and len(inbound.segments) == 2
        and inbound.segments[1] == "charging_preferences"
        and to_hub(inbound)
    )


async def charging_preferences(inbound: Inbound) -> web.StreamResponse:
    """The URL names only the session: the CPO that reported it is found in the session index (§6.2)."""
    session_id = inbound.segments[0]
    owner = await indexes.owner(inbound.ctx.db, indexes.SESSION, session_id)
    if owner is None:
        raise UnknownReceiver(f"no CPO has reported session {session_id} through the hub")
    target, reply = await forward(inbound, owner, receiver_header=owner, prefer=Role.CPO)
    return answer(inbound, reply, target.ref)


# --- real-time authorisation -------------------------------------------------------------------------


def is_authorize(inbound: Inbound) -> bool:
    return (
        inbound.module == "tokens"
        and inbound.interface == "SENDER"
        and inbound.method == "POST"
        and len(inbound.segments) == 2
        and inbound.segments[1] == "authorize"
    )


async def authorize(inbound: Inbound) -> web.StreamResponse:
    """Direct when TO names the eMSP; otherwise by the token index; unknown token: HTTP 404 + 2004.

    A token no OCPI eMSP published may belong to an OICP EMP: then the OICP side decides
    (hub/oicp/from_ocpi.py), from pushed authentication data or by AuthorizeStart.
    """
    receiver = inbound.routing.receiver
    uid = inbound.segments[0]
    token_type = inbound.request.query.get("type", "RFID")
    if to_hub(inbound):
        receiver = await indexes.owner(inbound.ctx.db, indexes.TOKEN, indexes.token_key(uid, token_type))
        if receiver is None:
            return await _authorize_by_oicp_broadcast(inbound, uid, token_type)
    assert receiver is not None
    target = await inbound.core.resolve(receiver, prefer=Role.EMSP)
    if target.protocol == Protocol.OICP:
        await inbound.core.check_agreement(inbound.sender, inbound.sender_roles, target.ref, target.roles)
        inbound.core.require_connected(target)
        emp = await directory.by_ref(inbound.ctx.db, target.ref, Role.EMSP)
        if emp is None:
            raise UnknownReceiver(f"{target.ref} is not an eMSP")
        return inbound.ok(await from_ocpi.authorize(inbound, [emp], uid, token_type))
    target, reply = await forward(inbound, receiver, receiver_header=receiver, prefer=Role.EMSP)
    return answer(inbound, reply, target.ref)


async def _authorize_by_oicp_broadcast(inbound: Inbound, uid: str, token_type: str) -> web.StreamResponse:
    emps = await from_ocpi.oicp_candidates(inbound)
    if emps:
        info = await from_ocpi.authorize(inbound, emps, uid, token_type)
        if info["allowed"] == "ALLOWED" or len(emps) == 1:
            return inbound.ok(info)
    raise UnknownToken(f"no eMSP has published {token_type} token {uid}")


# --- watching direct pushes --------------------------------------------------------------------------


def is_direct_indexed_push(inbound: Inbound) -> bool:
    return (
        inbound.module in ("locations", "tokens")
        and inbound.interface == "RECEIVER"
        and inbound.method in ("PUT", "PATCH")
        and not to_hub(inbound)
        and len(inbound.segments) >= 3
    )


async def direct_indexed_push(inbound: Inbound) -> web.StreamResponse:
    """A push to one party: relayed as usual, and remembered for open routing if the receiver took it."""
    receiver = inbound.routing.receiver
    assert receiver is not None
    target, reply = await forward(inbound, receiver)
    if _accepted(reply):
        owner, object_id = (
            _ref(dict(zip(("country_code", "party_id"), inbound.segments, strict=False)), "url"),
            (inbound.segments[2]),
        )
        if inbound.module == "locations":
            await indexes.remember(inbound.ctx.db, indexes.LOCATION, object_id, owner)
        else:
            token_type = inbound.request.query.get("type", "RFID")
            await indexes.remember(
                inbound.ctx.db, indexes.TOKEN, indexes.token_key(object_id, token_type), owner
            )
    return answer(inbound, reply, target.ref)
