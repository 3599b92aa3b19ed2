"""When Telegram refuses (DESIGN §4, §7): each refusal the outbox and the buttons can meet, with
Telegram's own status and words (``tests/telegram_chats.py``), and what every person sees after it.

- A group upgraded to a supergroup gets its alert at the new id, and its registration follows.
- An edit Telegram already applied (its answer was lost, so it is sent again) is "not modified":
  done, not retried, nobody paged.
- A button answered too late, or a press delivered twice, is "query is too old": harmless, nobody
  paged, the press still counts once.
- An alert someone deleted cannot be edited: given up, the group keeps receiving alerts.
- A reporter who blocked the bot is not written to again; the report stays.
- A group that removed the bot is switched off, its open cases move up, the admins are told.
(A 429 waited out for exactly ``retry_after``: ``test_outbox.py``.)
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.domain import form
from models import OutboxMessage, Responder
from models.outbox import FAILED, SENT
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

BASIC_GROUP = -4_001_000_001  # a basic group's id; the supergroup it becomes has another
SUPERGROUP = -1_004_001_000_001
VILLAGE_GROUP = -1_001_000_000_001


@pytest.fixture
async def village_group(bot: Harness) -> Group:
    return await register_group(bot, VILLAGE_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")


@pytest.fixture
async def admin(bot: Harness) -> Person:
    return await register_officer(bot, 7_700_009, PASER, "Pak Admin", admin=True)


def calls_to(bot: Harness, method: str, chat_id: int) -> list[str | None]:
    """Telegram's answer to each such call: None when it was done, else its refusal."""
    return [c.error for c in bot.telegram.calls_to(method) if int(c.params["chat_id"]) == chat_id]


def pages(admin: Person) -> list[str]:
    """The failure notices an admin got (``handlers/errors.py``: a correlation code)."""
    return [m.text for m in admin.inbox() if "(kode " in m.text or "(code " in m.text]


def errors_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def rows(bot: Harness, method: str) -> list[OutboxMessage]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.method == method).order_by(OutboxMessage.id)))


async def responder(bot: Harness, chat_id: int) -> Responder | None:
    async with bot.runtime.sessions() as session:
        return await session.scalar(select(Responder).where(Responder.chat_id == chat_id))


# --- chat migrated -----------------------------------------------------------------------------

async def test_an_alert_to_a_group_upgraded_to_a_supergroup_goes_to_its_new_id_and_stays_there(
        bot: Harness, reporter_id: Person, reporter: Person, admin: Person) -> None:
    group = await register_group(bot, BASIC_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    bot.telegram.chats.migrate(BASIC_GROUP, SUPERGROUP)
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()

    upgraded = Group(bot, SUPERGROUP, group.title)
    alert = upgraded.alert_about(reference)
    assert group.messages() == []
    assert calls_to(bot, "sendMessage", BASIC_GROUP) == [
        "Bad Request: group chat was upgraded to a supergroup chat"]

    # The group's registration followed it: the next alert goes to the new id at once, and a
    # member there may take the first case from the alert they were sent.
    second = await full_report(reporter)
    await bot.deliver_outbox()
    assert upgraded.alert_about(second)
    assert len(calls_to(bot, "sendMessage", BASIC_GROUP)) == 1
    member = upgraded.member(6_600_001, "Rina")
    await member.presses("Terima", alert)
    await bot.deliver_outbox()
    assert reference in member.popups()[-1]
    assert "Diterima oleh Rina" in upgraded.alert_about(reference).text
    assert pages(admin) == []
    found = await responder(bot, SUPERGROUP)
    assert found is not None and found.active


# --- message not modified ----------------------------------------------------------------------

async def test_an_edit_telegram_already_made_is_not_modified_done_once_and_nobody_is_paged(
        bot: Harness, reporter_id: Person, village_group: Group, admin: Person,
        caplog: pytest.LogCaptureFixture) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Rina")
    # Telegram makes the edit "Diterima oleh Rina", but its answer never reaches the bot.
    bot.telegram.inject("lost", method="editMessageText", chat_id=VILLAGE_GROUP)
    await member.presses("Terima", village_group.alert_about(reference))
    await bot.deliver_outbox()
    assert "Diterima oleh Rina" in village_group.alert_about(reference).text

    bot.clock.advance(seconds=1)  # the retry: the same edit again
    await bot.deliver_outbox()
    bot.clock.advance(hours=1)
    await bot.deliver_outbox()

    not_modified = ("Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup of "
                    "the message")
    assert calls_to(bot, "editMessageText", VILLAGE_GROUP) == [None, not_modified]
    [edit] = await rows(bot, "editMessageText")
    assert edit.status == SENT and edit.attempts == 2
    assert "Diterima oleh Rina" in village_group.alert_about(reference).text
    assert errors_in(caplog) == []
    assert pages(admin) == []


async def test_a_press_that_changes_nothing_on_screen_shows_nothing_new(
        bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)
    await reporter.presses("Long Ikis")
    seen = [(m.message_id, m.text, m.button_texts()) for m in reporter.inbox()]

    await reporter.presses("1/3")  # the page it is on: the same page again

    assert [c.error for c in bot.telegram.calls_to("editMessageText")][-1:] == [
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"]
    assert [(m.message_id, m.text, m.button_texts()) for m in reporter.inbox()] == seen
    assert bot.runtime.metrics["errors"] == 0


# --- query is too old --------------------------------------------------------------------------

async def test_a_press_answered_too_late_still_takes_the_case_and_pages_nobody(
        bot: Harness, reporter_id: Person, village_group: Group, admin: Person,
        caplog: pytest.LogCaptureFixture) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Rina")
    press = member.press_payload("Terima", village_group.alert_about(reference))
    bot.telegram.sees(press)  # Rina presses; the bot gets the press 20 s later (it was down)
    bot.clock.advance(seconds=20)
    await bot.feed(press)
    await bot.deliver_outbox()

    assert calls_to_answer(bot, member) == [
        "Bad Request: query is too old and response timeout expired or query ID is invalid"]
    assert "Diterima oleh Rina" in village_group.alert_about(reference).text
    assert bot.runtime.metrics["errors"] == 0
    assert errors_in(caplog) == []
    assert pages(admin) == []


@pytest.mark.parametrize("label", ["Terima", "Detail", "Butuh bantuan"])
async def test_an_alert_button_press_delivered_twice_counts_once_and_pages_nobody(
        bot: Harness, reporter_id: Person, village_group: Group, admin: Person,
        caplog: pytest.LogCaptureFixture, label: str) -> None:
    await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Rina")
    press = member.press_payload(label, village_group.alert_about(reference))
    await bot.feed(press)
    await bot.deliver_outbox()
    seen = [(m.message_id, m.text, m.button_texts()) for m in village_group.messages()]

    await bot.feed(press)  # Telegram delivers the same press again (a restart, a retry)
    await bot.deliver_outbox()

    assert calls_to_answer(bot, member)[1:] == [
        "Bad Request: query is too old and response timeout expired or query ID is invalid"]
    assert [(m.message_id, m.text, m.button_texts()) for m in village_group.messages()] == seen
    assert bot.runtime.metrics["errors"] == 0
    assert errors_in(caplog) == []
    assert pages(admin) == []


async def test_a_stale_alert_button_delivered_twice_pages_nobody(
        bot: Harness, reporter_id: Person, village_group: Group, admin: Person) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Rina")
    press = member.payload("a1|", village_group.alert_about(reference))  # no longer parses
    await bot.feed(press)
    await bot.feed(press)
    await bot.deliver_outbox()
    assert member.popups()[0] == "Tombol itu sudah tidak aktif."
    assert bot.runtime.metrics["errors"] == 0
    assert pages(admin) == []


def calls_to_answer(bot: Harness, member: object) -> list[str | None]:
    ids = set(getattr(member, "query_ids", []))
    return [c.error for c in bot.telegram.calls_to("answerCallbackQuery")
            if c.params.get("callback_query_id") in ids]


# --- message to edit not found -----------------------------------------------------------------

async def test_an_alert_someone_deleted_is_not_edited_again_and_the_group_keeps_its_alerts(
        bot: Harness, reporter_id: Person, reporter: Person, village_group: Group,
        admin: Person) -> None:
    officer = await register_officer(bot, 7_700_003, PASER, "Pak Dedi UPTD")
    reference = await full_report(reporter_id, types=("seksual",))  # group and kabupaten
    await bot.deliver_outbox()
    gone = village_group.alert_about(reference)
    bot.telegram.chats.someone_deletes(VILLAGE_GROUP, gone.message_id)  # a group admin did

    await officer.presses("Terima")
    await bot.deliver_outbox()
    bot.clock.advance(hours=1)
    await bot.deliver_outbox()

    assert calls_to(bot, "editMessageText", VILLAGE_GROUP) == [
        "Bad Request: message to edit not found"]
    [own_alert] = [m for m in officer.inbox() if reference in m.text]
    assert "Diterima oleh Pak Dedi UPTD" in own_alert.text  # the officer's own copy is edited
    [edit_row] = [r for r in await rows(bot, "editMessageText")
                  if f'"chat_id": {VILLAGE_GROUP}' in r.payload]
    assert edit_row.status == FAILED and edit_row.attempts == 1
    assert pages(admin) == []
    second = await full_report(reporter)  # the group still receives alerts
    await bot.deliver_outbox()
    assert village_group.alert_about(second)


# --- blocked by the user -----------------------------------------------------------------------

async def test_a_reporter_who_blocked_the_bot_is_not_written_to_again_and_the_report_stays(
        bot: Harness, reporter_id: Person, village_group: Group, admin: Person) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    bot.telegram.chats.block(reporter_id.user_id)
    member = village_group.member(6_600_001, "Rina")
    await member.presses("Terima", village_group.alert_about(reference))
    await bot.deliver_outbox()  # the reporter's notice: refused
    bot.clock.advance(hours=2)
    await bot.deliver_outbox()

    assert calls_to(bot, "sendMessage", reporter_id.user_id)[-1:] == [
        "Forbidden: bot was blocked by the user"]
    assert len([e for e in calls_to(bot, "sendMessage", reporter_id.user_id) if e]) == 1
    [case] = await bot.cases()
    assert case.reference == reference and case.status == "diterima"
    assert "Diterima oleh Rina" in village_group.alert_about(reference).text
    assert pages(admin) == []

    bot.telegram.chats.unblock(reporter_id.user_id)  # they come back: the report is there
    await reporter_id.sends("/status")
    assert reference in reporter_id.last_text()


# --- kicked from the group ---------------------------------------------------------------------

async def test_a_group_that_removed_the_bot_is_switched_off_its_case_moves_up_admins_told(
        bot: Harness, reporter_id: Person, reporter: Person, admin: Person) -> None:
    group = await register_group(bot, BASIC_GROUP, PONDONG_BARU, "PAPTBM Pondong Baru")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    bot.telegram.chats.kick(BASIC_GROUP)
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    await bot.deliver_outbox()

    assert calls_to(bot, "sendMessage", BASIC_GROUP) == [
        "Forbidden: bot was kicked from the group chat"]
    found = await responder(bot, BASIC_GROUP)
    assert found is not None and not found.active and found.inactive_reason == "removed"
    assert reference in officer.last_text() and "tidak bisa dihubungi" in officer.last_text()
    notice = "\n".join(m.text for m in admin.inbox())
    assert group.title in notice and reference in notice
    [case] = await bot.cases()
    assert case.tier == "kecamatan"

    second = await full_report(reporter)  # the next report does not try the group again
    await bot.deliver_outbox()
    assert len(calls_to(bot, "sendMessage", BASIC_GROUP)) == 1
    assert second in officer.last_text()
