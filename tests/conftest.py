"""Shared fixtures: a settings object per test, a database on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from hub.app import create_app
from hub.config import AdminSettings, DatabaseSettings, SecuritySettings, Settings
from hub.store import migrate
from hub.store.db import Database

POSTGRES_URL = os.environ.get("ROAMHUB_TEST_POSTGRES_URL")
NO_POSTGRES = "PostgreSQL tests need ROAMHUB_TEST_POSTGRES_URL (CI sets it; e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
ADMIN_TOKEN = "test-operator-token"


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# Migrated once per test run and copied for every test: migrating each test's database from nothing
# would cost most of the suite's time. Tests of the migrations themselves ask for ``empty_db_url``.
_TEMPLATES: dict[str, str] = {}


async def _migrated(url: str) -> None:
    database = Database(DatabaseSettings(url=url))
    try:
        await migrate.upgrade(database.engine)
    finally:
        await database.close()


async def _fresh_postgres_database(*, migrated: bool = True) -> tuple[str, str]:
    """A new database on the test server: empty, or a copy of the migrated template."""
    assert POSTGRES_URL is not None
    base, _, _ = POSTGRES_URL.rpartition("/")
    if migrated and "postgres" not in _TEMPLATES:
        template, _ = await _fresh_postgres_database(migrated=False)
        await _migrated(template)
        _TEMPLATES["postgres"] = template.rpartition("/")[2]
    name = f"roamhub_t_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{_TEMPLATES["postgres"]}"' if migrated else ""
    admin = await asyncpg.connect(_plain(POSTGRES_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.close()
    return f"{base}/{name}", name


async def _sqlite_database(directory: Path) -> str:
    if "sqlite" not in _TEMPLATES:
        template = Path(tempfile.mkdtemp(prefix="roamhub-template-")) / "roamhub.db"
        await _migrated(f"sqlite+aiosqlite:///{template}")
        _TEMPLATES["sqlite"] = str(template)
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATES["sqlite"], directory / "roamhub.db")
    return f"sqlite+aiosqlite:///{directory / 'roamhub.db'}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if "sqlite" in _TEMPLATES:
        shutil.rmtree(Path(_TEMPLATES["sqlite"]).parent, ignore_errors=True)
    if "postgres" in _TEMPLATES:
        asyncio.run(_drop_postgres_database(_TEMPLATES["postgres"]))


async def _drop_postgres_database(name: str) -> None:
    assert POSTGRES_URL is not None
    admin = await asyncpg.connect(_plain(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database at the latest schema, on SQLite and (when configured) PostgreSQL."""
    if request.param == "sqlite":
        yield await _sqlite_database(tmp_path / "var")
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    url, name = await _fresh_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it, for the tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty' / 'roamhub.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    url, name = await _fresh_postgres_database(migrated=False)
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


def make_settings(tmp_path: Path, db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "public_url": "http://hub.test:8080",
        "data_dir": str(tmp_path / "var"),
        "database": DatabaseSettings(url=db_url),
        "admin": AdminSettings(token=SecretStr(ADMIN_TOKEN)),
        "security": SecuritySettings(secret_key_file=str(tmp_path / "var" / "secret.key")),
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path, db_url)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database)
    await migrate.upgrade(database.engine)
    yield database
    await database.close()


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> TestClient:  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(autouse=True)
def _backend_neutral_modules_on_sqlite(request: pytest.FixtureRequest) -> None:
    """A module that sets ``BACKEND_NEUTRAL = True`` tests routing or protocol logic that does not depend on
    the database: it runs on SQLite only, so the suite stays short; storage is tested on both."""
    callspec = getattr(request.node, "callspec", None)
    on_postgres = callspec is not None and callspec.params.get("db_url") == "postgres"
    if on_postgres and getattr(request.module, "BACKEND_NEUTRAL", False):
        pytest.skip("backend-neutral routing/protocol logic: run on SQLite; storage is tested on PostgreSQL")


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Logs go to stderr as in production (stdout is for what the CLI prints), and no test leaves
    structlog writing to a stream pytest has closed."""
    from hub.config import LogSettings
    from hub.logs import configure_logging

    configure_logging(LogSettings())
    yield
    structlog.reset_defaults()
