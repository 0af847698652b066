"""Reconciliation: each category, both file formats, and bad files refused with the line and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.config import Settings
from hub.errors import InvalidParameters
from hub.ledger import reconcile
from hub.store.db import Database
from schemas.canonical.money import Money
from tests.ledger.support import Parties, make_cdr, store_and_book

Two = tuple[Parties, str, str]
END = datetime(2026, 3, 10, tzinfo=UTC)


async def _hub_side(db: Database, settings: Settings, two: Two) -> str:
    who, cpo, emsp = two
    for cdr_id, excl in (("A1", "10"), ("A2", "20"), ("A3", "30"), ("A4", "4")):
        await store_and_book(
            db, settings, make_cdr(who, cpo, emsp, excl=excl, incl="99", cdr_id=cdr_id, end=END)
        )
    return emsp


async def test_every_category_is_reported(db: Database, settings: Settings, two: Two) -> None:
    party = await _hub_side(db, settings, two)
    partner = b"id,amount,currency,remark\na1,10.00,EUR,x\nA2,21,EUR,\nA3,30,USD,\nB9,5,EUR,\n"
    partner += b"A4,4,EUR,\nA4,4,EUR,\n"
    result = await reconcile.reconcile(db, settings, party, "2026-03", partner, "partner.csv")
    assert result.matched == ["a1", "A4"]
    assert [(m.id, m.hub, m.partner) for m in result.mismatches] == [
        ("A2", Money.of(20, "EUR"), Money.of(21, "EUR")),
        ("A3", Money.of(30, "EUR"), Money.of(30, "USD")),
    ]
    assert [i.id for i in result.missing_at_hub] == ["B9"]
    assert result.missing_at_partner == []
    assert [(d.id, d.side, d.where) for d in result.duplicates] == [("A4", "partner", ["line 6", "line 7"])]
    text = reconcile.report_text(result)
    assert "matched:            2" in text and "duplicate at the partner: A4 (line 6, line 7)" in text


async def test_json_files_and_incl_vat(db: Database, settings: Settings, two: Two) -> None:
    party = await _hub_side(db, settings, two)
    partner = (
        b'[{"id": "A1", "amount": 99, "currency": "EUR"}, {"id": "A2", "amount": "99.0", "currency": "EUR"}]'
    )
    result = await reconcile.reconcile(db, settings, party, "2026-03", partner, "p.json", "incl_vat")
    assert result.matched == ["A1", "A2"]
    assert [i.id for i in result.missing_at_partner] == ["A3", "A4"]
    other = await reconcile.reconcile(db, settings, party, "2026-02", partner, "p.json")
    assert other.missing_at_hub and not other.matched  # nothing booked in February


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,amount,currency\nA1,ten,EUR\n", "line 2, field 'amount': not a decimal number"),
        (b"id,amount,currency\nA1,1,EUR\nA2,1,euro\n", "line 3, field 'currency'"),
        (b"id,amount,currency\nA1,1.00001,EUR\n", "line 2, field 'amount': money has at most 4 decimals"),
        (b"id,amount\nA1,1\n", "line 1: the header must name id, amount, currency"),
        (b"id,amount,currency\n,1,EUR\n", "line 2, field 'id': missing"),
        (b'[{"id": "A1", "amount": 1}]', "item 1, field 'currency': missing"),
        (b'[{"id": "A1", "amount": 1.5, "currency": "EUR"}, 3]', "item 2: expected an object"),
        (b'{"id": "A1"}', "expected a JSON list"),
        (b"[{", "line 1: not valid JSON"),
        (b"", "the file is empty"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_files_name_the_line_and_field(content: bytes, message: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        reconcile.parse_partner_file(content, "f.csv")
    assert str(caught.value).startswith("f.csv: ") and message in str(caught.value)
