"""``/kasus_baru``: an officer records a case that came another way (walk-in, telephone, SAPA 129,
another agency, outreach, a letter) through the report form's officer mode. The case is routed,
listed, counted and exported like any other, marked with its channel; the officer holds it."""

from __future__ import annotations

import csv
import io
import zipfile

from sqlalchemy import select

from bot import jobs
from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import form
from bot.domain.form import DraftView
from bot.services.export import ExportService
from bot.services.stats import StatsService
from models import Case, Draft, Victim
from tests.case_work import (
    MODANG,
    TANAH_GROGOT,
    VILLAGE_GROUP_ID,
    case_row,
    events,
    kecamatan_officer,
    village_member,
)
from tests.harness import Harness, Person, reference_in
from tests.intake_work import (
    intake_draft,
    picks,
    records_case,
    records_until,
)
from tests.responder_people import register_group, register_officer
from tests.test_report_step import settled, statements_seen


async def test_an_officer_records_a_walk_in_that_is_routed_and_held_by_them(
        bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")

    await officer.sends("/kasus_baru")
    first = officer.last_message()
    assert "Kasus baru" in first.text and "Bagaimana kasus ini masuk?" in first.text
    assert {"Datang langsung", "Telepon", "Rujukan SAPA 129", "Rujukan lembaga lain",
            "Penjangkauan", "Surat"} <= set(first.button_texts())
    await picks(officer, "datang_langsung")
    danger = officer.last_text()
    assert "Apakah korban dalam bahaya sekarang?" in danger
    assert "Anda" not in danger  # spoken to the officer about the victim, never to a victim
    await records_until(officer, form.PHONE)
    asked = officer.last_text()
    assert "korban" in asked.casefold() and "terenkripsi" in asked
    await records_until(officer, form.REVIEW)
    review = officer.last_message()
    assert "Datang langsung" in review.text and "0812" in review.text
    assert "persetujuan" not in review.text.casefold()
    await picks(officer, "", "submit")

    saved = officer.last_text()
    reference = reference_in(saved)
    assert "Datang langsung" in saved and "Anda menangani" in saved
    case = await case_row(bot, reference)
    assert case.channel == "datang_langsung"
    assert case.reporter_id is None and not case.contact_allowed
    assert case.phone == "081299991111"  # encrypted at rest, like a reporter's phone
    assert case.status == "diterima" and case.handler_user_id == officer.user_id
    assert case.acknowledged_by == "Bu Rina Kuaro" and case.ack_deadline is None
    assert [e.kind for e in await events(bot, reference)][:2] == ["recorded", "acknowledged"]
    # Routed like any case: the village group is told, as information, who holds it.
    await bot.deliver_outbox()
    alert = bot.telegram.last_message(VILLAGE_GROUP_ID)
    assert reference in alert.text and "Bu Rina Kuaro" in alert.text
    assert "Terima" not in " ".join(alert.button_texts())
    assert await intake_draft(officer) is None


async def test_the_recorded_case_is_listed_counted_and_exported_with_its_channel(
        bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    reference = await records_case(officer, channel="rujukan_sapa129")

    await officer.sends("/kasus")
    assert reference.replace("-", "_") in officer.last_text()
    await officer.sends(f"/kasus {reference}")
    card = officer.last_text()
    assert "Rujukan SAPA 129" in card and "Bu Rina Kuaro" in card

    year = bot.clock.now().year
    stats = await StatsService(bot.runtime.sessions, bot.clock, bot.settings).year(year)
    assert stats.total == 1
    result = await ExportService(bot.runtime.sessions, bot.clock, bot.settings).export(
        year, "csv", actor="cli")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        victims = next(name for name in archive.namelist() if name.startswith("korban"))
        rows = list(csv.reader(io.StringIO(archive.read(victims).decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert row[header.index("Referensi")] == reference
    assert row[header.index("Saluran Masuk")] == "Rujukan SAPA 129"
    async with bot.runtime.sessions() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        victims_of_case = list(await session.scalars(select(Victim).where(
            Victim.case_id == case.id)))
    assert [v.sex for v in victims_of_case] == ["f"]


async def test_a_reporter_or_an_activist_is_refused_and_nothing_is_kept(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    village_officer = await register_officer(bot, 7_700_777, MODANG, "Pak Desa")
    for person in (reporter, member, village_officer):
        await person.sends("/kasus_baru")
        assert "Hanya petugas" in person.last_text() or "Only officers" in person.last_text()
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(Draft))) == []
    # A replayed intake button from an officer's chat changes nothing for them either.
    officer = await kecamatan_officer(bot)
    await officer.sends("/kasus_baru")
    message, data = officer.button_for("choose", "telepon")
    said = len(reporter.inbox())
    await reporter.presses_data(data, message)
    assert len(reporter.inbox()) == said
    draft = await intake_draft(officer)
    assert draft is not None and draft.step == form.CHANNEL


async def test_an_abandoned_record_is_resumed_and_kept_apart_from_a_reporter_draft(
        bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await records_until(officer, form.TYPES)
    # The same person also starts a report of their own, as a reporter.
    await officer.sends("/lapor")
    own = await officer.draft()
    assert own is not None and own.step == form.DANGER
    await officer.picks(form.NO)
    await officer.sends("/kasus_baru")
    resumed = officer.texts_since(-2)
    assert "belum selesai" in resumed and "Apa yang dialami korban" in resumed
    draft = await intake_draft(officer)
    assert draft is not None and draft.step == form.TYPES
    assert (await officer.draft()).step == form.CONSENT  # type: ignore[union-attr]
    # After a restart too.
    await bot.restart()
    await officer.sends("/kasus_baru")
    assert (await intake_draft(officer)).step == form.TYPES  # type: ignore[union-attr]
    reference = await records_case(officer)
    assert (await case_row(bot, reference)).channel == "datang_langsung"
    assert (await officer.draft()) is not None  # the reporter draft is untouched


async def test_a_village_outside_the_officers_area_is_refused_at_save(bot: Harness) -> None:
    officer = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    await records_until(officer, form.REVIEW)
    await picks(officer, "", "submit")
    assert "di luar wilayah Anda" in officer.texts_since(-2)
    assert await bot.cases() == []
    assert await intake_draft(officer) is not None


async def test_cancel_deletes_the_officers_record_only(bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await records_until(officer, form.TYPES)
    await officer.sends("/batal")
    await officer.presses("Ya")
    assert "dibatalkan" in officer.last_text()
    assert await intake_draft(officer) is None


# ---- typed answers: the officer's record, or their own report --------------------------------

def story_of(draft: DraftView) -> list[str]:
    """The story's texts so far (kept aside while it is being written)."""
    return list(draft.answers["story_pending"]["texts"])


async def test_an_officer_with_both_drafts_gets_each_typed_answer_in_the_one_touched_last(
        bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await records_until(officer, form.STORY)
    bot.clock.advance(minutes=1)
    await officer.reaches(form.STORY)  # their own report, as a reporter: touched last
    await officer.sends("Cerita laporan saya sendiri.")
    bot.clock.advance(minutes=1)
    await officer.sends("/kasus_baru")  # the record, resumed: touched last
    await officer.sends("Cerita kasus yang dicatat petugas.")
    bot.clock.advance(minutes=1)
    await officer.sends("/lapor")  # the report again
    await officer.sends("Tambahan untuk laporan saya.")

    own, record = await officer.draft(), await intake_draft(officer)
    assert own is not None and record is not None
    assert story_of(own) == ["Cerita laporan saya sendiri.", "Tambahan untuk laporan saya."]
    assert story_of(record) == ["Cerita kasus yang dicatat petugas."]
    # After a restart too: the record is the one touched last again.
    bot.clock.advance(minutes=1)
    await officer.sends("/kasus_baru")
    await bot.restart()
    await officer.sends("Lanjutan cerita kasus.")
    record = await intake_draft(officer)
    assert record is not None and story_of(record)[-1] == "Lanjutan cerita kasus."


async def test_a_reporters_typed_answer_never_looks_for_an_officers_record(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    with statements_seen() as statements:
        harness = await Harness(settings=settings, clock=clock, vault=vault).start()
        try:
            officer = await kecamatan_officer(harness)
            await records_until(officer, form.STORY)  # someone holds a record meanwhile
            reporter = Person(harness, 5_550_012, language_code="id")
            await reporter.reaches(form.STORY)
            await settled()
            statements.clear()
            await reporter.sends("Tetangga memukul anaknya setiap malam.")
            await settled()
            typed = list(statements)
            assert "Tetangga" in str((await reporter.draft()).answers)  # type: ignore[union-attr]
        finally:
            await harness.stop()
    assert typed and not [sql for sql in typed if "staff_hash" in sql], typed


# --- expiry --------------------------------------------------------------------------------------

async def test_an_abandoned_record_expires_after_the_officer_limit_with_a_private_notice(
        bot: Harness, reporter: Person) -> None:
    """An officer's unfinished record holds a victim's story: after ``drafts.officer_expire_days``
    untouched it is deleted by the draft expiry job, and the officer is told privately. A
    younger one stays and resumes."""
    old = await kecamatan_officer(bot)
    young = await register_officer(bot, 7_700_002, "64.01.05", "Pak Andi Kuaro")
    await records_until(old, form.PERPETRATOR)  # the story is written by now
    await reporter.reaches(form.ROLE)  # a reporter's draft expires by its own limit
    bot.clock.advance(days=3)
    await records_until(young, form.TYPES)
    bot.clock.advance(days=bot.settings.drafts.officer_expire_days - 3, minutes=1)

    await jobs.expire_drafts(bot.runtime)
    await bot.deliver_outbox()
    assert await intake_draft(old) is None
    assert await reporter.draft() is None
    notices = [m.text for m in old.inbox() if "/kasus_baru" in m.text and "dihapus" in m.text]
    assert notices == ["Catatan kasus baru yang belum selesai sudah dihapus setelah 7 hari. "
                       "Kirim /kasus_baru untuk memulai lagi."]
    assert not any("dihapus" in m.text for m in young.inbox())
    async with bot.runtime.sessions() as session:
        assert len(list(await session.scalars(select(Draft)))) == 1  # the younger record

    await jobs.expire_drafts(bot.runtime)  # the next sweep: nothing more
    await bot.deliver_outbox()
    assert len([m for m in old.inbox() if "dihapus" in m.text]) == 1
    await young.sends("/kasus_baru")
    assert "belum selesai" in young.texts_since(-2)
    assert (await intake_draft(young)).step == form.TYPES  # type: ignore[union-attr]
    # The officer whose record expired starts afresh.
    await old.sends("/kasus_baru")
    assert (await intake_draft(old)).step == form.CHANNEL  # type: ignore[union-attr]
