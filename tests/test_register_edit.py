"""**Lengkapi data**: officers fill a case's SIMFONI-PPA record from the case card with buttons,
one field per step, each answer committed at once; a completeness mark on the card and in
/kasus; the last of two writes wins and both are in the history; outsiders change nothing."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from sqlalchemy import select

from bot.callback_data import BadCallback, RecordPress, parse
from bot.services.export import ExportService
from models import Case, Perpetrator, Victim, VictimPerpetrator
from tests.case_work import (
    PASER,
    TANAH_GROGOT,
    case_row,
    events,
    kecamatan_officer,
    presses_case,
    report_from_modang,
    village_member,
)
from tests.harness import Harness, Person
from tests.responder_people import register_officer
from tests.test_deadlines import OVERDUE, district, sweep, told


def record_button(person: Person, target: str, field: str, value: str) -> tuple[object, str]:
    message = person.last_with_buttons()
    for button in message.buttons():
        data = str(button.get("callback_data", ""))
        try:
            pressed = parse(data)
        except BadCallback:
            continue
        if isinstance(pressed, RecordPress) and (pressed.target, pressed.field,
                                                 pressed.value) == (target, field, value):
            return message, data
    raise AssertionError(f"no {target}/{field}/{value} in {message.button_texts()}")


async def fills(person: Person, target: str, field: str, value: str) -> None:
    message, data = record_button(person, target, field, value)
    await person.presses_data(data, message)  # type: ignore[arg-type]


async def asks(person: Person, reference: str, target: str, field: str) -> None:
    """The question of one field, as "Lengkapi data" shows it after the fields before it."""
    case = await case_row(person.harness, reference)
    await person.presses_data(RecordPress(case.public_id, target, field).pack())


async def opens_record(officer: Person, reference: str) -> None:
    await officer.sends(f"/kasus {reference}")
    await officer.presses("Lengkapi data")


async def people(bot: Harness, reference: str) -> tuple[list[Victim], list[Perpetrator],
                                                         list[VictimPerpetrator]]:
    async with bot.runtime.sessions() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        victims = list(await session.scalars(select(Victim).where(Victim.case_id == case.id)
                                             .order_by(Victim.number)))
        perpetrators = list(await session.scalars(select(Perpetrator).where(
            Perpetrator.case_id == case.id).order_by(Perpetrator.number)))
        links = list(await session.scalars(select(VictimPerpetrator).where(
            VictimPerpetrator.victim_id.in_([v.id for v in victims]))))
        return victims, perpetrators, links


async def test_each_field_kind_is_saved_at_once_and_the_mark_follows(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/kasus {reference}")
    before = officer.last_text()
    # Victim 1's sex, age group and forms of violence, the relation, the place: from the report.
    assert "Data SIMFONI: 5/12" in before
    await officer.presses("Lengkapi data")
    assert "Lengkapi data" in officer.last_text() and "Korban 1" in officer.last_text()

    # Victim 1: one field per step, each saved as it is pressed.
    await fills(officer, "v1", "sex", "")
    await fills(officer, "v1", "sex", "f")
    assert "Kelompok usia" in officer.last_text()  # the next field is asked
    await fills(officer, "v1", "age", "13-17")
    # The forms of violence this victim suffered: ticked and unticked, several at once.
    assert "Bentuk kekerasan yang dialami" in officer.last_text()
    assert "✓ Fisik" in officer.last_message().button_texts()  # as reported
    await fills(officer, "v1", "vio", "psikis")
    await fills(officer, "v1", "vio", "seksual")
    await fills(officer, "v1", "vio", "seksual")  # pressed again: unticked
    assert {"✓ Fisik", "✓ Psikis", "Seksual"} <= set(officer.last_message().button_texts())
    victims, _perpetrators, _links = await people(bot, reference)
    assert victims[0].violence == ["fisik", "psikis"]
    await fills(officer, "v1", "dis", "")  # "Lanjut »"
    await fills(officer, "v1", "dis", "tidak")
    await fills(officer, "v1", "edu", "sltp")
    await fills(officer, "v1", "occ", "pelajar")
    await fills(officer, "v1", "mar", "na")  # not known is an answer too
    victims, _perpetrators, _links = await people(bot, reference)
    assert (victims[0].age_band, victims[0].is_child, victims[0].disability,
            victims[0].education, victims[0].occupation, victims[0].marital_status) == \
        ("13-17", True, "tidak", "sltp", "pelajar", None)
    # The case: the incident date by year, month and day; the place.
    await asks(officer, reference, "c", "date")
    year = bot.clock.now().year
    await fills(officer, "c", "date", str(year))
    assert (await case_row(bot, reference)).incident_precision == "year"
    await fills(officer, "c", "date", f"{year}-01")
    await fills(officer, "c", "date", f"{year}-01-05")
    case = await case_row(bot, reference)
    assert (str(case.incident_date), case.incident_precision) == (f"{year}-01-05", "day")
    await fills(officer, "c", "place", "sekolah")
    assert (await case_row(bot, reference)).place == "sekolah"
    # Perpetrator 1: sex, age group, relation to the victim.
    await asks(officer, reference, "p1", "sex")
    await fills(officer, "p1", "sex", "m")
    assert "Kelompok usia" in officer.last_text()
    await fills(officer, "p1", "age", "25-44")
    await fills(officer, "p1", "rel1", "orang_tua")
    _victims, perpetrators, links = await people(bot, reference)
    assert perpetrators[0].sex == "m" and [link.relation for link in links] == ["orang_tua"]
    assert (perpetrators[0].age_band, perpetrators[0].age) == ("25-44", None)

    assert "Data SIMFONI: 11/12" in officer.last_text()
    await officer.sends("/kasus")
    assert "Data SIMFONI: 11/12" in officer.last_text()
    history = [e.detail for e in await events(bot, reference, "record_edited")]
    assert {"target": "v1", "field": "edu", "from": None, "to": "sltp"} in history
    assert {"target": "v1", "field": "vio", "from": "fisik", "to": "fisik;psikis"} in history
    await officer.sends(f"/riwayat {reference}")
    assert "Pendidikan: – → SLTP" in officer.last_text()
    assert "Bentuk kekerasan yang dialami: Fisik → Fisik, Psikis" in officer.last_text()
    # The export carries what was filled: the perpetrator's age group where no age is known.
    row = await victim_row(bot, reference)
    assert (row["Bentuk Kekerasan"], row["Usia Pelaku"], row["Pendidikan Korban"]) == \
        ("Fisik; Psikis", "25-44", "SLTP")


async def test_the_unknown_is_an_answer_for_every_form_and_for_the_perpetrators_age(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await opens_record(officer, reference)
    await asks(officer, reference, "v1", "vio")
    await fills(officer, "v1", "vio", "na")  # no form known: every tick goes
    assert "Pendidikan" not in officer.last_text()  # the next field after it: disability
    await asks(officer, reference, "p1", "age")
    await fills(officer, "p1", "age", "na")
    victims, perpetrators, _links = await people(bot, reference)
    assert victims[0].violence == [] and perpetrators[0].age_band is None
    row = await victim_row(bot, reference)
    assert (row["Bentuk Kekerasan"], row["Usia Pelaku"]) == ("", "NA")


async def victim_row(bot: Harness, reference: str) -> dict[str, str]:
    """The case's first row of the per-victim sheet (csv) of its year's export."""
    result = await ExportService(bot.runtime.sessions, bot.clock, bot.settings).export(
        bot.clock.now().year, "csv", actor="cli")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        name = next(n for n in archive.namelist() if n.startswith("korban"))
        rows = list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
    return next(r for r in rows if r["Referensi"] == reference)


async def test_a_victim_and_a_perpetrator_are_added(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await opens_record(officer, reference)
    await fills(officer, "", "add", "v")
    assert "Korban 2" in officer.last_text() and "Jenis kelamin" in officer.last_text()
    await fills(officer, "v2", "sex", "m")
    await fills(officer, "", "", "")
    await fills(officer, "", "add", "p")
    victims, perpetrators, links = await people(bot, reference)
    assert [v.sex for v in victims] == ["f", "m"] and len(perpetrators) == 2
    assert len(links) == 4  # every perpetrator with every victim, relation not known yet
    assert (await case_row(bot, reference)).victim_count == 2


async def test_two_officers_at_once_the_last_write_wins_and_both_are_in_the_history(
        bot: Harness, reporter: Person) -> None:
    rina = await kecamatan_officer(bot)
    budi = await register_officer(bot, 7_700_009, PASER, "Pak Budi UPTD")
    reference = await report_from_modang(reporter)
    for officer in (rina, budi):
        await opens_record(officer, reference)
        await asks(officer, reference, "v1", "edu")
    await fills(rina, "v1", "edu", "sd")
    await fills(budi, "v1", "edu", "sltp")
    victims, _p, _l = await people(bot, reference)
    assert victims[0].education == "sltp"
    edits = [(e.actor_name, e.detail["from"], e.detail["to"])
             for e in await events(bot, reference, "record_edited")]
    assert edits == [("Bu Rina Kuaro", None, "sd"), ("Pak Budi UPTD", "sd", "sltp")]


async def test_an_outsiders_press_changes_nothing_and_tells_only_an_officer_why(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await opens_record(officer, reference)
    await asks(officer, reference, "v1", "edu")
    message, data = record_button(officer, "v1", "edu", "slta")

    grogot = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    member = await village_member(bot)
    for outsider in (grogot, member, reporter):
        said = len(outsider.inbox())
        await outsider.presses_data(data, message)  # type: ignore[arg-type]
        assert len(outsider.inbox()) == said
    # The officer of elsewhere is told, as by every button of a case card; a button of a kind
    # declared for officers is refused to the others before anything runs, without a word.
    grogots, members, reporters = officer.callback_answers()[-3:]
    assert "di luar wilayah Anda" in grogots and members == reporters == ""
    victims, _p, _l = await people(bot, reference)
    assert victims[0].education is None
    refused = await events(bot, reference, "refused")
    assert [e.detail["action"] for e in refused] == ["record"]  # the officer of elsewhere
    # A village member's card has no such button.
    await member.sends(f"/kasus {reference}")
    assert "Lengkapi data" not in " ".join(member.last_message().button_texts())


async def test_sexual_violence_ticked_later_sets_the_police_deadline_from_then(
        bot: Harness, reporter: Person) -> None:
    """A form of violence ticked in "Lengkapi data" joins the case's; sexual violence (or
    TPPO) appearing so starts the UU TPKS police deadline from the moment it became known, and
    the deadline sweep alarms as for any case. Unticking it leaves the deadline."""
    holder, kabupaten, admin = await district(bot)
    reference = await report_from_modang(reporter)  # fisik only: no police deadline
    await bot.deliver_outbox()
    assert (await case_row(bot, reference)).police_deadline is None
    await holder.sends(f"/kasus {reference}")
    await presses_case(holder, "take")
    bot.clock.advance(hours=5)
    known_at = bot.clock.now()
    await opens_record(holder, reference)
    await asks(holder, reference, "v1", "vio")
    await fills(holder, "v1", "vio", "seksual")
    case = await case_row(bot, reference)
    assert case.violence_types == ["fisik", "seksual"]
    assert case.police_deadline == known_at + timedelta(hours=72)
    [set_event] = await events(bot, reference, "police_deadline_set")
    assert set_event.actor_name == "Bu Rina Kuaro"
    await holder.sends(f"/kasus {reference}")
    assert "Laporkan ke polisi paling lambat" in holder.last_text()
    assert "Seksual" in holder.last_text()
    await holder.sends(f"/riwayat {reference}")
    assert "batas waktu lapor polisi" in holder.last_text()

    # Unticked: the case's forms follow, the legal deadline stays.
    await asks(holder, reference, "v1", "vio")
    await fills(holder, "v1", "vio", "seksual")
    case = await case_row(bot, reference)
    assert case.violence_types == ["fisik"]
    assert case.police_deadline == known_at + timedelta(hours=72)
    await fills(holder, "v1", "vio", "tppo")  # a new form: the deadline is not moved
    assert (await case_row(bot, reference)).police_deadline == known_at + timedelta(hours=72)
    assert len(await events(bot, reference, "police_deadline_set")) == 1

    bot.clock.advance(hours=72, minutes=1)
    await sweep(bot)
    for person in (holder, kabupaten, admin):
        assert len(told(person, OVERDUE, reference)) == 1, person.first_name
