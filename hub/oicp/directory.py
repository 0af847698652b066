"""Who is who across protocols: OperatorIDs and ProviderIDs of every admitted party, OICP and OCPI alike.

An OICP partner has its ids on its roles (``party_role.oicp_id``); an OCPI party is given one derived
from its country and party id (``NL*ABC`` as an operator, ``NL-ABC`` as a provider), so that an OICP
partner can name it (oicp-hub-notes §9). Lookups compare normalised ids (upper case, no separators).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from hub import agreements
from hub.cache import TtlCache
from hub.config import Settings
from hub.store.db import Database
from hub.store.models import Party, PartyRole
from schemas.canonical.party import ConnectionStatus, PartyRef, Protocol, Role, normalise_oicp_id


@dataclass(frozen=True)
class Member:
    """One role of one admitted party, as routing across protocols needs it."""

    party_fk: int
    ref: PartyRef
    role: Role
    protocol: str
    status: str
    oicp_id: str  # as written: the role's own, or derived for an OCPI party

    @property
    def is_oicp(self) -> bool:
        return self.protocol == Protocol.OICP

    @property
    def reachable(self) -> bool:
        """OICP partners are reachable unless locked; OCPI platforms once registered (CONNECTED)."""
        if self.status == ConnectionStatus.SUSPENDED:
            return False
        return self.is_oicp or self.status == ConnectionStatus.CONNECTED


class Candidates:
    """The EMPs one AuthorizeStart may ask, with the look-ups it makes of them built once.

    An RFID UID names no provider, so on a hub with hundreds of eMSPs every AuthorizeStart has them all
    as candidates; the roster cache keeps one of these per CPO (:func:`candidates`), so that the
    per-request work does not grow with the number of admitted eMSPs.
    """

    __slots__ = ("by_fk", "members", "ocpi_by_ref", "oicp_fks")

    def __init__(self, members: list[Member]) -> None:
        self.members = tuple(members)
        self.by_fk = {emp.party_fk: emp for emp in members}
        self.ocpi_by_ref = {
            (emp.ref.country_code, emp.ref.party_id): emp for emp in members if not emp.is_oicp
        }
        self.oicp_fks = frozenset(emp.party_fk for emp in members if emp.is_oicp)

    def __len__(self) -> int:
        return len(self.members)

    def without(self, party_fk: int) -> Candidates:
        return Candidates([emp for emp in self.members if emp.party_fk != party_fk])


def derived_id(ref: PartyRef, role: Role) -> str:
    return f"{ref.country_code}*{ref.party_id}" if role is Role.CPO else f"{ref.country_code}-{ref.party_id}"


def _member(role: PartyRole, party: Party) -> Member:
    assert party.id is not None
    ref = PartyRef(country_code=role.country_code, party_id=role.party_id)
    kind = Role(role.role)
    return Member(party.id, ref, kind, party.protocol, party.status, role.oicp_id or derived_id(ref, kind))


async def members(db: Database, role: Role, roster: TtlCache[Any, Any] | None = None) -> list[Member]:
    """Every admitted party in a role, in admission order; from ``roster`` (a per-process cache) if given."""
    if roster is not None:
        return list(await roster.get(role, lambda: members(db, role)))
    query = (
        select(PartyRole, Party)
        .join(Party, col(Party.id) == col(PartyRole.party_fk))
        .where(col(PartyRole.role) == role.value)
        .order_by(col(PartyRole.id))
    )
    async with db.session() as session:
        return [_member(r, p) for r, p in (await session.execute(query)).all()]


async def by_oicp_id(db: Database, oicp_id: str, role: Role) -> Member | None:
    """The party answering to an OperatorID (role CPO) or ProviderID (role EMSP), whatever its protocol."""
    wanted = normalise_oicp_id(oicp_id)
    return next((m for m in await members(db, role) if normalise_oicp_id(m.oicp_id) == wanted), None)


async def by_ref(db: Database, ref: PartyRef, role: Role) -> Member | None:
    return next((m for m in await members(db, role) if m.ref == ref), None)


async def own_member(
    db: Database, party_fk: int, oicp_id: str, role: Role, roster: TtlCache[Any, Any] | None = None
) -> Member:
    """The caller's own role behind an id it used (already checked to be its own by the front door)."""
    wanted = normalise_oicp_id(oicp_id)
    for member in await members(db, role, roster):
        if member.party_fk == party_fk and normalise_oicp_id(member.oicp_id) == wanted:
            return member
    raise LookupError(f"{oicp_id} is not a {role} id of party {party_fk}")


async def contracted_emps(
    db: Database, settings: Settings, cpo: Member, roster: TtlCache[Any, Any] | None = None
) -> list[Member]:
    """The EMPs (OICP and OCPI) a CPO may serve: reachable and under the roaming-agreements policy.

    The policy is what OICP calls contracts (offer-to-all when ``agreements = "open"``, notes §1).
    """
    reachable = [
        emp for emp in await members(db, Role.EMSP, roster) if emp.party_fk != cpo.party_fk and emp.reachable
    ]
    partners = await agreements.emsps_of(db, settings, cpo.ref)  # one query, not one per EMP
    return [emp for emp in reachable if partners is None or emp.ref in partners]


async def candidates(db: Database, settings: Settings, cpo: Member, roster: TtlCache[Any, Any]) -> Candidates:
    """:func:`contracted_emps` as :class:`Candidates`, kept in ``roster`` (forgotten with it on a change
    of parties or agreements in this process, within its ttl elsewhere)."""

    async def load() -> Candidates:
        return Candidates(await contracted_emps(db, settings, cpo, roster))

    found: Candidates = await roster.get(("candidates", cpo.party_fk), load)
    return found


async def contracted(db: Database, settings: Settings, cpo: Member, emp: Member) -> bool:
    return await agreements.allows(db, settings, cpo.ref, emp.ref)
