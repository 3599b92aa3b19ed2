"""Who may do what with a case (DESIGN §5, §6): every role × every action, tried through the bot.

The table below is the district's rule, written out; the code's table must be the same, and each
cell is tried for real: a person of that role sends the command or presses the button, and either
it is done or they are refused politely, and the refusal is in the case's history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.callback_data import CasePress
from bot.domain.access import (
    ACCESS,
    ACTIONS,
    ADD,
    ADMIN,
    CARD,
    CLOSE,
    DETAILS,
    HELP,
    HISTORY,
    KABUPATEN_OFFICER,
    KECAMATAN_OFFICER,
    LIST,
    NOTE,
    REPLY,
    REPORTER,
    ROLES,
    STATUS,
    STRANGER,
    TAKE,
    VILLAGE_MEMBER,
)
from bot.domain.workflow import BARU, DITERIMA, DITUTUP, PENJANGKAUAN
from models import Case
from tests.case_work import (
    PASER,
    TANAH_GROGOT,
    case_command,
    case_row,
    events,
    heard,
    kecamatan_officer,
    press,
    seeded_case,
    village_member,
)
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer

HANDLING = {LIST, CARD, DETAILS, NOTE, STATUS, REPLY, TAKE, HELP, HISTORY}
EXPECTED = {
    VILLAGE_MEMBER: HANDLING,  # everything for their village, except closing a case
    KECAMATAN_OFFICER: HANDLING | {CLOSE},
    KABUPATEN_OFFICER: HANDLING | {CLOSE},
    ADMIN: HANDLING | {CLOSE},
    REPORTER: {ADD},  # they follow their report with /status and talk through the relay
    STRANGER: set(),
}


def test_the_code_holds_the_districts_table() -> None:
    assert {role: set(actions) for role, actions in ACCESS.items()} == EXPECTED
    assert set(ROLES) == set(EXPECTED) and set(ACTIONS) == set().union(*EXPECTED.values())


async def person_of(bot: Harness, role: str, reporter: Person) -> Person:
    """Someone of this role for a case in Modang (Kecamatan Kuaro)."""
    if role == VILLAGE_MEMBER:
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
                  lambda bot, p, c: _has(bot, c, "note")),
    STATUS: Attempt(DITERIMA,
                    lambda bot, p, c: press(p, CasePress(c.id, "set", PENJANGKAUAN,
                                                         DITERIMA).pack()),
                    lambda bot, p, c: _status_is(bot, c, PENJANGKAUAN)),
    CLOSE: Attempt(DITERIMA,
                   lambda bot, p, c: press(p, CasePress(c.id, "close", "duplicate",
                                                        DITERIMA).pack()),
                   lambda bot, p, c: _status_is(bot, c, DITUTUP)),
    REPLY: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/balas {c.reference} Apa kabar?"),
                   lambda bot, p, c: _has(bot, c, "relay_out")),
    TAKE: Attempt(BARU, lambda bot, p, c: press(p, CasePress(c.id, "take").pack()),
                  lambda bot, p, c: _handled_by(bot, c, p)),
    HELP: Attempt(DITERIMA, lambda bot, p, c: press(p, CasePress(c.id, "help", "other").pack()),
                  lambda bot, p, c: _has(bot, c, "help_requested")),
    HISTORY: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/riwayat {c.reference}"),
                     lambda bot, p, c: _async(p.last_text().startswith("🕘"))),
    ADD: Attempt(DITERIMA, lambda bot, p, c: _sends(p, f"/tambah {c.reference} Ada kabar baru"),
                 lambda bot, p, c: _has(bot, c, "relay_in")),
}


async def _async(value: bool) -> bool:
    return value


async def _press_then_deliver(bot: Harness, person: Person, case: Case, action: str) -> None:
    await press(person, CasePress(case.id, action).pack())
    await bot.deliver_outbox()


async def _has(bot: Harness, case: Case, kind: str) -> bool:
    return await _kinds(bot, case, kind) > 0


async def _status_is(bot: Harness, case: Case, status: str) -> bool:
    return (await case_row(bot, case.reference)).status == status


async def _handled_by(bot: Harness, case: Case, person: Person) -> bool:
    return (await case_row(bot, case.reference)).handler_user_id == person.user_id


async def a_case(bot: Harness, reporter: Person, status: str) -> Case:
    taken = {} if status == BARU else {"acknowledged_at": bot.clock.now(),
                                       "acknowledged_by": "Bu Rina Kuaro"}
    return await seeded_case(bot, reporter=reporter, status=status, **taken)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
async def test_each_role_may_do_exactly_what_the_table_says(
        bot: Harness, reporter: Person, role: str, action: str) -> None:
    attempt = ATTEMPTS[action]
    person = await person_of(bot, role, reporter)
    case = await a_case(bot, reporter, attempt.status)
    said_before = len(heard(bot, person))

    await attempt.act(bot, person, case)

    allowed = action in EXPECTED[role]
    assert await attempt.done(bot, person, case) == allowed
    assert bot.runtime.metrics["errors"] == 0
    if not allowed:
        assert len(heard(bot, person)) > said_before, "a refusal is said, politely"
        if action == LIST:
            assert bot.runtime.metrics["case_list_refused"] == 1
        else:
            refused = await events(bot, case.reference, "refused")
            assert [e.detail["action"] for e in refused] == [action]
            assert str(person.user_id) not in refused[0].actor


@pytest.mark.parametrize("action", [a for a in ACTIONS if a not in (LIST, ADD)])
@pytest.mark.parametrize("who", ["officer of another kecamatan", "member of another village"])
async def test_staff_of_another_area_can_do_nothing_with_the_case(
        bot: Harness, reporter: Person, who: str, action: str) -> None:
    if who == "officer of another kecamatan":
        person = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    else:
        from tests.group_chat import GroupChat

        await register_group(bot, -1003000000001, "64.01.04.2002", "PAPTBM Janju")
        await GroupChat(bot, -1003000000001, "PAPTBM Janju").activist(6_600_555,
                                                                      "Nur").sends("/gabung")
        person = Person(bot, user_id=6_600_555, first_name="Nur", language_code="id")
    attempt = ATTEMPTS[action]
    case = await a_case(bot, reporter, attempt.status)

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
