"""``make demo`` as a test: the whole roaming day runs in-process and does what the hub promises.

The demo checks itself as it goes (each problem names the request and the answer); this test also reads
what it left behind (the database, the statements) without trusting the demo's own counts.
"""

from __future__ import annotations

import argparse
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.config import DatabaseSettings
from hub.demo import add_parser as add_demo_parser
from hub.demo import cmd_demo, run_demo
from hub.errors import InvalidParameters
from hub.ledger import balances
from hub.store.db import Database
from hub.store.models import Cdr, JournalEntry


async def _rows(directory: Path) -> tuple[list[Cdr], list[JournalEntry], list[balances.Netting]]:
    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{directory / 'roamhub.db'}"))
    try:
        async with db.session() as session:
            cdrs = list((await session.execute(select(Cdr))).scalars())
            entries = list((await session.execute(select(JournalEntry))).scalars())
        return cdrs, entries, await balances.netting(db, "EUR")
    finally:
        await db.close()


async def test_the_demo_plays_a_whole_roaming_day(tmp_path: Path) -> None:
    out = io.StringIO()
    result = await run_demo(tmp_path / "demo", out=out)
    text = out.getvalue()
    assert result.problems == [], text
    assert result.seconds < 60
    for heading in ("Registration", "Authorisations", "remote start", "offline", "Netting matrix", "Done in"):
        assert heading in text

    facts = result.facts
    assert facts["authorisations_allowed"] >= 4 and facts["authorisations_refused"] >= 3
    assert facts["remote_starts"] == 1
    assert (facts["cdrs_duplicates"], facts["cdrs_credits"], facts["cdrs_held"]) == (1, 1, 1)
    assert facts["cdrs_pending_while_offline"] == facts["cdrs_caught_up"] == 2

    cdrs, entries, matrices = await _rows(result.directory)
    deliveries = sorted(row.delivery for row in cdrs)
    assert deliveries == ["delivered"] * 8 + ["held"]  # the duplicate stored nothing
    assert len({(row.country_code, row.party_id, row.cdr_key) for row in cdrs}) == len(cdrs)
    held = next(row for row in cdrs if row.delivery == "held")
    booked = {entry.source_cdr_fk for entry in entries}
    assert held.id not in booked and len(entries) == 8  # every priced CDR once, the held one not
    credit = next(entry for entry in entries if entry.kind == "credit")
    reversed_entry = next(entry for entry in entries if entry.id == credit.reverses_entry_fk)
    assert next(row.cdr_id for row in cdrs if row.id == reversed_entry.source_cdr_fk) == "CDR-1002"

    (matrix,) = matrices
    for a in matrix.parties:
        for b in matrix.parties:
            assert matrix.rows[a][b].amount == -matrix.rows[b][a].amount
    assert "NL-HUB" in matrix.parties  # the operator's fees

    assert result.statements is not None
    files = sorted(path.name for path in result.statements.iterdir())
    parties = sorted({name.split(".")[0] for name in files})
    assert files == sorted(f"{party}.{fmt}" for party in parties for fmt in ("csv", "html", "json"))
    statements = [json.loads((result.statements / f"{party}.json").read_text()) for party in parties]
    assert {s["status"] for s in statements} == {"final"}
    positions = [Decimal(str(m["amount"])) for s in statements for m in s["position"]]
    assert sum(positions) == 0


async def test_the_demo_wants_a_fresh_directory(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    with pytest.raises(InvalidParameters):
        await run_demo(tmp_path, out=io.StringIO())


def test_the_demo_subcommand() -> None:
    parser = argparse.ArgumentParser(prog="roamhub")
    add_demo_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["demo", "--dir", "somewhere"])
    assert (args.run, args.dir) == (cmd_demo, "somewhere")
