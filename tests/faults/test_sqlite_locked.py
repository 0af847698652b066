"""SQLite locked by another process: a clear server error, nothing half-stored, and a retry works (#8)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from hub.config import DatabaseSettings
from tests.faults.refusal import refused_then_kept
from tests.ocpi.conftest import PlatformFactory, RunningHub


@pytest.fixture
def hub_overrides(db_url: str) -> dict[str, Any]:
    return {"database": DatabaseSettings(url=db_url, busy_timeout=0.5)}


async def test_a_locked_database_is_503_and_nothing_is_lost(
    hub: RunningHub, platform: PlatformFactory, db_url: str
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's whole-database write lock; PostgreSQL locks rows")

    @asynccontextmanager
    async def exclusive_lock() -> AsyncIterator[str]:
        other_process = sqlite3.connect(str(make_url(db_url).database), isolation_level=None)
        try:
            other_process.execute("BEGIN EXCLUSIVE")  # e.g. a backup or a migration holding the write lock
            yield "exclusive lock"
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()

    await refused_then_kept(hub, platform, exclusive_lock())
