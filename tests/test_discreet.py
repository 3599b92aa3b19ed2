"""Discreet by default (DESIGN §6): after the reference, every message to a reporter arrives
silent and protected, says nothing a notification preview or a glance at the chat list could give
away, and shows its content only when they tap "Buka"; it is covered again by itself after
``privacy.reveal_minutes``. The content waits encrypted in the database, never in a button.
A reporter who blocks the bot is written to no more (the case stays); one who deleted the chat
breaks nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot import jobs
from bot.callback_data import OpenPress, PrivacyPress
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault
from bot.domain import form
from bot.domain.workflow import PENJANGKAUAN
from bot.services.reporters import find_reporter
from models import Case, OutboxMessage, Reporter, SealedMessage
from tests.case_work import (
    case_command,
    events,
    kecamatan_officer,
    messages_with,
    press,
    presses_case,
    report_from_modang,
)
from tests.conftest import TOKEN
from tests.harness import Harness, Person
from tests.telegram_double import ChatMessage
from tests.test_relay import database_file

# What a notification preview or the chat list must never show, in either language.
GIVE_AWAY = {
    "id": ("laporan", "kasus", "kekerasan", "korban", "petugas", "perlindungan", "ppa"),
    "en": ("report", "case", "violence", "victim", "officer", "protection", "ppa"),
}


def visible(message: ChatMessage) -> str:
    """What a glance shows: the text and the buttons' labels, without markup."""
    return re.sub(r"<[^>]+>", "", " ".join([message.text, *message.button_texts()])).casefold()


def assert_discreet(message: ChatMessage) -> None:
    assert message.params.get("disable_notification") is True, message.text
    assert message.params.get("protect_content") is True, message.text
    shown = visible(message)
    for language, words in GIVE_AWAY.items():
        for word in words:
            assert word not in shown, f"{word!r} ({language}) in {message.text!r}"


async def harness_with(settings: Settings, clock: FakeClock, vault: Vault,
                       **changes: object) -> Harness:
    """A bot on the test's database with some configuration changed."""
    changed = load_settings(telegram={"token": TOKEN}, database={"url": settings.database.url},
                            **changes)
    return await Harness(settings=changed, clock=clock, vault=vault).start()


async def every_kind_of_message(bot: Harness, reporter: Person) -> str:
    """A report, then each kind of message a reporter can receive after the reference."""
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")  # the acknowledgement
    await presses_case(officer, "set", PENJANGKAUAN)  # status news
    await officer.sends(f"/balas {reference} Kami datang besok pagi ke rumah.")  # a relay
    await reporter.sends(f"/tambah {reference} Terima kasih.")
    await officer.sends(case_command(reference))  # the read receipt
    await reporter.reaches(form.ROLE)  # a new report, abandoned: the expiry notice
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, minutes=1)
    await jobs.expire_drafts(bot.runtime)
    await bot.deliver_outbox()
    return reference


@pytest.mark.parametrize("who", ["reporter", "reporter_id"])
async def test_every_message_after_the_reference_is_silent_protected_and_neutral(
        bot: Harness, who: str, request: pytest.FixtureRequest) -> None:
    reporter: Person = request.getfixturevalue(who)
    await every_kind_of_message(bot, reporter)
    to_reporter = [row for row in await outbox_rows(bot)
                   if json.loads(row.payload)["chat_id"] == reporter.user_id]
    assert {row.kind for row in to_reporter if row.method == "sendMessage"} == {
        "reporter_ack", "status_news", "relay_to_reporter", "read_receipt", "draft_expired"}
    # Everything the bot sent the reporter on its own arrived silent, protected, neutral: four
    # covers with "Buka", and the expiry notice, neutral by itself.
    unasked = [m for m in reporter.inbox() if m.params.get("disable_notification")]
    assert len(unasked) == 5 and len(reporter.covers()) == 4
    for message in unasked:
        assert_discreet(message)
    for row in to_reporter:
        if row.method == "sendMessage":
            params = json.loads(row.payload)
            assert params["disable_notification"] is True and params["protect_content"] is True


async def test_buka_shows_the_content_in_the_same_message_then_it_is_covered_again(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Kami datang besok pagi.")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    covered_text = cover.text

    opened = await reporter.opens(cover)
    assert opened.message_id == cover.message_id  # edited in place, nothing new in the chat
    assert "Kami datang besok pagi." in opened.text and reference in opened.text
    assert "10 minutes" in opened.text
    assert any("Hide" in label for label in opened.button_texts())

    bot.clock.advance(minutes=9, seconds=59)
    await bot.deliver_outbox()
    assert "Kami datang besok pagi." in cover.text
    bot.clock.advance(seconds=1)  # reveal_minutes after the tap: covered again, by itself
    await bot.deliver_outbox()
    assert cover.text == covered_text and "Kami datang" not in cover.text
    assert reporter.covers() == [cover]

    # Opened again, then hidden at once with "Sembunyikan": the queued cover is not needed.
    await reporter.opens(cover)
    assert "Kami datang besok pagi." in cover.text
    _, hide = next((cover, b["callback_data"]) for b in cover.buttons()
                   if "Hide" in b["text"])
    await reporter.presses_data(hide, cover)
    assert cover.text == covered_text
    assert not [r for r in await outbox_rows(bot) if r.kind == "reveal_hide"
                and r.status == "pending"]


async def test_a_second_buka_moves_the_covering_on(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Halo.")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    data = cover.buttons()[0]["callback_data"]
    await reporter.opens(cover)
    bot.clock.advance(minutes=8)
    await reporter.presses_data(data, cover)  # an older "Buka", pressed again
    bot.clock.advance(minutes=8)  # 16 minutes after the first tap, 8 after the second
    await bot.deliver_outbox()
    assert "Halo." in cover.text
    bot.clock.advance(minutes=2)
    await bot.deliver_outbox()
    assert "Halo." not in cover.text


async def test_the_content_lives_encrypted_in_the_database_never_in_the_button(
        bot: Harness, reporter: Person, db_path: Path) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} ISI-RAHASIA-dari-petugas")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    [button] = cover.buttons()
    assert button["callback_data"] == OpenPress(1, "open").pack()
    assert "ISI-RAHASIA" not in repr(cover.params)
    async with bot.runtime.sessions() as session:
        sealed = await session.scalar(select(SealedMessage))
        assert sealed is not None and "ISI-RAHASIA-dari-petugas" in sealed.content
    async with bot.runtime.engine.connect() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert b"ISI-RAHASIA" not in database_file(db_path)


async def test_someone_elses_buka_shows_nothing(bot: Harness, reporter: Person,
                                                reporter_id: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Hanya untuk pelapor.")
    await bot.deliver_outbox()
    data = reporter.last_message().buttons()[0]["callback_data"]
    await reporter_id.sends("/bantuan")
    await press(reporter_id, data, reporter_id.last_message())  # replayed in another chat
    assert not messages_with(reporter_id, "Hanya untuk pelapor")
    assert "Hanya untuk pelapor" not in repr(bot.telegram.calls_to("editMessageText"))


async def test_buka_after_the_content_was_deleted_says_it_is_no_longer_available(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Pesan sebelum penarikan.")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    await reporter.sends("/tarik_persetujuan")
    await press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message())

    await reporter.opens(cover)
    assert cover.text == "This message is no longer available."
    assert cover.buttons() == []
    assert bot.runtime.metrics["errors"] == 0


async def test_buka_after_the_retention_period_finds_nothing(bot: Harness,
                                                            reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Pesan lama.")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    async with bot.runtime.sessions.begin() as session:
        case = await session.scalar(select(Case))
        assert case is not None
        case.status, case.closed_at = "selesai", bot.clock.now()
    bot.clock.advance(days=400)  # past the retention period (365 days by default)
    assert await jobs.forget_closed_cases(bot.runtime) == 1
    await reporter.opens(cover)
    assert cover.text == "This message is no longer available."


async def test_with_discreet_off_in_the_config_messages_are_plain(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    bot = await harness_with(settings, clock, vault, privacy={"discreet": False})
    try:
        reporter = Person(bot, user_id=5_550_301, language_code="en")
        officer = await kecamatan_officer(bot)
        reference = await report_from_modang(reporter)
        await officer.sends(f"/balas {reference} Pesan biasa.")
        await bot.deliver_outbox()
        plain = reporter.last_message()
        assert "Pesan biasa." in plain.text and reference in plain.text
        assert "disable_notification" not in plain.params and "protect_content" not in plain.params
        assert not reporter.covers()
        assert "arrive silently" not in "\n".join(m.text for m in reporter.inbox())
    finally:
        await bot.stop()


async def test_the_reporter_turns_discreet_messages_off_and_on_in_bantuan(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.sends("/bantuan")
    await reporter.presses("Privacy on this phone")
    assert "Discreet messages are on" in reporter.last_text()
    await reporter.presses("Turn discreet messages off")
    assert "Discreet messages are off" in reporter.last_text()

    await officer.sends(f"/balas {reference} Tanpa tutup.")
    await bot.deliver_outbox()
    assert "Tanpa tutup." in reporter.last_text()
    assert "protect_content" not in reporter.last_message().params

    await reporter.sends("/bantuan")
    await reporter.presses("Privacy on this phone")
    await reporter.presses("Turn discreet messages on")
    await officer.sends(f"/balas {reference} Dengan tutup.")
    await bot.deliver_outbox()
    assert_discreet(reporter.last_message())
    assert "Dengan tutup." in await reporter.reads_last()


# ---- faults -------------------------------------------------------------------------------------

async def test_a_reporter_who_blocks_the_bot_is_written_to_no_more_and_the_case_stays(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    before = len(bot.telegram.calls)
    bot.telegram.chats.block(reporter.user_id)
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await officer.sends(f"/balas {reference} Halo?")  # queued before Telegram said "blocked"
    await bot.deliver_outbox()

    calls = len([c for c in bot.telegram.calls[before:]
                 if c.params.get("chat_id") == reporter.user_id])
    assert calls == 1, "one refused message, and the one queued behind it is dropped"
    blocked = await reporter_row(bot, reporter)
    assert blocked is not None and blocked.blocked_at is not None
    await officer.sends(f"/balas {reference} Halo lagi?")
    assert "memblokir bot" in officer.last_text()
    await officer.sends(case_command(reference))
    assert "memblokir bot" in officer.last_text()
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    assert len([c for c in bot.telegram.calls[before:]
                if c.params.get("chat_id") == reporter.user_id]) == calls
    assert [e.kind for e in await events(bot, reference, "reporter_blocked")]
    assert len(await bot.cases()) == 1

    # They unblock it and write: it may answer them, and officers may write again.
    bot.telegram.chats.unblock(reporter.user_id)
    await reporter.sends("/status")
    assert reference in reporter.last_text()
    await officer.sends(f"/balas {reference} Senang Anda kembali.")
    await bot.deliver_outbox()
    assert "Senang Anda kembali." in await reporter.reads_last()


async def test_an_officer_who_blocked_the_bot_says_nothing_about_the_reporter(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    bot.telegram.chats.block(officer.user_id)
    await reporter.sends(f"/tambah {reference} Dia datang lagi.")  # to the officers: refused
    await bot.deliver_outbox()
    blocked = await reporter_row(bot, reporter)
    assert blocked is not None and blocked.blocked_at is None
    bot.telegram.chats.unblock(officer.user_id)
    await officer.sends(f"/balas {reference} Kami dengar.")
    await bot.deliver_outbox()
    assert "Kami dengar." in await reporter.reads_last()


async def test_a_reporter_who_deleted_the_chat_breaks_nothing(bot: Harness,
                                                              reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Pesan pertama.")
    await bot.deliver_outbox()
    await reporter.opens()
    bot.telegram.forget_chat(reporter.user_id)  # the reporter deletes the whole chat
    bot.clock.advance(minutes=10)
    await bot.deliver_outbox()  # covering a message that is gone: given up, nothing waits
    rows = await outbox_rows(bot)
    assert not [r for r in rows if r.reporter_id is not None and r.status == "pending"]

    await officer.sends(f"/balas {reference} Pesan kedua.")
    await bot.deliver_outbox()
    [arrived] = reporter.inbox()  # the chat comes back with one neutral message, no history
    assert_discreet(arrived)
    assert "Pesan kedua." in await reporter.reads_last()
    assert bot.runtime.metrics["errors"] == 0


async def outbox_rows(bot: Harness) -> list[OutboxMessage]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def reporter_row(bot: Harness, person: Person) -> Reporter | None:
    async with bot.runtime.sessions() as session:
        return await find_reporter(session, bot.vault, person.user_id)
