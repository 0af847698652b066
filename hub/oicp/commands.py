"""An OCPI eMSP's START_SESSION / STOP_SESSION for an OICP CPO's EVSE (oicp-hub-notes §9).

OICP remote commands are synchronous, OCPI's are not: the hub answers the eMSP's POST at once with a
CommandResponse (ACCEPTED, timeout = ``[oicp] remote_timeout``), sends AuthorizeRemoteStart/Stop to the CPO,
and turns the CPO's acknowledgement into the CommandResult it POSTs to the eMSP's own ``response_url``
(FROM = the CPO, TO = the eMSP). The SessionID the hub mints names the session to the eMSP as well: its
CDR carries it as ``session_id``, and STOP_SESSION names it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from aiohttp import web

from adapters.ocpi import commands as ocpi_commands
from adapters.oicp import remote as oicp_remote
from hub.errors import HubError
from hub.ocpi import indexes
from hub.ocpi.relay import Inbound, connection_of, send
from hub.oicp import directory, sessions
from hub.oicp.context import OicpContext
from hub.oicp.directory import Member
from hub.oicp.from_ocpi import evse_id_of, oicp_ctx
from hub.oicp.sessions import SessionKind
from hub.routing import Target
from hub.store.models import OicpSession
from schemas.canonical.command import CommandOutcome, CommandStatus
from schemas.canonical.party import Role
from schemas.ocpi.v2_2_1.commands import CommandType
from schemas.oicp.v2_3.endpoints import BY_NAME

log = structlog.get_logger("hub.oicp.commands")

SUPPORTED = (CommandType.START_SESSION, CommandType.STOP_SESSION)


async def command(
    inbound: Inbound, target: Target, kind: CommandType, body: dict[str, Any]
) -> web.StreamResponse:
    """Answer the eMSP now; carry the command out over OICP in the background."""
    ctx = oicp_ctx(inbound)
    timeout = int(ctx.settings.oicp.remote_timeout)
    if kind not in SUPPORTED:
        return inbound.ok(
            ocpi_commands.command_response(False, timeout, f"{kind} is not offered by OICP CPOs")
        )
    cpo = await directory.by_ref(ctx.db, target.ref, Role.CPO)
    emp = await directory.by_ref(ctx.db, inbound.sender, Role.EMSP)
    if cpo is None or emp is None:
        return inbound.ok(ocpi_commands.command_response(False, timeout, "not a CPO and eMSP pair"))
    try:
        message, session = await _prepare(ctx, kind, body, cpo, emp)
    except (ValueError, HubError) as exc:
        return inbound.ok(ocpi_commands.command_response(False, timeout, str(exc)))
    task = asyncio.create_task(
        _carry_out(ctx, inbound, kind, message, session, cpo, emp, str(body["response_url"]))
    )
    ctx.background(task)
    return inbound.ok(ocpi_commands.command_response(True, timeout))


async def _prepare(
    ctx: OicpContext, kind: CommandType, body: dict[str, Any], cpo: Member, emp: Member
) -> tuple[dict[str, Any], OicpSession]:
    """The OICP message and the session it belongs to (a new one for a start)."""
    if kind is CommandType.STOP_SESSION:
        stop = ocpi_commands.stop_session_to_canonical(body)
        row = await sessions.require_open(
            ctx.db, stop.session_id, emp_party_fk=emp.party_fk, kind=SessionKind.CHARGING
        )
        message = oicp_remote.remote_stop_body(
            stop,
            row.session_id,
            emp.oicp_id,
            row.evse_id or "",
            emp_partner_session_id=row.emp_partner_session_id,
        )
        return message, row
    start = ocpi_commands.start_session_to_canonical(body)
    evse_id = await evse_id_of(
        ctx,
        cpo.ref,
        {"location_id": start.location_id, "evse_uids": [start.evse_uid] if start.evse_uid else []},
    )
    if evse_id is None:
        raise ValueError(f"no EVSE {start.evse_uid or ''} at location {start.location_id} of {cpo.ref}")
    session_id = sessions.new_session_id()
    message = oicp_remote.remote_start_body(start, session_id, emp.oicp_id, evse_id)
    row = OicpSession(
        session_id=session_id,
        kind=SessionKind.CHARGING,
        cpo_party_fk=cpo.party_fk,
        operator_id=cpo.oicp_id,
        emp_party_fk=emp.party_fk,
        provider_id=emp.oicp_id,
        evse_id=evse_id,
        identification=message["Identification"],
        authorized_by="remote",
        emp_partner_session_id=start.authorization_reference,
        ocpi_ref=f"{emp.ref}:{start.authorization_reference or session_id}",
    )
    await sessions.create(ctx.db, row)
    return message, row


async def _carry_out(
    ctx: OicpContext,
    inbound: Inbound,
    kind: CommandType,
    message: dict[str, Any],
    row: OicpSession,
    cpo: Member,
    emp: Member,
    response_url: str,
) -> None:
    operation = BY_NAME[
        "eRoamingAuthorizeRemoteStart" if kind is CommandType.START_SESSION else "eRoamingAuthorizeRemoteStop"
    ]
    try:
        answer = await ctx.client.call(
            await ctx.link(cpo.party_fk),
            operation,
            message,
            params={"providerID": emp.oicp_id, "externalId": emp.oicp_id},
            timeout=ctx.settings.oicp.remote_timeout,
        )
        outcome = oicp_remote.outcome_of_ack(answer)
    except HubError as exc:
        outcome = CommandOutcome(
            accepted=False,
            status=CommandStatus.TIMEOUT if exc.oicp_code == "310" else CommandStatus.FAILED,
            message=str(exc),
        )
    if kind is CommandType.START_SESSION and not outcome.accepted:
        await sessions.discard(ctx.db, row.session_id)
    elif kind is CommandType.START_SESSION:  # STOP_SESSION without OCPI-to-* finds the CPO by this
        await indexes.remember(ctx.db, indexes.SESSION, row.session_id, cpo.ref, peer=emp.ref)
    log.info("oicp.ocpi_command", command=kind.value, session=row.session_id, outcome=outcome.status.value)
    await _post_result(ctx, inbound, cpo, emp, response_url, outcome)


async def _post_result(
    ctx: OicpContext, inbound: Inbound, cpo: Member, emp: Member, response_url: str, outcome: CommandOutcome
) -> None:
    connection = await connection_of(ctx.ocpi, emp.party_fk)
    if connection is None:
        log.info("oicp.command_result_undeliverable", emsp=str(emp.ref))
        return
    body = json.dumps(ocpi_commands.command_result(outcome)).encode()
    try:
        await send(ctx.ocpi, connection, "POST", response_url, sender=cpo.ref, receiver=emp.ref, body=body)
    except HubError as exc:
        log.info("oicp.command_result_failed", emsp=str(emp.ref), error=str(exc))
