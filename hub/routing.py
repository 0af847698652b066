"""The routing core: who may receive what, in the canonical model, whatever protocol either side speaks.

The protocol front doors ask two questions here: which admitted party answers to a (country, party)
reference, and whether two parties may exchange traffic under the operator's roaming-agreements policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlmodel import col

from hub import agreements
from hub.cache import TtlCache
from hub.config import Settings
from hub.errors import NoAgreement, ReceiverNotConnected, UnknownReceiver
from hub.store.db import Database
from hub.store.models import Party, PartyRole
from schemas.canonical.party import ConnectionStatus, PartyRef, Protocol, Role

log = structlog.get_logger("hub.routing")


@dataclass(frozen=True)
class Target:
    """An admitted party a message can be routed to."""

    ref: PartyRef
    party_fk: int
    protocol: str
    status: str
    roles: frozenset[Role]


class RoutingCore:
    def __init__(self, db: Database, settings: Settings, targets: TtlCache[Any, Any] | None = None) -> None:
        self._db = db
        self._settings = settings
        # Shared with the OCPI context, which forgets it when this process changes a party's status.
        self._targets = targets if targets is not None else TtlCache(settings.ocpi.cache_seconds)

    def is_hub(self, ref: PartyRef | None) -> bool:
        return ref is not None and (ref.country_code, ref.party_id) == (
            self._settings.country_code,
            self._settings.party_id,
        )

    async def resolve(self, ref: PartyRef, *, prefer: Role | None = None) -> Target:
        """The admitted platform behind a party reference; 4001 when nobody answers to it."""
        # Keyed by plain strings: hashing the pydantic reference on every request cost more than the look-up.
        key = (ref.country_code, ref.party_id, prefer)
        target: Target | None = await self._targets.get(key, lambda: self._load(ref, prefer))
        if target is None:
            raise UnknownReceiver(f"no party {ref} is known to the hub")
        return target

    async def _load(self, ref: PartyRef, prefer: Role | None) -> Target | None:
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(PartyRole, Party)
                    .join(Party, col(Party.id) == col(PartyRole.party_fk))
                    .where(
                        col(PartyRole.country_code) == ref.country_code,
                        col(PartyRole.party_id) == ref.party_id,
                    )
                    .order_by(col(PartyRole.id))
                )
            ).all()
        if not rows:
            return None
        # One (country, party) may have its roles on different platforms: prefer the role asked for.
        chosen = next(
            (party for role, party in rows if prefer is not None and role.role == prefer), rows[0][1]
        )
        assert chosen.id is not None
        roles = frozenset(Role(role.role) for role, party in rows if party.id == chosen.id)
        return Target(
            ref=ref, party_fk=chosen.id, protocol=chosen.protocol, status=chosen.status, roles=roles
        )

    @staticmethod
    def require_connected(target: Target) -> None:
        # OICP partners do not register: admitted and not suspended (locked) means reachable.
        if target.protocol == Protocol.OICP and target.status != ConnectionStatus.SUSPENDED:
            return
        if target.status != ConnectionStatus.CONNECTED:
            raise ReceiverNotConnected(f"{target.ref} is {target.status}, not CONNECTED")

    async def check_agreement(
        self,
        sender: PartyRef,
        sender_roles: frozenset[Role],
        receiver: PartyRef,
        receiver_roles: frozenset[Role],
    ) -> None:
        """Under the ``explicit`` policy a CPO and an eMSP need an agreement; refused before sending."""
        if self._settings.agreements == "open":
            return
        pair: tuple[PartyRef, PartyRef] | None = None
        if Role.CPO in sender_roles and Role.EMSP in receiver_roles:
            pair = (sender, receiver)
        elif Role.EMSP in sender_roles and Role.CPO in receiver_roles:
            pair = (receiver, sender)
        if pair is None:
            return
        if not await agreements.allows(self._db, self._settings, *pair):
            log.info("routing.no_agreement", cpo=str(pair[0]), emsp=str(pair[1]))
            raise NoAgreement(f"no roaming agreement between CPO {pair[0]} and eMSP {pair[1]}")
