"""The outbox (DESIGN §7): every notification is a row, and the sender delivers it once through
429s, 5xx, timeouts and groups the bot was removed from; a responder that cannot be reached is
switched off, its open cases move up a tier, and the admins hear of it."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.outbox import enqueue
from models import OutboxMessage, Responder
from models.outbox import FAILED, PENDING, SENT
from tests.harness import Harness, Person
from tests.responder_people import (
    KUARO,
    PASER,
    PONDONG_BARU,
    Group,
    full_report,
    register_group,
    register_officer,
)

VILLAGE_GROUP = -1001000000001


@pytest.fixture
async def village_group(bot: Harness) -> Group:
    return await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")


def sends_to(bot: Harness, chat_id: int) -> int:
    return len([c for c in bot.telegram.calls_to("sendMessage") if c.params["chat_id"] == chat_id])


async def rows(bot: Harness, **where: object) -> list[OutboxMessage]:
    async with bot.runtime.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(await session.scalars(query))


async def test_a_429_is_waited_out_for_exactly_retry_after_and_other_chats_go_on(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    bot.telegram.inject("429", method="sendMessage", chat_id=VILLAGE_GROUP, retry_after=7)
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    assert village_group.messages() == []
    async with bot.runtime.sessions.begin() as session:  # meanwhile, a reporter notice
        enqueue(session, kind="test", method="sendMessage", now=bot.clock.now(),
                params={"chat_id": reporter_id.user_id, "text": "halo"})
    await bot.deliver_outbox()
    assert reporter_id.last_text() == "halo"

    bot.clock.advance(seconds=6)
    await bot.deliver_outbox()
    assert village_group.messages() == []
    bot.clock.advance(seconds=1)
    await bot.deliver_outbox()
    await bot.deliver_outbox()
    assert reference in village_group.last_message().text
    assert sends_to(bot, VILLAGE_GROUP) == 2  # the refused attempt and the one that went


async def test_a_commit_that_queued_a_notification_wakes_the_sender_and_no_other_does(
        bot: Harness, reporter_id: Person) -> None:
    sender = bot.runtime.sender
    await bot.deliver_outbox()
    sender._wake.clear()  # as the loop does when it goes idle
    async with bot.runtime.sessions.begin() as session:
        await session.scalar(select(OutboxMessage.id).limit(1))
    assert not sender.woken  # a commit that queued nothing
    async with bot.runtime.sessions() as session:
        enqueue(session, kind="test", method="sendMessage", now=bot.clock.now(),
                params={"chat_id": reporter_id.user_id, "text": "tidak jadi"})
        await session.flush()
        await session.rollback()
    assert not sender.woken  # a rolled-back notification
    async with bot.runtime.sessions.begin() as session:
        enqueue(session, kind="test", method="sendMessage", now=bot.clock.now(),
                params={"chat_id": reporter_id.user_id, "text": "halo"})
    assert sender.woken
    await bot.deliver_outbox()
    assert reporter_id.last_text() == "halo"


@pytest.mark.parametrize("fault", ["5xx", "timeout"])
async def test_server_errors_and_timeouts_are_retried_with_growing_waits_then_sent_once(
        bot: Harness, reporter_id: Person, village_group: Group, fault: str) -> None:
    bot.telegram.inject(fault, method="sendMessage", chat_id=VILLAGE_GROUP, times=3)
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    waits = []
    for seconds in (1, 2, 4):  # 1 s, 2 s, 4 s: the backoff doubles
        bot.clock.advance(seconds=seconds - 0.5)
        await bot.deliver_outbox()
        waits.append(sends_to(bot, VILLAGE_GROUP))
        bot.clock.advance(seconds=0.5)
        await bot.deliver_outbox()
    assert waits == [1, 2, 3]  # never earlier than the backoff allows
    assert sends_to(bot, VILLAGE_GROUP) == 4
    assert len(village_group.alerts()) == 1 and reference in village_group.last_message().text
    (alert_row,) = await rows(bot, kind="alert")
    assert alert_row.status == SENT and alert_row.attempts == 4


@pytest.mark.parametrize(("fault", "reason"), [("403", "removed"), ("400-chat", "chat_not_found")])
async def test_a_group_the_bot_cannot_reach_is_switched_off_its_case_moves_up_admins_told(
        bot: Harness, reporter_id: Person, reporter: Person, village_group: Group, fault: str,
        reason: str) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    admin = await register_officer(bot, 7_700_009, PASER, "Pak Admin", admin=True)
    bot.telegram.inject(fault, method="sendMessage", chat_id=VILLAGE_GROUP)
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    await bot.deliver_outbox()

    async with bot.runtime.sessions() as session:
        group = await session.scalar(select(Responder).where(Responder.chat_id == VILLAGE_GROUP))
    assert group is not None and not group.active and group.inactive_reason == reason
    assert reference in officer.last_text() and "tidak bisa dihubungi" in officer.last_text()
    notice = "\n".join(m.text for m in admin.inbox())
    assert "PAPTBM Pondong Baru" in notice and reference in notice
    assert sends_to(bot, VILLAGE_GROUP) == 1  # tried once, never again
    case = (await bot.cases())[0]
    assert case.tier == "kecamatan"

    second = await full_report(reporter)  # the next report skips the group
    await bot.deliver_outbox()
    assert sends_to(bot, VILLAGE_GROUP) == 1 and second in officer.last_text()


async def test_a_group_that_removes_the_bot_is_switched_off_at_once(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    await bot.feed(membership_update(VILLAGE_GROUP, "member", "kicked"))
    await bot.deliver_outbox()
    assert reference in officer.last_text()
    async with bot.runtime.sessions() as session:
        group = await session.scalar(select(Responder).where(Responder.chat_id == VILLAGE_GROUP))
    assert group is not None and not group.active


async def test_a_group_that_adds_the_bot_is_announced_to_the_admins_with_its_id(
        bot: Harness) -> None:
    admin = await register_officer(bot, 7_700_009, PASER, "Pak Admin", admin=True)
    await bot.feed(membership_update(-1009999, "left", "member", title="PAPTBM Lolo"))
    await bot.deliver_outbox()
    assert "-1009999" in admin.last_text() and "add-group" in admin.last_text()


async def test_a_group_gets_at_most_its_per_minute_share_and_private_chats_are_not_held_up(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    now = bot.clock.now()
    async with bot.runtime.sessions.begin() as session:
        for number in range(25):
            enqueue(session, kind="test", method="sendMessage", now=now, bucket=str(VILLAGE_GROUP),
                    params={"chat_id": VILLAGE_GROUP, "text": f"pesan {number}"})
        enqueue(session, kind="test", method="sendMessage", now=now,
                params={"chat_id": reporter_id.user_id, "text": "untuk pelapor"})
    await bot.deliver_outbox()
    assert len(village_group.messages()) == 20
    assert reporter_id.last_text() == "untuk pelapor"
    bot.clock.advance(seconds=59)
    await bot.deliver_outbox()
    assert len(village_group.messages()) == 20
    bot.clock.advance(seconds=1)
    await bot.deliver_outbox()
    assert [m.text for m in village_group.messages()] == [f"pesan {n}" for n in range(25)]


async def test_a_message_is_sent_exactly_once_even_when_drained_twice_at_once(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    await full_report(reporter_id)  # with a photo: a download job for the downloads' sender
    await asyncio.gather(bot.deliver_outbox(), bot.deliver_outbox(),
                         bot.runtime.downloads.drain(), bot.runtime.downloads.drain())
    assert sends_to(bot, VILLAGE_GROUP) == 1
    assert len([c for c in bot.telegram.calls if c.method == "getFile"]) == 1
    assert {r.status for r in await rows(bot)} == {SENT}


async def test_a_request_telegram_refuses_for_good_is_failed_not_retried(
        bot: Harness, reporter_id: Person) -> None:
    async with bot.runtime.sessions.begin() as session:
        enqueue(session, kind="test", method="sendMessage", now=bot.clock.now(),
                params={"chat_id": reporter_id.user_id, "text": "x"})
    bot.telegram.inject("400", method="sendMessage", chat_id=reporter_id.user_id)
    await bot.deliver_outbox()
    bot.clock.advance(hours=1)
    await bot.deliver_outbox()
    (row,) = await rows(bot)
    assert row.status == FAILED and row.attempts == 1
    assert not await rows(bot, status=PENDING)


def membership_update(chat_id: int, old: str, new: str, title: str = "PAPTBM") -> dict[str, object]:
    from tests.harness import new_update_id
    from tests.telegram_double import BOT_USER

    admin = {"id": 6_600_099, "is_bot": False, "first_name": "Ketua"}
    member = {"user": BOT_USER, "status": old}
    if old == "kicked":
        member["until_date"] = 0
    changed = {"user": BOT_USER, "status": new}
    if new == "kicked":
        changed["until_date"] = 0
    return {"update_id": new_update_id(), "my_chat_member": {
        "chat": {"id": chat_id, "type": "supergroup", "title": title}, "from": admin,
        "date": 1_770_000_000, "old_chat_member": member, "new_chat_member": changed}}
