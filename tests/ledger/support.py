"""Helpers for the ledger tests: admit parties, store CDR rows as the OCPI module does, book them."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hub import parties
from hub.config import Settings
from hub.ledger.booking import book_cdr
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry
from schemas.canonical.party import Protocol, Role

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_counter = itertools.count(1)


def fresh_party_id() -> str:
    """A party id no other test or example used (three base-36 characters)."""
    n = next(_counter)
    return "".join(_ALPHABET[(n // 36**i) % 36] for i in (2, 1, 0))


@dataclass
class Parties:
    """Admitted parties by CC-PID, with their party row ids."""

    ids: dict[str, int] = field(default_factory=dict)

    async def admit(self, db: Database, settings: Settings, country: str = "NL") -> str:
        party_id = fresh_party_id()
        data = parties.PartyCreate(
            name=f"Party {party_id}",
            country_code=country,
            party_id=party_id,
            roles=[Role.CPO, Role.EMSP],
            protocol=Protocol.OCPI,
        )
        view = await parties.add_party(db, settings, data)
        name = f"{country}-{party_id}"
        self.ids[name] = view.id
        return name


def make_cdr(
    who: Parties,
    cpo: str,
    emsp: str,
    *,
    excl: Decimal | str | None,
    incl: Decimal | str | None = None,
    currency: str = "EUR",
    end: datetime = datetime(2026, 10, 15, 12, 0, tzinfo=UTC),
    credit: bool = False,
    reference: str | None = None,
    cdr_id: str | None = None,
    protocol: str = "ocpi",
) -> Cdr:
    cdr_id = cdr_id or uuid.uuid4().hex[:20].upper()
    body: dict[str, Any] = {"id": cdr_id, "currency": currency}
    if excl is not None:
        body["total_cost"] = {"excl_vat": "EXCL"} | ({"incl_vat": "INCL"} if incl is not None else {})
    text = json.dumps(body).replace('"EXCL"', str(excl)).replace('"INCL"', str(incl))  # exact JSON numbers
    (cc, pid), (ecc, epid) = cpo.split("-"), emsp.split("-")
    return Cdr(
        protocol=protocol,
        country_code=cc,
        party_id=pid,
        cdr_id=cdr_id,
        cdr_key=cdr_id.upper(),
        cpo_party_fk=who.ids[cpo],
        emsp_country_code=ecc,
        emsp_party_id=epid,
        emsp_party_fk=who.ids[emsp],
        body=text,
        currency=currency,
        credit=credit,
        credit_reference_id=reference,
        start_date_time=end,
        end_date_time=end,
        last_updated=end,
        location_id=uuid.uuid4().hex,
    )


async def store(db: Database, cdr: Cdr) -> Cdr:
    """Store a CDR without booking it (as before the ledger existed)."""
    async with db.transaction() as session:
        session.add(cdr)
    return cdr


async def store_and_book(db: Database, settings: Settings, cdr: Cdr) -> JournalEntry | None:
    """What hub/ocpi/cdrs.py does: the CDR row and its entry in one transaction."""
    async with db.transaction() as session:
        session.add(cdr)
        await session.flush()
        return await book_cdr(session, cdr, settings)


async def book_again(db: Database, settings: Settings, cdr: Cdr) -> JournalEntry | None:
    async with db.transaction() as session:
        row = await session.get(Cdr, cdr.id)
        assert row is not None
        return await book_cdr(session, row, settings)
