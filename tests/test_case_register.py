"""The case register's record (issue 13): a case holds its victims and perpetrators with the
SIMFONI-PPA fields; a report through the bot creates them from what the reporter told; the
incident date, the SIMFONI-PPA place and the intake channel are kept; the old form's "Lembaga
Pendidikan" stays readable and is never passed off as a SIMFONI-PPA place."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from bot.domain import register
from models import Case, Perpetrator, Victim, VictimPerpetrator
from tests.case_factory import add_cases, add_officer, new_case, wita
from tests.case_work import presses_case
from tests.harness import Harness, Person, reference_in


async def people_of(bot: Harness, reference: str) -> tuple[Case, list[Victim], list[Any]]:
    """The case, its victims by number, and (victim number, perpetrator number, sex, age,
    relation) for every link."""
    async with bot.runtime.sessions() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        victims = list(await session.scalars(
            select(Victim).where(Victim.case_id == case.id).order_by(Victim.number)))
        links = list(await session.execute(
            select(Victim.number, Perpetrator.number, Perpetrator.sex, Perpetrator.age,
                   VictimPerpetrator.relation)
            .join(VictimPerpetrator, VictimPerpetrator.victim_id == Victim.id)
            .join(Perpetrator, Perpetrator.id == VictimPerpetrator.perpetrator_id)
            .where(Victim.case_id == case.id).order_by(Victim.number, Perpetrator.number)))
    return case, victims, [tuple(link) for link in links]


async def reports(person: Person, *, victim: list[str], count: str, types: list[str],
                  when: str, perpetrator: str, place: str = "Household",
                  typed_age: str | None = None) -> str:
    """A report in English with the given answers; returns its reference."""
    await person.sends("/lapor")
    for label in ("No", "I agree", "Family of the victim", *victim):
        await person.presses(label)
    if typed_age is not None:
        await person.sends(typed_age)
    await person.presses(count)
    for label in (*types, "Done"):
        await person.presses(label)
    await person.sends("Pondong Baru")
    for label in ("Pondong Baru", place, when, perpetrator):
        await person.presses(label)
    await person.sends("Ada kekerasan di rumah sebelah.")
    for label in ("No, do not contact me", "Send"):  # the button ends the story
        await person.presses(label)
    return reference_in(person.last_text())


async def test_a_reported_case_holds_each_victim_and_the_perpetrator_the_reporter_told_of(
        bot: Harness, reporter: Person) -> None:
    reference = await reports(reporter, victim=["Boy (under 18)"], typed_age="9",
                              count="3", types=["Physical", "Sexual"], when="Today",
                              perpetrator="Teacher", place="School")
    case, victims, links = await people_of(bot, reference)
    assert case.channel == "bot" and case.import_batch is None
    assert case.place == "sekolah" and case.victim_count == 3
    assert (case.incident_date, case.incident_precision) == (bot.clock.now().astimezone(
        bot.settings.tz).date(), "day")
    first, second, third = victims
    assert (first.number, first.sex, first.age, first.age_band, first.is_child) == (
        1, "m", 9, "6-12", True)
    assert first.violence == ["fisik", "seksual"]
    # The others: children who suffered the same, whose sex and age were not told.
    for other in (second, third):
        assert (other.sex, other.age, other.age_band, other.is_child) == (None, None, None, True)
        assert other.violence == ["fisik", "seksual"]
    for victim in victims:  # SIMFONI-PPA's other fields: not known yet
        assert (victim.education, victim.occupation, victim.marital_status,
                victim.disability, victim.services) == (None, None, None, None, [])
    # One perpetrator, sex and age not known, the teacher of all three.
    assert links == [(1, 1, None, None, "guru"), (2, 1, None, None, "guru"),
                     (3, 1, None, None, "guru")]


async def test_a_woman_victim_is_female_and_an_unknown_perpetrator_is_stored_as_not_known(
        bot: Harness, reporter: Person) -> None:
    reference = await reports(reporter, victim=["Woman (18", "25–44"], count="1",
                              types=["Psychological"], when="Longer ago", perpetrator="Unknown")
    case, [victim], links = await people_of(bot, reference)
    assert (victim.sex, victim.age, victim.age_band, victim.is_child) == ("f", None, "25-44",
                                                                         False)
    assert links == [(1, 1, None, None, None)]  # "Unknown" is not a SIMFONI-PPA relation
    assert case.perpetrator == "tidak_tahu"  # what the reporter answered, for the card
    assert case.incident_date is None  # "longer ago": for an officer to fill in


async def test_this_month_gives_the_incident_month(bot: Harness, reporter: Person) -> None:
    reference = await reports(reporter, victim=["Woman (18", "18–24"], count="1",
                              types=["Physical"], when="This month", perpetrator="Neighbour")
    case, _victims, _links = await people_of(bot, reference)
    today = bot.clock.now().astimezone(bot.settings.tz).date()
    assert (case.incident_date, case.incident_precision) == (today.replace(day=1), "month")


def test_what_the_form_s_when_says_of_the_incident_date() -> None:
    tenth, third = date(2026, 3, 10), date(2026, 3, 3)
    assert register.incident_from_report("today", tenth) == register.IncidentDate(tenth)
    assert register.incident_from_report("week", tenth) == register.IncidentDate(
        date(2026, 3, 1), "month")
    assert register.incident_from_report("week", third) is None  # the week began in February
    for vague in ("longer", "ongoing", None):
        assert register.incident_from_report(vague, tenth) is None


def test_an_incident_date_is_a_day_a_month_or_a_year() -> None:
    assert register.parse_incident("2023-02-14").text() == "2023-02-14"
    assert register.parse_incident("14/02/2023").text() == "2023-02-14"  # as Excel saves it
    assert register.parse_incident("2023-02").text() == "2023-02"
    assert register.parse_incident("2023-02").latest() == date(2023, 2, 28)
    assert register.parse_incident("2023").latest() == date(2023, 12, 31)
    for impossible in ("2023-02-30", "2023-13", "30/02/2023", "kemarin", "2023/02/14"):
        try:
            register.parse_incident(impossible)
        except register.NotADate:
            continue
        raise AssertionError(f"{impossible!r} was read as a date")


async def test_the_form_offers_the_six_simfoni_places(reporter: Person) -> None:
    await reporter.reaches("place")
    assert reporter.last_message().button_texts()[:6] == [
        "Household", "Workplace", "School", "Public place",
        "Short-course education institution", "Other"]


async def test_a_case_with_the_old_educational_institution_stays_readable(bot: Harness) -> None:
    await add_cases(bot.runtime.sessions, new_case(
        wita(2025, 5, 1), village="Modang", place=register.LEGACY_PLACE,
        reference="PSR-25-LAMAXX"))
    await add_officer(bot.runtime.sessions, 4_300_001, "64.01", admin=True, name="Rina")
    officer = Person(bot, user_id=4_300_001, first_name="Rina", language_code="id")
    await officer.sends("/kasus PSR-25-LAMAXX")
    await presses_case(officer, "detail")
    await bot.deliver_outbox()
    assert any("Tempat: Lembaga pendidikan (pilihan lama)" in m.text for m in officer.inbox())
    assert register.simfoni_place(register.LEGACY_PLACE) is None  # never "Kilat" by itself
