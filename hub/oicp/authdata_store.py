"""Authentication data pushed by EMPs, in table ``oicp_auth_data`` (oicp-hub-notes §2 #9, §4.2 step 4).

One row per medium: ``lookup_key`` names it by kind and normalised value (``UID:7568290FFF765F``,
``QR:DE8EOCAET5E4XY3``), so that an AuthorizeStart finds it with one indexed query. A set is one EMP's
data for one of its ProviderIDs; the table's unique key is per partner, so a medium held under another
ProviderID of the same partner cannot be pushed again (009). Nothing here is pulled as a delta, so a
delete removes the row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from hub.oicp.pushsets import plan_push
from hub.store.db import Database
from hub.store.models import OicpAuthData
from schemas.canonical.party import normalise_oicp_id
from schemas.oicp.v2_3.common import ActionType

_CHUNK = 500  # ids per IN (...) list: well under SQLite's and asyncpg's bound-parameter limits


@dataclass(frozen=True)
class AuthItem:
    key: str  # lookup_key
    record: dict[str, Any]  # {"Identification": {...}} without a clear PIN, plus the hub's "PinHash"


def _text(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def load(row: OicpAuthData) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(row.record)
    return record


async def apply(
    db: Database,
    party_fk: int,
    provider_id: str,
    action: ActionType,
    items: Sequence[AuthItem],
    now: datetime,
) -> None:
    """Apply one PushAuthenticationData to the EMP's set for ``provider_id``, in one transaction."""
    mine = normalise_oicp_id(provider_id)
    async with db.transaction() as session:
        query = select(OicpAuthData).where(col(OicpAuthData.provider_party_fk) == party_fk)
        rows = {row.lookup_key: row for row in (await session.execute(query)).scalars()}
        alive = {key for key, row in rows.items() if normalise_oicp_id(row.provider_id) == mine}
        plan = plan_push(action, [item.key for item in items], alive, set(rows) - alive)
        by_key = {item.key: item for item in items}
        for key in plan.upsert:
            row = rows.get(key) or OicpAuthData(
                provider_party_fk=party_fk, provider_id=provider_id, lookup_key=key, record=""
            )
            row.provider_id, row.record, row.updated_at = provider_id, _text(by_key[key].record), now
            session.add(row)
        doomed = sorted(rows[key].id or 0 for key in plan.delete)
        for start in range(0, len(doomed), _CHUNK):
            chunk = doomed[start : start + _CHUNK]
            await session.execute(delete(OicpAuthData).where(col(OicpAuthData.id).in_(chunk)))


async def candidates(db: Database, key: str, party_fks: Iterable[int] | None) -> Sequence[OicpAuthData]:
    """The rows naming one medium, of these EMP partners (all when None), oldest first."""
    query = select(OicpAuthData).where(col(OicpAuthData.lookup_key) == key)
    if party_fks is not None:
        query = query.where(col(OicpAuthData.provider_party_fk).in_(list(party_fks)))
    async with db.session() as session:
        return (await session.execute(query.order_by(col(OicpAuthData.id)))).scalars().all()


async def of_partners(db: Database, party_fks: Iterable[int]) -> Sequence[OicpAuthData]:
    """Everything these EMP partners pushed, grouped by partner and ProviderID order."""
    wanted = list(party_fks)
    if not wanted:
        return []
    query = select(OicpAuthData).where(col(OicpAuthData.provider_party_fk).in_(wanted))
    async with db.session() as session:
        rows = (await session.execute(query.order_by(col(OicpAuthData.id)))).scalars().all()
    return rows
