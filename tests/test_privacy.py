"""Privacy and survivor safety: nothing readable at rest, UU PDP rights, quick exit, clean logs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from bot import cli
from bot.crypto import Vault
from bot.jobs import forget_closed_cases
from bot.logging_setup import setup_logging
from models import Case, CaseEvent, Reporter
from models.encryption import install_cipher
from tests.conftest import TOKEN
from tests.harness import Harness, Person

STORY = "Pamannya memukul Rina di dapur rumah setiap malam minggu."
PHONE = "0812 9988 7766"


def _file_and_wal(db_path: Path) -> bytes:
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _raw_bytes(harness: Harness) -> bytes:
    """What someone who copied the database sees: the SQLite file and its WAL, or on PostgreSQL
    every row of every table as text (what a dump holds)."""
    engine = harness.runtime.engine
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return _file_and_wal(Path(str(engine.url.database)))
        tables = (await conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))).scalars()
        rows: list[str] = []
        for table in list(tables):
            rows += (await conn.execute(text(
                f'SELECT CAST(t AS text) FROM "{table}" AS t'))).scalars().all()  # noqa: S608
        assert any("PSR-" in row for row in rows), "the dump should hold the case"
        return "\n".join(rows).encode()


async def test_raw_database_holds_no_narrative_phone_or_reporter_id(
        bot: Harness, reporter: Person) -> None:
    await reporter.completes_report(story=STORY, phone=PHONE)
    raw = await _raw_bytes(bot)
    assert STORY.encode() not in raw
    assert b"Pamannya" not in raw
    assert b"9988" not in raw
    assert str(reporter.user_id).encode() not in raw
    # ...while the officers' copy reads back whole through the key.
    async with bot.runtime.sessions() as session:
        case = (await session.scalars(select(Case))).one()
        assert case.narrative == STORY


async def test_my_data_lists_what_is_stored_without_quoting_the_story(reporter: Person) -> None:
    reference = await reporter.completes_report(story=STORY, phone=PHONE)
    await reporter.sends("/dataku")
    shown = reporter.last_text()
    assert reference in shown
    assert "phone number" in shown
    assert "Pamannya" not in shown and "9988" not in shown


async def test_withdrawing_consent_unlinks_cases_and_deletes_the_draft(
        bot: Harness, reporter: Person) -> None:
    reference = await reporter.completes_report(story=STORY, phone=PHONE)
    await reporter.sends("/lapor")
    await reporter.presses("No")
    await reporter.sends("/tarik_persetujuan")
    await reporter.presses("Yes, withdraw")
    assert "withdrawn" in reporter.last_text()
    async with bot.runtime.sessions() as session:
        case = (await session.scalars(select(Case))).one()
        assert case.reference == reference
        assert case.reporter_id is None and case.consent_withdrawn and case.phone is None
        assert (await session.scalars(select(Reporter))).all() == []
        kinds = (await session.scalars(select(CaseEvent.kind))).all()
        assert "consent_withdrawn" in kinds
    await reporter.sends("/status")
    assert reference not in reporter.last_text()
    assert (await bot.runtime.reports.current(reporter.user_id)).draft is None


async def test_keeping_consent_changes_nothing(bot: Harness, reporter: Person) -> None:
    reference = await reporter.completes_report()
    await reporter.sends("/tarik_persetujuan")
    await reporter.presses("No, keep")
    await reporter.sends("/status")
    assert reference in reporter.last_text()


async def test_retention_unlinks_reporters_of_long_closed_cases(
        bot: Harness, reporter: Person, clock) -> None:
    await reporter.completes_report()
    async with bot.runtime.sessions.begin() as session:
        case = (await session.scalars(select(Case))).one()
        case.status, case.closed_at = "selesai", clock.now()
    clock.advance(days=364)
    assert await forget_closed_cases(bot.runtime) == 0
    clock.advance(days=2)
    assert await forget_closed_cases(bot.runtime) == 1
    async with bot.runtime.sessions() as session:
        case = (await session.scalars(select(Case))).one()
        assert case.reporter_id is None and not case.consent_withdrawn


async def test_quick_exit_after_submitting_deletes_the_whole_conversation(
        bot: Harness, reporter: Person) -> None:
    await reporter.completes_report()
    assert "delete this conversation" in reporter.last_text()
    first = reporter.inbox()[0].message_id
    await reporter.presses("Delete this conversation")
    deleted = {int(i) for call in bot.telegram.calls_to("deleteMessages")
               for i in call.params["message_ids"]}
    calls = bot.telegram.calls_to("deleteMessages")
    assert all(len(call.params["message_ids"]) <= 100 for call in calls)
    assert reporter.inbox() == []
    assert first in deleted
    await reporter.sends("/status")  # the report itself is safe
    assert "PSR-" in reporter.last_text()


async def test_hapus_chat_explains_first_then_deletes(bot: Harness, reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.presses("No")
    await reporter.sends("/hapus_chat")
    assert "48 hours" in reporter.last_text()
    assert bot.telegram.calls_to("deleteMessages") == []
    await reporter.presses("Delete this conversation")
    assert bot.telegram.calls_to("deleteMessages")
    assert reporter.inbox() == []
    # The draft itself is kept: the reporter can go on with /lapor.
    assert (await bot.runtime.reports.current(reporter.user_id)).draft is not None


async def test_logs_of_a_full_run_hold_no_content_identity_or_token(
        bot: Harness, reporter: Person, caplog: pytest.LogCaptureFixture) -> None:
    setup_logging(logging.DEBUG)  # the most talkative setting an operator can choose
    logging.getLogger().addHandler(caplog.handler)  # setup_logging replaced the root's handlers
    caplog.set_level(logging.DEBUG)
    await reporter.completes_report(story=STORY, phone=PHONE)
    await reporter.sends("/dataku")
    await bot.deliver_outbox()
    logged = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert caplog.records  # the run was logged: what follows is checked on real lines
    for secret in ("Pamannya", "9988", str(reporter.user_id), TOKEN, TOKEN.split(":")[1]):
        assert secret not in logged


async def test_flooding_gets_one_clear_message_and_is_answered_after_the_minute(
        bot: Harness, reporter: Person, clock) -> None:
    limit = bot.settings.security.max_messages_per_minute
    for _ in range(limit):
        await reporter.sends("/bantuan")
    before = len(reporter.inbox())
    await reporter.sends("/bantuan")
    await reporter.sends("/bantuan")
    new = reporter.inbox()[before:]
    assert len(new) == 1 and "very fast" in new[0].text  # held, not read yet
    clock.advance(minutes=1)
    await reporter.sends("/bantuan")
    answered = reporter.inbox()[before + 1:]
    assert len(answered) == 3 and all("112" in m.text for m in answered)  # nothing lost


def test_key_rotation_reencrypts_everything(tmp_path: Path, settings,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    old_key = Fernet.generate_key().decode()
    key_file = tmp_path / "ppa.key"
    key_file.write_text(old_key + "\n")

    async def report() -> None:
        from bot.clock import FakeClock

        harness = Harness(settings=settings, clock=FakeClock(), vault=Vault([old_key]))
        await harness.start()
        await Person(harness, 4242, language_code="en").completes_report(story=STORY, phone=PHONE)
        await harness.stop()

    asyncio.run(report())
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", settings.database.url)
    monkeypatch.setenv("PPA_BOT_SECURITY__KEY_FILE", str(key_file))
    assert cli.main(["keys", "rotate"]) == 0
    new_keys = key_file.read_text().split()
    assert len(new_keys) == 1 and new_keys[0] != old_key

    async def check() -> None:
        from bot.db import create_engine, session_factory

        install_cipher(Vault(new_keys))
        engine = create_engine(settings.database.url)
        async with session_factory(engine)() as session:
            case = (await session.scalars(select(Case))).one()
            assert case.narrative == STORY
            reporter = (await session.scalars(select(Reporter))).one()
            assert reporter.tg_hash == Vault(new_keys).hash_id(4242)
            stored = await session.scalar(text("SELECT narrative FROM cases"))
        await engine.dispose()
        with pytest.raises(InvalidToken):
            Fernet(old_key.encode()).decrypt(stored.encode())

    asyncio.run(check())



async def test_a_failure_tells_the_person_and_the_admins_a_code_never_the_content(
        bot: Harness, reporter: Person, clock) -> None:
    from bot.services.responders import add_officer

    async with bot.runtime.sessions.begin() as session:
        await add_officer(session, 880001, "64.01", "Admin Dinas", True, clock.now())
    await reporter.sends("/lapor")
    await reporter.presses("No")
    await reporter.presses("I agree")
    # Telegram refuses the next question (a 400 the bot cannot retry): the handler fails.
    bot.telegram.inject("400", method="editMessageText", chat_id=reporter.user_id)
    bot.telegram.inject("400", method="sendMessage", chat_id=reporter.user_id)
    await reporter.presses("Family of the victim")
    await bot.deliver_outbox()
    apology = reporter.last_text()
    assert "Sorry" in apology and "code" in apology
    to_admin = bot.telegram.last_message(880001).text
    code = apology.rsplit("code ", 1)[1].strip(")")
    assert code in to_admin and "BadRequest" in to_admin
    assert str(reporter.user_id) not in to_admin
    # The answer itself was saved before the question failed to go out.
    current = await bot.runtime.reports.current(reporter.user_id)
    assert current.draft is not None and current.draft.answers["role"] == "family"


async def test_a_neutral_greeting_names_no_violence(settings, clock, vault) -> None:
    neutral = settings.model_copy(update={"telegram": settings.telegram.model_copy(
        update={"neutral_greeting": True, "bot_name": "Info Desa"})})
    harness = await Harness(settings=neutral, clock=clock, vault=vault).start()
    try:
        person = Person(harness, 6_660_001, language_code="id")
        await person.sends("/start")
        greeting = person.last_text().lower()
        assert "info desa" in greeting
        assert "kekerasan" not in greeting and "violence" not in greeting
    finally:
        await harness.stop()


async def test_the_daily_report_limit_is_clear_and_recorded(bot: Harness, reporter: Person,
                                                            clock) -> None:
    limit = bot.settings.security.max_reports_per_day
    for _ in range(limit):
        await reporter.completes_report()
        clock.advance(minutes=2)  # past the flood window between two quick reports
    await reporter.sends("/lapor")
    assert f"{limit} reports today" in reporter.last_text()
    assert "112" in reporter.last_text()
    assert bot.runtime.metrics["daily_limit_reached"] == 1


def test_the_flood_window_forgets_accounts_that_went_quiet(clock) -> None:
    from handlers.limits import FloodGate

    gate = FloodGate()
    for user_id in range(500):
        assert gate.allow(user_id, clock.now(), limit=30)
    clock.advance(minutes=2)
    assert gate.allow(9999, clock.now(), limit=30)
    assert gate.tracked() == 1
