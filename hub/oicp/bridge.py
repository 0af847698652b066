"""OICP messages answered by OCPI parties: the hub's side of roaming across protocols (DESIGN.md).

An OICP CPO's AuthorizeStart may be answered by an OCPI eMSP: from the tokens the eMSP published to the
hub (a valid token whitelisted ``ALWAYS`` is the OCPI form of pushed authentication data), otherwise by
the eMSP's real-time authorisation (``POST tokens/{uid}/authorize``). Translation is the adapters' job
(``adapters/``); this module only finds the parties and makes the calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import bindparam, select, tuple_
from sqlmodel import col

from adapters.ocpi import tokens as ocpi_tokens
from adapters.oicp import identification as oicp_identification
from hub.errors import ServiceNotAvailable
from hub.ocpi.endpoints import find_endpoint
from hub.ocpi.hubstore import load_exact
from hub.ocpi.relay import connection_of, send
from hub.oicp.directory import Candidates, Member
from hub.store.db import Database
from hub.store.models import HubObject, OicpSession
from schemas.canonical.token import TokenRef
from schemas.oicp.v2_3 import Identification, eRoamingAcknowledgement

if TYPE_CHECKING:
    from hub.oicp.context import OicpContext

log = structlog.get_logger("hub.oicp.bridge")


# Built once (every AuthorizeStart runs one). By UID: every token published under the UIDs of the
# AuthorizeStarts that arrived together, through the
# (module, object_id) index, and the candidates picked from them here; the owners as a row-value IN list
# made SQLite walk every token of every eMSP instead. By contract id: the candidates' tokens whose body
# names it (that one reads each candidate's tokens).
_COLUMNS = (col(HubObject.country_code), col(HubObject.party_id), col(HubObject.body))
_TOKENS_BY_UIDS = select(col(HubObject.object_id), *_COLUMNS).where(
    col(HubObject.module) == "tokens", col(HubObject.object_id).in_(bindparam("wanted", expanding=True))
)
_TOKENS_BY_CONTRACT = select(*_COLUMNS).where(
    col(HubObject.module) == "tokens",
    tuple_(col(HubObject.country_code), col(HubObject.party_id)).in_(bindparam("owners", expanding=True)),
    col(HubObject.body).like(bindparam("wanted"), escape="\\"),
)


Published = list[tuple[str, str, str]]  # (country code, party id, body) of each token under a UID


async def published_by_uid(db: Database, uids: list[str]) -> list[Published]:
    """Every token published under each of ``uids`` (upper case), in one query: the AuthorizeStarts that
    arrive while one reads share the next read (``OicpContext.tokens_by_uid``, hub/store/batch.py)."""
    async with db.engine.connect() as connection:  # Core: no ORM session needed
        rows = (await connection.execute(_TOKENS_BY_UIDS, {"wanted": sorted(set(uids))})).all()
    found: dict[str, Published] = {}
    for uid, cc, pid, body in rows:
        found.setdefault(uid, []).append((cc, pid, body))
    return [found.get(uid, []) for uid in uids]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def stored_tokens(
    ctx: OicpContext, emps: Candidates, identification: Identification
) -> dict[int, dict[str, Any]]:
    """The OCPI tokens these eMSPs published to the hub for this medium (by UID, or by contract id),
    by the eMSP's party id.

    One query for every candidate: an RFID UID names no provider, so all contracted eMSPs are candidates.
    """
    by_ref = emps.ocpi_by_ref
    if not by_ref:
        return {}
    wanted = oicp_identification.to_token(identification)
    params: dict[str, Any]
    if wanted.contract_id is None:
        rows = await ctx.tokens_by_uid(wanted.uid.upper())
    else:
        params = {"owners": list(by_ref), "wanted": f"%{_like_escaped(wanted.contract_id)}%"}
        async with ctx.db.engine.connect() as connection:  # Core: no ORM session needed
            rows = list((await connection.execute(_TOKENS_BY_CONTRACT, params)).all())
    found: dict[int, dict[str, Any]] = {}
    for cc, pid, body in rows:
        if (cc, pid) not in by_ref:  # published by an eMSP that is no candidate here
            continue
        token = load_exact(body)
        if isinstance(token, dict) and _same_medium(ocpi_tokens.to_token(token), wanted):
            found.setdefault(by_ref[(cc, pid)].party_fk, token)
    return found


def _same_medium(published: TokenRef, presented: TokenRef) -> bool:
    if presented.contract_id is not None:
        return (published.contract_id or "").upper() == presented.contract_id.upper()
    return published.uid.upper() == presented.uid.upper()


def whitelisted(published: dict[int, dict[str, Any]]) -> int | None:
    """The first eMSP whose published token for the medium is valid and ALWAYS allowed (its party id)."""
    return next((fk for fk, token in published.items() if ocpi_tokens.whitelisted_valid(token)), None)


async def authorize_at_ocpi(
    ctx: OicpContext, cpo: Member, emp: Member, identification: Identification, stored: dict[str, Any] | None
) -> bool:
    """The OCPI eMSP's real-time authorisation of the medium (as its published token names it, if it
    published one); False when it says no or cannot say."""
    token = (
        ocpi_tokens.to_token(stored) if stored is not None else oicp_identification.to_token(identification)
    )
    connection = await connection_of(ctx.ocpi, emp.party_fk)
    base = find_endpoint(connection.endpoints, "tokens", "SENDER") if connection else None
    if connection is None or base is None:
        log.info("oicp.ocpi_emsp_cannot_authorize", emsp=str(emp.ref))
        return False
    url = f"{base.rstrip('/')}/{token.uid}/authorize?type={token.type.value}"
    reply = await send(
        ctx.ocpi,
        connection,
        "POST",
        url,
        sender=cpo.ref,
        receiver=emp.ref,
        timeout=ctx.settings.oicp.authorize_timeout,
    )
    data = reply.data if reply.status < 300 and reply.status_code == 1000 else None
    return isinstance(data, dict) and ocpi_tokens.authorization_allowed(data)


async def remote_at_ocpi(
    ctx: OicpContext, operation: str, cpo: Member, row: OicpSession
) -> eRoamingAcknowledgement:
    """An OICP EMP's remote command for an OCPI CPO's EVSE: not offered yet (320, notes §5)."""
    raise ServiceNotAvailable(f"{operation} to the OCPI CPO {cpo.ref} is not offered by this hub yet")
