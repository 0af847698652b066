"""Group commit of CDR POSTs: one transaction stores, queues and books every CDR that arrived meanwhile.

A CDR is committed before its CPO hears yes, and that stays true: each POST waits for the commit that holds
its own CDR. What changes under load is how many CDRs share a commit. While one batch commits, the CDRs that
arrive queue up, and the next batch takes them all. It then does one look-up for the ones already stored,
one insert each for the CDRs, their deliveries, their ledger entries and their postings, and one commit.
SQLite has a single writer, and every transaction costs a round of statements. A batch pays that once,
not once per CDR.

If a batch breaks on a CDR that another worker stored between its look-up and its insert (PostgreSQL, two
workers, the same CDR at once), the batch is rolled back whole and its CDRs are stored one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub import outbox
from hub.config import Settings
from hub.ledger.booking import book_new_cdrs
from hub.store.batch import Batched
from hub.store.db import Database
from hub.store.models import Cdr

Key = tuple[str, str, str]
Stored = tuple[Cdr, bool]  # the stored row, and whether this POST created it


@dataclass
class _Pending:
    row: Cdr
    kind: str  # the outbox kind that delivers it

    @property
    def key(self) -> Key:
        return (self.row.country_code, self.row.party_id, self.row.cdr_key)


class CdrWriter:
    """Stores CDRs in batches; :meth:`store` returns once the CDR is committed (or was already)."""

    def __init__(self, db: Database, settings: Settings, *, max_batch: int = 256) -> None:
        self._db = db
        self._settings = settings
        self._batched: Batched[_Pending, Stored] = Batched(
            self._store_batch, alone=self._store_one, max_batch=max_batch
        )

    @property
    def batches(self) -> int:
        """Batch transactions tried: how many POSTs shared one shows in the tests."""
        return self._batched.rounds

    async def store(self, row: Cdr, kind: str) -> Stored:
        return await self._batched(_Pending(row, kind))

    async def _store_batch(self, batch: list[_Pending]) -> list[Stored]:
        results: list[Stored] = []
        async with self._db.transaction() as session:
            known = await _stored(session, {pending.key for pending in batch})
            new: dict[Key, _Pending] = {}
            for pending in batch:
                if pending.key in known:
                    results.append((known[pending.key], False))
                elif pending.key in new:  # the same CDR twice in one batch: the second is a re-POST
                    results.append((new[pending.key].row, False))
                else:
                    new[pending.key] = pending
                    results.append((pending.row, True))
            if new:
                await _insert(session, [pending.row for pending in new.values()])
                await self._queue_and_book(session, list(new.values()))
        return results

    async def _store_one(self, pending: _Pending) -> Stored:
        row = Cdr(**pending.row.model_dump(exclude={"id"}))  # not the rolled-back batch's object
        try:
            async with self._db.transaction() as session:
                known = await _stored(session, {pending.key})
                if pending.key in known:
                    return known[pending.key], False
                await _insert(session, [row])
                await self._queue_and_book(session, [_Pending(row, pending.kind)])
        except IntegrityError:
            async with self._db.session() as session:
                known = await _stored(session, {pending.key})
            if pending.key not in known:
                raise
            return known[pending.key], False
        return row, True

    async def _queue_and_book(self, session: AsyncSession, pendings: list[_Pending]) -> None:
        for kind in dict.fromkeys(pending.kind for pending in pendings):
            work = [
                ({"cdr": p.row.id}, p.row.emsp_party_fk, outbox.cdr_line(p.row))
                for p in pendings
                if p.kind == kind
            ]
            await outbox.enqueue_all(session, kind, work)
        await book_new_cdrs(session, [pending.row for pending in pendings], self._settings)


_CDR_TABLE = Cdr.__table__  # type: ignore[attr-defined]
_CDR_COLUMNS = [column.key for column in _CDR_TABLE.columns if column.key != "id"]
# RETURNING the unique key beside the id, and each row matched to its id by that key: asked to return the
# ids in parameter order instead (``sort_by_parameter_order``), SQLAlchemy has no way to do it on SQLite
# for a server-generated id and ran one INSERT per CDR; unordered, a batch is one multi-row INSERT.
_CDR_INSERT = insert(_CDR_TABLE).returning(
    _CDR_TABLE.c.id, _CDR_TABLE.c.country_code, _CDR_TABLE.c.party_id, _CDR_TABLE.c.cdr_key
)


async def _insert(session: AsyncSession, rows: list[Cdr]) -> None:
    """Insert ``rows`` in one statement and give each its id; they stay outside the session.

    The ORM's unit of work (add, flush) cost a group commit more than the insert itself, on the event loop.
    The rows' keys are distinct (the caller keeps one row per key).
    """
    values = [{key: getattr(row, key) for key in _CDR_COLUMNS} for row in rows]
    ids = {
        (country_code, party_id, cdr_key): cdr_fk
        for cdr_fk, country_code, party_id, cdr_key in await session.execute(_CDR_INSERT, values)
    }
    for row in rows:
        row.id = ids[(row.country_code, row.party_id, row.cdr_key)]


async def _stored(session: AsyncSession, keys: set[Key]) -> dict[Key, Cdr]:
    return {
        (row.country_code, row.party_id, row.cdr_key): row
        for row in (await session.execute(stored_query(keys))).scalars()
    }


def stored_query(keys: set[Key]) -> Select[Cdr]:
    """The CDRs already stored under ``keys`` (owner country code, party id, CDR key)."""
    # One IN list per owner, not a row-value IN: SQLite answers ``(a, b, c) IN (VALUES ...)`` by scanning
    # the whole table, so every batch got slower as CDRs accumulated; this form walks the unique index.
    by_owner: dict[tuple[str, str], list[str]] = {}
    for country_code, party_id, cdr_key in keys:
        by_owner.setdefault((country_code, party_id), []).append(cdr_key)
    return select(Cdr).where(
        or_(
            *(
                and_(
                    col(Cdr.country_code) == country_code,
                    col(Cdr.party_id) == party_id,
                    col(Cdr.cdr_key).in_(cdr_keys),
                )
                for (country_code, party_id), cdr_keys in by_owner.items()
            )
        )
    )
