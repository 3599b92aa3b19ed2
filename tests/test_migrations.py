"""Migrations: the schema goes up, all the way down and up again on SQLite and on PostgreSQL, and
what the migrations build is exactly what the models describe."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.db import create_engine, downgrade, upgrade
from bot.domain import form
from models import Base, Case
from tests import pg


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the regions."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = pg.new_name("ppa_mig")
    yield pg.create_database_sync(name)
    pg.drop_database_sync(name)


def _inspect(url: str, look: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(look)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables_in(url: str) -> set[str]:
    return set(_inspect(url, lambda c: inspect(c).get_table_names()))


def differences(url: str) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    return list(_inspect(url, compare))


def test_the_schema_goes_up_down_and_up_again(empty_database: str) -> None:
    upgrade(empty_database)
    assert set(Base.metadata.tables) <= tables_in(empty_database)
    downgrade(empty_database, "base")
    assert tables_in(empty_database) <= {"alembic_version"}
    upgrade(empty_database)
    assert set(Base.metadata.tables) <= tables_in(empty_database)


def test_the_migrations_build_exactly_what_the_models_describe(empty_database: str) -> None:
    upgrade(empty_database)
    assert differences(empty_database) == []


# The case column each answer of the report form is stored in (ReportService._create_case).
ANSWER_COLUMNS = {form.ROLE: "reporter_role", form.VICTIM_CATEGORY: "victim_category",
                  form.VICTIM_SEX: "victim_sex", form.PLACE: "place", form.WHEN: "occurred",
                  form.PERPETRATOR: "perpetrator", form.SAFE_TIME: "contact_time"}


def test_every_answer_of_the_report_form_fits_its_column() -> None:
    """SQLite stores a string longer than its column; PostgreSQL refuses the whole report."""
    columns = Case.__table__.columns
    for step, column in ANSWER_COLUMNS.items():
        for value, _label in form.STORED_LABELS.get(step) or form.OPTIONS[step]:
            assert len(value) <= columns[column].type.length, (step, value)
    for bands in form.AGE_BANDS.values():
        for value, _label in bands:
            assert len(value) <= columns["victim_age_band"].type.length, value
