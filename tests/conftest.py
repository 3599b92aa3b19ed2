"""Fixtures: each test gets its own SQLite file copied from a migrated template with the Paser
regions, a fresh key, a fake clock, and the running bot."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault, generate_key
from bot.db import create_engine, session_factory, upgrade
from bot.regions import import_regions, shipped_file
from tests.harness import Harness, Person

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads a developer's config.toml or PPA_BOT_* variables by accident."""
    import os

    for name in list(os.environ):
        if name.startswith("PPA_BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PPA_BOT_CONFIG", str(tmp_path / "absent.toml"))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def load() -> None:
        engine = create_engine(url)
        async with session_factory(engine).begin() as session:
            await import_regions(session, shipped_file("paser_wilayah.csv"),
                                 shipped_file("paser_aliases.csv"), kabupaten_code="64.01",
                                 kabupaten_name="Paser")
        await engine.dispose()

    asyncio.run(load())
    return path


@pytest.fixture
def db_path(template_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ppa.sqlite3"
    shutil.copy(template_db, path)
    return path


@pytest.fixture
def settings(db_path: Path, _isolated_config: None) -> Settings:
    return load_settings(telegram={"token": TOKEN},
                         database={"url": f"sqlite+aiosqlite:///{db_path}"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def vault() -> Vault:
    return Vault([generate_key()])


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock, vault: Vault) -> AsyncIterator[Harness]:
    harness = Harness(settings=settings, clock=clock, vault=vault)
    await harness.start()
    yield harness
    await harness.stop()


@pytest.fixture
def reporter(bot: Harness) -> Person:
    return Person(bot, user_id=5_550_001, first_name="Sari", language_code="en")


@pytest.fixture
def reporter_id(bot: Harness) -> Person:
    return Person(bot, user_id=5_550_002, first_name="Wati", language_code="id")
