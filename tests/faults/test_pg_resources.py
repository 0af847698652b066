"""PostgreSQL out of a resource (SQLSTATE class 53: disk full, too many connections): the database's
trouble, answered 503 like a server going away, not 500 as if the hub had a fault; nothing half-stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from hub.config import DatabaseSettings
from hub.store.db import Database
from tests.conftest import _plain
from tests.faults.refusal import refused_then_kept
from tests.ocpi.conftest import PlatformFactory, RunningHub

_DISK_FULL = """
CREATE FUNCTION roamhub_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
END $$;
CREATE TRIGGER roamhub_test_disk_full BEFORE INSERT ON cdr
    FOR EACH ROW EXECUTE FUNCTION roamhub_test_disk_full();
"""


async def test_a_full_disk_on_postgres_is_503_and_nothing_is_lost(
    hub: RunningHub, platform: PlatformFactory, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's SQLSTATEs; SQLite's full disk is tests/faults/test_sqlite_full.py")

    @asynccontextmanager
    async def disk_full() -> AsyncIterator[str]:
        server = await asyncpg.connect(_plain(db_url))
        try:
            await server.execute(_DISK_FULL)  # the server refuses every new CDR row with disk_full
            yield "disk_full on INSERT"
            await server.execute("DROP TRIGGER roamhub_test_disk_full ON cdr")
        finally:
            await server.close()

    await refused_then_kept(hub, platform, disk_full())


async def test_too_many_connections_is_the_database_unavailable(db_url: str) -> None:
    """A role at its connection limit (SQLSTATE 53300) is refused at connect: an OperationalError,
    which the HTTP layer answers 503, as for a server that is not there."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connection limit")
    role = f"roamhub_t_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_plain(db_url))
    await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
    url = make_url(db_url).set(username=role).render_as_string(hide_password=False)
    limited = Database(DatabaseSettings(url=url))
    try:
        with pytest.raises(OperationalError) as refused:
            async with limited.session() as session:
                await session.execute(text("SELECT 1"))
        assert getattr(refused.value.orig, "sqlstate", None) == "53300"
    finally:
        await limited.close()
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()
