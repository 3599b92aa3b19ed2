"""The anonymous relay (DESIGN §5): officers and the reporter talk through the bot, and neither
sees the other's account; the reporter's safe time is kept; the reporter is told of each change of
status in plain words, and can stop that."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.callback_data import NewsPress, PrivacyPress
from bot.domain.workflow import DITERIMA, PENGELOLAAN, PENJANGKAUAN
from bot.services.contact_time import next_contact_time
from tests.case_factory import WITA
from tests.case_work import (
    KABUPATEN_GROUP_ID,
    MODANG,
    PASER,
    VILLAGE_GROUP_ID,
    case_command,
    case_row,
    events,
    has_card_button,
    heard,
    kecamatan_officer,
    messages_with,
    pending_to,
    press,
    presses_case,
    replies_to,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer


async def a_message_from_the_officer(bot: Harness, officer: Person, reporter: Person,
                                     reference: str, words: str) -> None:
    await officer.sends(f"/balas {reference} {words}")
    await bot.deliver_outbox()
    assert words in await reporter.reads_last()


# ---- officer → reporter -------------------------------------------------------------------------

async def test_an_officers_message_reaches_the_reporter_signed_petugas_never_by_name(
        bot: Harness, reporter_id: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter_id)
    await officer.sends(f"/balas {reference} Kami akan menghubungi Ibu besok pagi.")
    assert "atas nama “Petugas”" in officer.last_text()
    await bot.deliver_outbox()
    relayed = await reporter_id.opens()
    assert "<b>Petugas</b>" in relayed.text
    assert "Kami akan menghubungi Ibu besok pagi." in relayed.text
    assert "Rina" not in relayed.text and str(officer.user_id) not in repr(relayed.params)
    relay = (await events(bot, reference, "relay_out"))[0]
    assert relay.secret == "Kami akan menghubungi Ibu besok pagi."
    assert relay.actor_name == "Bu Rina Kuaro"


async def test_a_village_member_writes_as_the_paptbm_of_the_village(
        bot: Harness, reporter_id: Person) -> None:
    member = await village_member(bot)
    reference = await report_from_modang(reporter_id)
    await member.sends(f"/balas {reference} Saya dari PAPTBM, bisa kita bertemu di posyandu?")
    await bot.deliver_outbox()
    relayed = await reporter_id.reads_last()
    assert "Petugas PAPTBM Modang" in relayed and "Sri" not in relayed


async def test_a_paptbm_officer_registered_for_the_village_also_signs_for_the_village(
        bot: Harness, reporter_id: Person) -> None:
    officer = await register_officer(bot, 6_700_001, MODANG, "Pak Hasan PAPTBM")
    reference = await report_from_modang(reporter_id)
    await officer.sends(f"/balas {reference} Bisa bertemu di balai desa?")
    await bot.deliver_outbox()
    relayed = await reporter_id.reads_last()
    assert "Petugas PAPTBM Modang" in relayed and "Hasan" not in relayed


async def test_an_officer_cannot_write_to_a_reporter_who_asked_not_to_be_contacted(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, contact=False)
    await officer.sends(case_command(reference))
    assert "Pelapor meminta tidak dihubungi" in officer.last_text()
    assert not has_card_button(officer, "reply")
    await officer.sends(f"/balas {reference} Halo?")
    assert "Pelapor meminta tidak dihubungi" in officer.last_text()
    assert not await events(bot, reference, "relay_out")

    # The reporter can still add something; it arrives with no way to answer, and why.
    await reporter.sends(f"/tambah {reference} He came back last night.")
    await bot.deliver_outbox()
    heard_by_officer = officer.last_message()
    assert "He came back last night." in heard_by_officer.text
    assert "meminta tidak dihubungi" in heard_by_officer.text
    assert "💬 Balas" not in heard_by_officer.button_texts()


async def test_after_the_reporter_withdrew_consent_nothing_more_reaches_them(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await a_message_from_the_officer(bot, officer, reporter, reference, "Apa kabar?")
    relayed = reporter.last_message()
    await reporter.sends("/tarik_persetujuan")
    await press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message())

    await officer.sends(f"/balas {reference} Halo lagi")
    assert "menarik persetujuannya" in officer.last_text()
    await replies_to(reporter, relayed, "one more thing")
    assert not await events(bot, reference, "relay_in")


# ---- reporter → officers ------------------------------------------------------------------------

async def test_the_reporters_answer_reaches_the_handlers_in_private_and_never_a_group(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    admin = await register_officer(bot, 7_900_001, PASER, "Ibu Admin", admin=True)
    await register_group(bot, VILLAGE_GROUP_ID, "64.01.05.2006", "PAPTBM Modang")
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    reference = await report_from_modang(reporter)
    await a_message_from_the_officer(bot, officer, reporter, reference, "Apakah aman?")
    group_messages = {chat: len(bot.telegram.messages(chat))
                      for chat in (VILLAGE_GROUP_ID, KABUPATEN_GROUP_ID)}

    await replies_to(reporter, reporter.last_message(), "Not safe, he is drinking again.")
    assert "passed to the officers" in reporter.last_text()
    await bot.deliver_outbox()

    for handler in (officer, admin):
        heard_it = messages_with(handler, "Not safe, he is drinking again.")
        assert heard_it and "Identitas pelapor tetap dirahasiakan" in heard_it[0].text
        assert "Sari" not in heard_it[0].text
        assert str(reporter.user_id) not in repr(heard_it[0].params)
    for chat, before in group_messages.items():
        assert len(bot.telegram.messages(chat)) == before, "nothing relayed to a group"
    relay_in = (await events(bot, reference, "relay_in"))[0]
    assert relay_in.secret == "Not safe, he is drinking again." and relay_in.actor == "reporter"


async def test_a_reporter_who_shared_a_phone_number_is_shown_with_it(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, phone="0812 3456 7890")
    await reporter.sends(f"/tambah {reference} Please call me after 5.")
    await bot.deliver_outbox()
    assert "081234567890" in officer.last_text()


async def test_tambah_adds_to_ones_own_report_only(bot: Harness, reporter: Person,
                                                   reporter_id: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter_id.sends(f"/tambah {reference} Saya tahu siapa pelapornya")
    assert "tidak punya laporan dengan nomor itu" in reporter_id.last_text()
    refused = await events(bot, reference, "refused")
    assert refused[0].detail["action"] == "add"
    assert str(reporter_id.user_id) not in refused[0].actor
    await bot.deliver_outbox()
    assert not messages_with(officer, "Saya tahu siapa pelapornya")


async def test_tambah_without_a_reference_shows_how_with_ones_own_reference(
        bot: Harness, reporter: Person) -> None:
    reference = await report_from_modang(reporter)
    await reporter.sends("/tambah")
    assert f"/tambah {reference}" in reporter.last_text()
    await reporter.sends(f"/tambah {reference}")
    assert "after the reference" in reporter.last_text()


async def test_a_photo_sent_as_an_answer_reaches_the_officer_and_is_kept_as_evidence(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await a_message_from_the_officer(bot, officer, reporter, reference, "Ada foto lukanya?")
    photo = [{"file_id": "LUKA-PHOTO-ID", "file_unique_id": "uqLUKA", "width": 800,
              "height": 600, "file_size": 40_000}]
    await replies_to(reporter, reporter.last_message(), photo=photo, caption="bruise on her arm")
    await bot.deliver_outbox()
    sent = [c for c in bot.telegram.calls_to("sendPhoto")
            if int(c.params["chat_id"]) == officer.user_id]
    assert sent and sent[-1].params["photo"] == "LUKA-PHOTO-ID"
    assert "bruise on her arm" in str(sent[-1].params.get("caption"))
    case = await case_row(bot, reference)
    assert any(e.file_id == "LUKA-PHOTO-ID" for e in await bot.evidence(case))


async def test_an_officer_answers_by_replying_to_the_relayed_message(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.sends(f"/tambah {reference} Is anyone coming?")
    await bot.deliver_outbox()
    await replies_to(officer, officer.last_message(), "Ya, hari ini pukul 15.00.")
    await bot.deliver_outbox()
    assert "Ya, hari ini pukul 15.00." in await reporter.reads_last()


async def test_a_file_sent_in_answer_by_an_officer_is_refused_with_a_reason(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.sends(f"/tambah {reference} Can you send the form?")
    await bot.deliver_outbox()
    await replies_to(officer, officer.last_message(), document={
        "file_id": "FORM-DOC", "file_unique_id": "uFORM", "file_name": "formulir.pdf"})
    assert "Hanya teks yang bisa diteruskan" in officer.last_text()
    await bot.deliver_outbox()
    assert not [c for c in bot.telegram.calls_to("sendDocument")
                if int(c.params["chat_id"]) == reporter.user_id]


async def test_the_reporter_is_told_when_an_officer_has_read_their_message(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.sends(f"/tambah {reference} Please hurry.")
    await bot.deliver_outbox()
    assert not messages_with(reporter, "has read your message")
    await officer.sends(case_command(reference))
    await officer.sends(case_command(reference))
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert len(messages_with(reporter, "An officer has read your message")) == 1


async def test_a_reply_to_another_bot_message_goes_on_to_the_report_conversation(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/lapor")
    question = reporter.last_with_buttons()
    await replies_to(reporter, question, "hello?")
    assert bot.runtime.metrics["errors"] == 0
    assert not messages_with(reporter, "passed to the officers")


async def test_a_plain_message_from_a_reporter_with_a_report_explains_how_to_reach_officers(
        bot: Harness, reporter: Person) -> None:
    reference = await report_from_modang(reporter)
    await reporter.sends("Hello, is anyone reading my report?")
    assert f"/tambah {reference}" in reporter.last_text()


# ---- the safe contact time ----------------------------------------------------------------------

@pytest.mark.parametrize(("local", "window", "expected"), [
    ((9, 30), "morning", (2, 9, 30)), ((7, 59), "morning", (2, 8, 0)),
    ((12, 0), "morning", (3, 8, 0)), ((23, 0), "evening", (3, 17, 0)),
    ((16, 59), "afternoon", (2, 16, 59)), ((17, 0), "afternoon", (3, 12, 0)),
    ((3, 0), "any", (2, 3, 0)), ((3, 0), None, (2, 3, 0)),
])
def test_the_next_safe_moment_in_the_districts_clock(
        local: tuple[int, int], window: str | None, expected: tuple[int, int, int]) -> None:
    now = datetime(2026, 3, 2, *local, tzinfo=WITA).astimezone(UTC)
    due = next_contact_time(now, window, WITA)
    day, hour, minute = expected
    assert due.astimezone(WITA) == datetime(2026, 3, day, hour, minute, tzinfo=WITA)


async def test_a_message_outside_the_safe_time_waits_in_the_outbox_until_it_opens(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, safe_time="morning")  # 08–12 WITA
    bot.clock.advance(hours=5)  # 14.00 WITA
    await officer.sends(f"/balas {reference} Bisa bicara besok pagi?")
    assert "menunggu waktu amannya" in officer.last_text() and "08.00" in officer.last_text()
    await bot.deliver_outbox()
    assert not reporter.covers()
    assert len(await pending_to(bot, "relay_to_reporter")) == 1

    bot.clock.advance(hours=17, minutes=59)  # 07.59 the next day
    await bot.deliver_outbox()
    assert not reporter.covers()
    bot.clock.advance(minutes=1)
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert messages_with(reporter, "Bisa bicara besok pagi?")


async def test_status_news_also_waits_for_the_safe_time(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA, contact_time="evening",
                             acknowledged_at=bot.clock.now())  # 09.00 WITA now
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    assert not reporter.covers()
    bot.clock.advance(hours=8)  # 17.00 WITA
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert messages_with(reporter, "an officer is reaching out")


# ---- status news --------------------------------------------------------------------------------

async def test_the_reporter_can_stop_and_resume_status_news(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    news = await reporter.opens()
    assert "an officer is reaching out" in news.text
    await press(reporter, NewsPress(False).pack(), news)
    assert "no longer be told" in heard(bot, reporter)

    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", PENGELOLAAN)
    await bot.deliver_outbox()
    assert not reporter.covers()
    moved = (await events(bot, case.reference, "status_changed"))[-1]
    assert moved.detail["reporter_told"] == "no"

    await reporter.sends("/lanjut_kabar")
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "menu", "")
    await presses_case(officer, "set", "pendampingan")
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert messages_with(reporter, "support is being given")


async def test_berhenti_kabar_stops_status_news_by_command(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await reporter.sends("/berhenti_kabar")
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    assert not reporter.covers()
    # Officers' own messages still arrive.
    await a_message_from_the_officer(bot, officer, reporter, case.reference, "Masih di sana?")


# ---- at rest ------------------------------------------------------------------------------------

def database_file(db_path: Path) -> bytes:
    """What someone who copied the SQLite database holds: the file and its write-ahead log."""
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def test_notes_and_relay_messages_are_encrypted_at_rest(
        bot: Harness, reporter: Person, db_path: Path) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/catat {reference} CATATAN-RAHASIA-Pak-Lurah")
    await a_message_from_the_officer(bot, officer, reporter, reference, "PESAN-KELUAR-rahasia")
    await reporter.sends(f"/tambah {reference} PESAN-MASUK-rahasia")
    await bot.deliver_outbox()
    async with bot.runtime.engine.connect() as conn:
        await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    raw = database_file(db_path)
    for secret in (b"CATATAN-RAHASIA", b"PESAN-KELUAR", b"PESAN-MASUK"):
        assert secret not in raw
    assert str(reporter.user_id).encode() not in raw


async def test_relayed_messages_survive_a_restart_before_they_are_sent(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Sebelum restart")
    await bot.restart()
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert messages_with(reporter, "Sebelum restart")
    await replies_to(reporter, reporter.last_message(), "After the restart too")
    await bot.deliver_outbox()
    assert messages_with(officer, "After the restart too")
