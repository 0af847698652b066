"""Authorisation and remote control (oicp-hub-notes §2 #1 to #6, §4.2).

AuthorizeStart looks for a yes in Hubject's order: authentication data pushed by the candidate EMPs first
(offline), then the EMP that last authorised this medium (the UID cache of HBS 2.0), then every candidate
in parallel, where the first Authorized wins and an EMP that cannot be reached counts as NotAuthorized.
The candidates are the EMP named by the EvcoID's provider prefix, or every contracted EMP for an RFID UID;
OCPI eMSPs are candidates like any other (hub/oicp/bridge.py asks them). Remote start/stop and reservations
go to the CPO named by the EvseID's operator prefix and are answered synchronously with its
acknowledgement.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlmodel import col

from hub.errors import (
    ClientError,
    Forbidden,
    HubError,
    InvalidParameters,
    NoAgreement,
    UnknownReceiver,
)
from hub.oicp import authdata, bridge, directory, sessions
from hub.oicp.directory import Candidates, Member
from hub.oicp.evse_query import evse_key
from hub.oicp.sessions import SessionKind
from hub.store.models import OicpEvse, OicpSession
from schemas.canonical.party import Role, normalise_oicp_id
from schemas.oicp.v2_3 import (
    AuthorizationStatus,
    Identification,
    StatusCode,
    StatusCodeType,
    eRoamingAcknowledgement,
    eRoamingAuthorizationStart,
    eRoamingAuthorizationStop,
    operator_id_of,
    provider_id_of,
)
from schemas.oicp.v2_3.endpoints import BY_NAME

if TYPE_CHECKING:
    from hub.oicp.context import OicpContext
    from hub.oicp.frontdoor import Answer, OicpCall

log = structlog.get_logger("hub.oicp.charging")


class UnknownEvse(ClientError):
    oicp_code = "603"
    title = "Unknown EVSE ID"


class EvseNotCompatible(ClientError):
    oicp_code = "604"
    title = "EVSE ID is not Hubject compatible"


@dataclass(frozen=True)
class Verdict:
    """One EMP's (or the hub's offline) answer to an authorisation request."""

    authorized: bool
    code: str
    emp: Member | None = None
    offline: bool = False
    stop_identifications: list[dict[str, Any]] | None = None
    emp_partner_session_id: str | None = None


def lookup_key(identification: Identification) -> str:
    """The medium as the UID cache keys it: UID or EvcoID, normalised."""
    member = identification.only()
    value = getattr(member, "uid", None) or identification.evco_id or ""
    return normalise_oicp_id(str(value))


def _refusal_code(identification: Identification) -> str:
    member = type(identification.only()).__name__
    if member.startswith("RFID"):
        return StatusCodeType.RFID_INVALID_UID.value
    if member.startswith("QRCode"):
        return StatusCodeType.QR_CODE_INVALID_CREDENTIALS.value
    return StatusCodeType.PLC_INVALID_EVCO_ID.value


def _status(code: str, info: str | None = None) -> StatusCode:
    try:
        return StatusCode.of(StatusCodeType(code), info)
    except ValueError:
        return StatusCode(code=code, additional_info=info)


def _only(identification: Identification) -> None:
    try:
        identification.only()
    except ValueError as exc:
        raise InvalidParameters(str(exc), field="Identification") from exc


# --- AuthorizeStart (#1) -------------------------------------------------------------------------------


async def authorize_start(call: OicpCall) -> Answer:
    request, ctx = call.body, call.ctx
    _only(request.identification)
    roster = ctx.ocpi.roster
    cpo = await directory.own_member(ctx.db, call.caller.party_fk, request.operator_id, Role.CPO, roster)
    candidates = await _candidates(ctx, cpo, request.identification)
    session_id = sessions.new_session_id()
    verdict = await decide(ctx, cpo, candidates, request, session_id)
    echo = {"CPOPartnerSessionID": request.cpo_partner_session_id}
    if not verdict.authorized or verdict.emp is None:
        log.info("oicp.authorize_refused", operator=request.operator_id, code=verdict.code)
        return eRoamingAuthorizationStart.model_validate(
            {
                **echo,
                "AuthorizationStatus": AuthorizationStatus.NOT_AUTHORIZED,
                "StatusCode": _status(verdict.code),
            }
        )
    await sessions.create(ctx.db, session_row(cpo, verdict, request, session_id))
    log.info("oicp.authorized", session=session_id, provider=verdict.emp.oicp_id, offline=verdict.offline)
    return eRoamingAuthorizationStart.model_validate(
        {
            **echo,
            "SessionID": session_id,
            "EMPPartnerSessionID": verdict.emp_partner_session_id,
            "ProviderID": verdict.emp.oicp_id,
            "AuthorizationStatus": AuthorizationStatus.AUTHORIZED,
            "StatusCode": _status(StatusCodeType.SUCCESS.value),
            "AuthorizationStopIdentifications": verdict.stop_identifications,
        }
    )


def session_row(
    cpo: Member, verdict: Verdict, request: Any, session_id: str, *, ocpi_ref: str | None = None
) -> dict[str, Any]:
    """The session an Authorized AuthorizeStart opens (for an OICP or, with ``ocpi_ref``, an OCPI CPO),
    as the column values :func:`sessions.create` stores."""
    assert verdict.emp is not None
    return sessions.session_values(
        session_id=session_id,
        kind=SessionKind.CHARGING,
        cpo_party_fk=cpo.party_fk,
        operator_id=request.operator_id,
        emp_party_fk=verdict.emp.party_fk,
        provider_id=verdict.emp.oicp_id,
        evse_id=request.evse_id,
        identification=request.identification.to_wire(),
        authorized_by="offline" if verdict.offline else "online",
        cpo_partner_session_id=request.cpo_partner_session_id,
        emp_partner_session_id=verdict.emp_partner_session_id,
        ocpi_ref=ocpi_ref,
    )


async def _candidates(ctx: OicpContext, cpo: Member, identification: Identification) -> Candidates:
    """The EMPs that may authorise this medium at this CPO; 210 when there are none (notes §4.2 step 2)."""
    emps = await directory.candidates(ctx.db, ctx.settings, cpo, ctx.ocpi.roster)
    evco_id = identification.evco_id
    if evco_id is not None:
        prefix = provider_id_of(evco_id)
        emps = Candidates([emp for emp in emps.members if normalise_oicp_id(emp.oicp_id) == prefix])
    if not emps:
        raise NoAgreement(f"no EMP with a contract with {cpo.oicp_id} can authorise this medium")
    return emps


async def decide(ctx: OicpContext, cpo: Member, emps: Candidates, request: Any, session_id: str) -> Verdict:
    # The OCPI candidates' published tokens, read once: the offline check and the real-time asks share them.
    published = await bridge.stored_tokens(ctx, emps, request.identification)
    offline = await _offline(ctx, emps, request.identification, published)
    if offline is not None:
        return offline
    ask = functools.partial(_ask, ctx, cpo, request, session_id, published)
    key = lookup_key(request.identification)
    cached = ctx.authorized_by.peek(key)
    preferred = emps.by_fk.get(cached) if cached is not None else None
    if preferred is not None:
        verdict = await ask(preferred)
        if verdict.authorized:
            return verdict
        ctx.authorized_by.forget(key)
        emps = emps.without(preferred.party_fk) or Candidates([preferred])
    verdict = await _first_yes(ask, emps.members)
    if verdict.authorized and verdict.emp is not None:
        ctx.authorized_by.put(key, verdict.emp.party_fk)
    return verdict


async def _offline(
    ctx: OicpContext, emps: Candidates, identification: Identification, published: dict[int, dict[str, Any]]
) -> Verdict | None:
    """Pushed authentication data (OICP EMPs) and whitelisted stored tokens (OCPI eMSPs) (§4.2 step 4)."""
    oicp = emps.oicp_fks
    match = await authdata.offline_match(ctx.db, identification, oicp) if oicp else None
    if match is not None and match.provider_party_fk in emps.by_fk:
        return Verdict(True, StatusCodeType.SUCCESS.value, emps.by_fk[match.provider_party_fk], offline=True)
    allowed = bridge.whitelisted(published)
    if allowed is not None:
        return Verdict(True, StatusCodeType.SUCCESS.value, emps.by_fk[allowed], offline=True)
    return None


async def _first_yes(ask: Callable[[Member], Awaitable[Verdict]], emps: Sequence[Member]) -> Verdict:
    """Ask every candidate at once; the first Authorized wins and the others are no longer waited for."""
    tasks = [asyncio.ensure_future(ask(emp)) for emp in emps]
    refusals: list[Verdict] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            verdict = await next_done
            if verdict.authorized:
                return verdict
            refusals.append(verdict)
    finally:
        for task in tasks:
            task.cancel()
    if len(refusals) == 1:
        return refusals[0]
    return Verdict(False, StatusCodeType.NO_POSITIVE_AUTHENTICATION_RESPONSE.value)


async def _ask(
    ctx: OicpContext,
    cpo: Member,
    request: Any,
    session_id: str,
    published: dict[int, dict[str, Any]],
    emp: Member,
) -> Verdict:
    try:
        if emp.is_oicp:
            return await _ask_oicp(ctx, cpo, emp, request, session_id)
        token = published.get(emp.party_fk)
        allowed = await bridge.authorize_at_ocpi(ctx, cpo, emp, request.identification, token)
        return Verdict(allowed, "000" if allowed else _refusal_code(request.identification), emp)
    except HubError as exc:  # unreachable or broken counts as NotAuthorized (notes §4.2 step 5)
        log.info("oicp.authorize_emp_failed", emp=emp.oicp_id, error=type(exc).__name__)
        return Verdict(False, exc.oicp_code if exc.oicp_code != "001" else "021", emp)


async def _ask_oicp(ctx: OicpContext, cpo: Member, emp: Member, request: Any, session_id: str) -> Verdict:
    body = {**request.to_wire(), "SessionID": session_id}
    answer = await ctx.client.call(
        await ctx.link(emp.party_fk),
        BY_NAME["eRoamingAuthorizeStart"],
        body,
        params={"operatorID": cpo.oicp_id},
        timeout=ctx.settings.oicp.authorize_timeout,
    )
    parsed = eRoamingAuthorizationStart.model_validate(answer)
    authorized = parsed.authorization_status == AuthorizationStatus.AUTHORIZED
    stops = [i.to_wire() for i in parsed.authorization_stop_identifications or []] or None
    return Verdict(authorized, str(parsed.status_code.code), emp, False, stops, parsed.emp_partner_session_id)


# --- AuthorizeStop (#2) --------------------------------------------------------------------------------


async def authorize_stop(call: OicpCall) -> Answer:
    request, ctx = call.body, call.ctx
    _only(request.identification)
    row = await sessions.require_open(
        ctx.db, request.session_id, cpo_party_fk=call.caller.party_fk, kind=SessionKind.CHARGING
    )
    echo = {"SessionID": row.session_id, "CPOPartnerSessionID": request.cpo_partner_session_id}
    emp = await _emp_of(ctx, row)
    if emp is not None and emp.is_oicp and row.authorized_by != "offline":
        try:
            answer = await ctx.client.call(
                await ctx.link(emp.party_fk),
                BY_NAME["eRoamingAuthorizeStop"],
                request.to_wire(),
                params={"operatorID": request.operator_id},
                timeout=ctx.settings.oicp.authorize_timeout,
            )
            return eRoamingAuthorizationStop.model_validate({**answer, "SessionID": row.session_id})
        except HubError as exc:
            code, authorized = exc.oicp_code, False
    else:
        # Offline-authorised (or OCPI, which has no stop authorisation): the same medium may stop (§2 #2).
        authorized = lookup_key(request.identification) == lookup_key(
            Identification.model_validate(row.identification)
        )
        code = "000" if authorized else _refusal_code(request.identification)
    return eRoamingAuthorizationStop.model_validate(
        {
            **echo,
            "ProviderID": row.provider_id,
            "AuthorizationStatus": AuthorizationStatus.AUTHORIZED
            if authorized
            else AuthorizationStatus.NOT_AUTHORIZED,
            "StatusCode": _status(code),
        }
    )


async def _emp_of(ctx: OicpContext, row: OicpSession) -> Member | None:
    if row.provider_id is None:
        return None
    return await directory.by_oicp_id(ctx.db, row.provider_id, Role.EMSP)


# --- remote start/stop (#3, #4) and reservations (#5, #6): EMP -> hub -> CPO ----------------------------


async def remote_start(call: OicpCall) -> Answer:
    return await _remote_open(call, SessionKind.CHARGING)


async def reservation_start(call: OicpCall) -> Answer:
    return await _remote_open(call, SessionKind.RESERVATION)


async def remote_stop(call: OicpCall) -> Answer:
    return await _remote_close(call, SessionKind.CHARGING)


async def reservation_stop(call: OicpCall) -> Answer:
    return await _remote_close(call, SessionKind.RESERVATION)


async def _remote_open(call: OicpCall, kind: SessionKind) -> Answer:
    """Mint the SessionID, forward to the CPO of the EvseID, answer with the CPO's acknowledgement."""
    request, ctx = call.body, call.ctx
    if request.identification.remote_identification is None or len(request.identification.members()) != 1:
        raise InvalidParameters(
            "remote start and reservations take a RemoteIdentification", field="Identification"
        )
    emp = await directory.own_member(ctx.db, call.caller.party_fk, request.provider_id, Role.EMSP)
    cpo = await _cpo_for(ctx, emp, request.evse_id)
    await _check_evse(ctx, cpo, request.evse_id)
    row = OicpSession(
        session_id=sessions.new_session_id(),
        kind=kind,
        cpo_party_fk=cpo.party_fk,
        operator_id=cpo.oicp_id,
        emp_party_fk=emp.party_fk,
        provider_id=request.provider_id,
        evse_id=request.evse_id,
        identification=request.identification.to_wire(),
        authorized_by="remote",
        emp_partner_session_id=request.emp_partner_session_id,
    )
    await sessions.create(ctx.db, row)
    try:
        ack = await _to_cpo(call, cpo, row)
    except HubError:
        await sessions.discard(ctx.db, row.session_id)
        raise
    if not ack.result:
        await sessions.discard(ctx.db, row.session_id)
    log.info(
        "oicp.remote_forwarded", operation=call.operation.name, session=row.session_id, result=ack.result
    )
    return ack


async def _remote_close(call: OicpCall, kind: SessionKind) -> Answer:
    request, ctx = call.body, call.ctx
    row = await sessions.require_open(
        ctx.db, request.session_id, emp_party_fk=call.caller.party_fk, kind=kind
    )
    cpo = await _member(ctx, row.cpo_party_fk, row.operator_id, Role.CPO)
    return await _to_cpo(call, cpo, row)


async def _cpo_for(ctx: OicpContext, emp: Member, evse_id: str) -> Member:
    """The CPO named by the EvseID's operator prefix: known (300), not locked (017), contracted (210)."""
    cpo = await directory.by_oicp_id(ctx.db, operator_id_of(evse_id), Role.CPO)
    if cpo is None:
        raise UnknownReceiver(f"no CPO answers to the operator of {evse_id}", field="EvseID")
    if not cpo.reachable:
        raise Forbidden(f"the CPO {cpo.oicp_id} is locked")
    if not await directory.contracted(ctx.db, ctx.settings, cpo, emp):
        raise NoAgreement(f"no contract between CPO {cpo.oicp_id} and EMP {emp.oicp_id}")
    return cpo


async def _check_evse(ctx: OicpContext, cpo: Member, evse_id: str) -> None:
    """If the CPO pushed EVSE data, the EvseID must be among it (603) and Hubject compatible (604)."""
    live = (
        col(OicpEvse.operator_party_fk) == cpo.party_fk,
        col(OicpEvse.deleted_at).is_(None),
        col(OicpEvse.data).is_not(None),
    )
    async with ctx.db.session() as session:
        published = (await session.execute(select(col(OicpEvse.id)).where(*live).limit(1))).first()
        if published is None:
            return
        query = select(col(OicpEvse.data)).where(*live, col(OicpEvse.evse_key) == evse_key(evse_id))
        data = (await session.execute(query)).scalar()
    if data is None:
        raise UnknownEvse(f"{cpo.oicp_id} has published no EVSE {evse_id}", field="EvseID")
    if json.loads(data).get("IsHubjectCompatible") is False:
        raise EvseNotCompatible(f"{evse_id} is not open to roaming", field="EvseID")


async def _member(ctx: OicpContext, party_fk: int, oicp_id: str, role: Role) -> Member:
    found = await directory.by_oicp_id(ctx.db, oicp_id, role)
    if found is None or found.party_fk != party_fk:
        raise UnknownReceiver(f"{oicp_id} is no longer admitted")
    return found


async def _to_cpo(call: OicpCall, cpo: Member, row: OicpSession) -> eRoamingAcknowledgement:
    """The EMP's message with the hub's SessionID, to the CPO; its acknowledgement, with the SessionID."""
    ctx = call.ctx
    if not cpo.is_oicp:
        return await bridge.remote_at_ocpi(ctx, call.operation.name, cpo, row)
    body = {**call.body.to_wire(), "SessionID": row.session_id}
    answer = await ctx.client.call(
        await ctx.link(cpo.party_fk),
        call.operation,
        body,
        params={name: value for name, value in call.params.items()},
        timeout=ctx.settings.oicp.remote_timeout,
    )
    ack = eRoamingAcknowledgement.model_validate(answer)
    ack.session_id = row.session_id
    if ack.emp_partner_session_id is None:
        ack.emp_partner_session_id = row.emp_partner_session_id
    return ack
