"""Alerts (DESIGN §4, §6): a report reaches its village group within one outbox round, the group
sees a redacted alert, details go privately to officers in scope, and the first "Terima" wins."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.callback_data import AlertPress
from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from models import CaseEvent, GroupMember, Responder
from tests.harness import Harness, Person
from tests.responder_people import (
    JANJU,
    KUARO,
    LANDMARK,
    NARRATIVE,
    PASER,
    PHOTO,
    PONDONG_BARU,
    Group,
    full_report,
    ready_to_send,
    register_group,
    register_officer,
)
from tests.telegram_double import FakeTelegram

GROUP_ID = -1001000000001


@pytest.fixture
async def village_group(bot: Harness) -> Group:
    return await register_group(bot, GROUP_ID, PONDONG_BARU, "PAPTBM Pondong Baru")


async def test_the_village_group_gets_a_redacted_alert_in_one_dispatcher_round(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    alert = village_group.alert_about(reference)
    for expected in ("Fisik", "Anak", "6–12 tahun", "Pondong Baru", "Kuaro", "WITA"):
        assert expected in alert.text
    assert alert.button_texts()[0].startswith("Terima")
    assert {"📋 Detail", "🆘 Butuh bantuan"} <= set(alert.button_texts())


async def test_a_press_answered_too_late_still_takes_the_case_and_pages_nobody(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    bot.telegram.inject("400-query-old", method="answerCallbackQuery")
    await village_group.member(6_600_001, "Budi").presses("Terima",
                                                          village_group.alert_about(reference))
    await bot.deliver_outbox()
    assert "Budi" in village_group.alert_about(reference).text  # taken, and shown as taken
    assert bot.runtime.metrics["errors"] == 0  # a harmless "query is too old" pages no admin


async def test_no_message_to_any_group_carries_the_story_a_file_the_phone_or_the_reporter(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    await register_group(bot, -1002000000002, PASER, "UPTD PPA Paser")
    reference = await full_report(reporter_id, types=("seksual",), danger=True)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Budi")
    await member.presses("Detail", village_group.alert_about(reference))
    await member.presses("Terima", village_group.alert_about(reference))
    await bot.deliver_outbox()
    group_calls = [c for c in bot.telegram.calls if int(c.params.get("chat_id") or 0) < 0]
    assert len(group_calls) >= 4  # two alerts, two edits
    secrets = [NARRATIVE, "Rina", "sapu", LANDMARK, "masjid", PHOTO, "foto memar", "3456",
               "81234567890", str(reporter_id.user_id), "Wati"]
    for call in group_calls:
        sent = repr(call.params)
        for secret in secrets:
            assert secret not in sent, f"{secret!r} leaked to a group by {call.method}"


async def test_a_sexual_violence_alert_says_it_may_not_be_settled_outside_the_justice_process(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    reference = await full_report(reporter_id, types=("seksual",))
    await bot.deliver_outbox()
    alert = village_group.alert_about(reference)
    assert "UU TPKS" in alert.text and "peradilan" in alert.text
    assert "polisi" in alert.text  # the 3 x 24 h police deadline is on the alert


async def test_details_go_in_private_to_an_officer_in_scope_and_the_view_is_recorded(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    group_messages = len(village_group.messages())
    as_member = village_group.member(officer.user_id, "Rina")
    await as_member.presses("Detail", village_group.alert_about(reference))
    await bot.deliver_outbox()

    assert len(village_group.messages()) == group_messages  # nothing more in the group
    private = "\n".join(m.text for m in officer.inbox())
    assert reference in private and NARRATIVE in private and LANDMARK in private
    assert "081234567890" in private
    photo = [m for m in officer.inbox() if m.method == "sendPhoto"]
    assert photo and photo[0].params["photo"] == PHOTO
    async with bot.runtime.sessions() as session:
        viewed = list(await session.scalars(select(CaseEvent).where(CaseEvent.kind == "viewed")))
    assert [(e.actor_name, e.detail["evidence"]) for e in viewed] == [("Bu Rina Kuaro", 1)]


async def test_a_member_who_enrolled_in_the_village_group_gets_details_in_private(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    async with bot.runtime.sessions.begin() as session:  # as `/gabung` in the group leaves it
        group = await session.scalar(select(Responder).where(Responder.chat_id == GROUP_ID))
        assert group is not None
        session.add(GroupMember(responder_id=group.id, user_id=6_600_001, name="Budi",
                                created_at=bot.clock.now(), changed_at=bot.clock.now()))
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    await village_group.member(6_600_001, "Budi").presses("Detail",
                                                          village_group.alert_about(reference))
    await bot.deliver_outbox()
    private = "\n".join(m.text for m in bot.telegram.messages(6_600_001))
    assert reference in private and NARRATIVE in private
    async with bot.runtime.sessions() as session:
        viewed = list(await session.scalars(select(CaseEvent).where(CaseEvent.kind == "viewed")))
    assert [e.actor_name for e in viewed] == ["Budi"]


async def test_details_are_refused_politely_to_a_member_and_to_an_officer_of_another_kecamatan(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    stranger_officer = await register_officer(bot, 7_700_002, JANJU, "Pak Anto Janju")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    member = village_group.member(6_600_001, "Budi")
    await member.presses("Detail", village_group.alert_about(reference))
    outsider = village_group.member(stranger_officer.user_id, "Anto")
    await outsider.presses("Detail", village_group.alert_about(reference))
    await bot.deliver_outbox()

    assert "petugas terdaftar" in member.popups()[-1]
    assert "petugas terdaftar" in outsider.popups()[-1]
    assert stranger_officer.inbox() == []
    assert NARRATIVE not in repr([c.params for c in bot.telegram.calls])
    async with bot.runtime.sessions() as session:
        kinds = list(await session.scalars(select(CaseEvent.kind)))
    assert "viewed" not in kinds and kinds.count("refused") == 2


async def test_a_forged_button_for_a_case_the_group_never_received_is_refused(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    other_group = await register_group(bot, -1003000000003, JANJU, "PAPTBM Janju")
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    case_id = (await bot.cases())[0].id
    intruder = other_group.member(6_600_009, "Iwan")
    # Janju's group has no alert about this case; it crafts the button data itself.
    await intruder.presses_data(AlertPress(case_id, "ack").pack(),
                                village_group.alert_about(reference))
    assert "Maaf" in intruder.popups()[-1]
    assert (await bot.cases())[0].acknowledged_at is None


async def test_two_members_press_terima_together_one_wins_the_other_is_told_who(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    alert = village_group.alert_about(reference)
    budi = village_group.member(6_600_001, "Budi")
    sari = village_group.member(6_600_002, "Sari")
    await asyncio.gather(budi.presses("Terima", alert), sari.presses("Terima", alert))

    cases = await bot.cases()
    winner, loser = (budi, sari) if cases[0].acknowledged_by.startswith("Budi") else (sari, budi)
    assert winner.popups()[-1] == f"Anda sudah menerima laporan {cases[0].reference}."
    assert f"Sudah diterima oleh {winner.first_name}" in loser.popups()[-1]
    async with bot.runtime.sessions() as session:
        taken = list(await session.scalars(select(CaseEvent).where(
            CaseEvent.kind == "acknowledged")))
    assert len(taken) == 1


async def test_terima_updates_every_alert_in_every_chat_and_tells_the_reporter_gently(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    kabupaten = await register_group(bot, -1002000000002, PASER, "UPTD PPA Paser")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await full_report(reporter_id, types=("seksual",), danger=True)
    await bot.deliver_outbox()
    # Urgent sexual violence: the village group and the kabupaten at once; the kecamatan officer
    # gets it too when "Butuh bantuan" is pressed in the village.
    member = village_group.member(6_600_001, "Budi")
    await member.presses("Butuh bantuan", village_group.alert_about(reference))
    await member.presses("Lainnya", village_group.messages()[-1])  # why: another reason
    await bot.deliver_outbox()
    assert any(reference in m.text for m in officer.inbox())
    reporter_messages = len(reporter_id.inbox())

    await officer.presses("Terima")
    await bot.deliver_outbox()
    await reporter_id.opens_all()

    for chat in (village_group.chat_id, kabupaten.chat_id, officer.user_id):
        alerts = [m for m in bot.telegram.messages(chat) if m.buttons()]
        assert alerts, chat
        for message in alerts:
            assert "Diterima oleh Bu Rina Kuaro" in message.text
            assert not any(t.startswith("Terima") for t in message.button_texts())
    notice = reporter_id.texts_since(reporter_messages)
    assert reference in notice and "petugas" in notice
    assert "Rina" not in notice  # the reporter is never told who
    case = (await bot.cases())[0]
    assert case.status == "diterima" and case.ack_deadline is None


async def test_an_alert_still_waiting_in_the_outbox_goes_out_already_taken(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    officer = await register_officer(bot, 7_700_003, PASER, "Pak Dedi UPTD")
    bot.telegram.inject("429", method="sendMessage", chat_id=GROUP_ID, retry_after=30)
    reference = await full_report(reporter_id, types=("tppo",))
    await bot.deliver_outbox()  # the officer's alert goes; the group's waits 30 s
    assert village_group.messages() == []
    await officer.presses("Terima")
    bot.clock.advance(seconds=31)
    await bot.deliver_outbox()

    alert = village_group.alert_about(reference)
    assert "Diterima oleh Pak Dedi UPTD" in alert.text
    assert not any(t.startswith("Terima") for t in alert.button_texts())
    edits = [c for c in bot.telegram.calls_to("editMessageText")
             if c.params["chat_id"] in (GROUP_ID, officer.user_id)]
    assert [c.params["chat_id"] for c in edits] == [officer.user_id]  # the group's went out taken


async def test_the_time_from_submit_to_the_first_alert_request_is_measured(
        bot: Harness, reporter_id: Person, village_group: Group) -> None:
    await ready_to_send(reporter_id)
    started = time.monotonic()
    await reporter_id.picks("", "submit")
    await bot.deliver_outbox()
    first = next(c for c in bot.telegram.calls
                 if c.method == "sendMessage" and c.params.get("chat_id") == GROUP_ID)
    elapsed = first.at - started
    print(f"\nsubmit → first alert request: {elapsed * 1000:.1f} ms")
    assert first.at >= started


async def test_nobody_registered_keeps_the_case_unrouted_and_says_so_in_the_log(
        bot: Harness, reporter_id: Person, caplog: pytest.LogCaptureFixture) -> None:
    reference = await full_report(reporter_id)
    await bot.deliver_outbox()
    case = (await bot.cases())[0]
    assert case.reference == reference and case.unrouted and case.ack_deadline is None
    assert any("UNROUTED" in r.getMessage() and reference in r.getMessage()
               for r in caplog.records)
    assert NARRATIVE not in caplog.text


class HoldingTelegram(FakeTelegram):
    """The double, able to keep one group's next sendMessage in flight until the test lets go."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_chat: int | None = None
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        params = request_data.parameters if request_data else {}
        if url.endswith("/sendMessage") and self.hold_chat is not None \
                and int(params.get("chat_id") or 0) == self.hold_chat:
            self.hold_chat = None
            self.arrived.set()
            await self.release.wait()
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_an_alert_in_flight_while_the_case_is_taken_is_edited_right_after(
        db_path: Path, settings: Settings, clock: FakeClock, vault: Vault) -> None:
    telegram = HoldingTelegram()
    bot = await Harness(settings=settings, clock=clock, vault=vault, telegram=telegram).start()
    try:
        group = await register_group(bot, GROUP_ID, PONDONG_BARU, "PAPTBM Pondong Baru")
        officer = await register_officer(bot, 7_700_003, PASER, "Pak Dedi UPTD")
        reporter = Person(bot, user_id=5_550_003, first_name="Ani", language_code="id")
        telegram.inject("5xx", method="sendMessage", chat_id=GROUP_ID)
        reference = await full_report(reporter, types=("tppo",))
        await bot.deliver_outbox()  # the officer's alert goes; the group's waits a second
        bot.clock.advance(seconds=1)
        telegram.hold_chat = GROUP_ID
        sending = asyncio.create_task(bot.deliver_outbox())
        await telegram.arrived.wait()  # the group's alert, with "Terima", is on its way...
        await officer.presses("Terima")  # ...when the officer takes the case
        telegram.release.set()
        await sending
        await bot.deliver_outbox()

        alert = group.alert_about(reference)
        assert "Diterima oleh Pak Dedi UPTD" in alert.text
        assert not any(t.startswith("Terima") for t in alert.button_texts())
    finally:
        await bot.stop()


async def test_the_reporter_hears_of_the_acknowledgement_only_in_their_safe_time(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_009, PASER, "Pak Dedi UPTD")
    # 09:00 WITA now; the reporter is safe to contact only in the evening (17–21 WITA).
    reference = await reporter.completes_report(safe_time="Evening")
    await bot.deliver_outbox()
    before = len(reporter.inbox())
    await officer.presses("Terima")
    await bot.deliver_outbox()
    assert not reporter.inbox()[before:]
    bot.clock.advance(hours=8)  # 17:00 WITA
    await bot.deliver_outbox()
    await reporter.opens_all()
    assert reference in reporter.texts_since(before)
