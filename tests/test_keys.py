"""Keys that cannot fork or vanish (DESIGN §6): the lookup key is a secret of its own and is
never rotated, so a bot running with ``NEW,OLD`` still finds every reporter; ``keys rotate`` is
resumable and idempotent (killed half-way, then run again, everything reads); ``ppa-bot run``
never makes a new key over encrypted data, and refuses keys that cannot read the canary."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot import cli
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import (
    KeyMaterial,
    Vault,
    generate_key,
    generate_lookup_key,
    legacy_lookup_key,
    read_key_file,
    write_key_file,
)
from bot.db import create_engine, session_factory
from bot.keys import rotate_key_file, values_needing_old_keys
from bot.runtime import checked_vault, open_vault
from models import Case, CaseEvent, KeyCanary, OutboxMessage, Reporter
from models.encryption import install_cipher
from tests.conftest import TOKEN
from tests.harness import Harness, Person

STORY = "Pamannya memukul Rina di dapur rumah setiap malam minggu."
PHONE = "0812 9988 7766"
REPORTER_IDS = (4_242_001, 4_242_002, 4_242_003)


class Killed(Exception):
    """The rotation process dies here (a fault injected after some rows)."""


def settings_with(base: Settings, key_file: Path, **security: Any) -> Settings:
    return load_settings(telegram={"token": TOKEN}, database={"url": base.database.url},
                         security={"key_file": str(key_file), **security})


def on_the_bot(settings: Settings, vault: Vault,
               scenario: Callable[[Harness], Awaitable[Any]]) -> Any:
    """Run ``scenario`` against a bot started on this database with this vault, then stop it."""
    async def run() -> Any:
        harness = await Harness(settings=settings, clock=FakeClock(), vault=vault).start()
        try:
            return await scenario(harness)
        finally:
            await harness.stop()
    return asyncio.run(run())


def reports_made(settings: Settings, vault: Vault) -> list[str]:
    async def scenario(bot: Harness) -> list[str]:
        references = []
        for user_id in REPORTER_IDS:
            person = Person(bot, user_id, language_code="en")
            references.append(await person.completes_report(story=STORY, phone=PHONE))
            await person.sends(f"/tambah {references[-1]} one more thing")
            bot.clock.advance(minutes=2)
        await bot.deliver_outbox()
        return references
    return on_the_bot(settings, vault, scenario)


def status_seen_by(settings: Settings, vault: Vault, user_id: int) -> str:
    async def scenario(bot: Harness) -> str:
        person = Person(bot, user_id, language_code="en")
        await person.sends("/status")
        return person.last_text()
    return on_the_bot(settings, vault, scenario)


def everything_reads(settings: Settings, vault: Vault, *, rotated: bool = True) -> None:
    """Every encrypted value decrypts with ``vault`` (``rotated``: with its first key alone),
    and every reporter is found by the hash of their id."""
    async def check() -> None:
        install_cipher(vault)
        engine = create_engine(settings.database.url)
        sessions = session_factory(engine)
        try:
            if rotated:
                assert await values_needing_old_keys(sessions, vault) == 0
            async with sessions() as session:
                cases = list(await session.scalars(select(Case)))
                assert cases and all(c.narrative == STORY for c in cases)
                for row in await session.scalars(select(OutboxMessage)):
                    assert row.payload
                for event in await session.scalars(select(CaseEvent)):
                    assert event.secret is None or event.secret
                hashes = set(await session.scalars(select(Reporter.tg_hash)))
                assert {vault.hash_id(u) for u in REPORTER_IDS} == hashes
        finally:
            await engine.dispose()
    asyncio.run(check())


def fernet_keys(key_file: Path) -> list[str]:
    return read_key_file(key_file).fernet_keys


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "ppa-bot.key"


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """``cli.main`` points the log at this test's captured stderr: put it back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


# ---- the first start -----------------------------------------------------------------------------

def test_the_first_start_makes_both_keys_and_a_canary(settings: Settings, key_file: Path) -> None:
    configured = settings_with(settings, key_file)
    vault = checked_vault(configured)
    material = read_key_file(key_file)
    assert len(material.fernet_keys) == 1 and not material.lookup_derived
    assert material.lookup_key != legacy_lookup_key(material.fernet_keys[0])  # its own secret
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "back this file up" in key_file.read_text().lower()

    async def canary() -> KeyCanary | None:
        engine = create_engine(settings.database.url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(select(KeyCanary))
        finally:
            await engine.dispose()
    stored = asyncio.run(canary())
    assert stored is not None and stored.lookup_check == vault.lookup_check()
    # The next start reads the same keys and passes the check.
    again = checked_vault(configured)
    assert again.hash_id(1) == vault.hash_id(1)


# ---- running with NEW,OLD ------------------------------------------------------------------------

def test_running_with_new_and_old_keys_before_rotating_finds_every_reporter(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    by_file = settings_with(settings, key_file)
    vault = checked_vault(by_file)
    references = reports_made(settings, vault)
    old = fernet_keys(key_file)[0]
    new = generate_key()

    # README: put NEW,OLD in security.encryption_key, run the bot, then rotate.
    both = settings_with(settings, key_file, encryption_key=f"{new},{old}")
    both_vault = checked_vault(both)
    assert references[0] in status_seen_by(both, both_vault, REPORTER_IDS[0])  # no fork
    monkeypatch.setenv("PPA_BOT_SECURITY__ENCRYPTION_KEY", f"{new},{old}")
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", settings.database.url)
    assert cli.main(["keys", "rotate"]) == 0
    assert "remove the old key" in capsys.readouterr().out
    assert cli.main(["keys", "rotate"]) == 0  # a second run changes nothing and fails nothing

    only_new = settings_with(settings, key_file, encryption_key=new)
    new_vault = checked_vault(only_new)
    everything_reads(only_new, new_vault)
    assert references[1] in status_seen_by(only_new, new_vault, REPORTER_IDS[1])


# ---- rotation: killed half-way, run again --------------------------------------------------------

def test_a_rotation_killed_half_way_is_finished_by_running_it_again(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    configured = settings_with(settings, key_file)
    vault = checked_vault(configured)
    reports_made(settings, vault)
    lookup = read_key_file(key_file).lookup_key
    old = fernet_keys(key_file)

    def die_after_two_batches(rewritten: int) -> None:
        if rewritten >= 6:
            raise Killed

    with pytest.raises(Killed):
        rotate_key_file(settings.database.url, key_file, batch=3,
                        progress=die_after_two_batches)
    half = fernet_keys(key_file)
    assert len(half) == 2 and half[1] == old[0]  # the new key in front, the old one kept
    half_vault = Vault(half, lookup)
    everything_reads(configured, half_vault, rotated=False)  # readable at every moment

    async def left() -> int:
        engine = create_engine(settings.database.url)
        try:
            return await values_needing_old_keys(session_factory(engine), half_vault)
        finally:
            await engine.dispose()
    remaining = asyncio.run(left())
    assert remaining > 0  # it really stopped half-way

    monkeypatch.setenv("PPA_BOT_DATABASE__URL", settings.database.url)
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    assert cli.main(["keys", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "finished the rotation an earlier run left unfinished" in out
    assert f"re-encrypted {remaining} values" in out  # only what was left
    assert fernet_keys(key_file) == half[:1]  # the same new key, not a third one
    assert read_key_file(key_file).lookup_key == lookup  # never rotated
    everything_reads(configured, Vault(half[:1], lookup))
    assert checked_vault(configured).hash_id(REPORTER_IDS[0]) == vault.hash_id(REPORTER_IDS[0])

    # A duplicate run: a fresh rotation, and everything still reads.
    assert cli.main(["keys", "rotate"]) == 0
    latest = fernet_keys(key_file)
    assert len(latest) == 1 and latest != half[:1]
    everything_reads(configured, Vault(latest, lookup))
    assert "PSR-" in status_seen_by(configured, checked_vault(configured), REPORTER_IDS[2])


def test_a_rotation_with_a_key_that_reads_nothing_changes_nothing(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    configured = settings_with(settings, key_file)
    vault = checked_vault(configured)
    reports_made(settings, vault)
    write_key_file(key_file, KeyMaterial([generate_key()], read_key_file(key_file).lookup_key))
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", settings.database.url)
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    assert cli.main(["keys", "rotate"]) == 2
    assert "cannot read" in capsys.readouterr().err


# ---- ppa-bot run refuses -------------------------------------------------------------------------

def run_refuses(settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str], **env: str) -> str:
    monkeypatch.setenv("PPA_BOT_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", settings.database.url)
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_run_refuses_to_start_when_the_key_file_is_gone(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    vault = checked_vault(settings_with(settings, key_file))
    reports_made(settings, vault)
    key_file.unlink()
    err = run_refuses(settings, key_file, monkeypatch, capsys)
    assert "restore" in err and str(key_file) in err
    assert not key_file.exists()  # no new key over the old data


def test_run_refuses_a_key_that_cannot_read_the_canary(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    vault = checked_vault(settings_with(settings, key_file))
    reports_made(settings, vault)
    lookup = read_key_file(key_file).lookup_key
    write_key_file(key_file, KeyMaterial([generate_key()], lookup))  # a wrong backup
    err = run_refuses(settings, key_file, monkeypatch, capsys)
    assert "cannot read" in err and "restore" in err and str(key_file) in err


def test_run_refuses_a_lookup_key_that_would_fork_the_reporters(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    vault = checked_vault(settings_with(settings, key_file))
    reports_made(settings, vault)
    material = read_key_file(key_file)
    write_key_file(key_file, KeyMaterial(material.fernet_keys, generate_lookup_key()))
    err = run_refuses(settings, key_file, monkeypatch, capsys)
    assert "lookup key does not match" in err and "restore" in err


def test_run_refuses_keys_given_in_the_environment_that_cannot_read_older_data(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Data written before the canary existed: one stored value is tried instead."""
    vault = Vault([generate_key()])  # as an earlier version stored it
    reports_made(settings, vault)

    async def drop_canary() -> None:
        engine = create_engine(settings.database.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM key_canary"))
        finally:
            await engine.dispose()
    asyncio.run(drop_canary())
    err = run_refuses(settings, key_file, monkeypatch, capsys,
                      PPA_BOT_SECURITY__ENCRYPTION_KEY=generate_key(),
                      PPA_BOT_SECURITY__LOOKUP_KEY=generate_lookup_key())
    assert "cannot read" in err and "security.encryption_key" in err


def test_a_key_file_from_before_the_lookup_key_keeps_its_reporters(
        settings: Settings, key_file: Path) -> None:
    legacy = generate_key()
    vault = Vault([legacy])  # the hash earlier versions made: keyed by the (only) Fernet key
    references = reports_made(settings, vault)
    key_file.parent.mkdir(parents=True)
    key_file.write_text(legacy + "\n")
    configured = settings_with(settings, key_file)

    started = checked_vault(configured)
    material = read_key_file(key_file)
    assert not material.lookup_derived  # written into the file at this start
    assert material.lookup_key == legacy_lookup_key(legacy)
    assert references[0] in status_seen_by(configured, started, REPORTER_IDS[0])
    # A rotation now cannot change it.
    rotate_key_file(settings.database.url, key_file)
    assert read_key_file(key_file).lookup_key == legacy_lookup_key(legacy)
    assert references[0] in status_seen_by(configured, open_vault(configured), REPORTER_IDS[0])


def test_environment_keys_without_a_lookup_key_are_refused_with_the_fix(
        settings: Settings, key_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    err = run_refuses(settings, key_file, monkeypatch, capsys,
                      PPA_BOT_SECURITY__ENCRYPTION_KEY=generate_key())
    assert "security.lookup_key" in err and "PPA_BOT_SECURITY__LOOKUP_KEY" in err
