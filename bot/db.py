"""Database engine, sessions and migrations. SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeEngine

MIGRATIONS = Path(__file__).resolve().parent.parent / "models" / "migrations"
PRIVATE_MODE = 0o600
log = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_dir(url: str) -> None:
    """The SQLite file's directory, and the file itself, private (see ``private_database``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        private_database(path)


def private_database(path: Path) -> None:
    """Readable by its owner only from the first byte: the file is created empty with mode 0600
    before SQLite opens it (SQLite gives its -wal and -shm files the database file's mode). A file
    an older version left readable to others is tightened, with a warning."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        loose = []
        for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                if candidate.stat().st_mode & 0o077:
                    loose.append(candidate)
            except FileNotFoundError:  # absent, or SQLite removed it as a connection closed
                continue
        for found in loose:
            try:
                os.chmod(found, PRIVATE_MODE)
                log.warning("%s was readable by other users; it is now private (0600)", found)
            except OSError as exc:
                log.warning("%s is readable by other users and cannot be made private: %s",
                            found, type(exc).__name__)
        return
    os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on during a write; FULL sync makes a commit survive power loss too.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten with zeros, not left in free space of the file: what a
    # withdrawal of consent or the retention period deletes is gone from the disk too.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    ensure_sqlite_dir(url)
    engine = create_async_engine(url, echo=echo, pool_pre_ping=not is_sqlite(url))
    if is_sqlite(url):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on an engine of their own, disposed of after (a one-off command's)."""
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def transaction(url: str) -> AsyncIterator[AsyncSession]:
    """One transaction on an engine of its own (see ``database``)."""
    async with database(url) as sessions, sessions.begin() as session:
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``. Synchronous: call it before the event loop starts."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


# ---- lanes: a unit of work in one call ---------------------------------------------------------
#
# Through SQLAlchemy's asyncio layer every statement is a trip: on SQLite aiosqlite hands each
# cursor, execute, fetch, close and commit to its own thread and waits for the answer (about four
# thread hops per statement), and the ORM builds and tracks objects around each. For the few hot
# units of work (a report step, a submit, an outbox round) a *lane* runs the whole unit on the
# database in one call instead:
#
# - ``Lane.unit(read, params, decide)``: one read, ``decide`` (pure Python: what to answer and what
#   to write), one write. The write is guarded by a version check: when its first statement
#   changes no row (someone else wrote first), nothing is written and the unit starts again from
#   the read. On SQLite the whole unit runs in the lane's own thread on a connection of its own
#   (one hop there and back); on PostgreSQL it is two round trips (the read; the write, which
#   commits itself) on a dedicated asyncpg connection.
# - ``Lane.transaction(work)``: ``work(session)`` with an ORM session, in one transaction. On
#   SQLite it runs in the lane's thread, with SQLAlchemy on a connection that executes each
#   statement right there (no hop per statement: the thread is the lane's, so blocking it on a
#   lock or an fsync blocks nothing else); on PostgreSQL it is the ordinary session.
#
# Units must not await anything but the database: on SQLite they run in the lane's own event loop.

T = TypeVar("T")
Row = dict[str, Any]
Types = Mapping[str, TypeEngine[Any]]  # parameter and result column names → their column types
UNIT_ATTEMPTS = 8


class Conflict(Exception):
    """A guarded write kept losing to other writers (``UNIT_ATTEMPTS`` times in a row)."""


@dataclass(frozen=True)
class Write:
    """What a unit writes, in one transaction: ``statements`` as (SQL with ``:name`` parameters,
    values). With ``guarded``, the first must change exactly one row (``... WHERE version = :v``),
    else nothing is written and the unit is tried again from its read."""

    statements: tuple[tuple[str, Mapping[str, Any]], ...]
    guarded: bool = True


Decide = Callable[[Row | None], tuple[Write | None, T]]
Work = Callable[[AsyncSession], Awaitable[T]]


class _Processors:
    """SQLAlchemy's own conversions for ``types`` on one dialect, so a lane reads and writes
    exactly what the ORM does (timestamps, booleans, encrypted text)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def of(self, types: Types) -> tuple[dict[str, Any], dict[str, Any]]:
        found = self._cache.get(id(types))
        if found is None:
            dialect = self.dialect
            binds = {name: p for name, t in types.items()
                     if (p := t.dialect_impl(dialect).bind_processor(dialect)) is not None}
            results = {name: p for name, t in types.items()
                       if (p := t.dialect_impl(dialect).result_processor(dialect, None))
                       is not None}
            found = self._cache[id(types)] = (binds, results)
        return found

    def bind(self, values: Mapping[str, Any], types: Types) -> dict[str, Any]:
        binds = self.of(types)[0]
        return {name: binds[name](value) if name in binds and value is not None else value
                for name, value in values.items()}

    def row(self, row: Mapping[str, Any] | None, types: Types) -> Row | None:
        if row is None:
            return None
        results = self.of(types)[1]
        return {name: results[name](value) if name in results and value is not None else value
                for name, value in dict(row).items()}


class Lane(ABC):
    """A dedicated connection on which a unit of work runs in one call (see above)."""

    backend: str

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.processors = _Processors(engine.dialect)

    @abstractmethod
    async def unit(self, read: str, params: Mapping[str, Any], decide: Decide[T],
                   types: Types) -> T:
        """Read one row (or None), ``decide``, write what it says; see ``Write``."""

    async def read(self, sql: str, params: Mapping[str, Any], types: Types) -> Row | None:
        """One row (or None), nothing written."""
        return await self.unit(sql, params, lambda row: (None, row), types)

    @abstractmethod
    async def transaction(self, work: Work[T]) -> T:
        """``work(session)`` in one transaction, committed when it returns."""

    def wake_on_commit(self, wake: Callable[[], None]) -> None:  # noqa: B027 - optional
        """Sessions of the lane's own that queued outbox rows call ``wake`` after committing."""

    async def close(self) -> None:  # noqa: B027 - optional
        """Let go of the lane's connections (it opens them again when used)."""


def open_lane(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> Lane:
    if engine.dialect.name == "sqlite":
        return SQLiteLane(engine)
    return PostgresLane(engine, sessions)


def _sqlite_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    return sqlite3.connect(*args, **kwargs)


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: each call runs at once, here."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection without its thread: every call runs in the calling thread. Only
    for the lane's thread, whose loop runs one unit at a time (a wait there stalls nothing else)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineQueue()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, aiosqlite.Connection]:
        return self._connect().__await__()  # no thread to start


class SQLiteLane(Lane):
    """A thread of its own with two connections to the database file: a plain ``sqlite3`` one in
    autocommit mode for ``unit`` (statements as written, a multi-statement write inside
    ``BEGIN IMMEDIATE`` … ``COMMIT``), and SQLAlchemy's, run inline, for ``transaction``. Units
    run one after another, never two at once. Same pragmas as the bot's engine (WAL, FULL sync:
    a unit's write is on disk when the call returns). Started on first use, closed when the bot's
    engine is disposed of."""

    backend = "sqlite"

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        url = engine.url
        args, kwargs = engine.dialect.create_connect_args(url)
        kwargs = {**kwargs, "check_same_thread": False}
        self._connect_args = (tuple(args), kwargs)
        self._thread: _LaneThread | None = None
        self.lane_engine = create_async_engine(url, async_creator=self._connect_inline,
                                               pool_size=1, max_overflow=0)
        event.listen(self.lane_engine.sync_engine, "connect", _sqlite_pragmas)
        # The sqlite3 module left to itself begins a transaction only before the first INSERT,
        # UPDATE or DELETE: a SAVEPOINT before that begins one of its own, and its RELEASE
        # commits whatever it holds (a submit's case, without its alerts). Here the connection
        # is in autocommit mode and every transaction begins explicitly, with the write lock
        # (lane transactions write, and take turns anyway).
        event.listen(self.lane_engine.sync_engine, "begin",
                     lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
        self.sessions = session_factory(self.lane_engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self._shut())

    # -- the thread --------------------------------------------------------------------------
    def _current(self) -> _LaneThread:
        if self._thread is None:
            self._thread = _LaneThread(self)
        return self._thread

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(thread, *args)`` in the lane's thread: the one hop of a unit."""
        thread = self._current()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(thread.executor, thread.run, loop, fn, *args)

    async def _connect_inline(self) -> aiosqlite.Connection:
        args, kwargs = self._connect_args
        return await InlineConnection(partial(_sqlite_connect, *args,
                                              **{**kwargs, "isolation_level": None}))

    def _shut(self) -> None:
        """Close the connections and end the thread, without waiting (the next unit starts
        another): the bot's engine was disposed of."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.executor.submit(thread.close)
            thread.executor.shutdown(wait=False)

    async def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(thread.executor, thread.close)
            thread.executor.shutdown(wait=True)

    # -- units -------------------------------------------------------------------------------
    async def unit(self, read: str, params: Mapping[str, Any], decide: Decide[T],
                   types: Types) -> T:
        return await self._call(self._unit, read, params, decide, types)

    def _unit(self, thread: _LaneThread, read: str, params: Mapping[str, Any],
              decide: Decide[T], types: Types) -> T:
        connection = thread.connection()
        processors = self.processors
        for _attempt in range(UNIT_ATTEMPTS):
            found = connection.execute(read, processors.bind(params, types)).fetchone()
            write, result = decide(processors.row(found, types))
            if write is None or not write.statements:
                return result
            if self._write(connection, write, types):
                return result
        raise Conflict(read)

    def _write(self, connection: sqlite3.Connection, write: Write, types: Types) -> bool:
        statements = [(sql, self.processors.bind(values, types))
                      for sql, values in write.statements]
        if len(statements) == 1:  # autocommit: the statement is its own transaction
            changed = connection.execute(*statements[0]).rowcount
            return changed == 1 or not write.guarded
        connection.execute("BEGIN IMMEDIATE")
        try:
            changed = connection.execute(*statements[0]).rowcount
            if write.guarded and changed != 1:
                connection.execute("ROLLBACK")
                return False
            for statement in statements[1:]:
                connection.execute(*statement)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return True

    async def transaction(self, work: Work[T]) -> T:
        return await self._call(self._transaction, work)

    def _transaction(self, thread: _LaneThread, work: Work[T]) -> T:
        return thread.event_loop().run_until_complete(self._in_session(work))

    async def _in_session(self, work: Work[T]) -> T:
        async with self.sessions.begin() as session:
            return await work(session)

    def wake_on_commit(self, wake: Callable[[], None]) -> None:
        from bot.outbox.queue import wake_on_commit

        def from_lane() -> None:  # the sender lives in the bot's loop, not the lane's
            caller = _LaneThread.caller()
            if caller is not None:
                caller.call_soon_threadsafe(wake)

        wake_on_commit(self.sessions, from_lane)


class _LaneThread:
    """One run of a lane's thread and what lives in it: the plain connection, the event loop of
    the ORM transactions (whose connection is the lane engine's), the caller's loop of the unit
    being run. Everything here is touched from this thread only."""

    _local = threading.local()

    def __init__(self, lane: SQLiteLane) -> None:
        self.lane = lane
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-lane")
        self._raw: sqlite3.Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, caller: asyncio.AbstractEventLoop, fn: Callable[..., T], *args: Any) -> T:
        _LaneThread._local.caller = caller
        return fn(self, *args)

    @classmethod
    def caller(cls) -> asyncio.AbstractEventLoop | None:
        """The event loop that asked for the unit running in this thread now."""
        found: asyncio.AbstractEventLoop | None = getattr(cls._local, "caller", None)
        return found

    def connection(self) -> sqlite3.Connection:
        if self._raw is None:
            args, kwargs = self.lane._connect_args
            self._raw = _sqlite_connect(*args, **{**kwargs, "isolation_level": None})
            self._raw.row_factory = sqlite3.Row
            _sqlite_pragmas(self._raw, None)
        return self._raw

    def event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
            self._raw = None
        if self._loop is not None:
            self._loop.run_until_complete(self.lane.lane_engine.dispose())
            self._loop.close()
            self._loop = None


_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _numbered(sql: str) -> tuple[str, list[str]]:
    """``:name`` parameters as asyncpg's ``$1``, ``$2`` … and the names in that order."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PARAMETER.sub(number, sql), names


class PostgresLane(Lane):
    """A dedicated asyncpg connection for ``unit`` (the read, then the write that commits itself:
    two round trips; a multi-statement write in one transaction), opened on first use and again
    after a lost connection. ``transaction`` is the ordinary ORM session."""

    backend = "postgresql"

    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__(engine)
        self.sessions = sessions
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        for adapter_only in ("prepared_statement_cache_size", "prepared_statement_name_func",
                             "async_creator_fn"):
            kwargs.pop(adapter_only, None)
        self._connect_args = (tuple(args), kwargs)
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._numbered: dict[str, tuple[str, list[str]]] = {}
        # Let go of the connection with the bot's pool (it is opened again when used).
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: self._terminate())

    def _sql(self, sql: str, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        found = self._numbered.get(sql)
        if found is None:
            found = self._numbered[sql] = _numbered(sql)
        text, names = found
        return text, [values[name] for name in names]

    async def _connect(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            args, kwargs = self._connect_args
            self._connection = await asyncpg.connect(*args, **kwargs)
        return self._connection

    async def unit(self, read: str, params: Mapping[str, Any], decide: Decide[T],
                   types: Types) -> T:
        async with self._lock:
            try:
                return await self._unit(await self._connect(), read, params, decide, types)
            except (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError):
                await self._drop()  # lost: once more on a new connection (the unit is idempotent)
                return await self._unit(await self._connect(), read, params, decide, types)

    async def _drop(self) -> None:
        self._terminate()

    def _terminate(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    async def _unit(self, connection: asyncpg.Connection, read: str, params: Mapping[str, Any],
                    decide: Decide[T], types: Types) -> T:
        processors = self.processors
        for _attempt in range(UNIT_ATTEMPTS):
            found = await connection.fetchrow(*self._sql_args(read, params, types))
            write, result = decide(processors.row(found, types))
            if write is None or not write.statements:
                return result
            if await self._write(connection, write, types):
                return result
        raise Conflict(read)

    def _sql_args(self, sql: str, values: Mapping[str, Any], types: Types) -> list[Any]:
        text, args = self._sql(sql, self.processors.bind(values, types))
        return [text, *args]

    async def _write(self, connection: asyncpg.Connection, write: Write, types: Types) -> bool:
        statements = [self._sql_args(sql, values, types) for sql, values in write.statements]
        if len(statements) == 1:  # outside a transaction: the statement commits itself
            changed = _changed(await connection.execute(*statements[0]))
            return changed == 1 or not write.guarded
        try:
            async with connection.transaction():
                changed = _changed(await connection.execute(*statements[0]))
                if write.guarded and changed != 1:
                    raise _LostRace
                for statement in statements[1:]:
                    await connection.execute(*statement)
        except _LostRace:
            return False
        return True

    async def transaction(self, work: Work[T]) -> T:
        async with self.sessions.begin() as session:
            return await work(session)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


class _LostRace(Exception):
    """Rolls a guarded write back: another writer changed the row first."""


def _changed(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 1`` or ``DELETE 0``."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0
