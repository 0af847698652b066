"""An OICP CPO's EVSEs offered to OCPI eMSPs: EVSE data and status become OCPI locations (notes §9).

After every PushEvseData or PushEvseStatus the locations it touched are rebuilt from what the CPO has
published (every live EVSE record with the same location id: the ChargingPoolID, else the
ChargingStationID, else the EVSE alone), stored as the hub's copy for GET All and the open-routing
index, and broadcast to the OCPI eMSPs like any OCPI CPO's push. Translation is the adapters' job.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlmodel import col

from adapters.ocpi.locations import evse_uid_for, evses_to_location
from adapters.oicp.evse import record_to_evse, status_to_canonical
from hub.keys import BROADCASTER
from hub.ocpi import hubstore, indexes
from hub.ocpi.hubstore import dump_exact
from hub.oicp.directory import Member
from hub.store.models import OicpEvse
from hub.store.types import utcnow
from schemas.canonical.evse import Evse, EvseStatus

if TYPE_CHECKING:
    from aiohttp import web

    from hub.oicp.context import OicpContext

log = structlog.get_logger("hub.oicp.to_ocpi")


def _evse(row: OicpEvse, cpo: Member) -> Evse | None:
    if row.data is None or row.deleted_at is not None:
        return None
    status = status_to_canonical(row.status) if row.status else EvseStatus.UNKNOWN
    try:
        return record_to_evse(
            json.loads(row.data), cpo.oicp_id, operator_name=row.operator_name, status=status
        )
    except ValueError as exc:  # a record OCPI cannot express is left out, not fatal to the push
        log.info("oicp.evse_not_offered_to_ocpi", evse=row.evse_id, reason=str(exc)[:200])
        return None


def location_id_of(evse: Evse) -> str:
    return evse.location_id or evse_uid_for(evse.evse_id)


async def publish(
    app: web.Application, ctx: OicpContext, cpo: Member, touched: set[str] | None = None
) -> int:
    """Rebuild, store and broadcast the CPO's locations holding ``touched`` EVSE keys (all when None)."""
    query = select(OicpEvse).where(col(OicpEvse.operator_party_fk) == cpo.party_fk)
    async with ctx.db.session() as session:
        rows = (await session.execute(query)).scalars().all()
    groups: dict[str, list[Evse]] = defaultdict(list)
    wanted: set[str] = set()
    for row in rows:
        evse = _evse(row, cpo)
        if evse is None:
            continue
        groups[location_id_of(evse)].append(evse)
        if touched is None or row.evse_key in touched:
            wanted.add(location_id_of(evse))
    for location_id in sorted(wanted):
        await _store_and_send(app, ctx, cpo, location_id, groups[location_id])
    return len(wanted)


async def _store_and_send(
    app: web.Application, ctx: OicpContext, cpo: Member, location_id: str, evses: list[Evse]
) -> None:
    try:
        location = evses_to_location(evses, cpo.ref, location_id, utcnow())
    except ValueError as exc:
        log.info("oicp.location_not_offered_to_ocpi", location=location_id, reason=str(exc)[:200])
        return
    text = dump_exact(location)
    cc, pid = cpo.ref.country_code, cpo.ref.party_id
    await hubstore.save(
        ctx.db,
        "locations",
        cc,
        pid,
        location_id,
        object_type="",
        party_fk=cpo.party_fk,
        body=text,
        last_updated=hubstore.parse_datetime(location["last_updated"]),
        also=lambda session: indexes.remember_in(session, indexes.LOCATION, location_id, cpo.ref),
    )
    app[BROADCASTER].publish(
        "locations",
        "PUT",
        f"/{cc}/{pid}/{location_id}",
        text.encode(),
        owner=cpo.ref,
        owner_platform=cpo.party_fk,
    )
