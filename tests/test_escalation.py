"""Escalation (DESIGN §4): an alert nobody takes climbs the chain by itself, reminders are replies
to each chat's first alert, the top tier is reminded until someone takes the case, and the UU TPKS
police deadline is kept in view. Time moves only when the test moves the clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import jobs
from bot.config import Settings, load_settings
from bot.domain import form
from models import CaseEvent, OutboxMessage
from models.outbox import PENDING
from tests.conftest import TOKEN
from tests.harness import Harness, Person
from tests.responder_people import (
    KUARO,
    PASER,
    PONDONG_BARU,
    Group,
    full_report,
    register_group,
    register_officer,
    replied_to,
)

VILLAGE_GROUP = -1001000000001
KABUPATEN_GROUP = -1002000000002


@pytest.fixture
def settings(database_url: str, _isolated_config: None) -> Settings:
    # Fractions of a minute are allowed: a high-priority alert waits 30 minutes here.
    return load_settings(telegram={"token": TOKEN}, database={"url": database_url},
                         escalation={"ack_timeout_high_minutes": 30.5})


@pytest.fixture
async def chain(bot: Harness) -> tuple[Group, Person, Group]:
    village = await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    kabupaten = await register_group(bot, KABUPATEN_GROUP, PASER, "UPTD PPA Paser")
    return village, officer, kabupaten


async def sweep(bot: Harness) -> None:
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()


def first_alert(bot: Harness, chat_id: int, reference: str) -> int:
    for message in bot.telegram.messages(chat_id):
        if message.buttons() and reference in message.text:
            return message.message_id
    raise AssertionError(f"no alert about {reference} in chat {chat_id}")


def reminders(bot: Harness, chat_id: int) -> list[int | None]:
    """What each message without buttons in the chat replies to (alerts carry buttons)."""
    return [replied_to(m) for m in bot.telegram.messages(chat_id) if not m.buttons()]


async def test_an_alert_nobody_takes_climbs_every_tier_and_the_top_is_reminded_until_taken(
        bot: Harness, reporter_id: Person, chain: tuple[Group, Person, Group]) -> None:
    village, officer, kabupaten = chain
    reference = await full_report(reporter_id)  # a child: high priority, 30.5 minutes
    await bot.deliver_outbox()
    assert officer.inbox() == [] and kabupaten.messages() == []
    village_alert = first_alert(bot, VILLAGE_GROUP, reference)

    bot.clock.advance(minutes=30)
    await sweep(bot)
    assert officer.inbox() == []  # not yet

    bot.clock.advance(minutes=1)
    await sweep(bot)
    assert "Diteruskan kepada Anda" in officer.last_text()  # the kecamatan has it now
    assert reminders(bot, VILLAGE_GROUP) == [village_alert]  # the village: a reply, not a new alert
    assert "petugas kecamatan" in village.last_message().text

    bot.clock.advance(minutes=31)
    await sweep(bot)
    kabupaten_alert = first_alert(bot, KABUPATEN_GROUP, reference)
    assert reminders(bot, officer.user_id) == [first_alert(bot, officer.user_id, reference)]
    assert reminders(bot, VILLAGE_GROUP) == [village_alert]  # reminded once, not again

    for _round in range(2):  # the top tier: the reminder repeats at the same interval
        bot.clock.advance(minutes=31)
        await sweep(bot)
    assert reminders(bot, KABUPATEN_GROUP) == [kabupaten_alert, kabupaten_alert]
    assert "Pengingat" in kabupaten.last_message().text

    dewi = await register_officer(bot, 6_600_010, PASER, "Dewi UPTD")  # UPTD PPA staff
    await kabupaten.member(dewi.user_id, "Dewi").presses("Terima", kabupaten.alert_about(reference))
    await bot.deliver_outbox()
    sent = len(bot.telegram.calls)
    bot.clock.advance(hours=5)
    await sweep(bot)
    assert len(bot.telegram.calls) == sent  # taken: nothing more
    async with bot.runtime.sessions() as session:
        climbs = [(e.detail["from"], e.detail["to"]) for e in await session.scalars(
            select(CaseEvent).where(CaseEvent.kind == "escalated").order_by(CaseEvent.id))]
    assert climbs == [("desa", "kecamatan"), ("kecamatan", "kabupaten")]


async def test_with_only_a_village_group_the_village_is_reminded_each_interval(
        bot: Harness, reporter_id: Person) -> None:
    village = await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    alert = first_alert(bot, VILLAGE_GROUP, reference)
    for _round in range(3):
        bot.clock.advance(minutes=31)
        await sweep(bot)
    assert reminders(bot, VILLAGE_GROUP) == [alert, alert, alert]
    assert len(village.alerts()) == 1


async def test_an_urgent_case_waits_15_minutes_and_a_normal_one_a_day(
        bot: Harness, reporter_id: Person, reporter: Person,
        chain: tuple[Group, Person, Group]) -> None:
    _village, officer, _kabupaten = chain
    urgent = await full_report(reporter_id, danger=True)
    await bot.deliver_outbox()
    bot.clock.advance(minutes=15, seconds=1)
    await sweep(bot)
    assert urgent in officer.last_text()

    normal = await full_report(reporter, victim=form.WOMAN, types=("psikis",))
    await bot.deliver_outbox()
    bot.clock.advance(hours=23, minutes=59)
    await sweep(bot)
    assert not any(normal in m.text for m in officer.inbox())
    bot.clock.advance(minutes=2)
    await sweep(bot)
    assert any(normal in m.text for m in officer.inbox())


async def test_a_sexual_violence_case_reminds_its_holder_of_the_police_deadline_once(
        bot: Harness, reporter_id: Person, chain: tuple[Group, Person, Group]) -> None:
    """The holder is reminded in private, once per step (24 h before; the 6 h reminder and the
    alarm when it passes: tests/test_deadlines.py); the groups' alerts are not replied to."""
    village, _officer, _kabupaten = chain
    reference = await full_report(reporter_id, types=("seksual",))
    await bot.deliver_outbox()
    budi = await village.enrolled_member(6_600_001, "Budi")
    await budi.presses("Terima", village.alert_about(reference))
    await bot.deliver_outbox()
    case = (await bot.cases())[0]
    assert case.police_deadline == case.created_at + timedelta(hours=72)

    def told_budi() -> list[str]:
        return [m.text for m in bot.telegram.messages(6_600_001)
                if reference in m.text and "polisi" in m.text]

    bot.clock.advance(hours=47, minutes=59)
    await sweep(bot)
    assert told_budi() == []
    bot.clock.advance(minutes=2)  # 24 hours before the deadline
    await sweep(bot)
    assert len(told_budi()) == 1 and "5 Mar 2026" in told_budi()[0]
    assert reminders(bot, KABUPATEN_GROUP) == []

    bot.clock.advance(hours=10)
    await sweep(bot)
    assert len(told_budi()) == 1  # once


async def test_reminders_do_not_pile_up_while_a_group_cannot_be_reached(
        bot: Harness, reporter_id: Person) -> None:
    await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    alert = first_alert(bot, VILLAGE_GROUP, reference)
    bot.telegram.inject("5xx", chat_id=VILLAGE_GROUP, times=1000)  # Telegram is down for hours
    for _round in range(6):
        bot.clock.advance(minutes=31)
        await sweep(bot)
    async with bot.runtime.sessions() as session:
        waiting = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == PENDING, OutboxMessage.kind == "reminder")))
    assert len(waiting) == 1
    bot.telegram.faults.clear()
    bot.clock.advance(minutes=5)
    await bot.deliver_outbox()
    assert reminders(bot, VILLAGE_GROUP) == [alert]


async def test_after_a_restart_nothing_is_lost_and_nothing_is_sent_twice(
        bot: Harness, reporter_id: Person, chain: tuple[Group, Person, Group]) -> None:
    village, officer, _kabupaten = chain
    reference = await full_report(reporter_id)
    await bot.restart()  # crashed before the alert went out
    await bot.deliver_outbox()
    await bot.deliver_outbox()
    assert len(village.alerts()) == 1

    bot.clock.advance(minutes=31)
    await bot.runtime.escalation.sweep()  # the case climbs; its messages are not yet sent
    await bot.restart()
    await bot.runtime.escalation.sweep()  # a second worker, or the same after the crash
    await bot.deliver_outbox()
    await bot.restart()
    await bot.deliver_outbox()

    officer_alerts = [m for m in officer.inbox() if reference in m.text]
    assert len(officer_alerts) == 1
    assert reminders(bot, VILLAGE_GROUP) == [first_alert(bot, VILLAGE_GROUP, reference)]
    sends = [c for c in bot.telegram.calls_to("sendMessage")
             if c.params["chat_id"] in (VILLAGE_GROUP, officer.user_id)]
    assert len(sends) == 3  # village alert, village reminder, kecamatan alert


async def test_butuh_bantuan_asks_the_next_tier_now(
        bot: Harness, reporter_id: Person, chain: tuple[Group, Person, Group]) -> None:
    village, officer, _kabupaten = chain
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    budi = await village.enrolled_member(6_600_001, "Budi")
    await budi.presses("Butuh bantuan", village.alert_about(reference))
    await budi.presses("Di luar kemampuan", village.messages()[-1])  # the reason asked for
    await bot.deliver_outbox()
    assert "meminta bantuan" in officer.last_text()
    assert "Diteruskan ke petugas kecamatan" in budi.popups()[-1]
    assert "Budi" in village.last_message().text  # the group sees who asked
    case = (await bot.cases())[0]
    assert case.tier == "kecamatan"


async def test_a_case_nobody_could_receive_is_sent_once_someone_registers(
        bot: Harness, reporter_id: Person) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    assert (await bot.cases())[0].unrouted
    village = await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    await sweep(bot)
    assert reference in village.alert_about(reference).text
    case = (await bot.cases())[0]
    assert not case.unrouted and case.ack_deadline is not None


async def test_the_sweep_runs_every_configured_number_of_seconds(bot: Harness) -> None:
    assert bot.app is not None
    jobs.schedule(bot.app, bot.runtime)
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("escalation")
    assert job.trigger.interval == timedelta(seconds=bot.settings.escalation.sweep_seconds)
