"""The weekly digest: every Monday 08:00 WITA the admins receive last week's new cases, open
cases by stage, overdue acknowledgements and police-report deadlines, and the village groups that
went inactive. Built from the database at a moment on the fake clock; sent through the outbox.

The clock stands at Monday 2 March 2026, 09:00 WITA: "last week" is 23 February to 1 March."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot import jobs
from bot.services.digest import build_digest, digest_due, queue_weekly_digest, render_digest
from models import Case, CaseEvent, OutboxMessage
from tests.case_factory import WITA, add_cases, add_group, add_officer, new_case, wita
from tests.harness import Harness, Person

HOUR = timedelta(hours=1)


async def a_week_of_work(bot: Harness) -> None:
    now = bot.clock.now()
    await add_cases(
        bot.runtime.sessions,
        # New last week: three that count.
        new_case(wita(2026, 2, 23, 0, 10), village="Modang", urgent=True, priority="urgent",
                 status="diterima", acknowledged_after=HOUR),
        new_case(wita(2026, 2, 25), village="Lombok", reference="PSR-26-LATEAK",
                 ack_deadline=now - 5 * HOUR),
        new_case(wita(2026, 3, 1, 23, 50), village="Janju", reference="PSR-26-UNROUT",
                 unrouted=True),
        # Not new last week: practice, the Sunday before, this morning.
        new_case(wita(2026, 2, 26), village="Modang", practice=True, ack_deadline=now - HOUR),
        new_case(wita(2026, 2, 22, 23, 0), village="Modang", reference="PSR-26-POLICE",
                 types=("seksual",), police_deadline=now - 2 * HOUR),
        new_case(wita(2026, 3, 2, 8, 0), village="Lolo", reference="PSR-26-SOONPD",
                 types=("seksual",), ack_deadline=now + HOUR, police_deadline=now + 24 * HOUR),
        # Older cases in every state.
        new_case(wita(2026, 1, 5), village="Lolo", status="dirujuk", referral="police",
                 types=("seksual",), police_deadline=wita(2026, 1, 8), acknowledged_after=HOUR),
        new_case(wita(2026, 1, 5), village="Lolo", status="pendampingan", referral="health",
                 reference="PSR-26-WASPOL", types=("seksual",), police_deadline=wita(2026, 1, 8),
                 acknowledged_after=HOUR),
        new_case(wita(2026, 1, 6), village="Lolo", status="pendampingan",
                 acknowledged_after=HOUR, ack_deadline=now - 24 * HOUR),
        new_case(wita(2026, 1, 7), village="Lolo", status="selesai",
                 closed_at=wita(2026, 2, 1), ack_deadline=now - 48 * HOUR),
        new_case(wita(2026, 1, 8), village="Lolo", status="ditutup", close_reason="duplicate",
                 closed_at=wita(2026, 1, 9)),
    )
    sessions = bot.runtime.sessions
    async with sessions.begin() as session:  # PSR-26-WASPOL went to the police before the shelter
        case_id = await session.scalar(select(Case.id).where(Case.reference == "PSR-26-WASPOL"))
        session.add(CaseEvent(case_id=case_id, at=wita(2026, 1, 6), actor="officer:1",
                              kind="status_changed",
                              detail={"to": "dirujuk", "referral": "police"}))
    await add_group(sessions, "Modang", -1001)
    await add_group(sessions, "Pondong Baru", -1002)
    await add_group(sessions, "Lolo", -1003, active=False, changed_at=wita(2026, 2, 27, 14, 30))
    await add_group(sessions, "Janju", -1004, active=False, changed_at=wita(2026, 1, 10))


async def test_last_weeks_work_in_figures(bot: Harness) -> None:
    await a_week_of_work(bot)
    async with bot.runtime.sessions() as session:
        digest = await build_digest(session, bot.clock.now(), bot.settings)
    assert digest.week_start == datetime(2026, 2, 23, tzinfo=WITA)
    assert digest.week_end == datetime(2026, 3, 2, tzinfo=WITA)
    assert (digest.new_cases, digest.new_urgent) == (3, 1)
    assert digest.new_by_kecamatan == [("Kuaro", 1), ("Long Ikis", 1), ("Tanah Grogot", 1)]
    assert digest.open_by_stage == [("baru", 4), ("diterima", 1), ("pendampingan", 2),
                                    ("dirujuk", 1)]
    assert [c.reference for c in digest.overdue_ack] == ["PSR-26-LATEAK", "PSR-26-UNROUT"]
    assert digest.overdue_ack[0].place == "Lombok, Long Ikis"
    assert digest.overdue_ack[1].deadline is None  # nobody could be alerted
    assert [c.reference for c in digest.police_overdue] == ["PSR-26-POLICE"]
    assert [c.reference for c in digest.police_due_soon] == ["PSR-26-SOONPD"]
    assert [(g.village, g.kecamatan) for g in digest.groups_gone] == [("Lolo", "Kuaro")]
    assert (digest.villages_with_group, digest.villages) == (2, 144)


async def test_the_digest_reads_well_in_indonesian(bot: Harness) -> None:
    await a_week_of_work(bot)
    async with bot.runtime.sessions() as session:
        digest = await build_digest(session, bot.clock.now(), bot.settings)
    text = render_digest(digest, bot.settings, "id")
    assert "Ringkasan mingguan</b> · 23 Feb – 1 Maret 2026" in text
    assert "Kasus baru minggu lalu: <b>3</b> (1 mendesak)" in text
    assert "Kasus yang masih berjalan: <b>8</b>" in text
    assert "Baru 4, Diterima 1, Pendampingan 2, Dirujuk 1" in text
    assert "Tidak diterima tepat waktu: 2" in text
    assert "<code>PSR-26-LATEAK</code> · Lombok, Long Ikis · sejak 2 Mar 04:00" in text
    assert "Batas waktu lapor ke polisi terlewati: 1" in text
    assert "PSR-26-SOONPD (3 Mar 09:00)" in text
    assert "Lolo, Kuaro · 27 Feb 14:30" in text
    assert "2 dari 144 desa" in text


async def test_a_quiet_week_says_so(bot: Harness) -> None:
    async with bot.runtime.sessions() as session:
        digest = await build_digest(session, bot.clock.now(), bot.settings)
    text = render_digest(digest, bot.settings, "en")
    assert "New cases last week: <b>0</b>" in text
    assert "Every case was acknowledged in time." in text
    assert "No police report deadline has passed." in text
    assert "No village group went inactive." in text


async def test_every_active_admin_receives_it_once_a_week_in_their_language(
        bot: Harness) -> None:
    await a_week_of_work(bot)
    sessions = bot.runtime.sessions
    await add_officer(sessions, 4_400_001, "64.01", admin=True)
    await add_officer(sessions, 4_400_002, "64.01", admin=True)
    await add_officer(sessions, 4_400_003, "64.01", admin=True, active=False)
    await add_officer(sessions, 4_400_004, "64.01.05")
    english = Person(bot, user_id=4_400_002, first_name="Tom", language_code="en")
    await english.sends("/bahasa")
    await english.presses("English")
    assert await jobs.send_weekly_digest(bot.runtime) == 2
    await bot.deliver_outbox()
    assert "Ringkasan mingguan" in bot.telegram.last_message(4_400_001).text
    assert "Weekly digest" in english.last_text()
    assert bot.telegram.messages(4_400_003) == []
    assert bot.telegram.messages(4_400_004) == []
    # The job runs again (a restart, a second worker): nothing new this week.
    bot.clock.advance(hours=5)
    assert await jobs.send_weekly_digest(bot.runtime) == 0
    # Next Monday it comes again.
    bot.clock.advance(days=7)
    assert await queue_weekly_digest(bot.runtime.sessions, bot.clock, bot.settings,
                                     bot.runtime.vault) == 2
    async with bot.runtime.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "weekly_digest")))
    assert len(rows) == 4


async def test_it_is_due_from_monday_eight_oclock_wita(bot: Harness) -> None:
    settings = bot.settings
    assert not digest_due(wita(2026, 3, 2, 7, 59), settings)
    assert digest_due(wita(2026, 3, 2, 8, 0), settings)
    assert digest_due(wita(2026, 3, 8, 23, 0), settings)  # the Sunday after: a missed one goes
    assert not digest_due(wita(2026, 3, 9, 7, 0), settings)


async def test_the_job_queue_runs_it_every_monday_at_eight_wita(bot: Harness) -> None:
    assert bot.app is not None and bot.app.job_queue is not None
    jobs.schedule(bot.app, bot.runtime)
    [job] = bot.app.job_queue.get_jobs_by_name("weekly_digest")
    after = wita(2026, 3, 2, 9, 0)
    fire = job.job.trigger.get_next_fire_time(None, after)
    assert fire == wita(2026, 3, 9, 8, 0)
    assert fire.strftime("%A") == "Monday"
    assert bot.app.job_queue.get_jobs_by_name("weekly_digest_catch_up")
