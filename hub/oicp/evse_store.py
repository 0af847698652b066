"""EVSE data and status pushed by OICP CPOs, in table ``oicp_evse`` (notes §1 "Data pushes", §2 #11, #13).

One row per EvseID holds both the data record and the status. An operator's *set* is its rows (party and
OperatorID). A deleted data record stays as a tombstone (``deleted_at``) so that ``LastCall`` pulls can
answer ``deltaType: delete``; ``created_at`` is when the data record was (re)inserted, ``updated_at`` when it
last changed. A status may come without a data record: see :func:`apply_status` for when that is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.errors import Conflict
from hub.oicp.evse_query import EvseEntry
from hub.oicp.pushsets import plan_push
from hub.store.db import Database
from hub.store.models import OicpEvse
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3.common import ActionType

_CHUNK = 500  # keys per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits


@dataclass(frozen=True)
class OperatorSet:
    """Whose push this is: the calling partner and the OperatorID it pushes for."""

    party_fk: int
    operator_id: str
    operator_name: str | None

    @property
    def key(self) -> str:
        return normalise_oicp_id(self.operator_id)

    def holds(self, row: OicpEvse) -> bool:
        return row.operator_party_fk == self.party_fk and normalise_oicp_id(row.operator_id) == self.key


@dataclass(frozen=True)
class DataItem:
    key: str
    evse_id: str
    data: str  # the EvseDataRecord, JSON


@dataclass(frozen=True)
class StatusItem:
    key: str
    evse_id: str
    status: str


def operator_column() -> ColumnElement[str]:
    """``oicp_evse.operator_id`` in its comparable form, computed by the database (both backends)."""
    return func.replace(func.replace(func.upper(col(OicpEvse.operator_id)), "*", ""), "-", "")


def _data_alive(row: OicpEvse) -> bool:
    return row.data is not None and row.deleted_at is None


def _status_alive(row: OicpEvse) -> bool:
    return row.status is not None and row.deleted_at is None


# --- reading rows inside a push ---------------------------------------------------------------------


async def _rows(
    session: AsyncSession, owner: OperatorSet, keys: Sequence[str], whole: bool
) -> list[OicpEvse]:
    """The rows a push may touch: those of its keys and, for a fullLoad, the operator's whole set."""
    found: dict[int | None, OicpEvse] = {}
    for start in range(0, len(keys), _CHUNK):
        query = select(OicpEvse).where(col(OicpEvse.evse_key).in_(keys[start : start + _CHUNK]))
        found |= {row.id: row for row in (await session.execute(query)).scalars()}
    if whole:
        found |= {row.id: row for row in await _set_rows(session, owner)}
    return list(found.values())


async def _set_rows(session: AsyncSession, owner: OperatorSet) -> Sequence[OicpEvse]:
    query = select(OicpEvse).where(
        col(OicpEvse.operator_party_fk) == owner.party_fk, operator_column() == owner.key
    )
    return (await session.execute(query)).scalars().all()


async def _has_data(session: AsyncSession, owner: OperatorSet) -> bool:
    query = select(col(OicpEvse.id)).where(
        col(OicpEvse.operator_party_fk) == owner.party_fk,
        operator_column() == owner.key,
        col(OicpEvse.data).is_not(None),
    )
    return (await session.execute(query.limit(1))).first() is not None


def _split(rows: Iterable[OicpEvse], owner: OperatorSet) -> tuple[dict[str, OicpEvse], dict[str, OicpEvse]]:
    mine: dict[str, OicpEvse] = {}
    others: dict[str, OicpEvse] = {}
    for row in rows:
        (mine if owner.holds(row) else others)[row.evse_key] = row
    return mine, others


# --- PushEvseData -----------------------------------------------------------------------------------


async def apply_data(
    db: Database, owner: OperatorSet, action: ActionType, items: Sequence[DataItem], now: datetime
) -> None:
    """Apply a PushEvseData to the operator's set in one transaction (009 per :func:`plan_push`)."""
    keys = [item.key for item in items]
    async with db.transaction() as session:
        mine, others = _split(await _rows(session, owner, keys, action is ActionType.FULL_LOAD), owner)
        alive = {key for key, row in mine.items() if _data_alive(row)}
        taken = {key for key, row in others.items() if _data_alive(row) or _status_alive(row)}
        plan = plan_push(action, keys, alive, taken)
        by_key = {item.key: item for item in items}
        for key in plan.upsert:
            session.add(_write_data(mine.get(key) or others.get(key), owner, by_key[key], now))
        for key in plan.delete:
            _tombstone(mine[key], now)


def _write_data(row: OicpEvse | None, owner: OperatorSet, item: DataItem, now: datetime) -> OicpEvse:
    if row is None:
        row = _new_row(owner, item.key, item.evse_id, now)
    revived = not owner.holds(row) or not _data_alive(row)
    if revived:
        row.created_at = now  # a re-inserted record is an insert again for delta pulls
    if revived or row.data != item.data or row.operator_name != owner.operator_name:
        row.updated_at = now
    row.operator_party_fk, row.operator_id, row.operator_name = (
        owner.party_fk,
        owner.operator_id,
        owner.operator_name,
    )
    row.evse_id, row.data, row.deleted_at = item.evse_id, item.data, None
    return row


def _new_row(owner: OperatorSet, key: str, evse_id: str, now: datetime) -> OicpEvse:
    return OicpEvse(
        operator_party_fk=owner.party_fk,
        operator_id=owner.operator_id,
        evse_key=key,
        evse_id=evse_id,
        created_at=now,
        updated_at=now,
    )


def _tombstone(row: OicpEvse, now: datetime) -> None:
    """Deleted data keeps its row (and record) for ``deltaType: delete``; its status goes with it."""
    row.deleted_at = row.updated_at = now
    if row.status is not None:
        row.status, row.status_updated_at = None, now


# --- PushEvseStatus ---------------------------------------------------------------------------------


async def apply_status(
    db: Database, owner: OperatorSet, action: ActionType, items: Sequence[StatusItem], now: datetime
) -> None:
    """Apply a PushEvseStatus to the operator's set in one transaction.

    A status for an EVSE without a data record is 009 (notes §2 #13 [support]), but only once the
    operator has pushed EVSE data at all: a CPO that publishes statuses only (its data reaches EMPs by
    other means) is served rather than refused, as Hubject's 603 rule does for remote starts (§2 #3).
    """
    keys = [item.key for item in items]
    async with db.transaction() as session:
        mine, others = _split(await _rows(session, owner, keys, action is ActionType.FULL_LOAD), owner)
        alive = {key for key, row in mine.items() if _status_alive(row)}
        taken = {key for key, row in others.items() if _data_alive(row) or _status_alive(row)}
        plan = plan_push(action, keys, alive, taken)
        if await _has_data(session, owner):
            _require_data(plan.upsert, mine)
        by_key = {item.key: item for item in items}
        for key in plan.upsert:
            session.add(_write_status(mine.get(key) or others.get(key), owner, by_key[key], now))
        for key in plan.delete:
            mine[key].status, mine[key].status_updated_at = None, now


def _require_data(keys: Iterable[str], mine: dict[str, OicpEvse]) -> None:
    missing = [key for key in keys if key not in mine or not _data_alive(mine[key])]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise Conflict(f"no EVSE data record for {shown}; push the EVSE data first")


def _write_status(row: OicpEvse | None, owner: OperatorSet, item: StatusItem, now: datetime) -> OicpEvse:
    if row is None:
        row = _new_row(owner, item.key, item.evse_id, now)
    elif not owner.holds(row):  # a tombstone of another set, taken over
        row.operator_party_fk, row.operator_id, row.evse_id = owner.party_fk, owner.operator_id, item.evse_id
        row.data, row.deleted_at = None, None
    if owner.operator_name and row.data is None:  # a data record's name comes from PushEvseData
        row.operator_name = owner.operator_name
    row.status, row.status_updated_at = item.status, now
    return row


# --- pulls ------------------------------------------------------------------------------------------


async def entries(
    db: Database,
    operator_keys: Iterable[str],
    *,
    since: datetime | None = None,
    evse_keys: Sequence[str] | None = None,
) -> list[EvseEntry]:
    """The stored EVSEs of these operators (comparable OperatorIDs), tombstones included.

    ``since`` keeps rows whose data changed after it (LastCall); ``evse_keys`` only those EVSEs.
    """
    wanted = sorted(set(operator_keys))
    if not wanted:
        return []
    query = select(OicpEvse).where(operator_column().in_(wanted))
    if since is not None:
        query = query.where(col(OicpEvse.updated_at) > since)
    if evse_keys is not None:
        query = query.where(col(OicpEvse.evse_key).in_(list(evse_keys)))
    async with db.session() as session:
        rows = (await session.execute(query.order_by(col(OicpEvse.id)))).scalars().all()
    return [_entry(row) for row in rows]


def _entry(row: OicpEvse) -> EvseEntry:
    record: dict[str, Any] | None = json.loads(row.data, parse_float=Decimal) if row.data else None
    return EvseEntry(
        operator_id=row.operator_id,
        operator_name=row.operator_name,
        evse_id=row.evse_id,
        record=record,
        status=row.status,
        updated_at=row.updated_at,
        created_at=row.created_at,
        deleted=row.deleted_at is not None,
    )
