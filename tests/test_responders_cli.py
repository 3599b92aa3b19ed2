"""``ppa-bot responders …``: the district's IT staff register groups and officers from a shell,
on the database of a bot that is running, and the bot follows at once."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.crypto import Vault, generate_key, legacy_lookup_key
from tests.harness import Harness, Person
from tests.responder_people import Group, full_report, register_officer

ROOT = Path(__file__).resolve().parent.parent
VILLAGE_GROUP = -1001000000001


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def vault(key: str) -> Vault:
    return Vault([key])


@pytest.fixture
def shell_env(settings: Settings, key: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment an admin's shell has on the server: the database and the key."""
    env = {"PPA_BOT_DATABASE__URL": settings.database.url,
           "PPA_BOT_SECURITY__ENCRYPTION_KEY": key,
           "PPA_BOT_SECURITY__LOOKUP_KEY": legacy_lookup_key(key)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def catch_up_with_the_wall_clock(bot: Harness) -> None:
    bot.clock.advance(seconds=(datetime.now(UTC) - bot.clock.now()).total_seconds() + 1)


async def ppa_bot(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI as the admin would, beside the running bot (in its own thread and loop)."""
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = await asyncio.to_thread(main, list(argv))
    finally:  # the CLI sets up logging for its process; this test process keeps its own
        root.handlers[:] = handlers
        root.setLevel(level)
    out, err = capsys.readouterr()
    return code, out, err


async def test_a_group_added_while_the_bot_runs_receives_the_next_alert(
        bot: Harness, reporter_id: Person, shell_env: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = await ppa_bot(capsys, "responders", "add-group", str(VILLAGE_GROUP),
                                    "--region", "64.01.05.2009", "--title", "PAPTBM Pondong Baru")
    assert code == 0 and "added" in out and "Pondong Baru" in out
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    group = Group(bot, VILLAGE_GROUP, "PAPTBM Pondong Baru")
    assert group.alert_about(reference).button_texts()[0].startswith("Terima")


async def test_list_shows_unrouted_cases_loudly_and_the_villages_with_an_active_group(
        bot: Harness, reporter_id: Person, shell_env: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    reference = await full_report(reporter_id)  # nobody is registered yet
    code, out, _err = await ppa_bot(capsys, "responders", "list")
    assert code == 0
    first_line = out.splitlines()[0]
    assert "UNROUTED" in first_line and reference in out
    assert "Villages with an active group: 0 of 144" in out
    assert "nobody is registered at the kabupaten tier" in out

    await ppa_bot(capsys, "responders", "add-group", str(VILLAGE_GROUP), "--region",
                  "64.01.05.2009")
    await ppa_bot(capsys, "responders", "add-officer", "7700009", "--region", "64.01",
                  "--name", "Pak Admin", "--admin")
    await bot.runtime.escalation.sweep()  # the running bot sends the unrouted case now
    code, out, _err = await ppa_bot(capsys, "responders", "list")
    assert "UNROUTED" not in out
    assert "Villages with an active group: 1 of 144" in out
    assert "Kuaro (64.01.05): 1 of 13 villages — Pondong Baru" in out
    assert "officer (admin) 7700009 “Pak Admin”, kabupaten tier" in out


async def test_a_revoked_group_is_skipped_its_open_case_moves_up_and_the_admins_are_told(
        bot: Harness, reporter_id: Person, reporter: Person, shell_env: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    officer = await register_officer(bot, 7_700_001, "64.01.05", "Bu Rina Kuaro")
    admin = await register_officer(bot, 7_700_009, "64.01", "Pak Admin", admin=True)
    await ppa_bot(capsys, "responders", "add-group", str(VILLAGE_GROUP), "--region",
                  "64.01.05.2009")
    first = await full_report(reporter_id)
    await bot.deliver_outbox()

    code, out, _err = await ppa_bot(capsys, "responders", "revoke", str(VILLAGE_GROUP))
    assert code == 0 and "revoked" in out and first in out
    catch_up_with_the_wall_clock(bot)  # the CLI queued its messages at the real time
    await bot.deliver_outbox()  # the running bot sends them
    assert first in officer.last_text()
    assert "dicabut oleh admin" in admin.last_text()

    second = await full_report(reporter)
    await bot.deliver_outbox()
    group = Group(bot, VILLAGE_GROUP, "PAPTBM Pondong Baru")
    assert not any(second in m.text for m in group.messages())
    assert second in officer.last_text()


async def test_mistakes_are_explained_and_change_nothing(
        bot: Harness, shell_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = await ppa_bot(capsys, "responders", "add-group", str(VILLAGE_GROUP),
                                    "--region", "64.01.99.9999")
    assert code == 1 and "unknown region code" in err
    code, _out, err = await ppa_bot(capsys, "responders", "add-group", "12345",
                                    "--region", "64.01.05.2009")
    assert code == 1 and "group ids are negative" in err
    code, _out, err = await ppa_bot(capsys, "responders", "revoke", "-100777")
    assert code == 1 and "no group or officer" in err
    code, out, _err = await ppa_bot(capsys, "responders", "list")
    assert "Responders: 0 active, 0 inactive" in out


def test_the_command_works_as_a_separate_process(settings: Settings, key: str) -> None:
    env = {**os.environ, "PPA_BOT_DATABASE__URL": settings.database.url,
           "PPA_BOT_SECURITY__ENCRYPTION_KEY": key,
           "PPA_BOT_SECURITY__LOOKUP_KEY": legacy_lookup_key(key)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "responders", "add-officer", "7700001", "--region",
         "64.01.05", "--name", "Bu Rina"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "added: officer 7700001 “Bu Rina”, kecamatan tier, region 64.01.05 Kuaro" in done.stdout
