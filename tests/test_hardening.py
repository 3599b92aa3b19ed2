"""Hardening (issue 10, point 6): no shell command built from what a user typed; refused presses
recorded by a keyed hash, never a Telegram id; the database and key files private from their
first byte; group commands limited per person and per group, each limit said once; an edited
message never runs a command again; buttons carry no number that counts the cases."""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot import cli
from bot.callback_data import AlertPress, BadCallback, CasePress, parse
from bot.crypto import load_keys
from bot.db import create_engine, private_database, upgrade, upgrade_async
from bot.services.case_access import anonymous_key
from models import CaseEvent, EnrolmentRequest, GroupRequest
from tests.case_work import (
    KUARO,
    MODANG,
    PASER,
    VILLAGE_GROUP_ID,
    case_row,
    events,
    report_from_modang,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person
from tests.responder_people import Group, register_group, register_officer

PRIVATE = 0o600
ROOT = Path(__file__).resolve().parent.parent


# ---- no shell command from a user's words --------------------------------------------------------

CRAFTED_NAMES = [
    'Dedi"; echo INJECTED-1; echo "',
    "Dedi $(echo INJECTED-2) `echo INJECTED-3`",
    "Dedi'; echo INJECTED-4; echo '",
    "Dedi\n; echo INJECTED-5 \u202e",
]


def as_the_shell_reads_it(command: str) -> str:
    """The words a POSIX shell makes of ``command``, with ``printf`` in place of ``ppa-bot``: one
    line per argument, and anything the command would run besides shows up as output."""
    shell = subprocess.run(["/bin/sh", "-c", "printf '%s\\n' " + command.removeprefix("ppa-bot ")],  # noqa: S603
                           capture_output=True, text=True, check=True, timeout=10)
    return shell.stdout


@pytest.mark.parametrize("name", CRAFTED_NAMES)
async def test_the_command_offered_to_admins_runs_nothing_from_an_officers_name(
        bot: Harness, reporter_id: Person, name: str) -> None:
    """An officer the bot cannot reach: the admins get the command that registers them again.
    Pasted into a shell it must pass the name as one argument and run nothing else."""
    admin = await register_officer(bot, 7_900_001, PASER, "Ibu Admin", admin=True)
    officer = await register_officer(bot, 7_700_001, KUARO, name)
    bot.telegram.inject("403", chat_id=officer.user_id, times=100)
    await report_from_modang(reporter_id)
    await bot.deliver_outbox()
    notice = next(m.text for m in admin.inbox() if "add-officer" in m.text)
    command = html.unescape(re.findall(r"<code>(ppa-bot [^<]*)</code>", notice)[-1])

    output = await asyncio.to_thread(as_the_shell_reads_it, command)
    words = output.rstrip("\n").split("\n")
    assert words[:6] == ["responders", "add-officer", "7700001", "--region", KUARO, "--name"]
    assert len(words) == 7, f"the name became several arguments or commands: {words}"
    assert "INJECTED" not in output.replace(words[6], "")
    assert words[6].startswith("Dedi") and "\n" not in words[6] and "\u202e" not in words[6]


# ---- refused presses leave no Telegram id --------------------------------------------------------

async def test_a_refused_press_is_recorded_by_a_keyed_hash_never_the_telegram_id(
        bot: Harness, reporter_id: Person) -> None:
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    other = await register_group(bot, -1003000000003, "64.01.04.2002", "PAPTBM Janju")
    reference = await report_from_modang(reporter_id)
    await bot.deliver_outbox()
    modang = Group(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    alert = modang.alert_about(reference)
    stranger = modang.member(6_600_123, "Joko Tetangga")
    await stranger.presses("Detail", alert)  # not enrolled
    intruder = other.member(6_600_124, "Iwan")  # another village's group, a forged Terima
    await intruder.presses_data(alert.buttons()[0]["callback_data"], alert)

    refused = await events(bot, reference, "refused")
    assert [e.detail["action"] for e in refused] == ["details", "take"]
    for event, person in zip(refused, (stranger, intruder), strict=True):
        assert event.actor == anonymous_key(bot.vault, person.user_id)
        assert event.actor_name is None
        assert str(person.user_id) not in event.actor
    async with bot.runtime.sessions() as session:
        actors = list(await session.scalars(select(CaseEvent.actor)))
    assert not any(actor.startswith("tg:") for actor in actors)


# ---- private files from the first byte -----------------------------------------------------------

@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual umask of a server account: new files readable by everyone."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_the_database_and_its_wal_and_shm_are_private_from_the_first_byte(
        tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "data" / "ppa.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    await upgrade_async(url)
    assert mode(database) == PRIVATE
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE probe (x TEXT)"))
            await connection.execute(text("INSERT INTO probe VALUES ('secret')"))
        for suffix in ("-wal", "-shm"):
            side = Path(f"{database}{suffix}")
            assert mode(side) == PRIVATE, suffix  # (it exists: stat would fail otherwise)
    finally:
        await engine.dispose()


async def test_a_database_left_readable_by_an_older_version_is_made_private(
        tmp_path: Path, loose_umask: None) -> None:
    database = tmp_path / "ppa.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    await upgrade_async(url)
    database.chmod(0o644)
    engine = create_engine(url)
    await engine.dispose()
    assert mode(database) == PRIVATE


def test_a_wal_file_sqlite_removes_while_the_bot_starts_is_no_fault(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite deletes -wal and -shm when its last connection closes: a restart can see them exist
    # and find them gone a moment later. Seen as "exists" here, gone when looked at.
    database = tmp_path / "ppa.sqlite3"
    database.touch(mode=0o600)
    monkeypatch.setattr(Path, "exists", lambda self: True)
    private_database(database)  # no FileNotFoundError
    assert mode(database) == PRIVATE


def test_key_files_are_private_when_made_and_when_rotated(
        tmp_path: Path, loose_umask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "keys" / "ppa.key"
    load_keys("", key_file, create=True)
    assert mode(key_file) == PRIVATE

    database = tmp_path / "ppa.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{database}")
    leftover = key_file.with_name(key_file.name + ".tmp")  # a rotation killed half-way left it
    leftover.write_text(Fernet.generate_key().decode())
    leftover.chmod(0o644)
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    assert cli.main(["keys", "rotate"]) == 0
    assert mode(key_file) == PRIVATE


WRITE_WITHOUT_SPACE = """
import resource, signal, sys
from pathlib import Path
from bot.crypto import KeyMaterial, write_key_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # the disk is full: no byte can be written
try:
    write_key_file(Path(sys.argv[1]), KeyMaterial(["NEW-KEY", "OLD-KEY"], "LOOKUP-KEY"))
except OSError:
    sys.exit(3)
"""


@pytest.mark.parametrize("leftover", [False, True])
def test_a_key_file_write_that_fails_half_way_leaves_nothing_readable(
        tmp_path: Path, loose_umask: None, leftover: bool) -> None:
    """Private from the first byte: a write cut short (a full disk here) leaves at most a
    private, empty file, also where an earlier interrupted rotation left a readable one."""
    key_file = tmp_path / "ppa.key"
    tmp = key_file.with_name(key_file.name + ".tmp")
    if leftover:
        tmp.write_text("")
        tmp.chmod(0o644)
    done = subprocess.run([sys.executable, "-c", WRITE_WITHOUT_SPACE, str(key_file)],  # noqa: S603
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert mode(tmp) == PRIVATE


# ---- group commands: limits that speak once ------------------------------------------------------

@pytest.fixture
async def admin(bot: Harness) -> Person:
    return await register_officer(bot, 7_900_001, PASER, "Ibu Admin", admin=True)


async def test_sixty_daftar_from_one_person_ask_the_admins_a_few_times_and_are_told_once(
        bot: Harness, admin: Person) -> None:
    chat = GroupChat(bot, -100_555_001, "Grup Baru")
    flooder = chat.activist(6_800_001, "Budi")
    for n in range(60):
        await flooder.sends("/daftar Modang" if n % 2 else "/daftar Lolo")
    await bot.deliver_outbox()
    limit = bot.settings.security.group_commands_per_hour_per_user
    async with bot.runtime.sessions() as session:
        asked = list(await session.scalars(select(GroupRequest)))
    assert len(asked) == limit
    assert len([m for m in admin.inbox() if m.buttons()]) == limit
    told = [m for m in chat.messages() if "terlalu banyak permintaan" in m.text]
    assert len(told) == 1 and "Budi" in told[0].text and "menit" in told[0].text
    assert len(chat.messages()) == limit + 1  # nothing more fills the group

    neighbour = chat.activist(6_800_002, "Siti")  # someone else is still answered
    await neighbour.sends("/gabung")
    assert "belum terdaftar" in chat.last_text()
    bot.clock.advance(hours=1)
    await flooder.sends("/daftar Modang")
    assert "terlalu banyak" not in chat.last_text()


async def test_a_busy_group_tells_each_newcomer_once_and_never_runs_the_extra_commands(
        bot: Harness) -> None:
    await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    chat = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    limit = bot.settings.security.group_commands_per_hour_per_group
    for n in range(limit):
        await chat.activist(6_810_000 + n, f"Anggota {n}").sends("/gabung")
    late = chat.activist(6_820_000, "Yanti")
    await late.sends("/gabung")
    await late.sends("/gabung")
    told = [m for m in chat.messages() if "terlalu banyak permintaan" in m.text]
    assert len(told) == 1 and "Yanti" in told[0].text
    async with bot.runtime.sessions() as session:
        asked = list(await session.scalars(select(EnrolmentRequest.user_id)))
    assert len(asked) == limit and 6_820_000 not in asked


# ---- an edit is not a new command ----------------------------------------------------------------

async def test_editing_a_note_command_does_not_add_a_second_note(
        bot: Harness, reporter_id: Person) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await report_from_modang(reporter_id)
    await officer.sends(f"/catat {reference} catatan pertama")
    await officer.edits_message(f"/catat {reference} catatan kedua")
    assert len(await events(bot, reference, "note")) == 1
    assert "Pesan yang diubah tidak kami baca" in officer.last_text()


async def test_editing_group_commands_runs_nothing_again(bot: Harness, admin: Person) -> None:
    await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    chat = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    wati = chat.activist(6_700_001, "Wati")
    await wati.sends("/gabung")
    said = len(chat.messages())
    await wati.edits_last_message_to("/gabung@ppa_paser_bot")
    stranger = GroupChat(bot, -100_555_002, "Grup Lain")
    budi = stranger.activist(6_800_003, "Budi")
    await budi.sends("/daftar Modang")
    await budi.edits_last_message_to("/daftar Lolo")
    async with bot.runtime.sessions() as session:
        assert len(list(await session.scalars(select(EnrolmentRequest)))) == 1
        [request] = list(await session.scalars(select(GroupRequest)))
    assert request.village_code == MODANG and request.status == "pending"
    assert len(chat.messages()) == said and len(stranger.messages()) == 1


# ---- buttons carry no number that counts the cases -----------------------------------------------

def case_buttons(bot: Harness) -> list[AlertPress | CasePress]:
    found: list[AlertPress | CasePress] = []
    for messages in bot.telegram.chats.transcripts.values():
        for message in messages:
            for button in message.buttons():
                try:
                    pressed = parse(button.get("callback_data"))
                except BadCallback:
                    continue
                if isinstance(pressed, AlertPress | CasePress):
                    found.append(pressed)
    return found


async def test_every_button_about_a_case_names_it_by_a_random_id(
        bot: Harness, reporter_id: Person, reporter: Person) -> None:
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    first = await report_from_modang(reporter_id)
    second = await report_from_modang(reporter)
    await bot.deliver_outbox()
    for reference in (first, second):
        await officer.sends(f"/kasus {reference}")  # the card
        await officer.presses("Riwayat")  # the history, a page with buttons
    await reporter_id.sends(f"/tambah {first} ada kabar baru")  # relayed with buttons
    await bot.deliver_outbox()

    cases = [await case_row(bot, first), await case_row(bot, second)]
    public = {case.public_id for case in cases}
    pressed = case_buttons(bot)
    kinds = {(type(p).__name__, p.action) for p in pressed}
    assert {("AlertPress", "ack"), ("AlertPress", "detail"), ("CasePress", "history"),
            ("CasePress", "card"), ("CasePress", "reply"), ("CasePress", "detail")} <= kinds
    assert {p.case for p in pressed} == public
    for case in cases:
        assert re.fullmatch(r"[A-Za-z0-9_\-]{12}", case.public_id)
    data = [b["callback_data"] for ms in bot.telegram.chats.transcripts.values() for m in ms
            for b in m.buttons()]
    assert not any(field in (str(c.id) for c in cases)
                   for d in data if d[:2] in ("a1", "c1") for field in d.split("|")[1:2])


@pytest.mark.parametrize("data", ["a1|1|detail", "a1|2|ack", "c1|1|card||", "c1|2|detail||"])
async def test_a_button_counted_by_row_id_is_refused_and_changes_nothing(
        bot: Harness, reporter_id: Person, data: str) -> None:
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await report_from_modang(reporter_id)
    await bot.deliver_outbox()
    with pytest.raises(BadCallback):
        parse(data)
    await officer.sends("/start")
    await officer.presses_data(data)
    assert "tidak aktif" in officer.callback_answers()[-1]
    case = await case_row(bot, reference)
    assert case.acknowledged_at is None
    assert await events(bot, reference, "viewed") == []
