"""The reporter's conversation (DESIGN §3): from /start to a stored case with a reference."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.callback_data import ReportPress, parse
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault
from bot.domain import form
from bot.domain.references import ALPHABET as REFERENCE_ALPHABET
from bot.domain.references import new_reference
from bot.i18n import translator
from bot.services.reports import DraftView
from bot.views.report import MAX_ROWS, VILLAGES_PER_PAGE
from tests.conftest import TOKEN
from tests.harness import Harness, Person, reference_in

ID = translator("id")
EN = translator("en")
HOTLINE_NUMBERS = ("112", "110", "129", "08111-129-129")
REFERENCE_SHAPE = re.compile(r"^PSR-26-[A-HJ-NP-Z2-9]{6}$")


def asked(draft: DraftView) -> set[str]:
    """The steps whose buttons the question for ``draft`` shows."""
    return form.asked_steps(draft.step, draft.answers)


def steps_of(message_buttons: list[dict[str, str]]) -> set[str]:
    """The report steps the buttons of a message answer."""
    found = set()
    for button in message_buttons:
        pressed = parse(button["callback_data"])
        if isinstance(pressed, ReportPress):
            found.add(pressed.step)
    return found


async def harness_with(settings: Settings, clock: FakeClock, vault: Vault, **changes: object
                       ) -> Harness:
    """A second bot on the same database with some configuration changed."""
    changed = load_settings(telegram={"token": TOKEN},
                            database={"url": settings.database.url}, **changes)
    return await Harness(settings=changed, clock=clock, vault=vault).start()


# --- a whole report ------------------------------------------------------------------------------

async def test_a_full_report_in_english_is_stored_as_a_case(bot: Harness, reporter: Person
                                                           ) -> None:
    reference = await reporter.completes_report(phone="0812 3456 7890")

    done = reporter.last_text()
    assert "Thank you" in done and reference in done
    assert "What happens next" in done and "/status" in done
    [case] = await bot.cases()
    assert case.reference == reference
    assert case.language == "en"
    assert case.priority == "high"  # a child victim
    assert (case.reporter_role, case.victim_category, case.victim_sex) == ("family", "child", "f")
    assert (case.victim_age_band, case.victim_count) == ("6-12", 1)
    assert case.violence_types == ["fisik"]
    assert (case.kecamatan_code, case.village_code) == ("64.01.05", "64.01.05.2009")
    assert (case.place, case.landmark, case.occurred) == ("rumah_tangga", None, "week")
    assert case.perpetrator == "tetangga"
    assert case.narrative == "Tetangga memukul anaknya setiap malam."
    assert (case.contact_allowed, case.phone, case.contact_time) == (True, "081234567890", "any")
    assert case.created_at == bot.clock.now() and case.created_at.tzinfo == UTC
    assert await reporter.draft() is None


async def test_a_full_report_in_indonesian(bot: Harness, reporter_id: Person) -> None:
    await reporter_id.sends("/lapor")

    danger = reporter_id.last_message()
    assert "bahaya" in danger.text.lower()
    assert ID("No") in danger.button_texts()
    await reporter_id.sends("tidak")  # typed answers are understood too
    assert ID("I agree, continue") in reporter_id.last_with_buttons().button_texts()
    await reporter_id.picks("agree")
    await reporter_id.picks("witness")
    await reporter_id.picks(form.WOMAN)
    await reporter_id.sends("30")  # an exact age
    await reporter_id.picks("1")
    await reporter_id.picks("psikis", "toggle")
    await reporter_id.picks("", "done")
    await reporter_id.sends("pondang baru")  # an old spelling, at the kecamatan question
    await reporter_id.presses("Pondong Baru")
    await reporter_id.picks("rumah_tangga")
    await reporter_id.picks("month")
    await reporter_id.picks("suami_istri")
    await reporter_id.sends("Suami saya sering membentak dan mengancam saya.")
    await reporter_id.picks(form.NO)  # the contact question's answer also ends the story
    await reporter_id.picks(form.EXTRA, "edit")  # "Tambah keterangan": the landmark
    await reporter_id.sends("Dekat masjid")

    review = reporter_id.last_message()
    assert ID("Please check your report") in review.text
    assert "Pondong Baru, Kuaro" in review.text and "Dekat masjid" in review.text
    await reporter_id.picks("", "submit")

    done = reporter_id.last_text()
    reference = reference_in(done)
    assert ID("Thank you. Your report has been sent.") in done
    assert "Thank you" not in done
    [case] = await bot.cases()
    assert case.reference == reference and case.language == "id"
    assert (case.victim_category, case.victim_sex, case.victim_age) == ("woman", "f", 30)
    assert case.victim_age_band == "25-44"
    assert case.priority == "normal"
    assert case.landmark == "Dekat masjid" and case.contact_allowed is False


# --- safety first --------------------------------------------------------------------------------

async def test_yes_to_danger_shows_the_hotlines_at_once(bot: Harness, reporter_id: Person
                                                        ) -> None:
    await reporter_id.sends("/lapor")
    await reporter_id.picks(form.YES)

    hotlines = reporter_id.inbox()[-2].text  # the question became the numbers
    for number in HOTLINE_NUMBERS:
        assert number in hotlines
    asks_to_continue = reporter_id.last_message()
    assert asks_to_continue.button_texts()[:2] == [ID("Continue the report"), ID("Stop for now")]
    draft = await reporter_id.draft()
    assert draft is not None and draft.urgent


async def test_a_typed_yes_to_danger_also_shows_the_hotlines(reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.sends("yes")

    assert all(number in reporter.texts_since(-2) for number in HOTLINE_NUMBERS)
    assert "urgent" in reporter.last_text()


async def test_the_districts_own_hotline_from_config_is_shown(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    hotlines = [{"name": "Darurat", "number": "112"},
                {"name": "UPTD PPA Paser", "number": "0813-5000-1234"}]
    bot = await harness_with(settings, clock, vault, hotlines=hotlines)
    try:
        person = Person(bot, user_id=5_550_101, language_code="en")
        await person.sends("/lapor")
        await person.presses("Yes, someone")
        assert "UPTD PPA Paser: <b>0813-5000-1234</b>" in person.inbox()[-2].text
    finally:
        await bot.stop()


async def test_a_reporter_in_danger_may_stop_and_come_back(reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.presses("Yes, someone")
    await reporter.presses("Stop for now")
    assert "Nothing has been sent" in reporter.last_text() and "112" in reporter.last_text()
    await reporter.presses("Just keep it")

    assert "Kept. Nothing was sent" in reporter.last_text() and "112" in reporter.last_text()
    await reporter.sends("/lapor")
    assert "unfinished report" in reporter.texts_since(-2)
    draft = await reporter.draft()
    assert draft is not None and draft.urgent and draft.step == form.CONSENT


async def test_declining_consent_stores_nothing(reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.presses("No")
    await reporter.presses("I do not agree")

    assert "Nothing has been stored" in reporter.last_text()
    assert await reporter.draft() is None


@pytest.mark.parametrize(("danger", "victim", "types", "expected"), [
    (True, "woman", ("Physical",), "urgent"),
    (True, "child", ("Sexual",), "urgent"),
    (False, "woman", ("Sexual",), "high"),
    (False, "woman", ("Trafficking",), "high"),
    (False, "child", ("Neglect",), "high"),
    (False, "woman", ("Physical", "Psychological"), "normal"),
])
async def test_priority_follows_danger_sexual_violence_trafficking_and_children(
        bot: Harness, reporter: Person, danger: bool, victim: str, types: tuple[str, ...],
        expected: str) -> None:
    await reporter.completes_report(danger=danger, victim=victim, types=types)

    [case] = await bot.cases()
    assert case.priority == expected
    assert case.urgent is danger


# --- moving around: back, edit, cancel, resume ---------------------------------------------------

def test_the_first_question_is_the_only_one_without_a_way_back() -> None:
    assert form.previous_step(form.DANGER, {}) is None
    assert form.previous_step(form.DANGER_GO, {form.DANGER: form.YES}) == form.DANGER


async def test_the_danger_question_has_no_back_button(reporter: Person) -> None:
    await reporter.sends("/lapor")
    assert EN("« Back") not in reporter.last_message().button_texts()


@pytest.mark.parametrize("step", [s for s in form.ORDER if s != form.DANGER])
async def test_every_question_has_a_back_button_that_works(reporter: Person, step: str) -> None:
    before = await reporter.reaches(step)
    question = reporter.last_with_buttons()
    assert steps_of(question.buttons()) == {step}

    await reporter.presses("« Back")

    after = await reporter.draft()
    assert after is not None
    assert after.step == form.previous_step(step, before.answers)
    assert after.answers == before.answers  # going back loses nothing
    assert steps_of(reporter.last_with_buttons().buttons()) == asked(after)
    # Answering again comes forward to the same question.
    await reporter.answers_plainly(after.step, danger=step == form.DANGER_GO)
    again = await reporter.draft()
    assert again is not None and again.step == step


EDITS: dict[str, tuple[list[tuple[str, str]], dict[str, object]]] = {
    # section: (what the reporter does, the answers that change)
    form.ROLE: ([("choose", "witness")], {form.ROLE: "witness"}),
    form.VICTIM_CATEGORY: ([("choose", form.WOMAN), ("choose", "25-44"), ("choose", "2")],
                           {form.VICTIM_CATEGORY: form.WOMAN, form.VICTIM_SEX: "f",
                            form.VICTIM_AGE: {"band": "25-44", "age": None},
                            form.VICTIM_COUNT: 2}),
    form.TYPES: ([("toggle", "fisik"), ("toggle", "psikis"), ("toggle", "seksual"), ("done", "")],
                 {form.TYPES: ["psikis", "seksual"]}),  # "fisik" was ticked: pressed, it goes
    form.KECAMATAN: ([("choose", "64.01.06"), ("choose", "64.01.06.2025")],
                     {form.KECAMATAN: "64.01.06", form.VILLAGE: "64.01.06.2025"}),
    form.PLACE: ([("choose", "sekolah")], {form.PLACE: "sekolah"}),
    # "Tambah keterangan": the landmark, then the phone number (the plain answers allow contact).
    form.EXTRA: ([("text", "dekat masjid"), ("skip", "")],
                 {form.EXTRA: True, form.LANDMARK: "dekat masjid", form.PHONE: None}),
    form.WHEN: ([("choose", "today")], {form.WHEN: "today"}),
    form.PERPETRATOR: ([("choose", "guru")], {form.PERPETRATOR: "guru"}),
    form.STORY: ([("text", "Dan kemarin lagi."), ("done", "")],
                 {form.STORY: {"texts": ["Tetangga memukul anaknya setiap malam.",
                                         "Dan kemarin lagi."], "media": []}}),
    form.CONTACT: ([("choose", form.NO)], {form.CONTACT: form.NO}),
}


def test_every_section_of_the_review_is_covered() -> None:
    assert set(EDITS) == set(form.SECTIONS)


@pytest.mark.parametrize("section", list(EDITS))
async def test_editing_a_section_returns_to_the_review_with_other_answers_intact(
        reporter: Person, section: str) -> None:
    before = await reporter.reaches(form.REVIEW)
    actions, changes = EDITS[section]

    await reporter.picks(section, "edit")
    for action, value in actions:
        if action == "text":
            await reporter.sends(value)
        else:
            await reporter.picks(value, action)

    after = await reporter.draft()
    assert after is not None and after.step == form.REVIEW
    expected = {**before.answers, **changes}
    if section == form.CONTACT:  # "no contact" makes the phone and the safe time meaningless
        expected.pop(form.SAFE_TIME)
    assert after.answers == expected
    assert "Please check your report" in reporter.last_with_buttons().text


async def test_the_review_shows_every_answer(reporter: Person) -> None:
    await reporter.reaches(form.REVIEW)

    review = reporter.last_with_buttons().text
    for shown in ("Family of the victim", "Girl (under 18), 6–12 years",
                  "Physical", "Modang, Kuaro", "Household", "This week", "Neighbour",
                  "1 message(s), 0 file(s)", "Yes, through this bot", "Any time"):
        assert shown in review
    assert "Send ✉️" in reporter.last_with_buttons().button_texts()


async def test_cancel_asks_first_and_discards_only_after_confirmation(reporter: Person) -> None:
    kept = await reporter.reaches(form.VICTIM_CATEGORY)

    await reporter.sends("/batal")
    assert "Cancel this report?" in reporter.last_text()
    assert await reporter.draft() == kept
    await reporter.presses("No, continue")
    assert await reporter.draft() == kept
    assert steps_of(reporter.last_with_buttons().buttons()) == {form.VICTIM_CATEGORY}

    await reporter.sends("/batal")
    await reporter.presses("Yes, delete")
    assert await reporter.draft() is None
    assert "cancelled" in reporter.last_text()


async def test_an_old_cancel_button_does_not_delete_a_newer_report(reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.sends("/batal")
    old_message, old_yes = reporter.button_data("Yes, delete")
    await reporter.presses("Yes, delete")
    await reporter.sends("/lapor")
    newer = await reporter.draft()

    await reporter.presses_data(old_yes, old_message)

    assert await reporter.draft() == newer


async def test_cancel_without_a_report(reporter: Person) -> None:
    await reporter.sends("/batal")
    assert "no report in progress" in reporter.last_text()


async def test_start_greets_in_two_lines_and_offers_a_report(reporter: Person) -> None:
    await reporter.sends("/start")

    greeting = reporter.last_message()
    assert len(greeting.text.splitlines()) == 2
    assert "confidential" in greeting.text
    await reporter.presses("Make a report")
    assert "in danger" in reporter.last_text()


async def test_a_reporter_who_returns_after_days_is_greeted_with_their_draft(
        bot: Harness, reporter: Person) -> None:
    kept = await reporter.reaches(form.PLACE)
    bot.clock.advance(days=2)

    await reporter.sends("/start")

    assert "unfinished report" in reporter.texts_since(-2)
    assert steps_of(reporter.last_with_buttons().buttons()) == {form.PLACE}
    assert await reporter.draft() == kept
    await reporter.picks("sekolah")
    after = await reporter.draft()
    assert after is not None and after.step == form.WHEN


async def test_lapor_resumes_rather_than_starting_over(reporter: Person) -> None:
    kept = await reporter.reaches(form.WHEN)
    await reporter.sends("/lapor")
    assert await reporter.draft() == kept
    assert steps_of(reporter.last_with_buttons().buttons()) == {form.WHEN}


# --- where: kecamatan, village pages, typed names ------------------------------------------------

async def test_villages_come_in_pages_that_fit_a_phone(reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)
    await reporter.presses("Long Ikis")

    seen: list[str] = []
    pages = 0
    while True:
        page = reporter.last_with_buttons()
        villages = [b for b in page.buttons()
                    if parse(b["callback_data"]).action == "choose"]  # type: ignore[union-attr]
        assert 0 < len(villages) <= VILLAGES_PER_PAGE <= 10
        rows = page.reply_markup["inline_keyboard"]  # type: ignore[index]
        assert all(len(row) <= 4 for row in rows) and len(rows) <= MAX_ROWS
        seen += [b["text"] for b in villages]
        pages += 1
        if "▶" not in page.button_texts():
            break
        await reporter.presses("▶")
    assert pages == 3  # 26 villages, ten a page
    assert len(seen) == len(set(seen)) == 26
    await reporter.presses("Tajur")
    draft = await reporter.draft()
    assert draft is not None and draft.answers[form.VILLAGE] == "64.01.06.2004"
    assert draft.step == form.PLACE


async def test_a_village_is_found_by_typing_its_name(reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)
    await reporter.presses("Kuaro")
    await reporter.sends("pondang baru")

    assert "Did you mean" in reporter.last_text()
    await reporter.presses("Pondong Baru")
    draft = await reporter.draft()
    assert draft is not None and draft.answers[form.VILLAGE] == "64.01.05.2009"


async def test_a_village_typed_at_the_kecamatan_question_answers_both(reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)
    await reporter.sends("Tampakan")  # an old spelling
    await reporter.presses("(Batu Engau)")

    draft = await reporter.draft()
    assert draft is not None and draft.step == form.PLACE
    assert (draft.answers[form.KECAMATAN], draft.answers[form.VILLAGE]) == \
        ("64.01.09", "64.01.09.2008")


async def test_an_unknown_place_gets_a_kind_word_and_the_buttons_again(reporter: Person) -> None:
    kept = await reporter.reaches(form.KECAMATAN)
    await reporter.sends("Jakarta Selatan")

    assert "could not find that place" in reporter.texts_since(-2)
    assert await reporter.draft() == kept
    assert steps_of(reporter.last_with_buttons().buttons()) == {form.KECAMATAN}


# --- evidence ------------------------------------------------------------------------------------

async def test_evidence_is_kept_as_file_ids_with_kind_size_and_caption(
        bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends("Ini ceritanya.")
    await reporter.sends_photo(caption="luka di lengan", size=120_000, file_id="PHOTO-A")
    await reporter.sends_voice(file_id="VOICE-B", size=30_000)
    await reporter.sends_video(file_id="VIDEO-C", size=3_000_000, caption="rekaman")
    await reporter.sends_document(file_id="DOC-D", size=90_000)
    assert "1 message(s), 4 file(s)" in reporter.last_text()
    await reporter.finishes_story()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")

    [case] = await bot.cases()
    stored = [(e.kind, e.file_id, e.size, e.caption) for e in await bot.evidence(case)]
    assert stored == [("photo", "PHOTO-A", 120_000, "luka di lengan"),
                      ("voice", "VOICE-B", 30_000, None),
                      ("video", "VIDEO-C", 3_000_000, "rekaman"),
                      ("document", "DOC-D", 90_000, None)]
    assert case.narrative == "Ini ceritanya."


async def test_too_many_files_gets_a_clear_message(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    limit = bot.settings.evidence.max_items
    for number in range(limit):
        await reporter.sends_photo(file_id=f"PHOTO-{number:03d}")

    await reporter.sends_photo(file_id="PHOTO-ONE-TOO-MANY")

    assert "most files" in reporter.texts_since(-2)
    draft = await reporter.draft()
    assert draft is not None and len(draft.answers["story_pending"]["media"]) == limit


async def test_a_file_too_big_gets_a_clear_message(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    kept = await reporter.draft()

    await reporter.sends_video(size=bot.settings.evidence.max_bytes + 1)

    assert "too big" in reporter.texts_since(-2)
    assert await reporter.draft() == kept


async def test_files_are_not_taken_outside_the_story_question(reporter: Person) -> None:
    kept = await reporter.reaches(form.WHEN)
    await reporter.sends_photo()
    assert await reporter.draft() == kept
    assert steps_of(reporter.last_with_buttons().buttons()) == {form.WHEN}


# --- the reference -------------------------------------------------------------------------------

async def test_the_reference_has_prefix_year_and_six_unambiguous_characters(
        reporter: Person) -> None:
    reference = await reporter.completes_report()
    assert REFERENCE_SHAPE.match(reference)
    assert not set(reference[-6:]) & set("0O1I")


def test_references_are_random_and_use_only_the_safe_alphabet() -> None:
    drawn = [new_reference("PSR", 2026) for _ in range(300)]
    assert len(set(drawn)) == len(drawn)
    assert all(REFERENCE_SHAPE.match(r) for r in drawn)
    used = {ch for r in drawn for ch in r[-6:]}
    assert used <= set(REFERENCE_ALPHABET) and len(used) > 25  # the whole alphabet is in play
    assert not set(REFERENCE_ALPHABET) & set("0O1I")


async def test_two_reports_get_different_references(bot: Harness, reporter: Person) -> None:
    first = await reporter.completes_report()
    bot.clock.advance(minutes=5)  # a person, not a flood
    second = await reporter.completes_report()
    assert first != second
    assert [c.reference for c in await bot.cases()] == [first, second]


async def test_the_reference_prefix_comes_from_config(settings: Settings, clock: FakeClock,
                                                      vault: Vault) -> None:
    bot = await harness_with(settings, clock, vault, region={"reference_prefix": "PPA"})
    try:
        reference = await Person(bot, user_id=5_550_102, language_code="en").completes_report()
        assert reference.startswith("PPA-26-")
    finally:
        await bot.stop()


async def test_the_year_of_the_reference_is_the_local_year(bot: Harness, reporter: Person
                                                           ) -> None:
    bot.clock._now = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 WITA on 1 January
    reference = await reporter.completes_report()
    assert reference.startswith("PSR-27-")


# --- the reporter's commands ---------------------------------------------------------------------

async def test_status_lists_only_the_cases_of_the_same_account(bot: Harness, reporter: Person
                                                               ) -> None:
    reference = await reporter.completes_report()
    stranger = Person(bot, user_id=5_550_999, first_name="Budi", language_code="en")

    await stranger.sends("/status")
    assert reference not in stranger.last_text()
    assert "not sent any report" in stranger.last_text()

    await reporter.sends("/status")
    mine = reporter.last_text()
    assert reference in mine
    assert "02-03-2026" in mine  # the date in WITA
    assert "waiting for an officer" in mine


async def test_bantuan_explains_the_bot_and_lists_the_hotlines(reporter_id: Person) -> None:
    await reporter_id.sends("/bantuan")
    text = reporter_id.last_text()
    assert "/lapor" in text and "/status" in text
    for number in HOTLINE_NUMBERS:
        assert number in text


async def test_bahasa_switches_the_language(reporter: Person) -> None:
    await reporter.sends("/lapor")
    assert "in danger" in reporter.last_text()

    await reporter.sends("/bahasa")
    await reporter.presses("Bahasa Indonesia")

    assert ID("Language set to English.") in reporter.texts_since(-2)
    assert "bahaya" in reporter.last_text()  # the current question again, in Indonesian
    await reporter.sends("/bahasa")
    await reporter.presses("English")
    assert "Language set to English." in reporter.texts_since(-2)
    assert "in danger" in reporter.last_text()


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "in danger"), ("en-GB", "in danger"), ("id", "bahaya"), (None, "bahaya"),
    ("ms", "bahaya"),
])
async def test_the_language_comes_from_telegram(bot: Harness, code: str | None, expected: str
                                                ) -> None:
    person = Person(bot, user_id=5_551_000 + len(code or ""), language_code=code)
    await person.sends("/lapor")
    assert expected in person.last_text()


async def test_an_age_and_a_count_may_be_typed_as_people_write_them(reporter_id: Person) -> None:
    await reporter_id.reaches(form.VICTIM_AGE)
    await reporter_id.sends("15 tahun")
    await reporter_id.sends("2 orang")

    draft = await reporter_id.draft()
    assert draft is not None and draft.step == form.TYPES
    assert draft.answers[form.VICTIM_AGE] == {"band": "13-17", "age": 15}
    assert draft.answers[form.VICTIM_COUNT] == 2


async def test_editing_the_types_starts_from_the_earlier_choice(reporter: Person) -> None:
    await reporter.reaches(form.REVIEW)
    await reporter.picks(form.TYPES, "edit")

    assert "✅ Physical" in reporter.last_with_buttons().button_texts()
    await reporter.picks("", "done")
    draft = await reporter.draft()
    assert draft is not None and draft.step == form.REVIEW
    assert draft.answers[form.TYPES] == ["fisik"]
