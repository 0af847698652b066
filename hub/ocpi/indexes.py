"""Open-routing indexes learnt from traffic: who owns a location, a session, a reservation, a token.

Open routing (no ``OCPI-to-*``) is resolved from content (ocpi-hub-notes §12.2): a command by its
location, session or reservation, a session PATCH by the session, an authorisation by the token.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.store.db import Database
from hub.store.models import RouteIndex
from hub.store.types import utcnow
from schemas.canonical.party import PartyRef

LOCATION = "location"
SESSION = "session"
RESERVATION = "reservation"
TOKEN = "token"  # noqa: S105 - an index kind


def token_key(uid: str, token_type: str) -> str:
    return f"{uid.upper()}|{token_type.upper()}"


async def remember(db: Database, kind: str, key: str, owner: PartyRef, peer: PartyRef | None = None) -> None:
    """Record (or refresh) that ``owner`` holds the object ``key`` of ``kind``."""
    try:
        async with db.transaction() as session:
            await remember_in(session, kind, key, owner, peer)
    except IntegrityError:
        pass  # the same fact was recorded concurrently


async def remember_in(
    session: AsyncSession, kind: str, key: str, owner: PartyRef, peer: PartyRef | None = None
) -> None:
    """:func:`remember` as part of the caller's transaction (an IntegrityError is the caller's)."""
    row = (
        await session.execute(
            select(RouteIndex).where(
                col(RouteIndex.kind) == kind,
                col(RouteIndex.key) == key.upper(),
                col(RouteIndex.country_code) == owner.country_code,
                col(RouteIndex.party_id) == owner.party_id,
            )
        )
    ).scalar()
    if row is None:
        row = RouteIndex(kind=kind, key=key.upper(), country_code=owner.country_code, party_id=owner.party_id)
    row.peer_country_code = peer.country_code if peer else row.peer_country_code
    row.peer_party_id = peer.party_id if peer else row.peer_party_id
    row.updated_at = utcnow()
    session.add(row)


async def lookup(db: Database, kind: str, key: str) -> list[RouteIndex]:
    async with db.session() as session:
        rows = await session.execute(
            select(RouteIndex)
            .where(col(RouteIndex.kind) == kind, col(RouteIndex.key) == key.upper())
            .order_by(col(RouteIndex.updated_at).desc())
        )
        return list(rows.scalars())


async def owner(db: Database, kind: str, key: str) -> PartyRef | None:
    """The one party that owns ``key``; None when unknown or ambiguous (then the caller answers 4001)."""
    rows = await lookup(db, kind, key)
    owners = {PartyRef(country_code=r.country_code, party_id=r.party_id) for r in rows}
    return owners.pop() if len(owners) == 1 else None


async def peer(db: Database, kind: str, key: str, owner_ref: PartyRef) -> PartyRef | None:
    for row in await lookup(db, kind, key):
        if (row.country_code, row.party_id) == (
            owner_ref.country_code,
            owner_ref.party_id,
        ) and row.peer_party_id:
            assert row.peer_country_code is not None
            return PartyRef(country_code=row.peer_country_code, party_id=row.peer_party_id)
    return None
