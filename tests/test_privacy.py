"""Privacy and survivor safety: nothing readable at rest, quick exit, clean logs, limits. The
reporter's UU PDP rights are in test_rights.py, the keys in test_keys.py."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.logging_setup import setup_logging
from models import Case
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


def on_screen(person: Person) -> list[tuple[int, bool]]:
    """The chat on the person's phone: each message still there, and whether the bot wrote it."""
    return [(m.message_id, m.from_bot) for m in person.transcript()]


async def test_wiping_deletes_both_sides_of_the_report_conversation_and_nothing_before_it(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/bantuan")  # an hour before the report: not part of it
    before = on_screen(reporter)
    bot.clock.advance(hours=1)
    await reporter.completes_report(story=STORY, phone=PHONE)
    assert STORY in [m.text for m in reporter.own_messages()]

    await reporter.sends("/hapus_chat")
    await reporter.presses("Delete this conversation")

    assert on_screen(reporter) == before
    assert [m.text for m in reporter.own_messages()] == ["/bantuan"]
    await reporter.sends("/status")  # the report itself is safe
    assert "PSR-" in reporter.last_text()


async def test_wiping_cannot_reach_messages_older_than_48_hours(bot: Harness,
                                                                reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.presses("No")
    old = on_screen(reporter)  # Telegram lets nobody delete these after 48 hours
    bot.clock.advance(hours=49)  # the draft waits (72 hours)
    await reporter.presses("I agree")  # edits a message sent 49 hours ago: still too old
    await reporter.sends("/bantuan")
    assert len(on_screen(reporter)) == len(old) + 2

    await reporter.sends("/hapus_chat")
    assert "48 hours" in reporter.last_text()
    await reporter.presses("Delete this conversation")

    assert on_screen(reporter) == old


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
