"""Sessions the hub minted the SessionID for (oicp-hub-notes §1 "Sessions", §9).

The hub, like Hubject, creates the SessionID on the first message (AuthorizeStart, remote start,
reservation start). Every later message must name an open session of its own sender: an unknown, closed or
foreign SessionID is 400 and nothing happens. The one CDR of a session closes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic_core import PydanticUndefined

from hub.errors import InvalidSession
from hub.store.db import Database
from hub.store.models import OicpSession
from hub.store.types import utcnow


class SessionKind(StrEnum):
    CHARGING = "charging"
    RESERVATION = "reservation"


OPEN, CLOSED = "open", "closed"


def new_session_id() -> str:
    return str(uuid.uuid4())


async def create(db: Database, row: OicpSession | Mapping[str, Any]) -> None:
    """Store a new session: a row, or its column values (:func:`session_values`).

    Every Authorized AuthorizeStart writes a session before it answers: one INSERT on a Core connection,
    outside the ORM's unit of work, and the AuthorizeStarts that arrive meanwhile share its commit
    (:meth:`Database.insert`); the round's fixed cost was most of the write.
    """
    given = row if isinstance(row, Mapping) else {key: getattr(row, key) for key in _COLUMNS}
    if unknown := given.keys() - _COLUMNS:
        raise TypeError(f"no oicp_session column {sorted(unknown)}")
    await db.insert(_TABLE, {key: given[key] if key in given else _default(key) for key in _COLUMNS})


def session_values(**given: Any) -> dict[str, Any]:
    """A new session's column values, the model's defaults filled in, without building the model (whose
    construction costs more than its INSERT on the AuthorizeStart path)."""
    unknown = given.keys() - _DEFAULTS.keys()
    if unknown:
        raise TypeError(f"no oicp_session column {sorted(unknown)}")
    values = {**_DEFAULTS, **{key: factory() for key, factory in _FACTORIES.items()}, **given}
    missing = [key for key in _REQUIRED if values.get(key) is None]
    if missing:
        raise TypeError(f"a session needs {missing}")
    return values


_TABLE = OicpSession.__table__  # type: ignore[attr-defined]
_COLUMNS = [column.key for column in _TABLE.columns]
_DEFAULTS: dict[str, Any] = {
    key: (field.default if field.default is not PydanticUndefined else None)
    for key, field in OicpSession.model_fields.items()
}
_FACTORIES: dict[str, Any] = {
    key: field.default_factory
    for key, field in OicpSession.model_fields.items()
    if field.default_factory is not None
}


def _default(key: str) -> Any:
    factory = _FACTORIES.get(key)
    return factory() if factory is not None else _DEFAULTS.get(key)


_REQUIRED = [key for key, field in OicpSession.model_fields.items() if field.is_required()]


async def find(db: Database, session_id: str | None) -> OicpSession | None:
    if not session_id:
        return None
    async with db.session() as session:
        return await session.get(OicpSession, session_id)


async def require_open(
    db: Database,
    session_id: str | None,
    *,
    cpo_party_fk: int | None = None,
    emp_party_fk: int | None = None,
    kind: SessionKind | None = None,
) -> OicpSession:
    """The open session, if it belongs to the caller (as CPO or as EMP); :class:`InvalidSession` (400)."""
    row = await find(db, session_id)
    if row is None:
        raise InvalidSession(f"unknown SessionID {session_id}", field="SessionID")
    if (cpo_party_fk is not None and row.cpo_party_fk != cpo_party_fk) or (
        emp_party_fk is not None and row.emp_party_fk != emp_party_fk
    ):
        raise InvalidSession(f"session {session_id} belongs to another partner", field="SessionID")
    if row.status != OPEN:
        raise InvalidSession(f"session {session_id} is closed", field="SessionID")
    if kind is not None and row.kind != kind:
        raise InvalidSession(f"session {session_id} is a {row.kind} session, not {kind}", field="SessionID")
    return row


async def discard(db: Database, session_id: str) -> None:
    """A session nobody authorised (or the CPO refused) is forgotten (notes §2 #1, #3)."""
    async with db.transaction() as session:
        row = await session.get(OicpSession, session_id)
        if row is not None and row.status == OPEN:
            await session.delete(row)


def close(row: OicpSession) -> None:
    row.status = CLOSED
    row.closed_at = utcnow()
