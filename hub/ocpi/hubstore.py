"""What parties broadcast to the hub (TO = hub), kept for GET All (ocpi-hub-notes §2.7, issues #507, #508).

Objects are kept as the JSON text their owner sent. EVSE and connector PUTs and PATCHes are merged into the
stored location as a receiver would, bumping the parents' ``last_updated`` (§6.1). Numbers survive a merge as
written (``2.50`` stays ``2.50``): the text is parsed with exact decimals and written back by
:func:`dump_exact`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.errors import InvalidParameters
from hub.ocpi.pagination import PageRequest
from hub.store.db import Database
from hub.store.models import Cdr, HubObject
from schemas.ocpi.v2_2_1.common import OcpiDateTime, ci_equals

_DATETIME: TypeAdapter[datetime] = TypeAdapter(OcpiDateTime)


# --- exact JSON --------------------------------------------------------------------------------------


def load_exact(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def dump_exact(value: Any) -> str:
    """Compact JSON in which Decimals are written exactly as they were read."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump_exact(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def parse_datetime(value: Any, field: str = "last_updated") -> datetime:
    try:
        return _DATETIME.validate_python(value)
    except ValueError as exc:
        raise InvalidParameters(f"{value!r} is not an OCPI DateTime", field=field) from exc


# --- merging (pure) ----------------------------------------------------------------------------------


class UnknownObject(InvalidParameters):
    """A PATCH or child PUT for an object the hub does not hold: the sender should PUT it first."""


def _child(children: list[dict[str, Any]], key: str, value: str, what: str) -> dict[str, Any]:
    for child in children:
        if ci_equals(str(child.get(key, "")), value):
            return child
    raise UnknownObject(f"unknown {what} {value!r}; PUT it first", field=key)


def _replace_child(children: list[dict[str, Any]], key: str, new: dict[str, Any]) -> list[dict[str, Any]]:
    kept = [c for c in children if not ci_equals(str(c.get(key, "")), str(new.get(key, "")))]
    index = next(
        (i for i, c in enumerate(children) if ci_equals(str(c.get(key, "")), str(new.get(key, "")))), None
    )
    if index is None:
        return [*kept, new]
    kept.insert(index, new)
    return kept


def _bump(parent: dict[str, Any], child_last_updated: Any) -> None:
    # A receiver bumps the parents' last_updated when a child changes (§6.1); never backwards.
    if child_last_updated is None:
        return
    if "last_updated" not in parent or parse_datetime(child_last_updated) > parse_datetime(
        parent["last_updated"]
    ):
        parent["last_updated"] = child_last_updated


def merge_location(
    location: dict[str, Any] | None,
    body: dict[str, Any],
    *,
    evse_uid: str | None,
    connector_id: str | None,
    patch: bool,
) -> dict[str, Any]:
    """Apply a Location, EVSE or Connector PUT or PATCH to the stored location (or create it)."""
    if evse_uid is None:
        if not patch:
            return body
        if location is None:
            raise UnknownObject("unknown location; PUT it first", field="id")
        return {**location, **body}
    if location is None:
        raise UnknownObject("unknown location; PUT it first", field="id")
    merged = dict(location)
    evses = [dict(e) for e in merged.get("evses") or []]
    if connector_id is None:
        new_evse = {**_child(evses, "uid", evse_uid, "EVSE"), **body} if patch else body
        merged["evses"] = _replace_child(evses, "uid", new_evse)
        _bump(merged, body.get("last_updated"))
        return merged
    evse = dict(_child(evses, "uid", evse_uid, "EVSE"))
    connectors = [dict(c) for c in evse.get("connectors") or []]
    new_connector = {**_child(connectors, "id", connector_id, "connector"), **body} if patch else body
    evse["connectors"] = _replace_child(connectors, "id", new_connector)
    _bump(evse, body.get("last_updated"))
    merged["evses"] = _replace_child(evses, "uid", evse)
    _bump(merged, body.get("last_updated"))
    return merged


# --- storage -----------------------------------------------------------------------------------------


def key(value: str) -> str:
    return value.upper()


def _identity(
    module: str, cc: str, pid: str, object_id: str, object_type: str | None = None
) -> list[ColumnElement[bool]]:
    """The conditions naming one stored object (any token type when ``object_type`` is None)."""
    conditions = [
        col(HubObject.module) == module,
        col(HubObject.country_code) == key(cc),
        col(HubObject.party_id) == key(pid),
        col(HubObject.object_id) == key(object_id),
    ]
    if object_type is not None:
        conditions.append(col(HubObject.object_type) == object_type)
    return conditions


# The statements of the write path, built once: every EVSE status change runs them, and building the
# conditions anew each time cost as much as running them. On the table, not the entity, so no ORM
# unit of work is involved.
_TABLE = HubObject.__table__  # type: ignore[attr-defined]
_LOCKED = (
    select(_TABLE.c.id, _TABLE.c.body)
    .where(
        _TABLE.c.module == bindparam("k_module"),
        _TABLE.c.country_code == bindparam("k_cc"),
        _TABLE.c.party_id == bindparam("k_pid"),
        _TABLE.c.object_id == bindparam("k_id"),
        _TABLE.c.object_type == bindparam("k_type"),
    )
    .with_for_update()
)
_INSERT = _TABLE.insert()
_CHANGE = (
    _TABLE.update()
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(body=bindparam("v_body"), last_updated=bindparam("v_updated"), party_fk=bindparam("v_party"))
)


# What a write makes of the stored object's text (None when there is none yet): the new text and its
# last_updated. It runs with the row locked, so it may raise to refuse the change.
Build = Callable[[str | None], tuple[str, datetime]]
# More work for the same transaction (an open-routing index), so both are kept or neither.
Also = Callable[[AsyncSession], Awaitable[None]]


async def save(
    db: Database,
    module: str,
    cc: str,
    pid: str,
    object_id: str,
    *,
    object_type: str = "",
    party_fk: int,
    body: str,
    last_updated: datetime,
    also: Also | None = None,
) -> None:
    """Insert or replace one object; two writers racing on a new key end with the later one's body."""
    await update(
        db,
        module,
        cc,
        pid,
        object_id,
        object_type=object_type,
        party_fk=party_fk,
        build=lambda _stored: (body, last_updated),
        also=also,
    )


async def update(
    db: Database,
    module: str,
    cc: str,
    pid: str,
    object_id: str,
    *,
    object_type: str = "",
    party_fk: int,
    build: Build,
    also: Also | None = None,
) -> None:
    """Insert or change one object in one transaction with its row locked (the SQLite writer lock, or
    ``FOR UPDATE``), so that two PATCHes of one location (two of its EVSEs) merge rather than the later
    overwriting the earlier with what it read before."""
    names = {
        "k_module": module,
        "k_cc": key(cc),
        "k_pid": key(pid),
        "k_id": key(object_id),
        "k_type": object_type,
    }
    for _ in range(2):
        try:
            async with db.transaction() as session:
                row = (await session.execute(_LOCKED, names)).first()
                body, last_updated = build(row.body if row is not None else None)
                if row is None:
                    await session.execute(
                        _INSERT,
                        {
                            "module": module,
                            "country_code": names["k_cc"],
                            "party_id": names["k_pid"],
                            "object_id": names["k_id"],
                            "object_type": object_type,
                            "party_fk": party_fk,
                            "body": body,
                            "last_updated": last_updated,
                        },
                    )
                else:
                    await session.execute(
                        _CHANGE,
                        {"row_id": row.id, "v_body": body, "v_updated": last_updated, "v_party": party_fk},
                    )
                if also is not None:
                    await also(session)
            return
        except IntegrityError:
            continue
    raise InvalidParameters("the object was changed concurrently; send it again", field="id")


async def delete(db: Database, module: str, cc: str, pid: str, object_id: str) -> bool:
    async with db.transaction() as session:
        rows = (
            await session.execute(select(HubObject).where(*_identity(module, cc, pid, object_id)))
        ).scalars()
        found = False
        for row in rows:
            await session.delete(row)
            found = True
        return found


async def page(db: Database, module: str, request: PageRequest) -> tuple[Sequence[str], int]:
    """One page of a module's stored objects, oldest first, with the filtered total."""
    return await page_of_bodies(db, HubObject, request, col(HubObject.module) == module)


async def page_of_bodies(
    db: Database, table: type[HubObject] | type[Cdr], request: PageRequest, *where: ColumnElement[bool]
) -> tuple[list[str], int]:
    """The JSON bodies of one page of a table's rows, in creation order, filtered on ``last_updated``.

    Shared by every list the hub serves from its own store (GET All, an eMSP's CDRs).
    """
    conditions = list(where)
    if request.date_from is not None:
        conditions.append(col(table.last_updated) >= request.date_from)
    if request.date_to is not None:
        conditions.append(col(table.last_updated) < request.date_to)
    async with db.session() as session:
        total = (
            await session.execute(select(func.count()).select_from(table).where(*conditions))
        ).scalar_one()
        bodies = await session.execute(
            select(col(table.body))
            .where(*conditions)
            .order_by(col(table.id))
            .offset(request.offset)
            .limit(request.limit)
        )
        return list(bodies.scalars()), int(total)


async def find_by_id(db: Database, module: str, object_id: str) -> HubObject | None:
    """A stored object by id alone (Sender-interface GET names no owner); the oldest if ids collide."""
    async with db.session() as session:
        return (
            await session.execute(
                select(HubObject)
                .where(col(HubObject.module) == module, col(HubObject.object_id) == key(object_id))
                .order_by(col(HubObject.id))
                .limit(1)
            )
        ).scalar()
