"""Schema migrations through Alembic, on the hub's own async engine (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.config import DatabaseSettings
from hub.store.db import Database

T = TypeVar("T")

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant: workers starting together take turns at migrating a shared PostgreSQL.
_PG_MIGRATION_LOCK = 727_001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection, target: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), target)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, target: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, target)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


async def with_database(settings: DatabaseSettings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database, brought up to date first (the CLI needs no running hub)."""
    db = Database(settings)
    try:
        await upgrade(db.engine)
        return await work(db)
    finally:
        await db.close()
