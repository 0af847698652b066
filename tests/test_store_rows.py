"""new_row: a table model's row without SQLModel's per-field attribute events, as its constructor makes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hub.store.db import Database
from hub.store.models import Cdr, Party
from hub.store.rows import new_row

START = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _values(cpo_fk: int = 1) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "cdr_id": "cdr-1",
        "cdr_key": "CDR-1",
        "cpo_party_fk": cpo_fk,
        "emsp_country_code": "DE",
        "emsp_party_id": "EMS",
        "body": '{"id": "cdr-1"}',
        "currency": "EUR",
        "start_date_time": START,
        "end_date_time": START,
        "last_updated": START,
        "location_id": "L" * 40,
    }


def test_the_same_fields_and_defaults_as_the_constructor() -> None:
    built, constructed = new_row(Cdr, **_values()), Cdr(**_values())
    mine, theirs = built.model_dump(), constructed.model_dump()
    assert mine.keys() == theirs.keys()
    assert {key for key in mine if mine[key] != theirs[key]} == {"received_at"}  # a default_factory: now
    assert built.delivery == "pending" and built.credit is False and built.id is None
    assert built.received_at.tzinfo is not None
    assert built.model_dump(exclude_unset=True) == constructed.model_dump(exclude_unset=True)


def test_defaults_are_fresh_per_row_and_given_values_win() -> None:
    first = new_row(Cdr, **_values(), delivery="held")
    second = new_row(Cdr, **_values())
    assert (first.delivery, second.delivery) == ("held", "pending")
    assert "delivery" in first.model_fields_set and "delivery" not in second.model_fields_set


def test_the_writer_can_give_it_its_id() -> None:
    row = new_row(Cdr, **_values())
    row.id = 42
    assert row.id == 42 and row.model_dump()["id"] == 42


def test_a_missing_required_field_or_an_unknown_one_is_refused() -> None:
    values = _values()
    del values["currency"]
    with pytest.raises(TypeError, match="Cdr: missing currency"):
        new_row(Cdr, **values)
    with pytest.raises(TypeError, match="Cdr: no field colour"):
        new_row(Cdr, **_values(), colour="blue")


async def test_added_to_a_session_it_is_inserted_whole(db: Database) -> None:
    async with db.transaction() as session:
        party = Party(name="CPO", protocol="ocpi")
        session.add(party)
        await session.flush()
        assert party.id is not None
        row = new_row(Cdr, **_values(party.id))
        row.delivery = "held"  # set after building, through the instrumented attribute
        session.add(row)
    async with db.session() as session:
        stored = (await session.execute(select(Cdr))).scalar_one()
    assert stored.model_dump(exclude={"id"}) == row.model_dump(exclude={"id"})
    assert stored.delivery == "held" and stored.id is not None
