"""SQLite locked by another process: a clear server error, nothing half-stored, and a retry works (#8)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from hub.config import DatabaseSettings
from tests.ocpi.conftest import PlatformFactory, RunningHub, connected
from tests.ocpi.examples import cdr_of
from tests.ocpi.test_cdrs import stored


@pytest.fixture
def hub_overrides(db_url: str) -> dict[str, Any]:
    return {"database": DatabaseSettings(url=db_url, busy_timeout=0.5)}


async def test_a_locked_database_is_503_and_nothing_is_lost(
    hub: RunningHub, platform: PlatformFactory, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's whole-database write lock; PostgreSQL locks rows")
    emsp = await connected(hub, platform, ("DE", "EMA", "EMSP"))
    cpo = await connected(hub, platform, ("NL", "CPA", "CPO"))
    cdr = cdr_of(("NL", "CPA"), ("DE", "EMA"))
    other_process = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
    try:
        other_process.execute("BEGIN EXCLUSIVE")  # e.g. a backup or a migration holding the write lock
        refused = await cpo.post_cdr(cdr, to=("DE", "EMA"))
        print(f"injected: exclusive lock; answer HTTP {refused.status}, OCPI {refused.status_code}")
        assert refused.status == 503
        assert refused.status_code == 3000 and "nothing was stored" in refused.body["status_message"]
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
    assert await stored(hub) == []  # the refused POST left nothing behind
    accepted = await cpo.post_cdr(cdr, to=("DE", "EMA"))
    assert accepted.status_code == 1000
    await hub.settle()
    rows = await stored(hub)
    print(f"verified: stored {len(rows)}, delivered {sum(emsp.store.cdr_posts.values())}")
    assert len(rows) == 1 and sum(emsp.store.cdr_posts.values()) == 1
