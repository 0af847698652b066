"""OCPI requests whose other end speaks OICP: the hub answers them through the OICP side.

* An OCPI CPO's real-time authorisation of a token that belongs to an OICP EMP becomes an AuthorizeStart:
  the EMP's pushed authentication data first, then the EMP itself, exactly as for an OICP CPO
  (hub/oicp/charging.py). Without ``OCPI-to-*`` and with no OCPI eMSP owning the token, every contracted
  OICP EMP is a candidate (Hubject's broadcast, oicp-hub-notes §4.2).
* An OCPI CPO's CDR for an OICP EMP is translated once, when stored, into an OICP CDR whose SessionID is
  the one the hub minted at authorisation (found by ``authorization_reference``), or else derived from
  the OCPI session so that it is stable across retries.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import structlog
from sqlalchemy import select
from sqlmodel import col

from adapters.ocpi import cdrs as ocpi_cdrs
from adapters.ocpi.authorization import authorization_info
from adapters.oicp import cdr as oicp_cdr
from adapters.oicp import identification as oicp_identification
from hub.errors import UnknownToken
from hub.keys import OICP
from hub.ocpi.hubstore import load_exact
from hub.ocpi.relay import Inbound
from hub.oicp import charging, directory, sessions
from hub.oicp.context import OicpContext
from hub.oicp.directory import Member
from hub.store.models import HubObject
from hub.store.types import utcnow
from schemas.canonical.party import PartyRef, Role
from schemas.canonical.token import TokenRef, TokenType
from schemas.oicp.v2_3 import eRoamingAuthorizeStart

log = structlog.get_logger("hub.oicp.from_ocpi")

_SESSION_NAMESPACE = uuid.UUID("5b1f3c52-8f0e-4c6b-9b0e-6f1f2d0a0c11")


def oicp_ctx(inbound: Inbound) -> OicpContext:
    return inbound.request.app[OICP]


async def evse_id_of(ctx: OicpContext, cpo: PartyRef, location: dict[str, Any] | None) -> str | None:
    """The EvseID of the EVSE named in LocationReferences, from the CPO's location in the hub's store."""
    if not location or not location.get("location_id"):
        return None
    query = select(col(HubObject.body)).where(
        col(HubObject.module) == "locations",
        col(HubObject.country_code) == cpo.country_code,
        col(HubObject.party_id) == cpo.party_id,
        col(HubObject.object_id) == str(location["location_id"]).upper(),
    )
    async with ctx.db.session() as session:
        body = (await session.execute(query)).scalar()
    stored = load_exact(body) if body else None
    uids = {str(uid).upper() for uid in location.get("evse_uids") or []}
    for evse in (stored or {}).get("evses", []) if isinstance(stored, dict) else []:
        if evse.get("evse_id") and (not uids or str(evse.get("uid", "")).upper() in uids):
            return str(evse["evse_id"])
    return None


async def authorize(inbound: Inbound, emps: list[Member], uid: str, token_type: str) -> dict[str, Any]:
    """The AuthorizationInfo for an OCPI CPO, decided by OICP EMPs; 2004 when the medium is not one."""
    ctx = oicp_ctx(inbound)
    cpo = await directory.by_ref(ctx.db, inbound.sender, Role.CPO)
    token = TokenRef(
        uid=uid, type=TokenType(token_type) if token_type in TokenType.__members__ else TokenType.OTHER
    )
    try:
        identification = oicp_identification.from_token(token)
    except ValueError as exc:
        raise UnknownToken(f"{token_type} token {uid} cannot be expressed in OICP: {exc}") from exc
    if cpo is None:
        raise UnknownToken("the calling CPO is not admitted as a CPO")
    location = inbound.json if isinstance(inbound.json, dict) else None
    request = eRoamingAuthorizeStart.model_validate(
        {
            "OperatorID": cpo.oicp_id,
            "EvseID": await evse_id_of(ctx, cpo.ref, location),
            "Identification": identification.to_wire(),
        }
    )
    session_id = sessions.new_session_id()
    verdict = await charging.decide(ctx, cpo, directory.Candidates(emps), request, session_id)
    emp = verdict.emp if verdict.emp is not None else emps[0]
    reference = None
    if verdict.authorized and verdict.emp is not None:
        reference = session_id
        await sessions.create(
            ctx.db,
            charging.session_row(cpo, verdict, request, session_id, ocpi_ref=f"{cpo.ref}:{session_id}"),
        )
    log.info("oicp.ocpi_authorize", cpo=str(cpo.ref), emp=emp.oicp_id, allowed=verdict.authorized)
    return authorization_info(
        oicp_identification.to_token(identification),
        emp.ref,
        issuer=emp.oicp_id,
        allowed=verdict.authorized,
        reference=reference,
        now=utcnow(),
        location=location if location and location.get("location_id") else None,
    )


async def oicp_candidates(inbound: Inbound) -> list[Member]:
    """Every contracted OICP EMP, for a token no OCPI eMSP has published (Hubject's broadcast)."""
    ctx = oicp_ctx(inbound)
    cpo = await directory.by_ref(ctx.db, inbound.sender, Role.CPO)
    if cpo is None:
        return []
    return [emp for emp in await directory.contracted_emps(ctx.db, ctx.settings, cpo) if emp.is_oicp]


async def oicp_cdr_body(
    ctx: OicpContext, cdr: dict[str, Any], cpo: PartyRef, emp: PartyRef
) -> tuple[str, str]:
    """(SessionID, OICP CDR JSON) for an OCPI CDR bound for an OICP EMP."""
    canonical = ocpi_cdrs.to_canonical(cdr)
    session_id = await _session_for(ctx, cdr, cpo)
    cpo_member = await directory.by_ref(ctx.db, cpo, Role.CPO)
    emp_member = await directory.by_ref(ctx.db, emp, Role.EMSP)
    body = oicp_cdr.from_canonical(
        canonical,
        session_id,
        cpo_member.oicp_id if cpo_member else directory.derived_id(cpo, Role.CPO),
        emp_member.oicp_id if emp_member else None,
    )
    return session_id, json.dumps(body)


async def _session_for(ctx: OicpContext, cdr: dict[str, Any], cpo: PartyRef) -> str:
    reference = cdr.get("authorization_reference")
    if isinstance(reference, str):
        found = await sessions.find(ctx.db, reference)
        if found is not None and found.ocpi_ref == f"{cpo}:{reference}":
            return found.session_id
    source = cdr.get("session_id") or cdr.get("id")
    return str(uuid.uuid5(_SESSION_NAMESPACE, f"{cpo}:{source}"))
