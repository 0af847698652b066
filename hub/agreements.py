"""Roaming agreements: which CPO may roam with which eMSP when the policy is ``explicit``.

With the default policy ``open`` every admitted CPO may exchange traffic with every admitted eMSP (what
OICP calls an offer to all). With ``explicit`` only pairs with an agreement may; the routing core asks
:func:`allows` before it forwards anything.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.store.db import Database
from hub.store.models import Agreement, PartyRole
from schemas.canonical.party import PartyRef, Role


class AgreementCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpo: PartyRef
    emsp: PartyRef


class AgreementView(BaseModel):
    id: int
    cpo: str
    emsp: str
    created_at: datetime


def _view(row: Agreement) -> AgreementView:
    assert row.id is not None
    return AgreementView(
        id=row.id,
        cpo=f"{row.cpo_country_code}-{row.cpo_party_id}",
        emsp=f"{row.emsp_country_code}-{row.emsp_party_id}",
        created_at=row.created_at,
    )


async def _require_admitted(session: AsyncSession, ref: PartyRef, role: Role, field: str) -> None:
    found = await session.execute(
        select(col(PartyRole.id)).where(
            col(PartyRole.country_code) == ref.country_code,
            col(PartyRole.party_id) == ref.party_id,
            col(PartyRole.role) == role.value,
        )
    )
    if found.first() is None:
        raise InvalidParameters(f"{ref} is not an admitted {role.value}", field=field)


def _pair(cpo: PartyRef, emsp: PartyRef) -> ColumnElement[bool]:
    return and_(
        col(Agreement.cpo_country_code) == cpo.country_code,
        col(Agreement.cpo_party_id) == cpo.party_id,
        col(Agreement.emsp_country_code) == emsp.country_code,
        col(Agreement.emsp_party_id) == emsp.party_id,
    )


async def add_agreement(db: Database, data: AgreementCreate) -> AgreementView:
    try:
        async with db.transaction() as session:
            await _require_admitted(session, data.cpo, Role.CPO, "cpo")
            await _require_admitted(session, data.emsp, Role.EMSP, "emsp")
            existing = (await session.execute(select(Agreement).where(_pair(data.cpo, data.emsp)))).scalar()
            if existing is not None:
                raise Conflict(
                    f"{data.cpo} and {data.emsp} already have agreement {existing.id}", field="emsp"
                )
            row = Agreement(
                cpo_country_code=data.cpo.country_code,
                cpo_party_id=data.cpo.party_id,
                emsp_country_code=data.emsp.country_code,
                emsp_party_id=data.emsp.party_id,
            )
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(f"{data.cpo} and {data.emsp} already have an agreement", field="emsp") from exc
    return _view(row)


async def list_agreements(db: Database) -> list[AgreementView]:
    async with db.session() as session:
        rows = (await session.execute(select(Agreement).order_by(col(Agreement.id)))).scalars()
        return [_view(row) for row in rows]


async def remove_agreement(
    db: Database, *, agreement_id: int | None = None, pair: AgreementCreate | None = None
) -> AgreementView:
    async with db.transaction() as session:
        if agreement_id is not None:
            row = await session.get(Agreement, agreement_id)
            missing = f"no agreement with id {agreement_id}"
        elif pair is not None:
            row = (await session.execute(select(Agreement).where(_pair(pair.cpo, pair.emsp)))).scalar()
            missing = f"no agreement between {pair.cpo} and {pair.emsp}"
        else:
            raise InvalidParameters("give an agreement id, or both --cpo and --emsp", field="id")
        if row is None:
            raise NotFound(missing, field="id")
        view = _view(row)
        await session.delete(row)
    return view


async def allows(db: Database, settings: Settings, cpo: PartyRef, emsp: PartyRef) -> bool:
    """May this CPO and this eMSP exchange traffic under the operator's policy?"""
    if settings.agreements == "open":
        return True
    async with db.session() as session:
        return (await session.execute(select(col(Agreement.id)).where(_pair(cpo, emsp)))).first() is not None


async def emsps_of(db: Database, settings: Settings, cpo: PartyRef) -> set[PartyRef] | None:
    """The eMSPs this CPO has agreements with; None when the policy is open (every eMSP)."""
    return await counterparts(db, settings, cpo, Role.CPO)


async def counterparts(db: Database, settings: Settings, party: PartyRef, role: Role) -> set[PartyRef] | None:
    """The parties that ``party``, as ``role`` (CPO or eMSP), has agreements with, in one query; None
    when the policy is open (everyone)."""
    if settings.agreements == "open":
        return None
    cpo = (col(Agreement.cpo_country_code), col(Agreement.cpo_party_id))
    emsp = (col(Agreement.emsp_country_code), col(Agreement.emsp_party_id))
    own, other = (cpo, emsp) if role == Role.CPO else (emsp, cpo)
    query = select(*other).where(own[0] == party.country_code, own[1] == party.party_id)
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return {PartyRef(country_code=country, party_id=party_id) for country, party_id in rows}
