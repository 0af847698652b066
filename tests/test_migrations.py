"""Migrations: an empty database reaches head on both backends, and the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hub.store import migrate
from hub.store.db import Database
from hub.store.models import metadata


async def test_upgrade_from_empty_reaches_head_and_is_idempotent(empty_db_url: str) -> None:
    from hub.config import DatabaseSettings

    db = Database(DatabaseSettings(url=empty_db_url))
    try:
        assert await migrate.current_revision(db.engine) is None
        await migrate.upgrade(db.engine)
        assert await migrate.current_revision(db.engine) == migrate.head_revision()
        await migrate.upgrade(db.engine)  # a second start changes nothing
        async with db.engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            diff = await connection.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), metadata)
            )
        assert set(metadata.tables) <= tables
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        await db.close()


async def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from hub.config import DatabaseSettings

    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/sub/dir/hub.db"))
    try:
        async with db.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
            keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
        assert (mode, keys) == ("wal", 1)
    finally:
        await db.close()
