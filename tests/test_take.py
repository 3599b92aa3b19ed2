"""Terima is for enrolled members and officers in scope only (DESIGN §6, issue 10 point 3).

Before, any member of a group that received an alert could press Terima: escalation stopped for
good, the reporter was told someone was on it, and the presser could not even open the case. One
press could bury a case. Now anyone else is told, in a pop-up only they see, how to be enrolled,
and nothing changes: the case keeps climbing and the reporter hears nothing. The same holds when
the member left the group between the alert and the press, when the button is replayed in
another group, and when Telegram cannot say whether the member is still in the group.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.callback_data import AlertPress
from models import Case, CaseEvent, GroupMember
from tests.case_work import (
    KUARO,
    MODANG,
    VILLAGE_GROUP_ID,
    enrol,
    report_from_modang,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person
from tests.responder_people import Group, Member, register_group, register_officer

OFFICER = 7_700_001
SRI = 6_600_001  # enrolled in Modang's group
JOKO = 6_600_099  # in the group, never enrolled
JANJU_GROUP = -1003000000003
JANJU = "64.01.04.2002"


@pytest.fixture
async def modang(bot: Harness) -> Group:
    """Modang's village group, with Sri enrolled and Joko merely in it; Kuaro's officer above."""
    group = await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    await register_officer(bot, OFFICER, KUARO, "Bu Rina Kuaro")
    await enrol(bot, VILLAGE_GROUP_ID, SRI, "Sri")
    return group


async def alerted(bot: Harness, reporter: Person, group: Group) -> str:
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    assert group.alert_about(reference)
    return reference


async def the_case(bot: Harness) -> Case:
    async with bot.runtime.sessions() as session:
        case = await session.scalar(select(Case).execution_options(populate_existing=True))
        assert case is not None
        return case


async def told_reporter(bot: Harness, reporter: Person) -> bool:
    """Whether the reporter was told someone took the report (opening what came discreetly)."""
    await bot.deliver_outbox()
    await reporter.opens_all()
    return any("sekarang menangani laporan Anda" in m.text for m in reporter.inbox())


async def test_terima_by_someone_not_enrolled_changes_nothing_and_the_case_keeps_climbing(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    alert = modang.alert_about(reference)
    joko = modang.member(JOKO, "Joko")
    group_messages = len(modang.messages())

    await joko.presses("Terima", alert)
    await bot.deliver_outbox()

    hint = joko.popups()[-1]
    assert "/gabung" in hint and "didaftarkan" in hint  # how to be enrolled, for him alone
    case = await the_case(bot)
    assert case.acknowledged_at is None and case.handler_user_id is None
    assert case.ack_deadline is not None  # still waiting for someone to take it
    assert len(modang.messages()) == group_messages
    assert modang.alert_about(reference).button_texts()[0].startswith("Terima")  # not edited
    assert not await told_reporter(bot, reporter_id)
    refused = [e async for e in _events(bot, "refused")]
    assert [e.detail["action"] for e in refused] == ["take"]

    bot.clock.advance(hours=2)  # past the deadline: it climbs to the kecamatan as if unpressed
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()
    officer = Person(bot, user_id=OFFICER)
    assert any(reference in m.text for m in officer.inbox())
    assert not await told_reporter(bot, reporter_id)


async def _events(bot: Harness, kind: str):  # type: ignore[no-untyped-def]
    async with bot.runtime.sessions() as session:
        for event in await session.scalars(select(CaseEvent).where(CaseEvent.kind == kind)):
            yield event


async def test_butuh_bantuan_by_someone_not_enrolled_asks_nobody(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    joko = modang.member(JOKO, "Joko")
    await joko.presses("Butuh bantuan", modang.alert_about(reference))
    await bot.deliver_outbox()
    assert "/gabung" in joko.popups()[-1]
    assert Person(bot, user_id=OFFICER).inbox() == []
    assert (await the_case(bot)).tier == "desa"


async def test_an_enrolled_member_takes_the_case_and_the_reporter_is_told(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    await modang.member(SRI, "Sri").presses("Terima", modang.alert_about(reference))
    await bot.deliver_outbox()
    case = await the_case(bot)
    assert case.handler_user_id == SRI and case.acknowledged_by == "Sri (PAPTBM Modang)"
    assert "Diterima oleh Sri (PAPTBM Modang)" in modang.alert_about(reference).text
    assert await told_reporter(bot, reporter_id)


async def test_a_member_who_left_between_the_alert_and_the_press_cannot_take_it(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    bot.telegram.set_member_status(VILLAGE_GROUP_ID, SRI, "left")  # Telegram never said so

    sri = modang.member(SRI, "Sri")
    await sri.presses("Terima", modang.alert_about(reference))
    await bot.deliver_outbox()

    assert "/gabung" in sri.popups()[-1]
    assert (await the_case(bot)).acknowledged_at is None
    assert not await told_reporter(bot, reporter_id)
    async with bot.runtime.sessions() as session:
        assert [m.active for m in await session.scalars(select(GroupMember))] == [False]


@pytest.mark.parametrize("fault", ["429", "5xx", "timeout"])
async def test_when_telegram_cannot_confirm_terima_takes_nothing_and_says_try_again(
        bot: Harness, reporter_id: Person, modang: Group, fault: str) -> None:
    reference = await alerted(bot, reporter_id, modang)
    bot.telegram.inject(fault, method="getChatMember", times=1)
    sri = modang.member(SRI, "Sri")

    await sri.presses("Terima", modang.alert_about(reference))

    assert "coba lagi" in sri.popups()[-1]
    assert (await the_case(bot)).acknowledged_at is None  # never granted on an error
    async with bot.runtime.sessions() as session:
        assert [m.active for m in await session.scalars(select(GroupMember))] == [True]
    assert bot.runtime.metrics["errors"] == 0

    await sri.presses("Terima", modang.alert_about(reference))  # Telegram answers again
    assert (await the_case(bot)).handler_user_id == SRI


async def test_an_alert_replayed_in_another_group_takes_nothing(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    janju = await register_group(bot, JANJU_GROUP, JANJU, "PAPTBM Janju")
    await enrol(bot, JANJU_GROUP, 6_600_300, "Nur")
    reference = await alerted(bot, reporter_id, modang)
    data = AlertPress((await the_case(bot)).public_id, "ack").pack()
    some_message = modang.alert_about(reference)
    # Janju's own enrolled member, and Sri (who may take it in Modang's group), both in Janju's.
    for person in (janju.member(6_600_300, "Nur"), Member(janju, SRI, "Sri")):
        await person.presses_data(data, some_message)
        assert "/gabung" in person.popups()[-1]
    assert (await the_case(bot)).acknowledged_at is None
    assert janju.messages() == []


async def test_after_the_group_became_a_supergroup_its_members_still_take_cases(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    await GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang").becomes_a_supergroup(
        -1001000000999)
    supergroup = Group(bot, -1001000000999, "PAPTBM Modang")
    alert = modang.alert_about(reference)  # the same message, now in the supergroup's chat
    await supergroup.member(SRI, "Sri").presses("Terima", alert)
    await bot.deliver_outbox()
    assert (await the_case(bot)).handler_user_id == SRI
    async with bot.runtime.sessions() as session:
        assert [m.active for m in await session.scalars(select(GroupMember))] == [True]


async def test_a_forged_alert_button_is_answered_and_changes_nothing(
        bot: Harness, reporter_id: Person, modang: Group) -> None:
    reference = await alerted(bot, reporter_id, modang)
    alert = modang.alert_about(reference)
    sri = modang.member(SRI, "Sri")
    for data in ("a1|AAAAAAAAAAAA|ack", "a1|1|ack", "a2|" + "x" * 12 + "|ack",
                 "a1|" + (await the_case(bot)).public_id + "|delete", "a1|../../etc|ack"):
        await sri.presses_data(data, alert)
    assert (await the_case(bot)).acknowledged_at is None
    assert len(sri.popups()) == 5
    assert bot.runtime.metrics["errors"] == 0
