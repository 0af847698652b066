"""Admitting parties, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from hub import parties
from hub.config import Settings
from hub.crypto import hash_token
from hub.errors import Conflict, InvalidParameters, NotFound
from hub.store.db import Database
from hub.store.models import CredentialToken, Party, PartyRole


def ocpi_party(**changes: object) -> parties.PartyCreate:
    data: dict[str, object] = {
        "name": "Example CPO",
        "country_code": "NL",
        "party_id": "EXA",
        "roles": ["CPO"],
        "protocol": "ocpi",
    }
    data.update(changes)
    return parties.PartyCreate.model_validate(data)


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_ocpi_party_gets_a_token_a_stored_only_as_hash(db: Database, settings: Settings) -> None:
    view = await parties.add_party(db, settings, ocpi_party(roles=["CPO", "EMSP"]))
    assert view.status == "PLANNED"
    assert view.versions_url == "http://hub.test:8080/ocpi/versions"
    assert view.token_a and len(view.token_a) >= 40
    assert [(r.country_code, r.party_id, r.role) for r in view.roles] == [
        ("NL", "EXA", "CPO"),
        ("NL", "EXA", "EMSP"),
    ]
    async with db.session() as session:
        stored = (await session.execute(select(CredentialToken))).scalars().all()
    assert [(t.kind, t.token_hash) for t in stored] == [("A", hash_token(view.token_a))]
    # Shown once: reading the party back never reveals it.
    assert (await parties.get_party(db, settings, view.id)).token_a is None


async def test_oicp_party_records_derived_or_given_ids_and_base_url(db: Database, settings: Settings) -> None:
    view = await parties.add_party(
        db,
        settings,
        parties.PartyCreate.model_validate(
            {
                "name": "Both",
                "country_code": "de",
                "party_id": "abc",
                "roles": ["CPO", "EMSP"],
                "protocol": "oicp",
                "base_url": "https://partner.example/oicp/",
                "provider_id": "DE*XYZ",
            }
        ),
    )
    assert view.token_a is None and view.versions_url is None
    assert view.base_url == "https://partner.example/oicp"
    assert {r.role: r.oicp_id for r in view.roles} == {"CPO": "DE*ABC", "EMSP": "DE*XYZ"}


async def test_duplicate_role_is_refused_and_nothing_half_written(db: Database, settings: Settings) -> None:
    await parties.add_party(db, settings, ocpi_party())
    before = [await count(db, m) for m in (Party, PartyRole, CredentialToken)]
    with pytest.raises(Conflict, match="NL-EXA is already admitted as CPO") as caught:
        # EMSP is new, CPO is taken: the whole admission must be refused.
        await parties.add_party(db, settings, ocpi_party(name="Again", roles=["EMSP", "CPO"]))
    assert caught.value.field == "roles"
    assert [await count(db, m) for m in (Party, PartyRole, CredentialToken)] == before


async def test_duplicate_oicp_id_compares_without_separators(db: Database, settings: Settings) -> None:
    await parties.add_party(
        db, settings, ocpi_party(protocol="oicp", country_code="DE", party_id="ABC", operator_id="DE*ABC")
    )
    with pytest.raises(Conflict) as caught:
        await parties.add_party(
            db, settings, ocpi_party(protocol="oicp", country_code="DE", party_id="ABD", operator_id="DEABC")
        )
    assert caught.value.field == "operator_id"


async def test_hub_identity_cannot_be_admitted(db: Database, settings: Settings) -> None:
    with pytest.raises(Conflict, match="hub's own identity"):
        await parties.add_party(db, settings, ocpi_party(country_code="NL", party_id="HUB"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": ["HUB"]}, "roles"),
        ({"roles": ["DRIVER"]}, "roles.0"),
        ({"roles": []}, "roles"),
        ({"country_code": "NLD"}, "country_code"),
        ({"party_id": "AB"}, "party_id"),
        ({"protocol": "ocpp"}, "protocol"),
        ({"base_url": "https://x.example"}, "base_url"),
        ({"protocol": "oicp", "roles": ["NSP"]}, "roles"),
        ({"protocol": "oicp", "roles": ["EMSP"], "operator_id": "DE*ABC"}, "operator_id"),
        ({"protocol": "oicp", "roles": ["EMSP"], "provider_id": "DE-ABCD"}, "provider_id"),
        ({"protocol": "oicp", "base_url": "ftp://x"}, "base_url"),
    ],
)
def test_bad_input_names_the_field(changes: dict[str, object], field: str) -> None:
    from pydantic import ValidationError

    from hub.validation import first_error

    with pytest.raises((InvalidParameters, ValidationError)) as caught:
        ocpi_party(**changes)
    error = caught.value
    named = error.field if isinstance(error, InvalidParameters) else first_error(error).field
    assert named == field


async def test_list_show_and_suspend(db: Database, settings: Settings) -> None:
    first = await parties.add_party(db, settings, ocpi_party())
    second = await parties.add_party(db, settings, ocpi_party(country_code="BE", name="Other"))
    assert [v.id for v in await parties.list_parties(db, settings)] == [first.id, second.id]
    suspended = await parties.suspend_party(db, settings, first.id)
    assert suspended.status == "SUSPENDED"
    async with db.session() as session:
        tokens = (
            await session.execute(select(CredentialToken).where(CredentialToken.party_fk == first.id))
        ).scalars()
        assert all(t.revoked_at is not None for t in tokens)
        others = (
            await session.execute(select(CredentialToken).where(CredentialToken.party_fk == second.id))
        ).scalars()
        assert all(t.revoked_at is None for t in others)
    with pytest.raises(NotFound):
        await parties.get_party(db, settings, 999)
    with pytest.raises(NotFound):
        await parties.suspend_party(db, settings, 999)
