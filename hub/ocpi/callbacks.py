"""Commands and charging profiles through the hub: the asynchronous ``response_url`` proxied.

An eMSP (or SCSP) sends the CPO a request with a ``response_url`` where the CPO POSTs the outcome later
(ocpi-hub-notes §6.6, §6.7). The partners cannot call each other, and the eMSP's URL must never reach the
CPO (checklist item 48), so the hub stands in::

    eMSP --POST START_SESSION {response_url: eMSP URL}--> hub     store a Callback row, id unguessable
    hub  --POST START_SESSION {response_url: hub URL}---> CPO     only response_url changed
    CPO  --CommandResponse (sync)--> hub --unchanged--> eMSP      expiry = timeout + margin (item 50)
    CPO  --POST hub URL (CommandResult)--> hub                    only from the platform it went to (item 49)
    hub  --POST eMSP URL, FROM = CPO, TO = eMSP, same X-Correlation-ID--> eMSP

Charging profiles work the same way, with the URL in the query string on GET and DELETE (item 51).
The row is written before the request leaves, because a CPO may POST the result before its synchronous
answer has reached the hub.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import structlog
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import delete, or_, update
from sqlmodel import col

from hub.crypto import new_token
from hub.errors import (
    Forbidden,
    ForwardTimeout,
    HubError,
    InvalidParameters,
    MethodNotAllowed,
    ReceiverNotConnected,
    RoutingError,
    UnknownReceiver,
)
from hub.middleware import CORRELATION_ID
from hub.ocpi import indexes
from hub.ocpi.client import OcpiReply
from hub.ocpi.context import VERSION, OcpiContext
from hub.ocpi.relay import Inbound, answer, connection_of, forward, reachable, send, timeout_for
from hub.oicp import commands as oicp_commands
from hub.routing import Target
from hub.store.models import Callback, OcpiConnection, Party
from hub.store.types import utcnow
from hub.validation import parse_model
from schemas.canonical.party import ConnectionStatus, PartyRef, Protocol, Role
from schemas.ocpi.v2_2_1.chargingprofiles import (
    ActiveChargingProfileResult,
    ChargingProfileResponse,
    ChargingProfileResult,
    ClearProfileResult,
    SetChargingProfile,
)
from schemas.ocpi.v2_2_1.commands import (
    CancelReservation,
    CommandResponse,
    CommandResult,
    CommandType,
    ReserveNow,
    StartSession,
    StopSession,
    UnlockConnector,
)
from schemas.ocpi.v2_2_1.common import OcpiModel

log = structlog.get_logger("hub.ocpi.callbacks")

Handler = Callable[[Inbound], Awaitable[web.StreamResponse]]
Matcher = Callable[[Inbound], bool]

COMMAND = "command"
CHARGING_PROFILE = "chargingprofile"
# How long a mapping outlives the CPO's announced timeout: results that arrive a little late still land.
EXPIRY_MARGIN = timedelta(seconds=60)
# A CPO announcing a timeout of years must not pin a row for years.
MAX_TIMEOUT = timedelta(hours=24)

_Command = StartSession | StopSession | ReserveNow | CancelReservation | UnlockConnector
_COMMAND_MODELS: dict[CommandType, type[_Command]] = {
    CommandType.START_SESSION: StartSession,
    CommandType.STOP_SESSION: StopSession,
    CommandType.RESERVE_NOW: ReserveNow,
    CommandType.CANCEL_RESERVATION: CancelReservation,
    CommandType.UNLOCK_CONNECTOR: UnlockConnector,
}
# Open routing of a command (§7 routing matrix): which index, keyed by which body field.
_ROUTE_BY: dict[CommandType, tuple[str, str]] = {
    CommandType.START_SESSION: (indexes.LOCATION, "location_id"),
    CommandType.RESERVE_NOW: (indexes.LOCATION, "location_id"),
    CommandType.UNLOCK_CONNECTOR: (indexes.LOCATION, "location_id"),
    CommandType.STOP_SESSION: (indexes.SESSION, "session_id"),
    CommandType.CANCEL_RESERVATION: (indexes.RESERVATION, "reservation_id"),
}
# Each charging-profile request has its own result object (§6.7); the row's ``detail`` names it.
_PROFILE_RESULTS: dict[str, type[OcpiModel]] = {
    "GET": ActiveChargingProfileResult,
    "PUT": ChargingProfileResult,
    "DELETE": ClearProfileResult,
}


class UnknownCallback(InvalidParameters):
    """A result POSTed to a hub URL that is unknown, used up or expired: HTTP 404 with OCPI 2001 (item 49)."""

    ocpi_http_status = 404
    http_status = 404
    title = "Unknown or expired result URL"


# --- matchers -----------------------------------------------------------------------------------------


def is_command(inbound: Inbound) -> bool:
    return inbound.module == "commands" and inbound.interface == "RECEIVER"


def is_command_result(inbound: Inbound) -> bool:
    return inbound.module == "commands" and inbound.interface == "SENDER" and inbound.method == "POST"


def is_profile_request(inbound: Inbound) -> bool:
    return inbound.module == "chargingprofiles" and inbound.interface == "RECEIVER"


def is_profile_result(inbound: Inbound) -> bool:
    return inbound.module == "chargingprofiles" and inbound.interface == "SENDER" and inbound.method == "POST"


def is_open_active_profile(inbound: Inbound) -> bool:
    """An unsolicited ActiveChargingProfile without TO; with TO, the default direct relay is right."""
    return (
        inbound.module == "chargingprofiles"
        and inbound.interface == "SENDER"
        and inbound.method == "PUT"
        and inbound.routing.receiver is None
    )


# --- commands (§6.6) ----------------------------------------------------------------------------------


async def command_request(inbound: Inbound) -> web.StreamResponse:
    """eMSP -> CPO: validate, stand in for the response_url, relay the CommandResponse unchanged."""
    if inbound.method != "POST":
        raise MethodNotAllowed(f"commands are POSTed, not sent with {inbound.method}")
    command = _command_type(inbound.segments)
    model = parse_model(_COMMAND_MODELS[command], inbound.json)
    kind, key_field = _ROUTE_BY[command]
    cpo = await _receiver(inbound, kind, str(getattr(model, key_field)))
    target = await inbound.core.resolve(cpo, prefer=Role.CPO)
    if target.protocol == Protocol.OICP:  # synchronous OICP remote commands behind OCPI's async ones
        await inbound.core.check_agreement(inbound.sender, inbound.sender_roles, target.ref, target.roles)
        inbound.core.require_connected(target)
        _check_url(model.response_url, inbound.own)
        return await oicp_commands.command(inbound, target, command, inbound.json)
    row = await _open(inbound, cpo, COMMAND, command, model.response_url)
    hub_url = inbound.ctx.url(f"/ocpi/{VERSION}/sender/commands/{command}/{row.id}")
    target, reply = await _forward(
        inbound, row, body=rewrite_response_url(inbound.body, inbound.json, hub_url)
    )
    timeout = _accepted_timeout(reply, CommandResponse)
    # A CPO cancelling a reservation later POSTs to the same URL, so it lives until expiry_date (§6.6).
    until = model.expiry_date if isinstance(model, ReserveNow) else None
    await _settle(inbound.ctx, row.id, None if timeout is None else _expiry(timeout, until))
    if timeout is not None and isinstance(model, ReserveNow):
        await indexes.remember(
            inbound.ctx.db, indexes.RESERVATION, model.reservation_id, target.ref, peer=inbound.sender
        )
    log.info(
        "command.forwarded",
        command=command.value,
        sender=str(inbound.sender),
        receiver=str(target.ref),
        accepted=timeout is not None,
    )
    return answer(inbound, reply, target.ref)


async def command_result(inbound: Inbound) -> web.StreamResponse:
    """CPO -> hub URL: the CommandResult, relayed to the eMSP's own response_url."""
    if len(inbound.segments) != 2:
        raise UnknownCallback("a command result goes to the URL the hub put in response_url")
    command, callback_id = inbound.segments
    row = await _usable(inbound, callback_id, COMMAND, command)
    parse_model(CommandResult, inbound.json)
    return await _deliver(inbound, row, reusable=command == CommandType.RESERVE_NOW)


def _command_type(segments: list[str]) -> CommandType:
    name = segments[0] if len(segments) == 1 else "/".join(segments)
    try:
        return CommandType(name)
    except ValueError:
        raise InvalidParameters(f"unknown command {name!r}", field="command") from None


# --- charging profiles (§6.7) -------------------------------------------------------------------------


async def profile_request(inbound: Inbound) -> web.StreamResponse:
    """SCSP/eMSP -> CPO: GET, PUT or DELETE a profile; the response_url is in the query or the body."""
    if inbound.method not in _PROFILE_RESULTS:
        raise MethodNotAllowed(f"{inbound.method} is not defined on the chargingprofiles receiver")
    session_id = _session_id(inbound.segments)
    original = _profile_response_url(inbound)
    cpo = await _receiver(inbound, indexes.SESSION, session_id)
    row = await _open(inbound, cpo, CHARGING_PROFILE, inbound.method, original)
    hub_url = inbound.ctx.url(f"/ocpi/{VERSION}/sender/chargingprofiles/results/{row.id}")
    if inbound.method == "PUT":
        target, reply = await _forward(
            inbound, row, body=rewrite_response_url(inbound.body, inbound.json, hub_url)
        )
    else:
        target, reply = await _forward(inbound, row, tail=_tail_with_response_url(inbound, hub_url))
    timeout = _accepted_timeout(reply, ChargingProfileResponse)
    await _settle(inbound.ctx, row.id, None if timeout is None else _expiry(timeout, None))
    log.info(
        "chargingprofile.forwarded",
        method=inbound.method,
        sender=str(inbound.sender),
        receiver=str(target.ref),
        accepted=timeout is not None,
    )
    return answer(inbound, reply, target.ref)


async def profile_result(inbound: Inbound) -> web.StreamResponse:
    """CPO -> hub URL: the profile result, relayed to the requester's own response_url."""
    if len(inbound.segments) != 2 or inbound.segments[0] != "results":
        raise UnknownCallback("a charging profile result goes to the URL the hub put in response_url")
    row = await _usable(inbound, inbound.segments[1], CHARGING_PROFILE, None)
    parse_model(_PROFILE_RESULTS.get(row.detail, ChargingProfileResult), inbound.json)
    return await _deliver(inbound, row, reusable=False)


async def active_profile(inbound: Inbound) -> web.StreamResponse:
    """CPO -> SCSP/eMSP ActiveChargingProfile without TO: to the session's other party (§6.7, §7)."""
    session_id = _session_id(inbound.segments)
    peer = await indexes.peer(inbound.ctx.db, indexes.SESSION, session_id, inbound.sender)
    if peer is None:
        raise UnknownReceiver(
            f"no OCPI-to-* headers, and the hub cannot resolve who follows session {session_id}"
        )
    target, reply = await forward(inbound, peer)
    return answer(inbound, reply, target.ref)


def _session_id(segments: list[str]) -> str:
    if len(segments) != 1:
        raise InvalidParameters("the path must end in one session_id", field="session_id")
    return segments[0]


def _profile_response_url(inbound: Inbound) -> str:
    if inbound.method == "PUT":
        return parse_model(SetChargingProfile, inbound.json).response_url
    query = inbound.request.rel_url.query
    if inbound.method == "GET" and not query.get("duration", "").isdigit():
        raise InvalidParameters("duration (seconds) is required on GET", field="duration")
    url = query.get("response_url")
    if not url:
        raise InvalidParameters("response_url is required", field="response_url")
    return url


# --- open routing -------------------------------------------------------------------------------------


async def index_owner(ctx: OcpiContext, kind: str, key: str) -> PartyRef | None:
    """The one party that owns ``key`` in the ``kind`` index; None when unknown or ambiguous."""
    return await indexes.owner(ctx.db, kind, key)


async def _receiver(inbound: Inbound, kind: str, key: str) -> PartyRef:
    """TO when given; otherwise the owner the index knows (open routing, §2.7), or 4001."""
    to = inbound.routing.receiver
    if to is not None:
        if inbound.core.is_hub(to):
            raise RoutingError(f"{inbound.module} addressed to the hub itself is not supported")
        return to
    owner = await index_owner(inbound.ctx, kind, key)
    if owner is None:
        raise UnknownReceiver(f"no OCPI-to-* headers, and the hub cannot resolve the CPO of {kind} {key}")
    return owner


# --- the request leg: stand in for the response_url ---------------------------------------------------


async def _open(inbound: Inbound, receiver: PartyRef, kind: str, detail: str, original_url: str) -> Callback:
    """Store the mapping before the request leaves: the result may overtake the synchronous answer."""
    _check_url(original_url, inbound.own)
    target, _ = await reachable(inbound, receiver, prefer=Role.CPO)
    correlation_id = inbound.request[CORRELATION_ID]
    row = Callback(
        id=new_token(),
        kind=kind,
        detail=detail,
        target_url=original_url,
        caller_party_fk=target.party_fk,
        target_party_fk=inbound.caller.party_fk,
        sender_country_code=target.ref.country_code,
        sender_party_id=target.ref.party_id,
        receiver_country_code=inbound.sender.country_code,
        receiver_party_id=inbound.sender.party_id,
        # The column holds 64 characters; a longer id is not kept (the result then carries its own).
        correlation_id=correlation_id if len(correlation_id) <= 64 else None,
        # Provisional, until the synchronous answer says how long the CPO may take.
        expires_at=utcnow() + timedelta(seconds=timeout_for(inbound)) + EXPIRY_MARGIN,
    )
    async with inbound.ctx.db.transaction() as session:
        session.add(row)
    return row


async def _forward(
    inbound: Inbound, row: Callback, *, body: bytes | None = None, tail: str | None = None
) -> tuple[Target, OcpiReply]:
    cpo = _responder(row)
    try:
        return await forward(inbound, cpo, body=body, tail=tail, prefer=Role.CPO)
    except HubError as exc:
        await _settle(inbound.ctx, row.id, None)  # nothing reached the CPO, or nothing it said did
        # The client's messages (those with a cause) name the URL, which holds the hub's result URL.
        if isinstance(exc, ForwardTimeout):
            raise ForwardTimeout(f"{cpo} did not answer in time") from exc
        if isinstance(exc, ReceiverNotConnected) and exc.__cause__ is not None:
            raise ReceiverNotConnected(f"{cpo} could not be reached") from exc
        raise


def _check_url(url: str, requester: OcpiConnection) -> None:
    """The hub will POST the result there, so it must be an absolute http(s) URL on the requester's own
    hosts (those of its versions URL and endpoints): never a place inside the hub's network it names."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise InvalidParameters("response_url must be an absolute http(s) URL", field="response_url")
    own = {
        urlsplit(u).hostname
        for u in (requester.versions_url, *(e.get("url", "") for e in requester.endpoints))
    }
    if parts.hostname.lower() not in {host.lower() for host in own if host}:
        log.warning("security.response_url_refused", platform=requester.party_fk, host=parts.hostname)
        raise InvalidParameters(
            "response_url must be on one of your platform's own hosts (those of your OCPI endpoints)",
            field="response_url",
        )


def rewrite_response_url(raw: bytes, body: Mapping[str, Any], url: str) -> bytes:
    """The request with only ``response_url`` changed.

    The value is replaced in the caller's own bytes when it appears there exactly once as written by a
    JSON encoder, so numbers (a profile's ``limit``), spacing and unknown fields pass byte for byte (§7).
    Otherwise (escaped slashes, the same pair twice) the body is re-serialised: a dict keeps insertion
    order, so every key stays where it was, but a number may be written differently (``1.10`` -> ``1.1``).
    """
    text = raw.decode("utf-8")
    pair = re.compile(
        r'("response_url"\s*:\s*)' + re.escape(json.dumps(body["response_url"], ensure_ascii=False))
    )
    if len(pair.findall(text)) == 1:
        encoded = json.dumps(url, ensure_ascii=False)
        replaced = pair.sub(lambda match: match.group(1) + encoded, text)
        # The one match could sit in a nested object while the top-level value is spelt otherwise.
        if json.loads(replaced).get("response_url") == url:
            return replaced.encode("utf-8")
    rewritten = {**body, "response_url": url}
    return json.dumps(rewritten, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _tail_with_response_url(inbound: Inbound, url: str) -> str:
    path = inbound.tail.partition("?")[0]
    query = [
        (name, url if name == "response_url" else value) for name, value in inbound.request.query.items()
    ]
    return f"{path}?{urlencode(query)}"


def _accepted_timeout(reply: OcpiReply, model: type[CommandResponse | ChargingProfileResponse]) -> int | None:
    """The CPO's timeout when it accepted the request; None when it did not (or answered nonsense)."""
    if reply.status >= 300 or reply.status_code != 1000:
        return None
    try:
        response = model.model_validate(reply.data)
    except ValidationError:
        return None
    return response.timeout if response.result == "ACCEPTED" else None


def _expiry(timeout: int, until: datetime | None) -> datetime:
    """Timeout plus margin (item 50); a reservation's mapping lasts at least until its expiry_date."""
    ends = utcnow() + min(timedelta(seconds=max(timeout, 0)), MAX_TIMEOUT)
    if until is not None:
        ends = max(ends, until)
    return ends + EXPIRY_MARGIN


async def _settle(ctx: OcpiContext, callback_id: str, expires_at: datetime | None) -> None:
    """Set the real expiry; None means the CPO did not accept, so no result can come: drop the mapping."""
    async with ctx.db.transaction() as session:
        if expires_at is None:
            await session.execute(delete(Callback).where(col(Callback.id) == callback_id))
        else:
            await session.execute(
                update(Callback).where(col(Callback.id) == callback_id).values(expires_at=expires_at)
            )


# --- the result leg: back to the original response_url -------------------------------------------------


async def _usable(inbound: Inbound, callback_id: str, kind: str, detail: str | None) -> Callback:
    """The mapping behind a hub URL, if this caller may use it now; 404/2001 or a refusal otherwise."""
    async with inbound.ctx.db.session() as session:
        row = await session.get(Callback, callback_id)
    if row is None or row.kind != kind or (detail is not None and row.detail != detail):
        raise UnknownCallback("no result is expected at this URL")
    if row.caller_party_fk != inbound.caller.party_fk:
        # Only the platform the request went to may answer it (item 49); nothing is forwarded.
        log.warning(
            "security.callback_refused",
            kind=kind,
            platform=inbound.caller.party_fk,
            expected=row.caller_party_fk,
        )
        raise Forbidden("this result URL was handed to another platform")
    if row.completed_at is not None or _expired(row):
        raise UnknownCallback("this result URL has expired or was used already")
    return row


def _expired(row: Callback) -> bool:
    return row.expires_at is not None and row.expires_at <= utcnow()


async def _deliver(inbound: Inbound, row: Callback, *, reusable: bool) -> web.StreamResponse:
    """POST the body unchanged to the original URL; the requester's answer goes back to the CPO."""
    if not reusable and not await _claim(inbound.ctx, row.id):
        raise UnknownCallback("this result URL has expired or was used already")
    try:
        reply = await _post_result(inbound, row)
    except (ForwardTimeout, ReceiverNotConnected):
        if not reusable:
            await _release(inbound.ctx, row.id)  # not delivered: the CPO may try again before expiry
        raise
    log.info(
        "callback.result_relayed",
        kind=row.kind,
        detail=row.detail,
        sender=str(_responder(row)),
        receiver=str(_requester(row)),
        http=reply.status,
        ocpi=reply.status_code,
    )
    return answer(inbound, reply, _requester(row))


async def _post_result(inbound: Inbound, row: Callback) -> OcpiReply:
    requester = _requester(row)
    connection = await _platform(inbound.ctx, row.target_party_fk, requester)
    try:
        return await send(
            inbound.ctx,
            connection,
            "POST",
            row.target_url,
            sender=_responder(row),
            receiver=requester,
            body=inbound.body,
            correlation_id=row.correlation_id,
            timeout=inbound.ctx.settings.ocpi.timeout,
        )
    # The client's messages name the URL, which is the requester's and must not reach the CPO (item 48).
    except ForwardTimeout as exc:
        raise ForwardTimeout(f"{requester} did not answer the result in time") from exc
    except ReceiverNotConnected as exc:
        raise ReceiverNotConnected(f"{requester} could not be reached with the result") from exc


async def _platform(ctx: OcpiContext, party_fk: int | None, ref: PartyRef) -> OcpiConnection:
    """The requester's platform, if it is still connected and registered."""
    async with ctx.db.session() as session:
        party = None if party_fk is None else await session.get(Party, party_fk)
    if party is None or party.status != ConnectionStatus.CONNECTED:
        raise ReceiverNotConnected(f"{ref} is not CONNECTED")
    assert party.id is not None
    connection = await connection_of(ctx, party.id)
    if connection is None:
        raise ReceiverNotConnected(f"{ref} has not completed its OCPI registration")
    return connection


async def _claim(ctx: OcpiContext, callback_id: str) -> bool:
    """Mark the mapping used, atomically, so two result POSTs cannot both go through."""
    now = utcnow()
    async with ctx.db.transaction() as session:
        claimed = await session.execute(
            update(Callback)
            .where(
                col(Callback.id) == callback_id,
                col(Callback.completed_at).is_(None),
                col(Callback.expires_at) > now,
            )
            .values(completed_at=now)
        )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


async def _release(ctx: OcpiContext, callback_id: str) -> None:
    async with ctx.db.transaction() as session:
        await session.execute(
            update(Callback).where(col(Callback.id) == callback_id).values(completed_at=None)
        )


def _responder(row: Callback) -> PartyRef:
    """The CPO: FROM on the result."""
    return PartyRef(country_code=row.sender_country_code, party_id=row.sender_party_id)


def _requester(row: Callback) -> PartyRef:
    """The eMSP or SCSP: TO on the result."""
    return PartyRef(country_code=row.receiver_country_code, party_id=row.receiver_party_id)


# --- housekeeping -------------------------------------------------------------------------------------


async def purge_expired(ctx: OcpiContext) -> int:
    """Delete used or expired command and charging-profile mappings; returns how many went."""
    async with ctx.db.transaction() as session:
        purged = await session.execute(
            delete(Callback).where(
                col(Callback.kind).in_((COMMAND, CHARGING_PROFILE)),
                or_(col(Callback.completed_at).is_not(None), col(Callback.expires_at) <= utcnow()),
            )
        )
    count = int(purged.rowcount)  # type: ignore[attr-defined]
    if count:
        log.info("callbacks.purged", count=count)
    return count


# (matcher, handler) pairs for hub.ocpi.functional.HANDLERS; none of them overlap, so order is free.
CALLBACK_HANDLERS: list[tuple[Matcher, Handler]] = [
    (is_command, command_request),
    (is_command_result, command_result),
    (is_profile_request, profile_request),
    (is_profile_result, profile_result),
    (is_open_active_profile, active_profile),
]
