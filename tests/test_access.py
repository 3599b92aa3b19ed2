"""Who may do what with a case, and who reads what of it (DESIGN §5, §6): every role × every action
and every part of a case, tried through the bot.

The tables below are the district's rule, written out; the code's table must be the same, and each
cell is tried for real: a person of that role sends the command or presses the button, and either
it is done, or they are refused politely (a command) or silently (a button they were never given),
and the refusal is in the case's history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.callback_data import CasePress, ServicePress
from bot.domain.access import (
    ACCESS,
    ACTIONS,
    ADD,
    ADMIN,
    CARD,
    CLOSE,
    DETAILS,
    EVIDENCE,
    GROUP_MEMBER,
    HANDLER,
    HELP,
    HISTORY,
    KABUPATEN_OFFICER,
    KECAMATAN_OFFICER,
    LIST,
    MESSAGES,
    NOTE,
    NOTES,
    PHONE,
    READS,
    REPLY,
    REPORT,
    REPORTER,
    ROLES,
    SERVICES,
    SHARE,
    STATUS,
    STRANGER,
    SUMMARY,
    TAKE,
    TEAM_NOTES,
    VILLAGE_MEMBER,
)
from bot.domain.workflow import BARU, DITERIMA, DITUTUP, PENJANGKAUAN, SELESAI
from models import Case, CaseEvent
from tests.case_work import (
    PASER,
    STORY,
    TANAH_GROGOT,
    VILLAGE_GROUP_ID,
    case_command,
    case_row,
    enrol,
    events,
    heard,
    kecamatan_officer,
    press,
    replies_to,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer

VILLAGE = {LIST, CARD, DETAILS, NOTE, TAKE, HELP, HISTORY}
HANDLING = VILLAGE | {STATUS, REPLY, SERVICES}  # services and referrals: the handler's too
OFFICER = HANDLING | {CLOSE, SHARE, EVIDENCE}  # /bukti: the case's files, to officers only
EXPECTED = {
    ADMIN: OFFICER,
    KABUPATEN_OFFICER: OFFICER,
    KECAMATAN_OFFICER: OFFICER,
    HANDLER: HANDLING,  # the village member who took the case: everything but closing it
    VILLAGE_MEMBER: VILLAGE,  # read, note, take; moving it on and the reporter: the handler's
    GROUP_MEMBER: set(),  # the alert in the group, nothing more
    REPORTER: {ADD},  # they follow their report with /status and talk through the relay
    STRANGER: set(),
}
TEAM = {SUMMARY, REPORT, TEAM_NOTES}
EXPECTED_READS = {
    ADMIN: set(READS),
    KABUPATEN_OFFICER: set(READS),
    KECAMATAN_OFFICER: set(READS),
    HANDLER: TEAM | {PHONE, MESSAGES},  # the phone and the reporter's messages: the handler's
    VILLAGE_MEMBER: TEAM,
    GROUP_MEMBER: {SUMMARY},
    REPORTER: set(),
    STRANGER: set(),
}
VILLAGE_ROLES = {HANDLER, VILLAGE_MEMBER}  # their own village's open cases only
BUTTONS = {DETAILS, STATUS, CLOSE, TAKE, HELP, SHARE, SERVICES}  # the rest are commands


def test_the_code_holds_the_districts_table() -> None:
    assert {role: set(row.does) for role, row in ACCESS.items()} == EXPECTED
    assert {role: set(row.reads) for role, row in ACCESS.items()} == EXPECTED_READS
    assert {role for role, row in ACCESS.items() if row.open_cases_only} == VILLAGE_ROLES
    assert set(ROLES) == set(EXPECTED) and set(ACTIONS) == set().union(*EXPECTED.values())


OFFICERS_NOTE = "Catatan petugas: ayah tiri pernah dilaporkan sebelumnya."


async def person_of(bot: Harness, role: str, reporter: Person) -> Person:
    """Someone of this role for a case in Modang (Kecamatan Kuaro)."""
    if role in (VILLAGE_MEMBER, HANDLER):
        return await village_member(bot)
    if role == KECAMATAN_OFFICER:
        return await kecamatan_officer(bot)
    if role == KABUPATEN_OFFICER:
        return await register_officer(bot, 7_800_001, PASER, "Pak Yusuf UPTD")
    if role == ADMIN:
        return await register_officer(bot, 7_900_001, PASER, "Ibu Admin DP2KBP3A", admin=True)
    if role == REPORTER:
        return reporter
    return Person(bot, user_id=9_999_001, first_name="Joko", language_code="id")


@dataclass
class Attempt:
    """One action as a person takes it, and how to see that it was done."""

    status: str  # the case's status before the attempt
    act: Callable[[Harness, Person, Case], Awaitable[None]]
    done: Callable[[Harness, Person, Case], Awaitable[bool]]


async def _sends(person: Person, text: str) -> None:
    await person.sends(text)


async def _kinds(bot: Harness, case: Case, kind: str) -> int:
    return len(await events(bot, case.reference, kind))


ATTEMPTS: dict[str, Attempt] = {
    LIST: Attempt(DITERIMA, lambda bot, p, c: _sends(p, "/kasus"),
                  lambda bot, p, c: _async(case_command(c.reference) in p.last_text())),
    CARD: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/kasus {c.reference}"),
                  lambda bot, p, c: _async(p.last_text().startswith("📂")
                                           and c.reference in p.last_text())),
    DETAILS: Attempt(DITERIMA, lambda bot, p, c: _press_then_deliver(bot, p, c, "detail"),
                     lambda bot, p, c: _async(any(str(c.narrative) in m.text for m in p.inbox()))),
    NOTE: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/catat {c.reference} catatan uji"),
                  lambda bot, p, c: _more_than(_note_count(bot, c), 1)),
    SHARE: Attempt(DITERIMA,
                   lambda bot, p, c: press(p, CasePress(c.public_id, "share", "1").pack()),
                   lambda bot, p, c: _has(bot, c, "note_shared")),
    STATUS: Attempt(DITERIMA,
                    lambda bot, p, c: press(p, CasePress(c.public_id, "set", PENJANGKAUAN,
                                                         DITERIMA).pack()),
                    lambda bot, p, c: _status_is(bot, c, PENJANGKAUAN)),
    CLOSE: Attempt(DITERIMA,
                   lambda bot, p, c: press(p, CasePress(c.public_id, "close", "duplicate",
                                                        DITERIMA).pack()),
                   lambda bot, p, c: _status_is(bot, c, DITUTUP)),
    REPLY: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/balas {c.reference} Apa kabar?"),
                   lambda bot, p, c: _has(bot, c, "relay_out")),
    TAKE: Attempt(BARU, lambda bot, p, c: press(p, CasePress(c.public_id, "take").pack()),
                  lambda bot, p, c: _taken_by(bot, c, p)),
    HELP: Attempt(DITERIMA,
                  lambda bot, p, c: press(p, CasePress(c.public_id, "help", "other").pack()),
                  lambda bot, p, c: _has(bot, c, "help_requested")),
    HISTORY: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/riwayat {c.reference}"),
                     lambda bot, p, c: _async(p.last_text().startswith("🕘"))),
    EVIDENCE: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/bukti {c.reference}"),
                      lambda bot, p, c: _has(bot, c, "evidence_exported")),
    ADD: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/tambah {c.reference} Ada kabar baru"),
                 lambda bot, p, c: _has(bot, c, "relay_in")),
    SERVICES: Attempt(DITERIMA,
                      lambda bot, p, c: press(p, ServicePress(c.public_id, "prov",
                                                              "kesehatan:0").pack()),
                      lambda bot, p, c: _has(bot, c, "service_added")),
}


async def _async(value: bool) -> bool:
    return value


async def _press_then_deliver(bot: Harness, person: Person, case: Case, action: str) -> None:
    await press(person, CasePress(case.public_id, action).pack())
    await bot.deliver_outbox()


async def _has(bot: Harness, case: Case, kind: str) -> bool:
    return await _kinds(bot, case, kind) > 0


async def _note_count(bot: Harness, case: Case) -> int:
    return await _kinds(bot, case, "note")


async def _more_than(count: Awaitable[int], floor: int) -> bool:
    return await count > floor


async def _status_is(bot: Harness, case: Case, status: str) -> bool:
    return (await case_row(bot, case.reference)).status == status


async def _taken_by(bot: Harness, case: Case, person: Person) -> bool:
    row = await case_row(bot, case.reference)
    return row.acknowledged_at is not None and row.handler_user_id == person.user_id


async def a_case(bot: Harness, reporter: Person, status: str, role: str, person: Person,
                 **fields: object) -> Case:
    """A case of Modang in this status, with one officer's note on it; the handler's own when the
    role is the handler."""
    taken: dict[str, object] = {} if status == BARU else {
        "acknowledged_at": bot.clock.now(), "acknowledged_by": "Bu Rina Kuaro"}
    if role == HANDLER:
        taken["handler_user_id"] = person.user_id
        taken["handler_name"] = "Sri (PAPTBM Modang)"
    case = await seeded_case(bot, reporter=reporter, status=status, **taken, **fields)
    async with bot.runtime.sessions.begin() as session:
        session.add(CaseEvent(case_id=case.id, at=bot.clock.now(), actor="officer:1",
                              actor_name="Bu Rina Kuaro", kind="note", secret=OFFICERS_NOTE,
                              detail={"team": False}))
    return case


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", [r for r in ROLES if r != GROUP_MEMBER])
async def test_each_role_may_do_exactly_what_the_table_says(
        bot: Harness, reporter: Person, role: str, action: str) -> None:
    attempt = ATTEMPTS[action]
    person = await person_of(bot, role, reporter)
    case = await a_case(bot, reporter, attempt.status, role, person)
    said_before = len(heard(bot, person))

    await attempt.act(bot, person, case)

    allowed = action in EXPECTED[role]
    assert await attempt.done(bot, person, case) == allowed
    assert bot.runtime.metrics["errors"] == 0
    if allowed:
        return
    refused = await events(bot, case.reference, "refused")
    if action in BUTTONS and role in (REPORTER, STRANGER):
        # A button of the case card they were never given: refused before anything runs,
        # without a word, and nothing is written.
        assert len(heard(bot, person)) == said_before
        assert refused == []
        assert bot.runtime.metrics["press_refused"] == 1
        return
    assert len(heard(bot, person)) > said_before, "a refusal is said, politely"
    if action == LIST:
        assert bot.runtime.metrics["case_list_refused"] == 1
    else:
        assert [e.detail["action"] for e in refused] == [action]
        assert str(person.user_id) not in refused[0].actor


@pytest.mark.parametrize("action", sorted(VILLAGE - {LIST}))
@pytest.mark.parametrize("role", sorted(VILLAGE_ROLES))
async def test_a_closed_case_is_the_officers_alone(
        bot: Harness, reporter: Person, role: str, action: str) -> None:
    person = await person_of(bot, role, reporter)
    case = await a_case(bot, reporter, SELESAI, role, person, closed_at=bot.clock.now())
    attempt = ATTEMPTS[action]
    already = action == TAKE and role == HANDLER  # the handler took it long ago

    await attempt.act(bot, person, case)

    assert not await attempt.done(bot, person, case) or already
    assert "hanya petugas wilayah" in heard(bot, person)
    assert [e.detail["action"] for e in await events(bot, case.reference, "refused")] == [action]
    await person.sends("/kasus selesai")
    assert case_command(case.reference) not in person.last_text()


@pytest.mark.parametrize("action", [a for a in ACTIONS if a not in (LIST, ADD)])
@pytest.mark.parametrize("who", ["officer of another kecamatan", "member of another village"])
async def test_staff_of_another_area_can_do_nothing_with_the_case(
        bot: Harness, reporter: Person, who: str, action: str) -> None:
    if who == "officer of another kecamatan":
        person = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    else:
        await register_group(bot, -1003000000001, "64.01.04.2002", "PAPTBM Janju")
        await enrol(bot, -1003000000001, 6_600_555, "Nur")
        person = Person(bot, user_id=6_600_555, first_name="Nur", language_code="id")
    attempt = ATTEMPTS[action]
    case = await a_case(bot, reporter, attempt.status, STRANGER, person)

    await attempt.act(bot, person, case)

    assert not await attempt.done(bot, person, case)
    refused = await events(bot, case.reference, "refused")
    assert [e.detail["action"] for e in refused] == [action]
    assert "di luar wilayah Anda" in heard(bot, person)


async def test_a_case_in_another_area_never_appears_in_the_list(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    here = await seeded_case(bot, reporter=reporter, village="Janju")
    there = await seeded_case(bot, reporter=reporter, village="Modang")
    await officer.sends("/kasus")
    assert case_command(here.reference) in officer.last_text()
    assert case_command(there.reference) not in officer.last_text()


# ---- who reads what ------------------------------------------------------------------------------

REPORTERS_MESSAGE = "Ayah tiri pulang lagi tadi malam."
PHONE_SHOWN = "+6281234567890"
TEAM_NOTE = "Catatan untuk tim desa: dampingi ibu korban ke puskesmas."


async def what_they_read(bot: Harness, reporter: Person, role: str) -> set[str]:
    """A case with a phone number, an officer's note, a note for the village team and a message
    from the reporter; this person asks for the details and the history: what reaches them."""
    person = await person_of(bot, role, reporter)
    case = await a_case(bot, reporter, DITERIMA, role, person)
    async with bot.runtime.sessions.begin() as session:
        session.add(CaseEvent(case_id=case.id, at=bot.clock.now(), actor="officer:1",
                              actor_name="Bu Rina Kuaro", kind="note", secret=TEAM_NOTE,
                              detail={"team": True}))
    await reporter.sends(f"/tambah {case.reference} {REPORTERS_MESSAGE}")
    await press(person, CasePress(case.public_id, "detail").pack())
    await person.sends(f"/riwayat {case.reference}")
    await bot.deliver_outbox()
    seen = "\n".join(m.text for m in person.inbox())
    found = set()
    if str(case.narrative) in seen:
        found.add(REPORT)
    if PHONE_SHOWN in seen:
        found.add(PHONE)
    if REPORTERS_MESSAGE in seen:
        found.add(MESSAGES)
    if OFFICERS_NOTE in seen:
        found.add(NOTES)
    if TEAM_NOTE in seen:
        found.add(TEAM_NOTES)
    return found


@pytest.mark.parametrize("role", [r for r in ROLES if r not in (REPORTER, GROUP_MEMBER)])
async def test_each_role_reads_exactly_what_the_table_says(
        bot: Harness, reporter: Person, role: str) -> None:
    expected = EXPECTED_READS[role] - {SUMMARY}
    if NOTES in expected:
        expected |= {TEAM_NOTES}  # whoever reads every note reads the team's too
    assert await what_they_read(bot, reporter, role) == expected


async def test_an_officer_shares_a_note_with_the_village_team(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    member = await village_member(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), acknowledged_by="Bu Rina Kuaro")
    await officer.sends(f"/catat {case.reference} {TEAM_NOTE}")
    confirmation = officer.last_message()
    assert "dibaca oleh petugas perlindungan" in confirmation.text
    assert "anggota PAPTBM" not in confirmation.text
    await member.sends(f"/riwayat {case.reference}")
    assert TEAM_NOTE not in member.last_text()
    assert "🔒" in member.last_text()

    await officer.presses("Bagikan ke tim desa")

    assert "anggota PAPTBM desa" in heard(bot, officer)
    await member.sends(f"/riwayat {case.reference}")
    assert TEAM_NOTE in member.last_text()
    assert [e.kind for e in await events(bot, case.reference, "note_shared")] == ["note_shared"]


async def test_a_village_members_note_is_for_the_team_and_says_so(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    other = await village_member(bot, 6_600_002, "Ani")
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), acknowledged_by="Bu Rina Kuaro")
    await member.sends(f"/catat {case.reference} {TEAM_NOTE}")
    assert "anggota PAPTBM desa" in member.last_text()
    assert member.last_message().buttons() == []  # nothing to share: it is the team's already
    await other.sends(f"/riwayat {case.reference}")
    assert TEAM_NOTE in other.last_text()


async def test_a_handler_who_left_the_group_no_longer_hears_the_reporter(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    case = await a_case(bot, reporter, DITERIMA, HANDLER, member)
    await reporter.sends(f"/tambah {case.reference} Pesan pertama")
    await bot.deliver_outbox()
    assert "Pesan pertama" in heard(bot, member)

    await GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang").activist(
        member.user_id, "Sri").leaves()
    await reporter.sends(f"/tambah {case.reference} {REPORTERS_MESSAGE}")
    await bot.deliver_outbox()

    assert REPORTERS_MESSAGE not in heard(bot, member)
    await member.sends(f"/riwayat {case.reference}")
    assert REPORTERS_MESSAGE not in member.last_text()


async def test_a_file_the_reporter_sent_later_is_not_in_a_village_members_details(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    member = await village_member(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(f"/balas {reference} Ada foto lukanya?")
    await bot.deliver_outbox()
    photo = [{"file_id": "LUKA-PHOTO-ID", "file_unique_id": "uqLUKA", "width": 800,
              "height": 600, "file_size": 40_000}]
    await replies_to(reporter, reporter.last_message(), photo=photo, caption="memar di lengan")
    await bot.deliver_outbox()
    case = await case_row(bot, reference)

    for person in (member, officer):
        await press(person, CasePress(case.public_id, "detail").pack())
    await bot.deliver_outbox()

    def photos(person: Person) -> list[str]:
        return [str(c.params.get("photo")) for c in bot.telegram.calls_to("sendPhoto")
                if int(c.params["chat_id"]) == person.user_id]
    assert "LUKA-PHOTO-ID" not in photos(member)  # a follow-up: the handler's and officers'
    assert STORY in heard(bot, member)  # the report itself they read
    assert "LUKA-PHOTO-ID" in photos(officer)
