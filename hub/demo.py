"""``roamhub demo`` (and ``make demo``): a whole roaming day through a real hub, in well under a minute.

A hub on loopback with SQLite in a fresh directory, two CPOs and two eMSPs as simulators (one of each speaking
OICP 2.3, the others OCPI 2.2.1): registration, publication, authorisations, a remote start, sessions, CDRs
with a duplicate, a credit and a held one, an eMSP offline for a while, then the close of the settlement
period. It prints what flowed and the netting matrix, leaves the statements on disk, and exits 1 when
anything did not go as the hub promises (each such step names the request and the answer).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

import structlog

from hub.config import LogSettings, Settings
from hub.demo_cdrs import ocpi_cdrs, offline, oicp_cdrs
from hub.demo_close import Closed, close, netting
from hub.demo_day import Day, authorise, publish, remote_start, sessions
from hub.demo_payloads import CAST, yesterday
from hub.demo_world import Story, World, open_world, register_all
from hub.errors import InvalidParameters
from hub.logs import configure_logging

log = structlog.get_logger("hub.demo")
T = TypeVar("T")


@dataclass
class DemoResult:
    directory: Path
    period: str
    seconds: float
    facts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    statements: Path | None = None


def _directory(given: str | Path | None) -> Path:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="roamhub-demo-"))
    path = Path(given)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidParameters(
            f"{path} is not an empty directory: the demo starts from nothing", field="--dir"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _logs_to(path: Path) -> Iterator[None]:
    """The hub's logs (structlog and the standard library's) go to a file, so the story stays readable."""
    saved = structlog.get_config()
    root = logging.getLogger()
    with path.open("a", encoding="utf-8") as handle:
        configure_logging(LogSettings(format="json", level="info"))
        structlog.configure(logger_factory=structlog.WriteLoggerFactory(file=handle))
        handler = logging.StreamHandler(handle)
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)
            structlog.configure(**saved)


async def run_demo(directory: str | Path | None = None, out: TextIO = sys.stdout) -> DemoResult:
    """Play the day; the returned facts and problems are what the test and the exit code look at."""
    started = time.monotonic()
    path = _directory(directory)
    now = datetime.now(UTC)
    period = yesterday(now).isoformat()
    story = Story(out)
    print(f"roamhub demo: a roaming day through the hub (data in {path})", file=out)
    print("cast: " + "; ".join(f"{c.ref} {c.name} ({c.protocol.upper()} {c.role})" for c in CAST), file=out)
    print(
        f"every session is dated yesterday, {period} (UTC), so that day's settlement period can close",
        file=out,
    )
    with _logs_to(path / "hub.log"):
        story.section("Registration")
        world = await open_world(path, story)
        try:
            closed, matrix = await _play(world, story, Day(now=now), period)
        finally:
            await world.stop()
    _ending(story, matrix, closed, path)
    seconds = time.monotonic() - started
    verdict = (
        f"{len(story.problems)} problem(s), listed above" if story.problems else "everything as expected"
    )
    print(f"\nDone in {seconds:.1f} s: {verdict}.", file=out)
    statements_dir = closed.directory if closed else None
    return DemoResult(path, period, seconds, story.facts, story.problems, statements_dir)


async def _play(world: World, story: Story, day: Day, period: str) -> tuple[Closed | None, str]:
    await _guarded(story, "registration", register_all(world, story))
    for step in (publish, authorise, remote_start, sessions, ocpi_cdrs, oicp_cdrs, offline):
        await _guarded(story, step.__name__, step(world, story, day))
    closed = await _guarded(story, "close", close(world, story, period))
    matrix = await _guarded(story, "netting", netting(world, story))
    return closed, matrix or ""


async def _guarded(story: Story, name: str, step: Awaitable[T]) -> T | None:
    """Run one step; an exception is a problem to report (its traceback goes to the hub log), not the end."""
    try:
        return await step
    except Exception as exc:
        log.exception("demo.step_failed", step=name)
        story.check(False, f"step {name} failed with {type(exc).__name__}: {exc}")
        return None


# What the summary shows, from the facts the steps counted: (label, fact names joined by " / ").
_NUMBERS = (
    (
        "locations an OCPI eMSP received / EVSEs an OICP EMP pulled",
        ("locations_at_ocpi_emsp", "evses_pulled_by_oicp_emp"),
    ),
    ("authorisations allowed / refused", ("authorisations_allowed", "authorisations_refused")),
    ("remote starts", ("remote_starts",)),
    (
        "CDRs accepted / stored / delivered / held",
        ("cdrs_accepted", "cdrs_stored", "cdrs_delivered", "cdrs_held_stored"),
    ),
    ("duplicates answered 200 (nothing new) / credit CDRs", ("cdrs_duplicates", "cdrs_credits")),
    (
        "CDRs queued while an eMSP was offline / delivered once it was back",
        ("cdrs_pending_while_offline", "cdrs_caught_up"),
    ),
    ("ledger entries / credits reversing their original", ("entries_booked", "credit_entries_linked")),
    ("statements written (JSON, CSV, HTML each)", ("statements_written",)),
)


def _ending(story: Story, matrix: str, closed: Closed | None, path: Path) -> None:
    story.section("In numbers")
    for label, names in _NUMBERS:
        story.say(f"{' / '.join(str(story.facts.get(name, 0)) for name in names):>15}  {label}")
    story.section("Netting matrix (roamhub ledger netting --currency EUR)")
    for line in matrix.splitlines():
        story.say(line)
    story.section("On disk")
    if closed is not None:
        story.say(f"statements of {closed.period}: {closed.directory}/")
        story.say("  " + "  ".join(closed.files))
    story.say(f"database {path / 'roamhub.db'}, hub log {path / 'hub.log'}")
    story.say(f"partner certificates {path / 'partners'}/")
    env = f"ROAMHUB_DATABASE_URL=sqlite+aiosqlite:///{path / 'roamhub.db'} ROAMHUB_DATA_DIR={path}"
    story.say(f"explore: {env} ROAMHUB_LEDGER_PERIOD=daily roamhub ledger balances")
    if story.problems:
        story.section("Not as the hub promises")
        for problem in story.problems:
            story.say(problem)


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """The configured settings are not used: the demo brings its own hub, database and partners."""
    result = await run_demo(args.dir)
    return 0 if not result.problems else 1


def add_parser(subparsers: Any) -> None:
    """``roamhub demo``; ``subparsers`` is ``add_subparsers()``'s result."""
    demo = subparsers.add_parser(
        "demo", help="play a whole roaming day through a hub and simulated partners (under a minute)"
    )
    demo.add_argument(
        "--dir", help="an empty or new directory for the demo's data (default: a fresh temp dir)"
    )
    demo.set_defaults(run=cmd_demo)
