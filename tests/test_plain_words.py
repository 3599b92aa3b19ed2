"""Plain words for a reporter with little schooling (issue 14): a short common path, questions
that speak to the victim in person, an example for every SIMFONI-PPA word, answers typed as
people type them, keyboards that fit a small phone, short sentences, and a shared location kept
for the outreach visit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file

from bot.domain import form
from bot.i18n import translator
from bot.views.report import MAX_ROWS, QUESTIONS
from tests.harness import Harness, Person, reference_in

ID = translator("id")
EN = translator("en")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CountingPerson(Person):
    """A person whose every message and button press is counted as one action."""

    actions: int = 0

    async def send_payload(self, payload: dict[str, Any]) -> None:
        self.actions += 1
        await super().send_payload(payload)


# ---- the common path ----------------------------------------------------------------------------

MOST_ACTIONS = 18  # issue 14; the form asked 22 on this count before (24 by the count)


async def test_the_common_path_from_lapor_to_the_reference_takes_at_most_18_actions(
        bot: Harness) -> None:
    """A relative reports a girl hit by a neighbour, may be contacted, adds nothing more."""
    person = CountingPerson(bot, user_id=5_560_001, first_name="Wati", language_code="id")
    await person.sends("/lapor")
    await person.presses(ID("No"))  # danger
    await person.presses(ID("I agree, continue"))
    await person.presses(ID("Family of the victim"))
    await person.presses(ID("Girl (under 18)"))  # category and sex in one question
    await person.presses(ID("6–12 years"))
    await person.presses("1")
    await person.presses(ID("Physical"))
    await person.presses(ID("Done ✔"))
    await person.sends("pondong baru")  # the village typed at the "where" question
    await person.presses("Pondong Baru")
    await person.presses(ID("Household"))
    await person.presses(ID("This week"))
    await person.presses(ID("Neighbour"))
    await person.sends("Anak tetangga dipukul ayahnya setiap malam.")
    await person.presses(ID("Yes, through this bot"))  # also finishes the story
    await person.presses(ID("Any time"))
    await person.presses(ID("Send ✉️"))

    reference = reference_in(person.last_text())
    assert person.actions <= MOST_ACTIONS, f"{person.actions} actions"
    [case] = await bot.cases()
    assert case.reference == reference
    assert (case.victim_category, case.victim_sex, case.victim_age_band) == ("child", "f", "6-12")
    assert case.narrative == "Anak tetangga dipukul ayahnya setiap malam."
    assert (case.landmark, case.phone, case.location) == (None, None, None)


async def test_a_landmark_and_a_phone_number_come_behind_one_choice(bot: Harness,
                                                                     reporter_id: Person) -> None:
    await reporter_id.reaches(form.REVIEW)
    review = reporter_id.last_with_buttons()
    assert "➕ Tambah keterangan" in review.button_texts()
    assert ID("Landmark") not in review.text  # nothing to show until something is added

    await reporter_id.presses("Tambah keterangan")
    assert "patokan" in reporter_id.last_text()
    await reporter_id.sends("Dekat masjid Al-Ikhlas")
    assert "nomor telepon" in reporter_id.texts_since(-2)
    await reporter_id.sends("0812 3456 7890")

    review = reporter_id.last_with_buttons()
    assert "Dekat masjid Al-Ikhlas" in review.text and "081234567890" in review.text
    await reporter_id.presses(ID("Send ✉️"))
    [case] = await bot.cases()
    assert (case.landmark, case.phone) == ("Dekat masjid Al-Ikhlas", "081234567890")


async def test_the_phone_is_not_asked_of_someone_who_may_not_be_contacted(
        reporter: Person) -> None:
    await reporter.reaches(form.CONTACT)
    await reporter.picks(form.NO)
    await reporter.picks(form.EXTRA, "edit")
    await reporter.sends("near the mosque")

    draft = await reporter.draft()
    assert draft is not None and draft.step == form.REVIEW
    assert form.PHONE not in draft.answers


async def test_the_story_is_finished_by_the_next_answer(reporter_id: Person) -> None:
    await reporter_id.reaches(form.STORY)
    first = reporter_id.last_with_buttons()
    assert first.button_texts()[0] == ID("Skip the story »")

    await reporter_id.sends("Bagian pertama.")
    await reporter_id.sends_photo()
    story = reporter_id.last_with_buttons()
    assert ID("Yes, through this bot") in story.button_texts()  # the next question's buttons
    assert ID("Done ✔") not in story.button_texts()
    assert "1 pesan, 1 file" in story.text

    await reporter_id.picks(form.YES)
    draft = await reporter_id.draft()
    assert draft is not None and draft.step == form.SAFE_TIME
    assert draft.answers[form.STORY]["texts"] == ["Bagian pertama."]
    assert draft.answers[form.CONTACT] == form.YES


async def test_a_story_started_again_is_empty(reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends("Salah tulis.")
    await reporter.presses("Start the story again")
    await reporter.sends("Yang benar.")
    await reporter.picks(form.NO)

    draft = await reporter.draft()
    assert draft is not None and draft.answers[form.STORY]["texts"] == ["Yang benar."]


# ---- speaking to the victim ---------------------------------------------------------------------

PERSONAL = (form.VICTIM_CATEGORY, form.VICTIM_AGE, form.VICTIM_COUNT, form.TYPES,
            form.PERPETRATOR)


async def test_after_saya_korbannya_the_questions_speak_to_anda(reporter_id: Person) -> None:
    await reporter_id.reaches(form.ROLE)
    await reporter_id.presses(ID("I am the victim"))
    asked = {}
    for step in PERSONAL:
        await reporter_id.reaches(step)
        asked[step] = reporter_id.last_with_buttons().text.split("\n")[0]
    for step, question in asked.items():
        assert "Anda" in question, (step, question)
        assert question != ID(QUESTIONS[step]).split("\n")[0], step


async def test_a_family_member_is_asked_about_the_victim(reporter_id: Person) -> None:
    await reporter_id.reaches(form.ROLE)
    await reporter_id.presses(ID("Family of the victim"))
    await reporter_id.reaches(form.VICTIM_AGE)
    assert reporter_id.last_with_buttons().text.startswith("Berapa umur korban?")


# ---- SIMFONI-PPA words with an example ----------------------------------------------------------

@pytest.mark.parametrize(("step", "shown"), [
    (form.TYPES, [("Fisik", "dipukul"), ("Psikis", "dihina, diancam"),
                  ("Seksual", "dipaksa berhubungan badan"), ("Eksploitasi", "dipaksa bekerja"),
                  ("Perdagangan Orang (TPPO)", "dijual"),
                  ("Penelantaran", "tidak diberi makan, tidak diurus")]),
    (form.PLACE, [("Rumah Tangga", "di rumah"), ("Fasilitas Umum", "jalan, pasar"),
                  ("Lembaga Pendidikan Kilat", "kursus")]),
    (form.PERPETRATOR, [("Orang Tua", "tiri"), ("Keluarga/Saudara", "paman")]),
])
async def test_every_simfoni_word_comes_with_an_example(reporter_id: Person, step: str,
                                                        shown: list[tuple[str, str]]) -> None:
    await reporter_id.reaches(step)
    question = reporter_id.last_with_buttons().text
    for term, example in shown:
        line = next((line for line in question.splitlines() if f"<b>{term}</b>" in line), "")
        assert example in line, f"{term} without its example in {question!r}"


def test_every_violence_type_but_other_has_an_example() -> None:
    types = {value for value, _ in form.OPTIONS[form.TYPES]} - {"lainnya"}
    assert set(form.EXAMPLES[form.TYPES]) == types


# ---- answers typed as people type them ----------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("8", {"band": "6-12", "age": 8}),
    ("8 thn", {"band": "6-12", "age": 8}),
    ("8thn", {"band": "6-12", "age": 8}),
    ("kira2 8", {"band": "6-12", "age": 8}),
    ("delapan", {"band": "6-12", "age": 8}),
    ("sekitar 8 tahun", {"band": "6-12", "age": 8}),
    ("umurnya 8 tahunan", {"band": "6-12", "age": 8}),
    ("lima belas", {"band": "13-17", "age": 15}),
    ("8 atau 9", {"band": "6-12", "age": None}),
    ("balita", {"band": "0-5", "age": None}),
    ("belum tahu", {"band": None, "age": None}),
    ("gak tau", {"band": None, "age": None}),
    ("msh kecil", {"band": None, "age": None}),
])
async def test_a_childs_age_is_understood_as_people_type_it(reporter_id: Person, typed: str,
                                                            stored: dict[str, Any]) -> None:
    await reporter_id.reaches(form.VICTIM_AGE)
    await reporter_id.sends(typed)

    draft = await reporter_id.draft()
    assert draft is not None and draft.step == form.VICTIM_COUNT, reporter_id.texts_since(-2)
    assert draft.answers[form.VICTIM_AGE] == stored


@pytest.mark.parametrize(("typed", "age"), [
    ("dua puluh lima", 25), ("25an", 25), ("sekitar 40 thn", 40), ("tiga puluh tujuh", 37),
    ("sembilan puluh sembilan", 99), ("thirty", 30), ("twenty five years", 25),
])
def test_a_womans_age_in_words_and_numbers(typed: str, age: int) -> None:
    assert form.parse_age(typed, form.WOMAN)["age"] == age


@pytest.mark.parametrize(("typed", "count"), [
    ("2", 2), ("2 org", 2), ("dua", 2), ("dua orang", 2), ("berdua", 2), ("sendiri", 1),
    ("tiga orang termasuk saya", 3), ("sebelas", 11),
])
def test_a_count_in_words_and_numbers(typed: str, count: int) -> None:
    assert form.parse_count(typed) == count


async def test_not_sure_is_a_button_too_and_shows_in_the_review(bot: Harness,
                                                               reporter_id: Person) -> None:
    await reporter_id.reaches(form.VICTIM_AGE)
    await reporter_id.presses(ID("Not sure"))
    await reporter_id.reaches(form.REVIEW)
    assert "Anak perempuan, Belum tahu" in reporter_id.last_with_buttons().text
    await reporter_id.picks("", "submit")
    [case] = await bot.cases()
    assert (case.victim_age_band, case.victim_age) == (None, None)


@pytest.mark.parametrize(("step", "typed", "value"), [
    (form.DANGER, "gak", form.NO),
    (form.DANGER, "tdk ada", form.NO),
    (form.DANGER, "iyaa tolong", form.YES),
    (form.CONSENT, "ya setuju", "agree"),
    (form.ROLE, "sy sendiri", "victim"),
    (form.ROLE, "kluarga", "family"),
    (form.ROLE, "tetanga", "witness"),
    (form.VICTIM_CATEGORY, "anak cewek", form.CHILD),
    (form.VICTIM_CATEGORY, "istri", form.WOMAN),
    (form.PLACE, "di rmh", "rumah_tangga"),
    (form.PLACE, "kursus", "lembaga_pendidikan_kilat"),
    (form.WHEN, "kmrn", "week"),
    (form.WHEN, "msh terjadi sampe skrg", "ongoing"),
    (form.PERPETRATOR, "om nya", "keluarga"),
    (form.PERPETRATOR, "bapak tiri", "orang_tua"),
    (form.PERPETRATOR, "teman kerja", "rekan_kerja"),
    (form.PERPETRATOR, "gak tau", "tidak_tahu"),
    (form.CONTACT, "boleh", form.YES),
    (form.SAFE_TIME, "kpn aja", "any"),
    (form.SAFE_TIME, "sore", "evening"),
])
async def test_informal_words_answer_a_question(reporter_id: Person, step: str, typed: str,
                                                value: str) -> None:
    await reporter_id.reaches(step)
    await reporter_id.sends(typed)

    draft = await reporter_id.draft()
    assert draft is not None and draft.answers.get(step) == value, reporter_id.texts_since(-2)


async def test_typed_kinds_of_violence_are_ticked(reporter_id: Person) -> None:
    await reporter_id.reaches(form.TYPES)
    await reporter_id.sends("dipukul dan dihina")

    assert "✅ Fisik" in reporter_id.last_with_buttons().button_texts()
    assert "✅ Psikis" in reporter_id.last_with_buttons().button_texts()
    await reporter_id.presses(ID("Done ✔"))
    draft = await reporter_id.draft()
    assert draft is not None and draft.answers[form.TYPES] == ["fisik", "psikis"]


async def test_a_village_typed_with_filler_words_is_found(reporter_id: Person) -> None:
    await reporter_id.reaches(form.KECAMATAN)
    await reporter_id.sends("di desa pondong baru")
    await reporter_id.presses("Pondong Baru")

    draft = await reporter_id.draft()
    assert draft is not None and draft.answers[form.VILLAGE] == "64.01.05.2009"


async def test_an_answer_that_names_two_choices_asks_for_the_buttons(reporter_id: Person
                                                                     ) -> None:
    kept = await reporter_id.reaches(form.WHEN)
    await reporter_id.sends("hari ini atau kemarin")
    assert await reporter_id.draft() == kept
    assert "tombol" in reporter_id.texts_since(-2)


# ---- keyboards that fit a small phone -----------------------------------------------------------

@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("role", ["victim", "family"])
async def test_no_keyboard_of_the_report_has_more_than_six_rows(bot: Harness, language: str,
                                                                role: str) -> None:
    person = Person(bot, user_id=5_560_100 + len(language) + len(role), language_code=language)
    await person.sends("/lapor")
    seen = set()
    while True:
        draft = await person.draft()
        assert draft is not None
        rows = person.last_with_buttons().reply_markup["inline_keyboard"]  # type: ignore[index]
        assert len(rows) <= MAX_ROWS, (draft.step, person.last_with_buttons().button_texts())
        assert all(len(row) <= 4 for row in rows)
        seen.add(draft.step)
        if draft.step == form.REVIEW:
            break
        if draft.step == form.ROLE:
            await person.picks(role)
        elif draft.step == form.KECAMATAN:
            await person.picks("64.01.06")  # Long Ikis: 26 villages, in pages
        elif draft.step == form.VILLAGE:
            await person.presses("▶")  # the second page
            rows = person.last_with_buttons().reply_markup[  # type: ignore[index]
                "inline_keyboard"]
            assert len(rows) <= MAX_ROWS
            await person.presses(person.last_with_buttons().button_texts()[0])
        else:
            await person.answers_plainly(draft.step)
    await person.picks(form.EXTRA, "edit")
    for _step in (form.LANDMARK, form.PHONE):
        rows = person.last_with_buttons().reply_markup["inline_keyboard"]  # type: ignore[index]
        assert len(rows) <= MAX_ROWS
        await person.picks("", "skip")
    assert seen >= set(form.ORDER) - {form.DANGER_GO, form.LANDMARK, form.PHONE}


def test_the_english_perpetrator_list_is_two_columns() -> None:
    from bot.views.report import _choices

    view = _view(form.PERPETRATOR)
    rows = _choices(view, form.PERPETRATOR, EN)
    assert len(rows) == 5 and all(len(row) == 2 for row in rows)


def _view(step: str) -> Any:
    from bot.services.reports import DraftView

    return DraftView(1, "0a1b2c3d", step, {}, False, False, False)


# ---- commands in both languages -----------------------------------------------------------------

@pytest.mark.parametrize("language", ["id", "en"])
async def test_cancel_help_and_start_work_in_both_languages(bot: Harness, language: str) -> None:
    person = Person(bot, user_id=5_560_200 + len(language), language_code=language)
    _ = translator(language)
    await person.sends("/start")
    assert _("Everything you tell us is confidential.") in person.last_text()
    await person.sends("/help")
    assert "112" in person.last_text()
    await person.sends("/lapor")
    await person.sends("/cancel")
    assert _("Cancel this report? Your answers will be deleted.") in person.last_text()
    await person.presses(_("Yes, delete my answers"))
    assert await person.draft() is None


# ---- a shared location --------------------------------------------------------------------------

async def test_a_location_at_the_village_question_is_kept_and_the_village_still_asked(
        bot: Harness, reporter_id: Person) -> None:
    await reporter_id.reaches(form.KECAMATAN)
    await reporter_id.sends_location()

    assert "Lokasi ini kami simpan" in reporter_id.texts_since(-2)
    draft = await reporter_id.draft()
    assert draft is not None and draft.step == form.KECAMATAN  # no coordinates: choose still
    assert draft.answers[form.LOCATION] == {"lat": -1.9086, "lon": 116.1936}
    await reporter_id.reaches(form.REVIEW)
    assert "📍 lokasi dikirim" in reporter_id.last_with_buttons().text
    await reporter_id.picks("", "submit")

    [case] = await bot.cases()
    assert case.location == "-1.9086,116.1936"
    async with bot.runtime.sessions() as session:
        from sqlalchemy import text

        stored = await session.scalar(text("SELECT location FROM cases"))
    assert stored and "116.19" not in stored  # encrypted at rest


async def test_a_location_at_the_landmark_question_answers_it(bot: Harness,
                                                              reporter: Person) -> None:
    await reporter.reaches(form.LANDMARK)
    await reporter.sends_location()

    draft = await reporter.draft()
    assert draft is not None and draft.step == form.PHONE
    assert draft.answers[form.LANDMARK] is None and form.LOCATION in draft.answers


async def test_a_location_elsewhere_is_not_used(reporter: Person) -> None:
    kept = await reporter.reaches(form.WHEN)
    await reporter.sends_location()
    assert await reporter.draft() == kept
    assert "cannot use that here" in reporter.texts_since(-2)


async def test_the_nearest_villages_are_offered_only_with_licensed_coordinates(
        bot: Harness, reporter_id: Person) -> None:
    """The shipped region data has no coordinates (none may be invented), so nothing is
    suggested. Given coordinates (here a made-up grid, only for this test), the nearest
    villages are offered to confirm."""
    regions = bot.runtime.regions
    assert regions.coordinates == {}
    assert regions.nearest_villages(-1.9086, 116.1936) == []

    regions.coordinates = {"64.01.05.2009": (0.0, 0.0), "64.01.05.2006": (0.0, 0.05),
                           "64.01.06.2011": (1.0, 1.0)}
    try:
        await reporter_id.reaches(form.KECAMATAN)
        await reporter_id.sends_location(latitude=0.001, longitude=0.001)
        offer = reporter_id.last_with_buttons()
        assert "desa di dekat lokasi" in offer.text
        assert offer.button_texts()[:2] == ["Pondong Baru (Kuaro)", "Modang (Kuaro)"]
        await reporter_id.presses("Pondong Baru")
        draft = await reporter_id.draft()
        assert draft is not None and draft.answers[form.VILLAGE] == "64.01.05.2009"
    finally:
        regions.coordinates = {}


# ---- reading level ------------------------------------------------------------------------------

# Every module whose texts a reporter reads (the report, the reporter's commands and rights, the
# relay and status news, the flood and error notices, the reporter's command menu).
REPORTER_FACING = ("bot/domain/form.py", "bot/views/report.py", "handlers/report.py",
                   "handlers/reporter_info.py", "handlers/privacy.py", "handlers/relay.py",
                   "handlers/limits.py", "handlers/errors.py", "bot/jobs.py", "bot/menus.py",
                   "bot/views/alerts.py", "bot/views/cases.py")
MOST_WORDS = 25
TAG = re.compile(r"<[^>]+>")


def sentences(text: str) -> list[str]:
    text = re.sub(r"\{[^{}]*\}", "X", TAG.sub("", text))
    return [part for part in re.split(r"(?<=[.!?:;])\s+|\n+", text) if part.strip()]


def long_sentences() -> list[str]:
    found = []
    for path in REPORTER_FACING:
        for lineno, message, _comments, _context in extract_from_file(
                "python", str(ROOT / path), keywords={"_": None, "N_": None}):
            if not isinstance(message, str):
                continue
            for sentence in sentences(ID(message)):
                words = re.findall(r"[\w/@.+-]+", sentence)
                if len(words) > MOST_WORDS:
                    found.append(f"{path}:{lineno} ({len(words)} words) {sentence}")
    return found


def test_no_indonesian_sentence_a_reporter_reads_is_over_25_words() -> None:
    found = long_sentences()
    assert not found, "shorten these sentences:\n" + "\n".join(found)


def test_the_reading_level_check_sees_a_long_sentence() -> None:
    long = " ".join(["kata"] * 26) + "."
    assert sentences(long) == [long] and len(re.findall(r"[\w/@.+-]+", long)) == 26
    assert len(sentences("Satu. Dua? Tiga\nempat")) == 4


async def test_the_location_reaches_only_the_details_never_an_alert(bot: Harness,
                                                                   reporter: Person) -> None:
    from tests.responder_people import KUARO, register_officer

    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    await reporter.reaches(form.KECAMATAN)
    await reporter.sends_location()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    await bot.deliver_outbox()
    alert = next(m for m in officer.inbox() if m.buttons())
    assert "116.19" not in alert.text and "openstreetmap" not in alert.text

    await officer.presses_data(next(b["callback_data"] for b in alert.buttons()
                                    if "Detail" in b["text"]), alert)
    await bot.deliver_outbox()
    details = next(m for m in reversed(officer.inbox()) if m.text.startswith("📋"))
    assert "Lokasi yang dikirim pelapor" in details.text and "-1.9086, 116.1936" in details.text
    assert "openstreetmap.org/?mlat=-1.9086" in details.text
