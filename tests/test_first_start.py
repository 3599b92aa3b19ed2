"""A new district's first steps from a shell (issue 14, no set-up traps): every command works on a
new database (it is migrated and gets the shipped regions first), and each set-up mistake stops
``ppa-bot`` with one line that names the cause and the fix, a non-zero exit, and never the token,
checked on everything a real process prints."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.first_steps import next_steps
from tests.case_factory import add_group, add_officer
from tests.fake_bot_api import FakeBotApi
from tests.harness import Harness
from tests.telegram_double import BOT_USER

TOKEN = "424242:SECRET-first-start-token-abcdefgh"
TOKEN_SECRET = TOKEN.split(":")[1]
PASSWORD = "Rahasia-db-pw-77"
VILLAGE = "64.01.05.2009"  # Pondong Baru
PROCESS_SECONDS = 60  # one command, migrations included, on a busy machine


def environment(workdir: Path, **extra: str) -> dict[str, str]:
    """A shell on a new server: no config file, the token and a database in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PPA_BOT_")}
    env |= {"PPA_BOT_CONFIG": "", "PPA_BOT_TELEGRAM__TOKEN": TOKEN,
            "PPA_BOT_DATABASE__URL": f"sqlite+aiosqlite:///{workdir / 'data' / 'ppa.sqlite3'}",
            "PYTHONUNBUFFERED": "1"}
    return env | extra


async def ppa_bot(workdir: Path, *args: str, **extra: str) -> tuple[int, str]:
    """``python -m bot ARGS`` as a real process; its exit code and all it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=workdir, env=environment(workdir, **extra),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), PROCESS_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")


def the_error(output: str) -> str:
    """The one ``error:`` line, with no traceback and no token anywhere in the output."""
    assert TOKEN_SECRET not in output and TOKEN not in output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    return errors[0]


def database(workdir: Path) -> sqlite3.Connection:
    return sqlite3.connect(workdir / "data" / "ppa.sqlite3")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = await FakeBotApi(TOKEN).start()
    yield server
    await server.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- every command on a new database ---------------------------------------------------------

async def test_admin_add_before_the_first_run_makes_the_admin(tmp_path: Path) -> None:
    code, output = await ppa_bot(tmp_path, "admin", "add", "5550123", "--name", "Bu Sari")

    assert code == 0, output
    assert "admin 5550123 (Bu Sari) added" in output
    with database(tmp_path) as db:
        assert db.execute("SELECT count(*) FROM regions WHERE level = 'village'").fetchone() \
            == (144,)
        assert db.execute("SELECT name, is_admin FROM responders").fetchall() == [("Bu Sari", 1)]


async def test_responders_add_group_before_the_first_run_knows_the_village(
        tmp_path: Path) -> None:
    code, output = await ppa_bot(tmp_path, "responders", "add-group", "-1001000000001",
                                 "--region", VILLAGE)

    assert code == 0, output
    assert "Pondong Baru" in output and "unknown region" not in output
    # The key the bot will use is made with the database, as at the bot's first start.
    assert (tmp_path / "data" / "ppa-bot.key").is_file()
    code, output = await ppa_bot(tmp_path, "responders", "list")
    assert code == 0 and "Villages with an active group: 1 of 144" in output


@pytest.mark.parametrize("args", [
    ["responders", "add-officer", "5550124", "--region", "64.01.05", "--name", "Pak Budi"],
    ["responders", "list"],
    ["stats", "--year", "2026"],
    ["export", "--year", "2026", "--out", "kasus.csv"],
    ["practice", "purge"],
    ["keys", "rotate"],
    ["db", "upgrade"],
], ids=lambda args: " ".join(args[:2]))
async def test_every_command_works_on_a_new_database(tmp_path: Path, args: list[str]) -> None:
    code, output = await ppa_bot(tmp_path, *args)

    assert code == 0, output
    assert "error" not in output.lower()
    with database(tmp_path) as db:
        assert db.execute("SELECT count(*) FROM regions").fetchone() == (155,)


async def test_health_on_a_new_database_says_what_needs_attention(tmp_path: Path) -> None:
    code, output = await ppa_bot(tmp_path, "health")
    assert "state: " in output and "error" not in output.lower()
    assert code in (0, 1)


# --- set-up mistakes: one line, the fix, never the token ---------------------------------------

async def test_a_rejected_token_stops_with_one_line(tmp_path: Path, api: FakeBotApi) -> None:
    api.token = "999:another-bot-entirely"  # Telegram answers getMe 401 Unauthorized

    code, output = await ppa_bot(tmp_path, "run", PPA_BOT_TELEGRAM__BASE_URL=api.base_url,
                                 PPA_BOT_TELEGRAM__BASE_FILE_URL=api.base_file_url)

    assert code == 2
    line = the_error(output)
    assert "refused the bot token" in line and "@BotFather" in line
    assert "PPA_BOT_TELEGRAM__TOKEN" in line


async def test_an_unreachable_bot_api_stops_with_one_line(tmp_path: Path) -> None:
    port = closed_port()
    code, output = await ppa_bot(tmp_path, "run",
                                 PPA_BOT_TELEGRAM__BASE_URL=f"http://127.0.0.1:{port}/bot")

    assert code == 1
    line = the_error(output)
    assert f"http://127.0.0.1:{port} cannot be reached" in line
    assert "internet connection" in line and "PPA_BOT_TELEGRAM__BASE_URL" in line


async def test_a_missing_config_file_stops_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "etc" / "config.toml"
    code, output = await ppa_bot(tmp_path, "run", PPA_BOT_CONFIG=str(missing))

    assert code == 2
    line = the_error(output)
    assert f"config file {missing} named by PPA_BOT_CONFIG does not exist" in line
    assert "config.example.toml" in line
    assert not (tmp_path / "data").exists()  # nothing was made from a half-read configuration


@pytest.mark.parametrize(("url", "expected"), [
    (f"postgresql://ppa:{PASSWORD}@127.0.0.1:notaport/ppa", "not a valid address"),
    (f"postgresql+asyncpg://ppa:{PASSWORD}@127.0.0.1:{{port}}/ppa", "Connect call failed"),
    ("sqlite+aiosqlite://", "SQLite needs a file"),
    ("mysql://ppa@127.0.0.1/ppa", "use sqlite+aiosqlite"),
], ids=["bad-port", "unreachable", "in-memory", "other-database"])
async def test_a_bad_database_url_stops_with_one_line(tmp_path: Path, url: str,
                                                      expected: str) -> None:
    url = url.replace("{port}", str(closed_port()))
    code, output = await ppa_bot(tmp_path, "run", PPA_BOT_DATABASE__URL=url)

    assert code in (1, 2)
    line = the_error(output)
    assert expected in line and "database.url" in line and "PPA_BOT_DATABASE__URL" in line
    assert PASSWORD not in output


# --- make run: a new district is told what to do next ------------------------------------------

async def test_run_prints_a_new_districts_next_steps(tmp_path: Path, api: FakeBotApi) -> None:
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path,
            env=environment(tmp_path, PPA_BOT_TELEGRAM__BASE_URL=api.base_url,
                            PPA_BOT_TELEGRAM__BASE_FILE_URL=api.base_file_url),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        await api.wait_until(lambda: api.calls_to("getUpdates"), within=60,
                             what="the bot's first poll")
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
    output = log.read_text()
    assert process.returncode == 0, output
    assert TOKEN_SECRET not in output
    steps = output[output.index("Next steps for a new district:"):].splitlines()[1:4]
    assert steps[0].startswith("  1. Make the first admin: ppa-bot admin add TELEGRAM_ID")
    assert f"https://t.me/{BOT_USER['username']}" in steps[0]
    assert steps[1].startswith(f"  2. An activist adds @{BOT_USER['username']} to the village")
    assert steps[2].startswith("  3. In that group they send /daftar")


async def test_the_next_steps_are_marked_done_and_then_no_longer_shown(bot: Harness) -> None:
    steps = await next_steps(bot.runtime.sessions, "ppa_paser_bot")
    assert len(steps) == 4 and "[done]" not in "".join(steps)

    await add_officer(bot.runtime.sessions, 5_550_900, "64.01", admin=True, name="Rina")
    steps = await next_steps(bot.runtime.sessions, "ppa_paser_bot")
    assert steps[1].startswith("  1. [done] ") and "[done]" not in steps[2] + steps[3]

    await add_group(bot.runtime.sessions, "Pondong Baru", -100_999_001)
    assert await next_steps(bot.runtime.sessions, "ppa_paser_bot") == []
