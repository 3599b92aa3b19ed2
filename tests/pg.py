"""PostgreSQL as the second test backend: one migrated template database with the Paser regions,
and a fresh database per test copied from it (``CREATE DATABASE ... TEMPLATE``, a file copy).

The server is named by ``PPA_BOT_TEST_POSTGRES_URL`` (``.ci/run`` starts one with
``.ci/postgres.sh``); its user must be allowed to create databases."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import URL, make_url

ENV = "PPA_BOT_TEST_POSTGRES_URL"
# Read once at import: the tests' own fixture clears every PPA_BOT_* variable around each test.
POSTGRES_URL = os.environ.get(ENV, "").strip()

_names = itertools.count(1)


def available() -> bool:
    return bool(POSTGRES_URL)


def url_for(database: str, base: str = POSTGRES_URL) -> str:
    return make_url(base).set(database=database).render_as_string(hide_password=False)


def safe_description(base: str = POSTGRES_URL) -> str:
    """The server without its password, for headers and reports."""
    parsed: URL = make_url(base)
    return parsed.render_as_string(hide_password=True)


async def _admin(base: str) -> asyncpg.Connection:
    parsed = make_url(base)
    return await asyncpg.connect(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                                 user=parsed.username, password=parsed.password,
                                 database=parsed.database or "postgres")


async def _execute(base: str, sql: str) -> Any:
    connection = await _admin(base)
    try:
        return await connection.execute(sql)
    finally:
        await connection.close()


def _run(coro: Awaitable[Any]) -> Any:
    async def wrapper() -> Any:
        return await coro

    return asyncio.run(wrapper())


def new_name(prefix: str = "ppa_t") -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}"


async def create_database(name: str, template: str | None = None,
                          base: str = POSTGRES_URL) -> str:
    """Create database ``name`` (a copy of ``template`` when given); return its URL."""
    clause = f' TEMPLATE "{template}"' if template else ""
    await _execute(base, f'CREATE DATABASE "{name}"{clause}')
    return url_for(name, base)


async def drop_database(name: str, base: str = POSTGRES_URL) -> None:
    await _execute(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database_sync(name: str, template: str | None = None) -> str:
    return str(_run(create_database(name, template)))


def drop_database_sync(name: str) -> None:
    _run(drop_database(name))


def make_template(prepare: Callable[[str], None]) -> str:
    """A new database prepared by ``prepare(url)`` (migrate, import regions), to copy per test."""
    name = new_name("ppa_tmpl")
    url = create_database_sync(name)
    prepare(url)
    return name


def server_version(base: str = POSTGRES_URL) -> str:
    async def version() -> str:
        connection = await _admin(base)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return str(_run(version()))
