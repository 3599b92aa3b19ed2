"""Help is one message away (DESIGN §6): anything written or sent in private outside a flow gets,
in one short message, the emergency numbers (the district's own first) and the buttons "Buat
laporan" and "Bantuan"; never a dead end. A person in danger who stops after the first question
may send what they answered at once (urgent, to the kabupaten) or keep it; keeping it alerts
nobody, and the bot says so plainly."""

from __future__ import annotations

import re

from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import form
from tests.case_work import (
    KABUPATEN_GROUP_ID,
    MODANG,
    PASER,
    VILLAGE_GROUP_ID,
    case_command,
    events,
)
from tests.harness import Harness, Person, reference_in
from tests.responder_people import register_group, register_officer
from tests.test_discreet import harness_with

DISTRICT_FIRST = [{"name": "Darurat", "number": "112"}, {"name": "Polisi", "number": "110"},
                  {"name": "UPTD PPA Paser", "number": "0813-5000-1234", "district": True}]


def numbers_in(text: str) -> list[str]:
    return re.findall(r"<b>([0-9-]+)</b>", text)


async def test_a_cry_for_help_typed_outside_a_report_gets_the_numbers_and_a_way_on(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    bot = await harness_with(settings, clock, vault, hotlines=DISTRICT_FIRST)
    try:
        person = Person(bot, user_id=5_550_401, language_code="id")
        await person.sends("tolong sy skrg dipukul suami")
        [answer] = person.inbox()  # one short message
        assert numbers_in(answer.text) == ["0813-5000-1234", "112", "110"]  # the district first
        assert answer.button_texts() == ["📝 Buat laporan", "ℹ️ Bantuan"]
        assert len(re.sub(r"<[^>]+>", "", answer.text)) < 400

        await person.presses("Buat laporan")
        draft = await person.draft()
        assert draft is not None and draft.step == form.DANGER
        assert "bahaya" in person.last_text()

        await person.sends("/batal")
        await person.presses("Ya, hapus")
        await person.sends("om sy pukul sy")
        await person.presses("Bantuan")
        assert "/lapor" in person.last_text() and "0813-5000-1234" in person.last_text()
    finally:
        await bot.stop()


async def test_a_photo_or_a_sticker_outside_a_report_gets_the_same_help(
        bot: Harness, reporter_id: Person) -> None:
    for sends in (reporter_id.sends_photo, reporter_id.sends_voice, reporter_id.sends_sticker,
                  reporter_id.sends_location):
        before = len(reporter_id.inbox())
        await sends()
        [answer] = reporter_id.inbox()[before:]
        assert "112" in answer.text
        assert answer.button_texts() == ["📝 Buat laporan", "ℹ️ Bantuan"]
    assert await reporter_id.draft() is None
    assert bot.runtime.metrics["errors"] == 0


async def test_someone_who_reported_also_gets_the_numbers_and_how_to_add(
        bot: Harness, reporter: Person) -> None:
    reference = await reporter.completes_report()
    bot.clock.advance(minutes=2)
    await reporter.sends("he is back, please help")
    answer = reporter.last_message()
    assert "112" in answer.text and f"/tambah {reference}" in answer.text
    assert "📝 Make a report" in answer.button_texts()


# ---- danger, then "stop for now" ----------------------------------------------------------------

async def stops_in_danger(person: Person) -> None:
    await person.sends("/lapor")
    await person.picks(form.YES)
    await person.picks("stop")


async def test_stopping_in_danger_offers_send_now_beside_keep_and_alerts_nobody(
        bot: Harness, reporter_id: Person) -> None:
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    await stops_in_danger(reporter_id)
    offer = reporter_id.last_message()
    assert "Belum ada yang dikirim" in offer.text and "112" in offer.text
    assert [t for t in offer.button_texts() if "Kirim sekarang" in t or t == "Simpan saja"] \
        == ["🆘 Kirim sekarang", "Simpan saja"]

    await reporter_id.presses("Simpan saja")
    assert "Tidak ada yang dikirim dan tidak ada yang diberi tahu" in reporter_id.last_text()
    await bot.deliver_outbox()
    assert bot.telegram.messages(KABUPATEN_GROUP_ID) == []
    assert bot.telegram.messages(VILLAGE_GROUP_ID) == []
    assert await bot.cases() == []
    draft = await reporter_id.draft()
    assert draft is not None and draft.urgent  # kept, to continue with /lapor


async def test_send_now_makes_an_urgent_case_that_reaches_the_kabupaten_at_once(
        bot: Harness, reporter_id: Person) -> None:
    kabupaten = await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    officer = await register_officer(bot, 7_900_001, PASER, "Ibu Admin", admin=True)
    await stops_in_danger(reporter_id)
    await reporter_id.presses("Kirim sekarang")
    await reporter_id.redelivers_last_update()  # a second press changes nothing
    await bot.deliver_outbox()

    [case] = await bot.cases()
    assert case.urgent and case.priority == "urgent" and case.tier == "kabupaten"
    assert case.village_code == PASER and case.contact_allowed
    reference = reference_in(reporter_id.last_text())
    assert reference == case.reference and "darurat" in reporter_id.last_text()
    alert = kabupaten.alert_about(reference)
    assert "MENDESAK" in alert.text and "Paser (belum diketahui)" in alert.text
    assert any(reference in m.text for m in officer.inbox())
    assert bot.telegram.messages(VILLAGE_GROUP_ID) == []  # no village is known
    assert await reporter_id.draft() is None
    assert await events(bot, reference, "sent_at_once")
    await officer.sends(case_command(reference))  # the card says what is not known yet
    assert "Lokasi: Paser (belum diketahui)" in officer.last_text()
    assert bot.runtime.metrics["errors"] == 0


async def test_send_now_carries_what_was_answered_so_far(bot: Harness,
                                                         reporter: Person) -> None:
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    await reporter.reaches(form.VICTIM_CATEGORY, danger=True)
    await reporter.picks(form.WOMAN)
    for _step in range(4):  # back to "Do you want to continue the report?"
        await reporter.picks("", "back")
        if (draft := await reporter.draft()) is not None and draft.step == form.DANGER_GO:
            break
    await reporter.picks("stop")
    await reporter.presses("Send now")
    [case] = await bot.cases()
    assert case.victim_category == form.WOMAN and case.reporter_role == "family"
    assert case.violence_types == [] and case.place == form.UNKNOWN
