"""The demo's end of day: the operator closes yesterday's settlement period and reads the netting matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from hub.demo_world import Story, World
from hub.ledger import balances, statements
from hub.ledger.cli import netting_text
from hub.store.models import Cdr, JournalEntry


@dataclass(frozen=True)
class Closed:
    period: str
    directory: Path
    files: list[str]


async def tell_cdrs(world: World, story: Story) -> None:
    """What the hub holds: CDRs by delivery state, ledger entries by kind (``roamhub cdrs list``)."""
    async with world.db.session() as session:
        rows = list((await session.execute(select(Cdr))).scalars())
        entries = list((await session.execute(select(JournalEntry))).scalars())
    states = Counter(row.delivery for row in rows)
    kinds = Counter(entry.kind for entry in entries)
    story.facts |= {
        "cdrs_stored": len(rows),
        "cdrs_delivered": states["delivered"],
        "cdrs_held_stored": states["held"],
        "entries_booked": len(entries),
        "credit_entries": kinds["credit"],
        "credit_entries_linked": sum(1 for e in entries if e.kind == "credit" and e.reverses_entry_fk),
    }
    story.say(
        f"stored {len(rows)} CDRs: "
        + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        + f"; {len(entries)} ledger entries ({kinds['cdr']} CDRs, {kinds['credit']} credit reversing its"
        " original; the held CDR has no price, so nothing is booked for it)"
    )


async def close(world: World, story: Story, period: str) -> Closed:
    story.section(f"Period close: {period} (daily periods; the day is over)")
    await world.settle()
    await tell_cdrs(world, story)
    result = await statements.close_period(world.db, world.settings, period)
    directory = Path(result.directory)
    files = _listing(directory)
    story.count("statements_written", len(result.parties))
    story.say(f"closed {result.period}: statements for {', '.join(result.parties)}")
    story.check(len(files) == 3 * len(result.parties), "a JSON, CSV and HTML statement per party", files)
    return Closed(result.period, directory, files)


def _listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir()) if directory.exists() else []


async def netting(world: World, story: Story) -> str:
    """The EUR netting matrix as ``roamhub ledger netting`` prints it; checks that it balances."""
    matrices = await balances.netting(world.db, "EUR")
    for matrix in matrices:
        skew = [
            (a, b)
            for a in matrix.parties
            for b in matrix.parties
            if matrix.rows[a][b].amount != -matrix.rows[b][a].amount
        ]
        story.check(
            not skew, f"{matrix.currency} netting matrix is antisymmetric (a owes b = -(b owes a))", skew
        )
    result = await balances.balances(world.db)
    total = sum((p.position.amount for p in result.positions), Decimal(0))
    story.check(total == 0, "clearing positions sum to zero", total)
    story.facts["netting_balanced"] = int(total == 0)
    return netting_text(matrices)
