"""Roaming agreements and the policy that uses them, on SQLite and PostgreSQL."""

import pytest

from hub import agreements, parties
from hub.config import Settings
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.store.db import Database
from schemas.canonical import PartyRef


async def admit(db: Database, settings: Settings, cc: str, pid: str, role: str) -> None:
    await parties.add_party(
        db,
        settings,
        parties.PartyCreate.model_validate(
            {"name": f"{cc}{pid}", "country_code": cc, "party_id": pid, "roles": [role], "protocol": "ocpi"}
        ),
    )


def pair(cpo: str, emsp: str) -> agreements.AgreementCreate:
    return agreements.AgreementCreate.model_validate({"cpo": cpo, "emsp": emsp})


async def test_agreement_needs_admitted_roles(db: Database, settings: Settings) -> None:
    await admit(db, settings, "NL", "CPA", "CPO")
    with pytest.raises(InvalidParameters) as caught:
        await agreements.add_agreement(db, pair("NL-CPA", "DE-EMA"))
    assert caught.value.field == "emsp"
    with pytest.raises(InvalidParameters) as caught:
        await agreements.add_agreement(db, pair("DE-EMA", "NL-CPA"))
    assert caught.value.field == "cpo"


async def test_add_list_remove_and_policy(db: Database, settings: Settings) -> None:
    await admit(db, settings, "NL", "CPA", "CPO")
    await admit(db, settings, "DE", "EMA", "EMSP")
    await admit(db, settings, "DE", "EMB", "EMSP")
    explicit = settings.model_copy(update={"agreements": "explicit"})
    cpo, ema = PartyRef.parse("NL-CPA"), PartyRef.parse("DE-EMA")

    assert await agreements.allows(db, settings, cpo, ema)  # open policy: everyone
    assert not await agreements.allows(db, explicit, cpo, ema)

    first = await agreements.add_agreement(db, pair("nl-cpa", "de-ema"))
    assert (first.cpo, first.emsp) == ("NL-CPA", "DE-EMA")
    with pytest.raises(Conflict):
        await agreements.add_agreement(db, pair("NL-CPA", "DE-EMA"))
    second = await agreements.add_agreement(db, pair("NL-CPA", "DE-EMB"))
    assert [a.id for a in await agreements.list_agreements(db)] == [first.id, second.id]
    assert await agreements.allows(db, explicit, cpo, ema)
    assert not await agreements.allows(db, explicit, PartyRef.parse("NL-XXX"), ema)

    await agreements.remove_agreement(db, agreement_id=first.id)
    assert not await agreements.allows(db, explicit, cpo, ema)
    await agreements.remove_agreement(db, pair=pair("NL-CPA", "DE-EMB"))
    assert await agreements.list_agreements(db) == []
    with pytest.raises(NotFound):
        await agreements.remove_agreement(db, agreement_id=first.id)
    with pytest.raises(InvalidParameters):
        await agreements.remove_agreement(db)
