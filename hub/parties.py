"""Admitting partners: the operations the CLI and the admin API share.

A party here is one partner platform the operator admitted: a name, a protocol, and the
(country, party id, role) combinations it may speak for. OCPI parties get a one-time registration token
(token A) and the hub's versions URL; OICP parties get their OperatorID (CPO) or ProviderID (eMSP) and the
base URL the hub calls them at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub import outbox
from hub.config import Settings
from hub.crypto import hash_token, new_token
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.store.db import Database
from hub.store.models import CredentialToken, Party, PartyRole
from hub.store.types import utcnow
from schemas.canonical.party import (
    ConnectionStatus,
    CountryCode,
    OperatorId,
    PartyCode,
    Protocol,
    ProviderId,
    Role,
    normalise_oicp_id,
)

ADMISSIBLE_ROLES = frozenset(Role) - {Role.HUB}
OICP_ROLES = frozenset({Role.CPO, Role.EMSP})
# The services Hubject calls partners for, each at its own base URL (oicp-hub-notes §1).
OICP_SERVICES = frozenset({"charging", "reservation", "cdrmgmt", "notificationmgmt"})


class PartyCreate(BaseModel):
    """What the operator gives to admit a party."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    country_code: CountryCode
    party_id: PartyCode
    roles: Annotated[list[Role], Field(min_length=1)]
    protocol: Protocol
    base_url: str | None = None
    operator_id: OperatorId | None = None
    provider_id: ProviderId | None = None
    # OICP: the partner's CA bundle (PEM) to verify it by; per-service base URLs, None = not offered.
    oicp_ca: str | None = None
    oicp_services: dict[str, str | None] | None = None

    @field_validator("oicp_ca")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value is not None and "-----BEGIN CERTIFICATE-----" not in value:
            raise ValueError("must be PEM text with at least one certificate")
        return value

    @field_validator("oicp_services")
    @classmethod
    def _services(cls, value: dict[str, str | None] | None) -> dict[str, str | None] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - OICP_SERVICES)
        if unknown:
            raise ValueError(f"unknown OICP services {unknown}; known: {sorted(OICP_SERVICES)}")
        for url in value.values():
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError("a service URL must be an http:// or https:// URL (or null: not offered)")
        return {name: url.rstrip("/") if url else None for name, url in value.items()}

    @field_validator("roles")
    @classmethod
    def _admissible(cls, roles: list[Role]) -> list[Role]:
        if Role.HUB in roles:
            raise ValueError("HUB is the hub's own role and cannot be admitted")
        if len(set(roles)) != len(roles):
            raise ValueError("a role is listed twice")
        return roles

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _protocol_fields(self) -> Self:
        if self.protocol is Protocol.OCPI:
            for name in ("base_url", "operator_id", "provider_id", "oicp_ca", "oicp_services"):
                if getattr(self, name) is not None:
                    raise InvalidParameters("only OICP parties have this; OCPI parties register", field=name)
            return self
        extra = set(self.roles) - OICP_ROLES
        if extra:
            raise InvalidParameters(f"OICP knows only CPO and EMSP, not {sorted(extra)}", field="roles")
        if self.operator_id is not None and Role.CPO not in self.roles:
            raise InvalidParameters("an OperatorID belongs to a CPO role", field="operator_id")
        if self.provider_id is not None and Role.EMSP not in self.roles:
            raise InvalidParameters("a ProviderID belongs to an EMSP role", field="provider_id")
        return self

    def oicp_id(self, role: Role) -> str | None:
        """The OICP identifier for a role: given, or derived from country and party id (DE*ABC, DE-XYZ)."""
        if self.protocol is not Protocol.OICP:
            return None
        if role is Role.CPO:
            return self.operator_id or f"{self.country_code}*{self.party_id}"
        return self.provider_id or f"{self.country_code}-{self.party_id}"


class RoleView(BaseModel):
    country_code: str
    party_id: str
    role: str
    oicp_id: str | None = None


class PartyView(BaseModel):
    """A party as the CLI and the admin API show it; never any token except a fresh token A."""

    id: int
    name: str
    protocol: str
    status: str
    roles: list[RoleView]
    base_url: str | None = None
    oicp_services: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    versions_url: str | None = None
    token_a: str | None = None


def _view(party: Party, roles: list[PartyRole], settings: Settings) -> PartyView:
    assert party.id is not None
    return PartyView(
        id=party.id,
        name=party.name,
        protocol=party.protocol,
        status=party.status,
        roles=[
            RoleView(country_code=r.country_code, party_id=r.party_id, role=r.role, oicp_id=r.oicp_id)
            for r in roles
        ],
        base_url=party.base_url,
        oicp_services=party.oicp_services,
        created_at=party.created_at,
        updated_at=party.updated_at,
        versions_url=settings.url("/ocpi/versions") if party.protocol == Protocol.OCPI else None,
    )


async def _check_unique(session: AsyncSession, data: PartyCreate, settings: Settings) -> None:
    if (data.country_code, data.party_id) == (settings.country_code, settings.party_id):
        raise Conflict(f"{data.country_code}-{data.party_id} is the hub's own identity", field="party_id")
    taken = (
        (
            await session.execute(
                select(PartyRole).where(
                    tuple_(PartyRole.country_code, PartyRole.party_id, PartyRole.role).in_(
                        [(data.country_code, data.party_id, role.value) for role in data.roles]
                    )
                )
            )
        )
        .scalars()
        .first()
    )
    if taken is not None:
        raise Conflict(
            f"{taken.country_code}-{taken.party_id} is already admitted as {taken.role}"
            f" (party {taken.party_fk})",
            field="roles",
        )
    for role in data.roles:
        oicp_id = data.oicp_id(role)
        if oicp_id is None:
            continue
        others = (
            await session.execute(select(col(PartyRole.oicp_id)).where(col(PartyRole.oicp_id).is_not(None)))
        ).scalars()
        if normalise_oicp_id(oicp_id) in {normalise_oicp_id(o) for o in others if o}:
            field = "operator_id" if role is Role.CPO else "provider_id"
            raise Conflict(f"{oicp_id} is already admitted", field=field)


async def add_party(db: Database, settings: Settings, data: PartyCreate) -> PartyView:
    """Admit a party in one transaction; for OCPI the view carries the new token A (shown only once)."""
    token_a = new_token() if data.protocol is Protocol.OCPI else None
    try:
        async with db.transaction() as session:
            await _check_unique(session, data, settings)
            party = Party(
                name=data.name,
                protocol=data.protocol.value,
                status=ConnectionStatus.PLANNED.value,
                base_url=data.base_url,
                oicp_ca=data.oicp_ca,
                oicp_services=data.oicp_services,
            )
            session.add(party)
            await session.flush()
            assert party.id is not None
            roles = [
                PartyRole(
                    party_fk=party.id,
                    country_code=data.country_code,
                    party_id=data.party_id,
                    role=role.value,
                    oicp_id=data.oicp_id(role),
                )
                for role in data.roles
            ]
            session.add_all(roles)
            outbox.enqueue(session, outbox.CLIENT_INFO, {"party_fk": party.id})  # announced as PLANNED
            if token_a is not None:
                session.add(CredentialToken(party_fk=party.id, kind="A", token_hash=hash_token(token_a)))
    except IntegrityError as exc:
        # Two admissions racing past the check: the unique constraints decide, nothing is half-written.
        raise Conflict("this party or one of its roles was admitted concurrently", field="roles") from exc
    view = _view(party, roles, settings)
    view.token_a = token_a
    return view


async def _roles_by_party(session: AsyncSession, party_ids: list[int]) -> dict[int, list[PartyRole]]:
    result: dict[int, list[PartyRole]] = {pid: [] for pid in party_ids}
    rows = await session.execute(
        select(PartyRole).where(col(PartyRole.party_fk).in_(party_ids)).order_by(col(PartyRole.id))
    )
    for role in rows.scalars():
        result[role.party_fk].append(role)
    return result


async def list_parties(db: Database, settings: Settings) -> list[PartyView]:
    async with db.session() as session:
        parties = list((await session.execute(select(Party).order_by(col(Party.id)))).scalars())
        roles = await _roles_by_party(session, [p.id for p in parties if p.id is not None])
    return [_view(p, roles[p.id], settings) for p in parties if p.id is not None]


async def get_party(db: Database, settings: Settings, party_id: int) -> PartyView:
    async with db.session() as session:
        party = await session.get(Party, party_id)
        if party is None:
            raise NotFound(f"no party with id {party_id}", field="id")
        roles = await _roles_by_party(session, [party_id])
    return _view(party, roles[party_id], settings)


def set_status(session: AsyncSession, party: Party, status: ConnectionStatus) -> None:
    """Change a party's status and, in the same transaction, queue the HubClientInfo push announcing it."""
    party.status = status.value
    party.updated_at = utcnow()
    session.add(party)
    assert party.id is not None
    outbox.enqueue(session, outbox.CLIENT_INFO, {"party_fk": party.id})


async def suspend_party(db: Database, settings: Settings, party_id: int) -> PartyView:
    """Stop a party's traffic: status SUSPENDED and every token it holds revoked."""
    async with db.transaction() as session:
        party = await session.get(Party, party_id, with_for_update=True)
        if party is None:
            raise NotFound(f"no party with id {party_id}", field="id")
        set_status(session, party, ConnectionStatus.SUSPENDED)
        await session.execute(
            update(CredentialToken)
            .where(col(CredentialToken.party_fk) == party_id)
            .where(col(CredentialToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
    return await get_party(db, settings, party_id)


async def new_registration_token(db: Database, settings: Settings, party_id: int) -> PartyView:
    """A fresh token A for an OCPI party (e.g. after it unregistered); older unused ones stop working."""
    token_a = new_token()
    async with db.transaction() as session:
        party = await session.get(Party, party_id, with_for_update=True)
        if party is None:
            raise NotFound(f"no party with id {party_id}", field="id")
        if party.protocol != Protocol.OCPI:
            raise InvalidParameters("only OCPI parties register with a token A", field="id")
        await session.execute(
            update(CredentialToken)
            .where(col(CredentialToken.party_fk) == party_id, col(CredentialToken.kind) == "A")
            .where(col(CredentialToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
        session.add(CredentialToken(party_fk=party_id, kind="A", token_hash=hash_token(token_a)))
        if party.status != ConnectionStatus.PLANNED:
            set_status(session, party, ConnectionStatus.PLANNED)
    view = await get_party(db, settings, party_id)
    view.token_a = token_a
    return view
