"""EVSEs of OCPI CPOs, for OICP EMPs' pulls: the one place the EVSE pulls cross protocols (notes §9).

An OCPI CPO's locations are kept in ``ocpi_object`` (module ``locations``) as it sent them. Each is turned
into canonical EVSEs and then into OICP records by the pure adapters, imported on first use so that this
module does not depend on them at import time; without them OCPI EVSEs are simply not offered (logged).
The OperatorID is the CPO role's ``oicp_id`` if the operator gave one, else ``CC*PID``
(``hub.oicp.directory``). OCPI has no insert/update history and never deletes a location: a delta names
every changed EVSE ``update`` and a ``REMOVED`` one ``delete``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import structlog
from sqlalchemy import select, tuple_
from sqlmodel import col

from hub.oicp.directory import Member
from hub.oicp.evse_query import EvseEntry
from hub.store.db import Database
from hub.store.models import HubObject, Party
from schemas.canonical.evse import Evse, EvseStatus
from schemas.canonical.party import PartyRef

log = structlog.get_logger("hub.oicp")

LOCATIONS = "locations"


class Adapters(NamedTuple):
    """The pure functions this module needs (adapters.ocpi.locations, adapters.oicp.evse)."""

    location_to_evses: Callable[[dict[str, Any], PartyRef], Sequence[Evse]]
    evse_to_record: Callable[..., dict[str, Any]]  # (evse, *, hotline) -> EvseDataRecord (JSON)
    status_from_canonical: Callable[[EvseStatus], str]


def adapters() -> Adapters | None:
    """The adapters, or None while they are not installed (only their own absence is tolerated)."""
    try:
        locations = importlib.import_module("adapters.ocpi.locations")
        evse = importlib.import_module("adapters.oicp.evse")
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("adapters"):
            raise
        log.warning("oicp.ocpi_evses_unavailable", missing=exc.name)
        return None
    return Adapters(locations.location_to_evses, evse.evse_to_record, evse.status_from_canonical)


async def ocpi_evse_records(
    db: Database, cpos: Sequence[Member], *, hotline: str, since: datetime | None = None
) -> list[EvseEntry]:
    """The EVSEs the given OCPI CPOs published (OICP members are ignored); changed after ``since``.

    ``hotline`` is the HotlinePhoneNumber written where OCPI has none (OICP requires one, §6).
    """
    ocpi = {member.ref: member for member in cpos if not member.is_oicp}
    found = adapters() if ocpi else None
    if found is None:
        return []
    entries: list[EvseEntry] = []
    for row, party_name in await _locations(db, list(ocpi), since):
        source = _Source(found, row, ocpi[PartyRef(country_code=row.country_code, party_id=row.party_id)])
        entries += source.entries(party_name, hotline)
    return [entry for entry in entries if since is None or entry.updated_at > since]


async def _locations(
    db: Database, refs: list[PartyRef], since: datetime | None
) -> Sequence[tuple[HubObject, str]]:
    owners = [(ref.country_code, ref.party_id) for ref in refs]
    query = (
        select(HubObject, col(Party.name))
        .join(Party, col(Party.id) == col(HubObject.party_fk))
        .where(
            col(HubObject.module) == LOCATIONS,
            tuple_(col(HubObject.country_code), col(HubObject.party_id)).in_(owners),
        )
    )
    if since is not None:  # a location's last_updated is bumped with its EVSEs' (ocpi-hub-notes §6.1)
        query = query.where(col(HubObject.last_updated) > since)
    async with db.session() as session:
        rows = (await session.execute(query.order_by(col(HubObject.id)))).all()
    return [(row, name) for row, name in rows]


class _Source(NamedTuple):
    """One stored location of one OCPI CPO, and the adapters to read it with."""

    found: Adapters
    row: HubObject
    member: Member

    def entries(self, party_name: str, hotline: str) -> list[EvseEntry]:
        try:
            evses = self.found.location_to_evses(
                json.loads(self.row.body, parse_float=Decimal), self.member.ref
            )
        except ValueError as exc:  # one unreadable location must not break every pull
            self._skipped(exc)
            return []
        return [e for evse in evses if evse.publish and (e := self._entry(evse, party_name, hotline))]

    def _entry(self, evse: Evse, party_name: str, hotline: str) -> EvseEntry | None:
        try:
            record = self.found.evse_to_record(evse, hotline=hotline)
        except ValueError as exc:  # e.g. no connector with an OICP plug
            self._skipped(exc, evse.evse_id)
            return None
        return EvseEntry(
            operator_id=self.member.oicp_id,
            operator_name=evse.operator_name or party_name,
            evse_id=evse.evse_id,
            record=record,
            status=self.found.status_from_canonical(evse.status),
            updated_at=evse.last_updated or self.row.last_updated,
            deleted=evse.status is EvseStatus.REMOVED,
        )

    def _skipped(self, exc: ValueError, evse_id: str | None = None) -> None:
        log.warning(
            "oicp.ocpi_evse_skipped",
            location=self.row.object_id,
            evse=evse_id,
            cpo=str(self.member.ref),
            detail=str(exc)[:300],
        )
