"""Deadlines that alarm (DESIGN §5): the UU TPKS police deadline (3 × 24 h) for sexual violence
and trafficking reminds whoever handles the case 24 h and 6 h before; when it passes, the holder,
the kabupaten officers and the admins are alerted at once, each exactly once (restarts and
several workers included), and the case card shows it overdue until a police referral is
recorded. Stages and services have follow-ups with configurable deadlines that remind the
holder. Time moves only when the test moves the clock; the sweep is the escalation's."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.domain import services as rules
from bot.domain.workflow import DITERIMA, PENDAMPINGAN, PENJANGKAUAN
from models import DeadlineAlarm
from tests.case_work import (
    KUARO,
    case_command,
    case_row,
    events,
    kecamatan_officer,
    presses_case,
    report_from_modang,
    seeded_case,
)
from tests.harness import Harness, Person
from tests.responder_people import register_officer
from tests.test_services import presses_service

OVERDUE = "Batas waktu lapor polisi terlewat"


async def sweep(bot: Harness) -> None:
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()


def told(person: Person, words: str, reference: str) -> list[str]:
    return [m.text for m in person.inbox() if words in m.text and reference in m.text]


async def district(bot: Harness) -> tuple[Person, Person, Person]:
    """Bu Rina (Kuaro, who will hold the case), a kabupaten officer and an admin."""
    holder = await kecamatan_officer(bot)
    kabupaten = await register_officer(bot, 7_200_001, "64.01", "Pak Joko UPTD")
    admin = await register_officer(bot, 7_100_001, "64.01", "Bu Admin", admin=True)
    return holder, kabupaten, admin


async def held_sexual_violence_case(bot: Harness, reporter: Person, holder: Person,
                                    types: tuple[str, ...] = ("seksual",)) -> str:
    now = bot.clock.now()
    case = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN, types=types,
                             acknowledged_at=now, handler_user_id=holder.user_id,
                             handler_name="Bu Rina Kuaro",
                             police_deadline=now + timedelta(hours=72))
    return case.reference


async def test_the_holder_is_reminded_at_24_and_6_hours_and_everyone_alarmed_once_when_it_passes(
        bot: Harness, reporter: Person) -> None:
    holder, kabupaten, admin = await district(bot)
    colleague = await register_officer(bot, 7_700_002, KUARO, "Pak Andi Kuaro")
    reference = await held_sexual_violence_case(bot, reporter, holder)

    bot.clock.advance(hours=47, minutes=59)
    await sweep(bot)
    assert told(holder, "polisi", reference) == []
    bot.clock.advance(minutes=2)  # 24 hours left
    await sweep(bot)
    reminders = told(holder, "polisi harus menerimanya", reference)
    assert len(reminders) == 1 and "sisa 24 jam" in reminders[0]
    assert told(kabupaten, "polisi", reference) == told(admin, "polisi", reference) == []

    bot.clock.advance(hours=18)  # 6 hours left
    await sweep(bot)
    reminders = told(holder, "polisi harus menerimanya", reference)
    assert len(reminders) == 2 and "sisa 6 jam" in reminders[1]
    assert told(kabupaten, "polisi", reference) == []

    bot.clock.advance(hours=6)  # the deadline passes
    await sweep(bot)
    for person in (holder, kabupaten, admin):
        alarms = told(person, OVERDUE, reference)
        assert len(alarms) == 1, person.first_name
        assert "Ditangani oleh: Bu Rina Kuaro" in alarms[0]
    assert told(colleague, "polisi", reference) == []  # another officer of the kecamatan

    # Exactly once: more sweeps, a restart, and the next day change nothing.
    await sweep(bot)
    await bot.restart()
    bot.clock.advance(hours=30)
    await sweep(bot)
    for person in (holder, kabupaten, admin):
        assert len(told(person, OVERDUE, reference)) == 1
    assert len(told(holder, "polisi harus menerimanya", reference)) == 2
    steps = [e.detail["step"] for e in await events(bot, reference, "police_alarm")]
    assert steps == ["24h", "6h", rules.OVERDUE]
    await holder.sends(f"/riwayat {reference}")
    assert "Peringatan batas waktu lapor polisi (terlewat)" in holder.last_text()


async def test_the_card_shows_the_deadline_overdue_until_a_police_referral_is_recorded(
        bot: Harness, reporter: Person) -> None:
    holder, _kabupaten, _admin = await district(bot)
    reference = await held_sexual_violence_case(bot, reporter, holder)
    await holder.sends(case_command(reference))
    assert "Laporkan ke polisi paling lambat" in holder.last_text()
    assert "TERLAMBAT" not in holder.last_text()

    bot.clock.advance(hours=72, minutes=1)
    await sweep(bot)
    await holder.sends(case_command(reference))
    assert "TERLAMBAT" in holder.last_text()
    bot.clock.advance(days=2)
    await holder.sends(case_command(reference))
    assert "TERLAMBAT" in holder.last_text()  # still, days later

    await presses_service(holder, "list")
    await presses_service(holder, "kinds")
    await presses_service(holder, "add", "penegakan_hukum")
    await presses_service(holder, "prov", label="Polres Paser")
    await holder.sends(case_command(reference))
    card = holder.last_text()
    assert "TERLAMBAT" not in card and "Laporkan ke polisi" not in card


async def test_a_police_referral_before_the_deadline_stops_every_reminder(
        bot: Harness, reporter: Person) -> None:
    holder, kabupaten, admin = await district(bot)
    reference = await held_sexual_violence_case(bot, reporter, holder)
    case = await case_row(bot, reference)
    await holder.sends(case_command(reference))
    await presses_case(holder, "menu", "")
    await presses_case(holder, "menu", "refer")
    await presses_case(holder, "refer", "police")
    for hours in (49, 18, 6, 24):
        bot.clock.advance(hours=hours)
        await sweep(bot)
    for person in (holder, kabupaten, admin):
        assert told(person, "polisi", case.reference) == []


async def test_trafficking_carries_the_police_deadline_too(
        bot: Harness, reporter: Person) -> None:
    holder, kabupaten, admin = await district(bot)
    reference = await report_from_modang(reporter, types=("tppo",))
    case = await case_row(bot, reference)
    assert case.police_deadline == case.created_at + timedelta(hours=72)
    await bot.deliver_outbox()
    await holder.sends(case_command(reference))
    assert "Laporkan ke polisi paling lambat" in holder.last_text()
    await presses_case(holder, "take")
    bot.clock.advance(hours=72)
    await sweep(bot)
    for person in (holder, kabupaten, admin):
        assert len(told(person, OVERDUE, reference)) == 1, person.first_name


async def test_a_bot_that_was_down_raises_only_the_alarm_that_is_due_now(
        bot: Harness, reporter: Person) -> None:
    holder, _kabupaten, _admin = await district(bot)
    reference = await held_sexual_violence_case(bot, reporter, holder)
    bot.clock.advance(days=4)  # down from before the first reminder until after the deadline
    await sweep(bot)
    assert told(holder, "polisi harus menerimanya", reference) == []
    assert len(told(holder, OVERDUE, reference)) == 1


async def test_two_workers_sweeping_at_once_raise_each_alarm_once(
        bot: Harness, reporter: Person) -> None:
    holder, kabupaten, admin = await district(bot)
    reference = await held_sexual_violence_case(bot, reporter, holder)
    second = await Harness(settings=bot.settings, clock=bot.clock, vault=bot.vault,
                           telegram=bot.telegram).start()
    try:
        bot.clock.advance(hours=72)
        await asyncio.gather(bot.runtime.escalation.sweep(), second.runtime.escalation.sweep())
        await bot.deliver_outbox()  # one sender (several senders: tests/test_workers.py)
    finally:
        await second.stop()
    for person in (holder, kabupaten, admin):
        assert len(told(person, OVERDUE, reference)) == 1
    async with bot.runtime.sessions() as session:
        alarms = list(await session.scalars(select(DeadlineAlarm)))
    assert [a.step for a in alarms] == [rules.OVERDUE]


# ---- follow-ups of stages and services ----------------------------------------------------------

async def test_a_stage_follow_up_reminds_the_holder_once_unless_the_case_moved_on(
        bot: Harness, reporter: Person) -> None:
    bot.settings.deadlines.stage_hours["penjangkauan"] = 48  # configurable
    holder = await kecamatan_officer(bot)
    stuck = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                              acknowledged_at=bot.clock.now(), handler_user_id=holder.user_id,
                              handler_name="Bu Rina Kuaro")
    moving = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                               acknowledged_at=bot.clock.now(), handler_user_id=holder.user_id,
                               handler_name="Bu Rina Kuaro")
    for case in (stuck, moving):
        await holder.sends(case_command(case.reference))
        await presses_case(holder, "set", PENJANGKAUAN)
    bot.clock.advance(hours=24)
    await holder.sends(case_command(moving.reference))
    await presses_case(holder, "set", "pengelolaan")

    bot.clock.advance(hours=24, minutes=1)
    await sweep(bot)
    assert len(told(holder, "sudah lama di tahap Penjangkauan", stuck.reference)) == 1
    assert told(holder, "sudah lama", moving.reference) == []
    bot.clock.advance(hours=48)
    await sweep(bot)
    assert len(told(holder, "sudah lama di tahap Penjangkauan", stuck.reference)) == 1


async def test_a_service_follow_up_reminds_the_holder_and_follow_up_done_sets_the_next(
        bot: Harness, reporter: Person) -> None:
    holder = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN,
                             acknowledged_at=bot.clock.now(), handler_user_id=holder.user_id,
                             handler_name="Bu Rina Kuaro")
    await holder.sends(case_command(case.reference))
    await presses_service(holder, "list")
    await presses_service(holder, "kinds")
    await presses_service(holder, "add", "kesehatan")
    await presses_service(holder, "prov", label="RSUD Panglima Sebaya")
    bot.clock.advance(days=2, hours=23)
    await sweep(bot)
    assert told(holder, "menindaklanjuti layanan Kesehatan", case.reference) == []
    bot.clock.advance(hours=2)  # kesehatan: 3 days (deadlines.service_follow_up_days)
    await sweep(bot)
    assert len(told(holder, "menindaklanjuti layanan Kesehatan", case.reference)) == 1

    await holder.sends(case_command(case.reference))
    await presses_service(holder, "list")
    await presses_service(holder, "show")
    await presses_service(holder, "follow")
    bot.clock.advance(days=3, minutes=1)
    await sweep(bot)
    assert len(told(holder, "menindaklanjuti layanan Kesehatan", case.reference)) == 2
