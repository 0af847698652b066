"""Engines and sessions: SQLite (WAL) by default, PostgreSQL (asyncpg) at scale, one code path."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import Insert, Table, event, insert, text
from sqlalchemy.engine import Dialect, ExceptionContext, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hub.config import DatabaseSettings
from hub.store.batch import Batched


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    url = settings.url
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        wait = settings.busy_timeout
        connect_args: dict[str, Any] = {"timeout": wait}
        if settings.sqlite_on_loop:
            connect_args["async_creator_fn"] = _on_loop_connect
        engine = create_async_engine(url, echo=settings.echo, connect_args=connect_args)
        event.listen(
            engine.sync_engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=int(wait * 1000))
        )
        return engine
    engine = create_async_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    event.listen(engine.sync_engine, "handle_error", _server_away)
    return engine


# SQLSTATEs of a server that cannot serve this statement now but may in a moment: going away or not
# there yet (a restart, a failover: the connection exceptions of class 08, admin_shutdown,
# crash_shutdown, cannot_connect_now), out of a resource (class 53: disk full, out of memory, too many
# connections, a configuration limit), or asking for the transaction to be tried again
# (serialization_failure, deadlock_detected). Each is the database's trouble, not the request's.
_UNAVAILABLE_CLASSES = ("08", "53")
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01"})


def _connect(dialect: Dialect, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> Any:
    """Connect as usual; a server that refuses or resets the connection is an OperationalError, not a
    bare OSError (which no layer above would know to be the database's)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise dialect.loaded_dbapi.OperationalError(f"cannot reach the database: {exc}", exc) from exc


def _server_away(context: ExceptionContext) -> BaseException | None:
    """A server going away, or out of connections or disk, reaches SQLAlchemy as the driver's generic
    error (asyncpg's admin shutdown, "connection was closed in the middle of operation", "too many
    connections"): make it the OperationalError it is, which the HTTP layer answers with 503
    (hub/middleware.py) rather than as a fault of the hub. Pre-ping failures are left to the pool's
    reconnect."""
    error = context.sqlalchemy_exception
    if context.is_pre_ping or error is None or isinstance(error, OperationalError | InterfaceError):
        return None
    state = getattr(context.original_exception, "sqlstate", None) or ""
    if context.is_disconnect or state[:2] in _UNAVAILABLE_CLASSES or state in _UNAVAILABLE_STATES:
        return OperationalError(
            context.statement,
            context.parameters,
            context.original_exception,
            hide_parameters=True,
            connection_invalidated=context.is_disconnect,
        )
    return None


class _OnLoopConnection(aiosqlite.Connection):
    """aiosqlite whose statements run on the event loop's thread (connecting and closing still use its own).

    An aiosqlite statement is two thread hops, and under load each hop waits for the GIL while the loop's
    thread runs Python: the hub then sits idle between statements. Run in place, a statement on a local
    SQLite file (WAL, no fsync per commit) takes microseconds. The price: a write that meets another
    process's lock holds the loop until the lock goes or ``busy_timeout`` ends (then HTTP 503).
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._connection is None or not self._running:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        return fn(*args, **kwargs)


def _on_loop_connect(database: Any, *, iter_chunk_size: int = 64, **kwargs: Any) -> aiosqlite.Connection:
    """What ``aiosqlite.connect`` does, for :class:`_OnLoopConnection` (created on aiosqlite's thread,
    used on the loop's: hence ``check_same_thread=False``; the pool lends a connection to one user)."""
    kwargs["check_same_thread"] = False

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **kwargs)
        return connection

    return _OnLoopConnection(connector, iter_chunk_size)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, busy_ms: int) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer commits; NORMAL is durable in WAL mode across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


class Database:
    """One engine and its session factory for the process."""

    def __init__(self, settings: DatabaseSettings) -> None:
        self.url = settings.url
        self.engine = create_engine(settings)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer. Left to themselves, concurrent writers spin in SQLite's busy handler
        # (sleeps of 1 to 100 ms) and a read transaction that turns into a write can fail outright;
        # queueing this process's writers on a lock costs nothing of that.
        # (PostgreSQL's writers need no queue: a no-op in its place.)
        self._writer: AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if is_sqlite(settings.url) else contextlib.nullcontext()
        )
        self._inserts: dict[str, Batched[Mapping[str, Any], None]] = {}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits as a whole, or not at all."""
        async with self._writer, self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection whose statements commit as a whole: for a hot path's few plain statements,
        without the ORM session's bookkeeping (SQLite's writers queue on the same lock as above)."""
        async with self._writer, self.engine.begin() as connection:
            yield connection

    async def insert(self, table: Table, values: Mapping[str, Any]) -> None:
        """Insert one row into ``table``, committed when this returns.

        Concurrent inserts into one table share a transaction and one executemany (hub/store/batch.py):
        for a row written on every request (an OICP session) the round's fixed cost is most of the work.
        ``values`` must name every column the table's other inserts name (one statement serves them all).
        """
        batched = self._inserts.get(table.name)
        if batched is None:
            batched = self._inserts[table.name] = Batched(functools.partial(self._insert_all, insert(table)))
        await batched(values)

    async def _insert_all(self, statement: Insert, rows: list[Mapping[str, Any]]) -> list[None]:
        async with self.write() as connection:
            await connection.execute(statement, rows)
        return [None] * len(rows)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()
