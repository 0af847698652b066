"""Sessions the hub minted the SessionID for (oicp-hub-notes §1 "Sessions", §9).

The hub, like Hubject, creates the SessionID on the first message (AuthorizeStart, remote start,
reservation start). Every later message must name an open session of its own sender: an unknown, closed or
foreign SessionID is 400 and nothing happens. The one CDR of a session closes it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import insert

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


async def create(db: Database, row: OicpSession) -> OicpSession:
    # One INSERT through the table, not the ORM's unit of work: every Authorized AuthorizeStart writes a
    # session, and the flush's bookkeeping cost more than the statement (the row keeps its given id).
    values = {key: getattr(row, key) for key in _COLUMNS}
    async with db.transaction() as session:
        await session.execute(_INSERT, values)
    return row


_TABLE = OicpSession.__table__  # type: ignore[attr-defined]
_COLUMNS = [column.key for column in _TABLE.columns]
_INSERT = insert(_TABLE)


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
