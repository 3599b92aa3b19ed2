"""A phone in the wrong hands cannot speak for the reporter (DESIGN §6): at the end of a report
they may choose a PIN (the message holding it is deleted at once; only a slow keyed hash is
kept). With a PIN, /status, /dataku, /tambah, "Buka" and replies ask for it first; three wrong
tries pause them for 15 minutes, and meanwhile they answer exactly as for someone who never
reported. /lapor always works."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text

from bot.domain import form
from models import ReporterPin
from tests.case_work import kecamatan_officer, messages_with, replies_to, report_from_modang
from tests.harness import Harness, Person
from tests.test_relay import database_file

PIN = "582914"
ASKED = "Please type your PIN"
NO_REPORT = "You have not sent any report yet. Send /lapor to make one."
NOTHING_STORED = "We store nothing about you: you have no report with us."


def last_sent_id(person: Person) -> int:
    """The message id of what the person just sent."""
    assert person.last_update is not None
    return int(person.last_update["message"]["message_id"])


def deleted(bot: Harness, person: Person, message_id: int) -> bool:
    return any(str(c.params.get("chat_id")) == str(person.user_id)
               and int(c.params.get("message_id", 0)) == message_id
               for c in bot.telegram.calls_to("deleteMessage"))


async def with_pin(bot: Harness, reporter: Person) -> str:
    """A report made, then a PIN chosen under the reference: its reference."""
    reference = await reporter.completes_report()
    await reporter.presses("Choose a PIN")
    assert "Choose a PIN of 4 to 6 digits" in reporter.last_text()
    await reporter.sends(PIN)
    assert deleted(bot, reporter, last_sent_id(reporter))
    assert "same PIN once more" in reporter.last_text()
    await reporter.sends(PIN)
    assert deleted(bot, reporter, last_sent_id(reporter))
    assert "Your PIN is set" in reporter.last_text()
    bot.clock.advance(minutes=11)  # the PIN just given no longer covers what follows
    return reference


async def test_a_pin_chosen_at_the_end_of_a_report_is_deleted_and_kept_only_as_a_slow_hash(
        bot: Harness, reporter: Person, db_path: Path) -> None:
    await with_pin(bot, reporter)
    async with bot.runtime.sessions() as session:
        stored = await session.scalar(select(ReporterPin))
        assert stored is not None and stored.pin_hash is not None
        assert len(stored.pin_hash) == 64 and PIN not in stored.pin_hash
        assert len(stored.salt) == 32
    async with bot.runtime.engine.connect() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    assert PIN.encode() not in database_file(db_path)
    assert PIN not in "\n".join(m.text for m in reporter.inbox())


async def test_a_pin_too_easy_or_typed_differently_is_asked_again(bot: Harness,
                                                                  reporter: Person) -> None:
    await reporter.completes_report()
    await reporter.presses("Choose a PIN")
    await reporter.sends("1234")
    assert "too easy" in reporter.last_text()
    await reporter.sends("482615")
    await reporter.sends("482616")
    assert "not the same" in reporter.last_text()
    await reporter.sends(PIN)
    await reporter.sends(PIN)
    assert "Your PIN is set" in reporter.last_text()


async def test_status_asks_for_the_pin_first_and_then_shows_the_reports(
        bot: Harness, reporter: Person) -> None:
    reference = await with_pin(bot, reporter)
    await reporter.sends("/status")
    assert ASKED in reporter.last_text() and reference not in reporter.last_text()
    await reporter.sends(PIN)
    assert deleted(bot, reporter, last_sent_id(reporter))
    assert reference in reporter.last_text()
    before = len(reporter.inbox())
    await reporter.sends("/dataku")  # a moment later: no need to ask again
    assert reference in reporter.texts_since(before)
    assert "A PIN, kept only as a coded key" in reporter.texts_since(before)
    assert "Discreet messages (silent, opened with “Open”): on" in reporter.texts_since(before)


async def test_three_wrong_tries_pause_it_silently_and_lapor_still_works(
        bot: Harness, reporter: Person) -> None:
    reference = await with_pin(bot, reporter)
    stranger = Person(bot, user_id=5_550_009, language_code="en")
    await stranger.sends("/status")  # what someone who never reported is told
    assert stranger.last_text() == NO_REPORT

    await reporter.sends("/status")
    await reporter.sends("111111")
    assert "not right" in reporter.last_text()
    await reporter.sends("222222")
    assert "not right" in reporter.last_text()
    await reporter.sends("333333")
    assert deleted(bot, reporter, last_sent_id(reporter))
    assert reporter.last_text() == NO_REPORT  # the third: as if there were no report

    for command, answer in (("/status", NO_REPORT), ("/dataku", NOTHING_STORED),
                            (f"/tambah {reference} Semua baik-baik saja.", NO_REPORT)):
        bot.clock.advance(minutes=1)
        await reporter.sends(command)
        assert reporter.last_text() == answer, command
    await reporter.sends(PIN)  # even the right PIN is not asked for now: nothing happens,
    assert reference not in reporter.last_text()
    assert deleted(bot, reporter, last_sent_id(reporter))  # but it does not stay in the chat

    await reporter.sends("/lapor")  # a forgotten PIN is never a dead end
    draft = await reporter.draft()
    assert draft is not None and draft.step == form.DANGER

    bot.clock.advance(minutes=15)
    await reporter.sends("/status")
    assert ASKED in reporter.last_text()
    await reporter.sends(PIN)
    assert reference in reporter.last_text()


async def test_tambah_waits_for_the_pin_and_a_wrong_one_sends_nothing(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.presses("Choose a PIN")
    await reporter.sends(PIN)
    await reporter.sends(PIN)
    bot.clock.advance(minutes=11)

    await reporter.sends(f"/tambah {reference} Saya bohong, tidak ada apa-apa.")
    assert ASKED in reporter.last_text()
    for wrong in ("111111", "222222", "333333"):
        await reporter.sends(wrong)
    await bot.deliver_outbox()
    assert not messages_with(officer, "Saya bohong")

    bot.clock.advance(minutes=16)
    await reporter.sends(f"/tambah {reference} Dia datang lagi tadi malam.")
    await reporter.sends(PIN)
    assert "passed to the officers" in reporter.last_text()
    await bot.deliver_outbox()
    assert messages_with(officer, "Dia datang lagi tadi malam.")


async def test_buka_and_a_reply_to_the_officer_ask_for_the_pin(bot: Harness,
                                                               reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.presses("Choose a PIN")
    await reporter.sends(PIN)
    await reporter.sends(PIN)
    bot.clock.advance(minutes=11)
    await officer.sends(f"/balas {reference} Apakah Anda aman?")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    covered = cover.text

    await reporter.opens(cover)
    assert cover.text == covered  # not opened yet
    assert ASKED in reporter.last_text()
    await reporter.sends(PIN)
    assert "Apakah Anda aman?" in cover.text  # opened in place once the PIN was right

    bot.clock.advance(minutes=11)
    await replies_to(reporter, cover, "Tidak, saya takut.")
    assert ASKED in reporter.last_text()
    await bot.deliver_outbox()
    assert not messages_with(officer, "saya takut")
    await reporter.sends(PIN)
    assert "passed to the officers" in reporter.last_text()
    await bot.deliver_outbox()
    assert messages_with(officer, "Tidak, saya takut.")


async def test_while_paused_buka_shows_nothing_and_a_reply_is_not_passed_on(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.presses("Choose a PIN")
    await reporter.sends(PIN)
    await reporter.sends(PIN)
    bot.clock.advance(minutes=11)
    await officer.sends(f"/balas {reference} Pesan untuk pelapor.")
    await bot.deliver_outbox()
    cover = reporter.last_message()
    await reporter.sends("/status")
    for wrong in ("111111", "222222", "333333"):
        await reporter.sends(wrong)

    await reporter.opens(cover)
    assert "Pesan untuk pelapor" not in cover.text
    assert reporter.callback_answers()[-1] == "This message is no longer available."
    await replies_to(reporter, cover, "Ini suami, jangan datang.")
    await bot.deliver_outbox()
    assert not messages_with(officer, "jangan datang")
    assert "112" in reporter.last_text()  # what anyone writing out of the blue gets
    assert reference not in reporter.last_text()


async def test_turning_discreet_messages_off_asks_for_the_pin(bot: Harness,
                                                             reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.presses("Choose a PIN")
    await reporter.sends(PIN)
    await reporter.sends(PIN)
    bot.clock.advance(minutes=11)
    await reporter.sends("/bantuan")
    await reporter.presses("Privacy on this phone")
    await reporter.presses("Turn discreet messages off")
    assert ASKED in reporter.last_text()
    for wrong in ("111111", "222222", "333333"):  # someone else, guessing
        await reporter.sends(wrong)
    await officer.sends(f"/balas {reference} Masih tertutup.")
    await bot.deliver_outbox()
    assert "Masih tertutup." not in reporter.last_text() and reporter.covers()

    bot.clock.advance(minutes=16)
    await reporter.sends("/bantuan")
    await reporter.presses("Privacy on this phone")
    await reporter.presses("Turn discreet messages off")
    await reporter.sends(PIN)
    assert "Discreet messages are off" in reporter.last_text()


async def test_the_pin_is_changed_and_removed_from_bantuan_after_giving_it(
        bot: Harness, reporter: Person) -> None:
    await with_pin(bot, reporter)
    await reporter.sends("/bantuan")
    await reporter.presses("Privacy on this phone")
    assert "Your PIN is set" in reporter.last_text()
    await reporter.presses("Remove the PIN")
    assert ASKED in reporter.last_text()
    await reporter.sends(PIN)
    assert "The PIN is removed" in reporter.last_text()
    await reporter.sends("/status")
    assert ASKED not in reporter.last_text()
