"""Fixtures: each test gets its own database copied from a migrated template with the Paser
regions, a fresh key, a fake clock, and the running bot.

Every test that touches the database runs on SQLite (a file per test) and, when
``PPA_BOT_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one), on PostgreSQL too (a
database per test, ``CREATE DATABASE ... TEMPLATE``): its id ends in ``[sqlite]`` or
``[postgresql]``. Tests that only make sense on one backend ask for ``db_path`` (SQLite files) or
``postgres_url`` (PostgreSQL) and are skipped on the other."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.bootstrap import prepare_database
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault, generate_key
from tests import pg
from tests.harness import Harness, Person

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
BACKENDS = ["sqlite", "postgresql"] if pg.available() else ["sqlite"]


def pytest_report_header(config: pytest.Config) -> list[str]:
    if pg.available():
        try:
            version = pg.server_version()
        except Exception as exc:  # fail loudly, never fall back to SQLite only
            raise pytest.UsageError(f"{pg.ENV} is set but PostgreSQL at {pg.safe_description()} "
                                    f"cannot be reached: {exc}") from exc
        return [f"database backends: sqlite + postgresql {version} at {pg.safe_description()}"]
    return ["database backends: sqlite only (set PPA_BOT_TEST_POSTGRES_URL, or run .ci/run, "
            "for PostgreSQL too)"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = {name: {"passed": 0, "failed": 0, "skipped": 0} for name in BACKENDS}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for name in BACKENDS:
                if f"[{name}]" in nodeid or f"[{name}-" in nodeid:
                    key = "failed" if outcome == "error" else outcome
                    if outcome != "error" or report.when != "teardown":
                        counts[name][key] += 1
    if not any(sum(c.values()) for c in counts.values()):
        return
    terminalreporter.write_sep("-", "database backends")
    for name in BACKENDS:
        c = counts[name]
        terminalreporter.write_line(f"{name}: {c['passed']} passed, {c['failed']} failed, "
                                    f"{c['skipped']} skipped")


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads a developer's config.toml or PPA_BOT_* variables by accident."""
    import os

    for name in list(os.environ):
        if name.startswith("PPA_BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PPA_BOT_CONFIG", "")  # no file: environment and defaults only


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    prepare_database(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    name = pg.make_template(prepare_database)
    yield name
    pg.drop_database_sync(name)


@pytest.fixture
def db_path(backend: str, template_db: Path, tmp_path: Path) -> Path:
    if backend != "sqlite":
        pytest.skip("reads the SQLite file itself")
    path = tmp_path / "ppa.sqlite3"
    shutil.copy(template_db, path)
    return path


@pytest.fixture
def postgres_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database with the regions, dropped after the test."""
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL")
    template: str = request.getfixturevalue("postgres_template")
    name = pg.new_name()
    url = pg.create_database_sync(name, template)
    yield url
    pg.drop_database_sync(name)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite+aiosqlite:///{request.getfixturevalue('db_path')}"


@pytest.fixture
def settings(database_url: str, _isolated_config: None, tmp_path: Path) -> Settings:
    # Evidence files beside each test's own database, also on PostgreSQL (where the default
    # folder is ./data/evidence, shared by every test and the developer's own bot).
    return load_settings(telegram={"token": TOKEN}, database={"url": database_url},
                         evidence={"folder": str(tmp_path / "evidence")})


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
