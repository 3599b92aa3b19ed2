""""Do not contact me" means nothing more is sent (DESIGN §6): after the reference, a reporter
who refused contact receives no message of any kind until they write to the bot themselves, and
officers see why they cannot write. Every message to a reporter, of every kind, waits for their
safe contact time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot import jobs
from bot.callback_data import CasePress
from bot.domain import form
from bot.domain.workflow import DITERIMA, PENJANGKAUAN
from tests.case_work import (
    case_command,
    case_row,
    has_card_button,
    heard,
    kecamatan_officer,
    pending_to,
    press,
    presses_case,
    report_from_modang,
    seeded_case,
)
from tests.harness import Harness, Person


def calls_to(bot: Harness, person: Person, since: int = 0) -> list[str]:
    """Every Bot API call the bot made into this person's chat since ``since``."""
    return [c.method for c in bot.telegram.calls[since:]
            if str(c.params.get("chat_id")) == str(person.user_id)]


async def test_a_reporter_who_refused_contact_is_sent_nothing_at_all(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, contact=False)
    after_reference = len(bot.telegram.calls)

    await officer.sends(case_command(reference))
    assert "Pelapor meminta tidak dihubungi" in officer.last_text()
    assert not has_card_button(officer, "reply")
    await presses_case(officer, "take")  # the acknowledgement
    await presses_case(officer, "set", PENJANGKAUAN)  # status news
    await officer.sends(f"/balas {reference} Halo?")  # a relay
    assert "Pelapor meminta tidak dihubungi" in officer.last_text()
    case = await case_row(bot, reference)  # a reply button kept from an older card
    told = heard(bot, officer).count("Pelapor meminta tidak dihubungi")
    await press(officer, CasePress(case.id, "reply").pack(), officer.last_message())
    assert heard(bot, officer).count("Pelapor meminta tidak dihubungi") == told + 1
    bot.clock.advance(hours=2)
    await bot.deliver_outbox()
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()

    assert calls_to(bot, reporter, after_reference) == []
    for kind in ("reporter_ack", "status_news", "relay_to_reporter", "read_receipt"):
        assert not await pending_to(bot, kind)


async def test_after_writing_themselves_they_get_an_answer_but_nothing_unasked(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, contact=False)
    await reporter.sends(f"/tambah {reference} Dia pulang malam ini.")
    assert "passed to the officers" in reporter.last_text()  # the answer to what they wrote
    answered = len(bot.telegram.calls)
    await officer.sends(case_command(reference))  # read: no read receipt for this reporter
    await bot.deliver_outbox()
    assert calls_to(bot, reporter, answered) == []


async def test_an_abandoned_draft_of_someone_who_refused_contact_ends_in_silence(
        bot: Harness, reporter: Person) -> None:
    await report_from_modang(reporter, contact=False)
    await reporter.reaches(form.ROLE)  # a second report, left before the contact question
    before = len(bot.telegram.calls)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, minutes=1)
    assert await jobs.expire_drafts(bot.runtime) == 1
    await bot.deliver_outbox()
    assert calls_to(bot, reporter, before) == []
    assert await reporter.draft() is None


async def test_a_draft_that_said_no_contact_expires_in_silence(bot: Harness,
                                                               reporter: Person) -> None:
    await reporter.reaches(form.CONTACT)
    await reporter.picks(form.NO)
    before = len(bot.telegram.calls)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, minutes=1)
    assert await jobs.expire_drafts(bot.runtime) == 1
    await bot.deliver_outbox()
    assert calls_to(bot, reporter, before) == []


# ---- every kind waits for the safe contact time -----------------------------------------------
# The fake clock starts at 09:00 WITA; the reporter is safe to contact only 17–21 WITA.

async def acknowledgement(bot: Harness, reporter: Person, officer: Person, reference: str) -> None:
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")


async def status_news(bot: Harness, reporter: Person, officer: Person, reference: str) -> None:
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await bot.deliver_outbox()
    bot.clock.advance(hours=8)
    await bot.deliver_outbox()  # the acknowledgement goes at 17:00
    await reporter.opens_all()
    bot.clock.advance(hours=4)  # 21:00: outside the window again
    await officer.sends(case_command(reference))
    await presses_case(officer, "set", PENJANGKAUAN)


async def relay(bot: Harness, reporter: Person, officer: Person, reference: str) -> None:
    await officer.sends(f"/balas {reference} Kapan aman?")


async def read_receipt(bot: Harness, reporter: Person, officer: Person, reference: str) -> None:
    await reporter.sends(f"/tambah {reference} Tolong cepat.")
    await bot.deliver_outbox()
    await officer.sends(case_command(reference))


async def draft_expiry(bot: Harness, reporter: Person, officer: Person, reference: str) -> None:
    bot.clock.advance(minutes=2)  # a second report, not a flood
    await reporter.reaches(form.SAFE_TIME)
    await reporter.picks("evening")
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, minutes=1)  # 09:01 WITA again
    assert await jobs.expire_drafts(bot.runtime) == 1


KINDS: dict[str, Callable[[Harness, Person, Person, str], Awaitable[None]]] = {
    "reporter_ack": acknowledgement, "status_news": status_news, "relay_to_reporter": relay,
    "read_receipt": read_receipt, "draft_expired": draft_expiry}


@pytest.mark.parametrize("kind", list(KINDS))
async def test_every_kind_of_message_waits_for_the_safe_contact_time(
        bot: Harness, reporter: Person, kind: str) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, safe_time="evening")
    await bot.deliver_outbox()
    await KINDS[kind](bot, reporter, officer, reference)
    before = len(bot.telegram.calls)

    def arrived() -> int:
        return calls_to(bot, reporter, before).count("sendMessage")

    await bot.deliver_outbox()
    assert arrived() == 0, "nothing arrives outside the safe time"
    assert len(await pending_to(bot, kind)) == 1
    local = bot.clock.now().astimezone(bot.settings.tz)
    opening = local.replace(hour=17, minute=0, second=0, microsecond=0)
    opening += timedelta(days=1) if opening <= local else timedelta(0)
    bot.clock.advance(seconds=(opening - local).total_seconds() - 60)  # 16:59 WITA
    await bot.deliver_outbox()
    assert arrived() == 0
    bot.clock.advance(minutes=1)  # 17:00 WITA: the window opens
    await bot.deliver_outbox()
    assert arrived() == 1
    assert not await pending_to(bot, kind)


async def test_a_seeded_case_without_contact_hears_no_status_news(bot: Harness,
                                                                   reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA, contact_allowed=False,
                             acknowledged_at=bot.clock.now())
    before = len(bot.telegram.calls)
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    assert calls_to(bot, reporter, before) == []
