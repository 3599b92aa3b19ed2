"""Officers' commands in private chat (DESIGN §5): /kasus (the list and the case card), /catat,
/balas, the card's buttons, and everything a person can get wrong on the way."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.callback_data import CaseListPress, CasePress, parse
from bot.domain.workflow import BARU, DITERIMA, DITUTUP, PENJANGKAUAN
from models import PendingInput
from tests.case_work import (
    KABUPATEN_GROUP_ID,
    KUARO,
    PASER,
    STORY,
    VILLAGE_GROUP_ID,
    case_command,
    case_row,
    events,
    has_card_button,
    heard,
    kecamatan_officer,
    press,
    presses_case,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer

# ---- /kasus: the list ---------------------------------------------------------------------------

async def test_kasus_lists_the_open_cases_of_the_area_newest_first_a_page_at_a_time(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    ours = []
    for _number in range(9):
        ours.append(await seeded_case(bot, reporter=reporter, village="Lolo"))
        bot.clock.advance(minutes=10)
    closed = await seeded_case(bot, reporter=reporter, status=DITUTUP,
                               closed_at=bot.clock.now(), close_reason="duplicate")
    elsewhere = await seeded_case(bot, reporter=reporter, village="Janju")

    await officer.sends("/kasus")
    page_one = officer.last_text()
    assert "(9)" in page_one and "1 dari 2" in page_one
    shown = [c.reference for c in reversed(ours)][:8]  # newest first
    positions = [page_one.index(case_command(reference)) for reference in shown]
    assert positions == sorted(positions)
    assert case_command(ours[0].reference) not in page_one
    assert case_command(closed.reference) not in page_one
    assert case_command(elsewhere.reference) not in page_one
    assert "Tetangga memukul" not in page_one  # a list carries no story

    await officer.presses("▶")
    assert case_command(ours[0].reference) in officer.last_text()


async def test_the_list_is_filtered_by_status_and_by_kecamatan(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_800_001, PASER, "Pak Yusuf UPTD")
    new_in_kuaro = await seeded_case(bot, reporter=reporter, village="Modang")
    reaching_out = await seeded_case(bot, reporter=reporter, village="Lolo",
                                     status=PENJANGKAUAN, acknowledged_at=bot.clock.now())
    in_grogot = await seeded_case(bot, reporter=reporter, village="Janju")

    await officer.sends("/kasus")
    everything = officer.last_text()
    assert all(case_command(c.reference) in everything
               for c in (new_in_kuaro, reaching_out, in_grogot))

    await officer.presses("Penjangkauan")
    assert case_command(reaching_out.reference) in officer.last_text()
    assert case_command(new_in_kuaro.reference) not in officer.last_text()

    await officer.presses("Terbuka")
    await officer.presses("Kecamatan…")
    await officer.presses("Tanah Grogot")
    only_grogot = officer.last_text()
    assert case_command(in_grogot.reference) in only_grogot and "Tanah Grogot" in only_grogot
    assert case_command(new_in_kuaro.reference) not in only_grogot


async def test_kasus_from_someone_who_is_not_an_officer_is_refused_kindly(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/kasus")
    assert "/status" in reporter.last_text()
    assert bot.runtime.metrics["case_list_refused"] == 1


# ---- /kasus REF: the card -----------------------------------------------------------------------

async def test_the_card_shows_what_a_phone_needs_and_the_buttons_for_the_next_steps(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, phone="0812 3456 7890")
    await officer.sends(f"/kasus {reference}")
    card = officer.last_message()
    for expected in (reference, "Baru", "Fisik", "Modang", "Kuaro", "WITA",
                     f"/riwayat_{reference.replace('-', '_')}"):
        assert expected in card.text
    for secret in (STORY, "3456", "Sari"):
        assert secret not in card.text, "the story and the phone only go with the details"
    actions = [parse(b["callback_data"]).action for b in card.buttons()]  # type: ignore[union-attr]
    assert actions[0] == "take"  # one tap for the common next step: "Ambil kasus"
    assert {"note", "reply", "detail", "history", "help"} <= set(actions)


@pytest.mark.parametrize("typed", ["/kasus {ref}", "/kasus {lower}", "/kasus  {ref}  ",
                                   "{command}", "{command_lower}"])
async def test_a_reference_can_be_typed_in_any_case_or_tapped_as_a_command(
        bot: Harness, reporter: Person, typed: str) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    ref = case.reference
    await officer.sends(typed.format(ref=ref, lower=ref.lower(), command=case_command(ref),
                                     command_lower=case_command(ref).lower()))
    assert officer.last_text().startswith("📂") and ref in officer.last_text()


@pytest.mark.parametrize("typed", ["/kasus PSR-26-ZZZZZZ", "/kasus halo", "/kasus_PSR_26",
                                   "/kasus <b>halo</b>", "/balas <i>x</i> pesan",
                                   "/catat PSR-26-ZZZZZZ catatan", "/riwayat PSR-26-ZZZZZZ"])
async def test_an_unknown_reference_is_answered_kindly(bot: Harness, typed: str) -> None:
    officer = await kecamatan_officer(bot)
    await officer.sends(typed)
    assert "Tidak ada laporan dengan nomor" in officer.last_text()
    assert bot.runtime.metrics["errors"] == 0


async def test_a_reference_outside_the_officers_area_is_refused_and_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_555, "64.01.04", "Pak Dedi Grogot")
    case = await seeded_case(bot, reporter=reporter)  # Modang, Kecamatan Kuaro
    await officer.sends(f"/kasus {case.reference}")
    assert "di luar wilayah Anda" in officer.last_text()
    assert case.reference in officer.last_text() and "Tetangga" not in officer.last_text()
    refused = await events(bot, case.reference, "refused")
    assert refused[0].actor_name == "Pak Dedi Grogot" and refused[0].detail["action"] == "card"


async def test_kasus_in_a_group_chat_shows_nothing_there(bot: Harness, reporter: Person) -> None:
    await register_group(bot, VILLAGE_GROUP_ID, "64.01.05.2006", "PAPTBM Modang")
    group = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    case = await seeded_case(bot, reporter=reporter)
    await group.activist(6_600_001, "Sri").sends(f"/kasus {case.reference}")
    await group.activist(6_600_001, "Sri").sends(case_command(case.reference))
    assert [m.text for m in group.messages()] == [
        "Silakan gunakan perintah ini di chat pribadi dengan saya."] * 2


# ---- notes --------------------------------------------------------------------------------------

async def test_catat_saves_a_private_note_that_the_reporter_never_sees(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/catat {reference} Korban dirujuk ke puskesmas.\nIbu sudah dihubungi.")
    assert "Catatan disimpan" in officer.last_text()
    notes = await events(bot, reference, "note")
    assert [n.secret for n in notes] == ["Korban dirujuk ke puskesmas.\nIbu sudah dihubungi."]
    assert notes[0].actor_name == "Bu Rina Kuaro"
    await bot.deliver_outbox()
    assert not any("puskesmas" in m.text for m in reporter.inbox())


async def test_catat_with_a_reference_and_no_text_asks_for_the_note(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(f"/catat {case.reference}")
    prompt = officer.last_message()
    assert "Tulis sekarang catatan Anda" in prompt.text
    assert prompt.params.get("reply_markup") and "force_reply" in str(prompt.params)
    await officer.sends("/batal")
    assert "Dibatalkan" in officer.last_text()
    await officer.sends("Ini bukan catatan")
    assert not await events(bot, case.reference, "note")


async def test_an_empty_note_is_not_saved_and_the_note_can_still_be_written(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "note")
    await officer.sends("   ")
    assert "Tidak ada yang disimpan" in officer.last_text()
    await officer.sends("Catatan yang sebenarnya.")
    assert [n.secret for n in await events(bot, case.reference, "note")] == [
        "Catatan yang sebenarnya."]


async def test_catat_without_anything_explains_how_to_write_it(bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await officer.sends("/catat")
    assert "/catat PSR-26-K7Q3XM" in officer.last_text()


async def test_an_over_long_note_is_refused_and_nothing_is_saved(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(f"/catat {case.reference} " + "panjang " * 300)
    assert "Terlalu panjang" in officer.last_text() and "2000" in officer.last_text()
    assert not await events(bot, case.reference, "note")


async def test_a_note_button_waits_for_the_text_even_across_a_restart(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "note")
    assert "Tulis sekarang catatan Anda" in officer.last_text()

    await bot.restart()
    await officer.sends("Sudah dikunjungi, anak aman bersama neneknya.")
    assert "Catatan disimpan" in officer.last_text()
    assert [n.secret for n in await events(bot, case.reference, "note")] == [
        "Sudah dikunjungi, anak aman bersama neneknya."]
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(PendingInput)) is None


async def test_a_note_typed_too_late_is_not_taken_for_anything_else(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "note")
    bot.clock.advance(minutes=31)
    await officer.sends("Catatan yang terlambat")
    assert "sudah habis" in officer.last_text()
    assert not await events(bot, case.reference, "note")
    assert await officer.draft() is None


async def test_a_note_delivered_twice_by_telegram_is_saved_once(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(f"/catat {case.reference} Satu kali saja.")
    await officer.redelivers_last_update()
    assert len(await events(bot, case.reference, "note")) == 1


# ---- the card's buttons -------------------------------------------------------------------------

@pytest.mark.parametrize("data", ["c1|abc|set|selesai|", "c1|5|set|terserah|baru", "c1|5|x||",
                                  "c1|5|history|99999|", "c1|5|set|selesai", "k1|semua||0",
                                  "k1|open|Kuaro|0", "k1|open||-1", "c2|5|card||", "n1|maybe"])
async def test_a_forged_or_malformed_button_is_refused(bot: Harness, data: str) -> None:
    officer = await kecamatan_officer(bot)
    await press(officer, data)
    assert "Tombol itu sudah tidak aktif" in heard(bot, officer) or \
        "That button is no longer active" in heard(bot, officer)
    assert bot.runtime.metrics["errors"] == 0


async def test_a_button_for_a_case_that_does_not_exist_is_no_longer_active(
        bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await press(officer, CasePress(987654, "set", PENJANGKAUAN, DITERIMA).pack())
    assert "sudah tidak aktif" in heard(bot, officer)


async def test_a_forged_button_for_a_case_outside_ones_area_is_refused_and_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_555, "64.01.04", "Pak Dedi Grogot")
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await press(officer, CasePress(case.id, "set", PENJANGKAUAN, DITERIMA).pack())
    assert (await case_row(bot, case.reference)).status == DITERIMA
    assert [e.detail["action"] for e in await events(bot, case.reference, "refused")] == [
        "status"]


async def test_the_card_takes_over_a_case_only_when_asked_and_tells_the_previous_handler(
        bot: Harness, reporter: Person) -> None:
    first = await kecamatan_officer(bot)
    second = await register_officer(bot, 7_800_001, PASER, "Pak Yusuf UPTD")
    case = await seeded_case(bot, reporter=reporter)
    await first.sends(case_command(case.reference))
    await presses_case(first, "take")
    await second.sends(case_command(case.reference))
    await presses_case(second, "take")  # "Ambil alih"
    assert "ditangani oleh Bu Rina Kuaro" in second.last_text()
    assert (await case_row(bot, case.reference)).handler_user_id == first.user_id

    await presses_case(second, "takeover")
    await bot.deliver_outbox()
    assert (await case_row(bot, case.reference)).handler_user_id == second.user_id
    assert "Pak Yusuf UPTD mengambil alih" in first.last_text()
    assert [e.actor_name for e in await events(bot, case.reference, "taken")] == [
        "Pak Yusuf UPTD"]


async def test_asking_the_next_tier_from_the_card_alerts_it_at_once(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    kabupaten = GroupChat(bot, KABUPATEN_GROUP_ID, "UPTD PPA Paser")
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    assert not any(reference in m.text for m in kabupaten.messages())

    await member.sends(case_command(reference))
    await presses_case(member, "help")
    await presses_case(member, "help", "beyond_us")  # why: beyond what the village can do
    await bot.deliver_outbox()
    assert any(reference in m.text for m in kabupaten.messages())
    assert "Diteruskan ke" in heard(bot, member)
    help_events = await events(bot, reference, "help_requested")
    assert help_events[0].actor_name == "Sri (PAPTBM Modang)"


async def test_details_from_the_card_reach_a_village_member_in_private_and_are_recorded(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    reference = await report_from_modang(reporter)
    await member.sends(case_command(reference))
    await presses_case(member, "detail")
    await bot.deliver_outbox()
    assert any(STORY in m.text for m in member.inbox())
    assert not any(STORY in m.text for m in GroupChat(bot, VILLAGE_GROUP_ID, "").messages())
    viewed = await events(bot, reference, "viewed")
    assert viewed[-1].actor_name == "Sri (PAPTBM Modang)" and viewed[-1].detail["via"] == "card"


async def test_a_village_member_takes_a_new_case_and_the_group_alert_shows_it(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    await member.sends(case_command(reference))
    await presses_case(member, "take")
    await bot.deliver_outbox()
    case = await case_row(bot, reference)
    assert case.status == DITERIMA and case.handler_user_id == member.user_id
    alert = [m for m in GroupChat(bot, VILLAGE_GROUP_ID, "").messages() if reference in m.text]
    assert "Sri (PAPTBM Modang)" in alert[0].text


async def test_a_closed_case_offers_only_reopening_and_the_history(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITUTUP, close_reason="duplicate",
                             closed_at=bot.clock.now(), acknowledged_at=bot.clock.now())
    await officer.sends(case_command(case.reference))
    assert has_card_button(officer, "set", DITERIMA)  # Buka kembali
    for gone in ("menu", "help", "take", "note"):
        assert has_card_button(officer, gone) == (gone == "note"), gone
    await press(officer, CasePress(case.id, "help").pack())
    assert "sudah ditutup" in heard(bot, officer)


async def test_the_list_button_from_someone_else_is_refused(bot: Harness, reporter: Person) -> None:
    await press(reporter, CaseListPress("open", KUARO, 0).pack())
    assert "/status" in heard(bot, reporter)
    assert bot.runtime.metrics["case_list_refused"] == 1


async def test_a_new_case_cannot_skip_being_taken(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await press(officer, CasePress(case.id, "set", PENJANGKAUAN, BARU).pack())
    assert "ambil dulu" in heard(bot, officer)
    assert (await case_row(bot, case.reference)).status == BARU
