"""Enrolment: who among a village group's members reads that village's cases (DESIGN §6).

Granted, never taken: ``/gabung`` only asks, and an officer of the area or an admin approves it
(or an admin sends a one-time invitation, or the operator runs ``ppa-bot responders add-member``).
It ends by itself: a member who leaves the group, or is removed from it, loses access at once, and
Telegram is asked again at every press. A group that is revoked, removed the bot or moved to
another village ends its enrolments; one that became a supergroup keeps them. Every grant and end
is in the group's history."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlalchemy import select

from bot.callback_data import EnrolmentPress, StaffPress
from bot.crypto import Vault, generate_key, legacy_lookup_key
from models import EnrolmentEvent, EnrolmentRequest, GroupMember, Responder
from tests.case_work import (
    KUARO,
    MODANG,
    PASER,
    STORY,
    TANAH_GROGOT,
    VILLAGE_GROUP_ID,
    case_command,
    enrol,
    press,
    report_from_modang,
)
from tests.group_chat import Activist, GroupChat, in_a_shell
from tests.harness import Harness, Person
from tests.responder_people import Group, register_group, register_officer

WATI = 6_700_001
LINK = re.compile(r"https://t\.me/ppa_paser_bot\?start=(inv_[A-Za-z0-9_\-]+)")


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def vault(key: str) -> Vault:
    """The bot's key, known to the test: the command line is run beside it."""
    return Vault([key])


@pytest.fixture
async def officer(bot: Harness) -> Person:
    """Kecamatan Kuaro's officer: approves members of Modang's group."""
    return await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")


@pytest.fixture
async def admin(bot: Harness) -> Person:
    return await register_officer(bot, 7_900_001, PASER, "Pak Agus DP2KBP3A", admin=True)


@pytest.fixture
async def chat(bot: Harness) -> GroupChat:
    """Modang's PAPTBM group chat, approved by the district."""
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    return GroupChat(bot, VILLAGE_GROUP_ID, "Grup PAPTBM Desa Modang")


@pytest.fixture
def wati(chat: GroupChat) -> Activist:
    return chat.activist(WATI, "Wati", username="wati_modang")


def private_chat(bot: Harness, user_id: int = WATI) -> Person:
    return Person(bot, user_id=user_id, first_name="Wati", language_code="id")


async def alert_for(bot: Harness, reporter: Person) -> tuple[str, Group]:
    """A report from Modang, alerted to its village group."""
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    return reference, Group(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")


async def presses_detail(bot: Harness, group: Group, reference: str,
                         user_id: int = WATI) -> str:
    """Wati presses Detail under the alert; returns the pop-up she reads."""
    member = group.member(user_id, "Wati")
    await member.presses("Detail", group.alert_about(reference))
    await bot.deliver_outbox()
    return member.popups()[-1]


def got_the_story(bot: Harness, user_id: int = WATI) -> bool:
    return any(STORY in m.text for m in bot.telegram.messages(user_id))


async def members(bot: Harness) -> list[GroupMember]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(GroupMember).order_by(GroupMember.id)))


async def history(bot: Harness) -> list[tuple[str, str, str | None]]:
    """(kind, actor, reason) of every enrolment event, oldest first."""
    async with bot.runtime.sessions() as session:
        rows = await session.scalars(select(EnrolmentEvent).order_by(EnrolmentEvent.id))
        return [(e.kind, e.actor, e.detail.get("reason")) for e in rows]


def request_in(person: Person) -> tuple[str, list[str]]:
    message = next(m for m in reversed(person.inbox()) if "anggota PAPTBM" in m.text
                   and m.buttons())
    return message.text, message.button_texts()


# ---- granted, never taken ------------------------------------------------------------------------

async def test_gabung_only_asks_and_opens_nothing_until_an_officer_approves(
        bot: Harness, officer: Person, admin: Person, chat: GroupChat, wati: Activist,
        reporter_id: Person) -> None:
    await wati.sends("/gabung")
    said = chat.last_text()
    assert "permintaan Anda menjadi anggota PAPTBM Modang sudah dikirim ke petugas" in said
    assert "sekarang anggota" not in said
    await bot.deliver_outbox()
    for decider in (officer, admin):  # the kecamatan's officer and the district's admin
        text, buttons = request_in(decider)
        assert "Wati (@wati_modang)" in text and str(WATI) in text
        assert "Grup PAPTBM Desa Modang" in text and "Modang, Kecamatan Kuaro" in text
        assert buttons == ["✅ Setujui", "✖️ Tolak"]

    # A pending request opens nothing: no details under an alert, no case in private.
    reference, group = await alert_for(bot, reporter_id)
    assert "petugas terdaftar" in await presses_detail(bot, group, reference)
    wati_in_private = private_chat(bot)
    await wati_in_private.sends(f"/kasus {reference}")
    assert not got_the_story(bot)
    assert "petugas terdaftar" in wati_in_private.last_text()

    await officer.presses("Setujui")
    assert "Disetujui: Wati sekarang anggota PAPTBM Modang" in officer.last_text()
    await bot.deliver_outbox()
    assert "Anda sekarang anggota PAPTBM Modang" in wati_in_private.last_text()
    assert "masuk antrean" in await presses_detail(bot, group, reference)
    assert got_the_story(bot)
    assert [(kind, actor) for kind, actor, _reason in await history(bot)] == [
        ("requested", "telegram"), ("granted", f"officer:{await officer_id(bot, officer)}")]


async def officer_id(bot: Harness, person: Person) -> int:
    async with bot.runtime.sessions() as session:
        found = await session.scalar(select(Responder.id).where(
            Responder.chat_id == person.user_id))
        assert found is not None
        return found


async def test_a_refused_request_is_told_gently_and_not_asked_again_for_a_week(
        bot: Harness, officer: Person, chat: GroupChat, wati: Activist) -> None:
    await wati.sends("/gabung")
    await bot.deliver_outbox()
    await officer.presses("Tolak")
    assert "Ditolak: Wati tidak didaftarkan" in officer.last_text()
    await bot.deliver_outbox()
    assert "tidak disetujui" in private_chat(bot).last_text()
    assert await members(bot) == []
    asked = len(officer.inbox())

    await wati.sends("/gabung")
    assert "permintaan Anda baru-baru ini tidak disetujui" in chat.last_text()
    await bot.deliver_outbox()
    assert len(officer.inbox()) == asked  # nobody is asked again
    bot.clock.advance(days=8)
    await wati.sends("/gabung")
    await bot.deliver_outbox()
    assert len(officer.inbox()) == asked + 1


async def test_asking_twice_asks_the_officers_once(
        bot: Harness, officer: Person, chat: GroupChat, wati: Activist) -> None:
    await wati.sends("/gabung")
    await wati.sends("/gabung")
    assert "masih menunggu keputusan petugas" in chat.last_text()
    await bot.deliver_outbox()
    assert len([m for m in officer.inbox() if m.buttons()]) == 1


async def test_asking_twice_at_the_same_moment_asks_the_officers_once(
        bot: Harness, officer: Person, chat: GroupChat, wati: Activist) -> None:
    # A double tap handled by two workers at once: both read "no request yet".
    await asyncio.gather(wati.sends("/gabung"), wati.sends("/gabung"))
    await bot.deliver_outbox()
    assert len([m for m in officer.inbox() if m.buttons()]) == 1
    async with bot.runtime.sessions() as session:
        assert len(list(await session.scalars(select(EnrolmentRequest)))) == 1
    assert bot.runtime.metrics["errors"] == 0


@pytest.mark.parametrize("second", ["Setujui", "Tolak"])
async def test_two_decisions_at_once_one_wins_the_other_is_told_who_decided(
        bot: Harness, officer: Person, admin: Person, chat: GroupChat, wati: Activist,
        second: str) -> None:
    await wati.sends("/gabung")
    await bot.deliver_outbox()
    await asyncio.gather(officer.presses("Setujui"), admin.presses(second))

    async with bot.runtime.sessions() as session:
        [request] = list(await session.scalars(select(EnrolmentRequest)))
    decided = [kind for kind, _actor, _reason in await history(bot) if kind != "requested"]
    assert len(decided) == 1
    winner, loser = (officer, admin) if request.decided_by == "Bu Rina Kuaro" \
        else (admin, officer)
    assert loser.last_text().startswith("Permintaan Wati untuk PAPTBM Modang sudah")
    assert f"oleh {request.decided_by}" in loser.last_text()
    assert winner.last_text().startswith(("✅ Disetujui", "✖️ Ditolak"))
    assert len(await members(bot)) == (1 if request.status == "approved" else 0)


async def test_only_officers_of_the_area_and_admins_decide(
        bot: Harness, officer: Person, chat: GroupChat, wati: Activist,
        reporter_id: Person) -> None:
    await wati.sends("/gabung")
    async with bot.runtime.sessions() as session:
        [request] = list(await session.scalars(select(EnrolmentRequest)))
    forged = EnrolmentPress(request.id, True).pack()
    elsewhere = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    neighbour = await register_officer(bot, 7_700_556, MODANG, "Bu Sri Modang")  # village level
    for person in (elsewhere, neighbour, reporter_id):
        await person.sends("/start")
        await person.presses_data(forged)
    # Officers of another area or of the village itself are told; anyone else, who was never
    # given such a button, gets no word at all.
    assert popups_of(bot) == ["Hanya petugas wilayah ini dan admin kabupaten yang dapat "
                              "memutuskan ini."] * 2 + [""]
    # The same button pressed in the group itself is not a decision either.
    await wati.group.activist(officer.user_id, "Rina").presses_data(
        forged, chat.messages()[-1])
    assert await members(bot) == []
    async with bot.runtime.sessions() as session:
        assert (await session.get(EnrolmentRequest, request.id)).status == "pending"


def popups_of(bot: Harness) -> list[str]:
    return [str(c.params.get("text", "")) for c in bot.telegram.calls_to("answerCallbackQuery")]


async def test_without_an_officer_for_the_area_nobody_can_be_enrolled(
        bot: Harness, chat: GroupChat, wati: Activist) -> None:
    await wati.sends("/gabung")
    assert "Belum ada petugas atau admin yang dapat menyetujui" in chat.last_text()
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(EnrolmentRequest))) == []


async def test_an_admin_invites_a_member_with_a_one_time_link(
        bot: Harness, admin: Person, chat: GroupChat, reporter_id: Person) -> None:
    await admin.sends("/grup")
    await admin.presses("PAPTBM Modang")
    await admin.presses("Undang anggota")
    match = LINK.search(admin.last_text())
    assert match and "sekali" in admin.last_text()
    invited = private_chat(bot)
    await invited.sends(f"/start {match.group(1)}")
    assert "Anda sekarang anggota PAPTBM Modang" in invited.last_text()
    await bot.deliver_outbox()
    assert "Wati sudah membuka undangan Anda dan sekarang anggota PAPTBM Modang" \
        in admin.last_text()
    late = Person(bot, user_id=6_700_099, first_name="Eko", language_code="id")
    await late.sends(f"/start {match.group(1)}")
    assert "sudah dipakai" in late.last_text()

    reference, group = await alert_for(bot, reporter_id)
    await presses_detail(bot, group, reference)
    assert got_the_story(bot)
    assert [m.user_id for m in await members(bot)] == [WATI]
    assert (await history(bot))[-1][0] == "granted"


async def test_an_invitation_to_a_group_revoked_since_enrols_nobody(
        bot: Harness, admin: Person, chat: GroupChat) -> None:
    await admin.sends("/grup")
    await admin.presses("PAPTBM Modang")
    await admin.presses("Undang anggota")
    token = LINK.search(admin.last_text())
    assert token
    await admin.sends("/grup")
    await admin.presses("PAPTBM Modang")
    await admin.presses("Cabut")
    invited = private_chat(bot)
    await invited.sends(f"/start {token.group(1)}")
    assert "tidak lagi menerima peringatan" in invited.last_text()
    assert await members(bot) == []


async def test_the_operator_enrols_a_member_from_the_command_line_while_the_bot_runs(
        bot: Harness, chat: GroupChat, reporter_id: Person, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], key: str) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    monkeypatch.setenv("PPA_BOT_SECURITY__ENCRYPTION_KEY", key)
    monkeypatch.setenv("PPA_BOT_SECURITY__LOOKUP_KEY", legacy_lookup_key(key))
    reference, group = await alert_for(bot, reporter_id)
    assert await in_a_shell("responders", "add-member", str(VILLAGE_GROUP_ID), str(WATI),
                            "--name", "Wati Modang") == 0
    assert "enrolled: member 6700001 “Wati Modang”" in capsys.readouterr().out

    await presses_detail(bot, group, reference)  # the running bot, at once
    assert got_the_story(bot)
    assert await in_a_shell("responders", "list") == 0
    assert "member 6700001 “Wati Modang”" in capsys.readouterr().out
    assert (await history(bot))[-1][:2] == ("granted", "cli")

    assert await in_a_shell("responders", "add-member", "-100999", str(WATI), "--name",
                            "X") == 1
    assert "no group with chat id -100999" in capsys.readouterr().err
    assert await in_a_shell("responders", "add-member", str(VILLAGE_GROUP_ID), "-5", "--name",
                            "X") == 1
    assert "not a Telegram user id" in capsys.readouterr().err
    assert await in_a_shell("responders", "remove-member", str(VILLAGE_GROUP_ID),
                            str(WATI)) == 0
    assert [m.active for m in await members(bot)] == [False]


# ---- ends by itself ------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["leaves", "is removed by the group's admin"])
async def test_a_member_who_leaves_the_group_loses_access_at_once(
        bot: Harness, chat: GroupChat, wati: Activist, reporter_id: Person, how: str) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference, group = await alert_for(bot, reporter_id)
    await wati.leaves(removed_by=None if how == "leaves" else chat.activist(6_700_050, "Kades"))

    assert [m.active for m in await members(bot)] == [False]
    await bot.deliver_outbox()
    assert "Keanggotaan Anda di PAPTBM Modang sudah berakhir" in private_chat(bot).last_text()
    bot.telegram.set_member_status(VILLAGE_GROUP_ID, WATI, "member")  # even if Telegram errs
    assert "petugas terdaftar" in await presses_detail(bot, group, reference)
    await private_chat(bot).sends(f"/kasus {reference}")
    assert not got_the_story(bot)
    assert not private_chat(bot).last_text().startswith("📂")
    assert (await history(bot))[-1] == ("ended", "telegram", "left")


async def test_a_chat_member_update_ends_the_enrolment_too(
        bot: Harness, chat: GroupChat) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    user = {"id": WATI, "is_bot": False, "first_name": "Wati"}
    await bot.feed({"update_id": 990_001, "chat_member": {
        "chat": {"id": VILLAGE_GROUP_ID, "type": "supergroup", "title": chat.title},
        "from": user, "date": bot.telegram.now,
        "old_chat_member": {"status": "member", "user": user},
        "new_chat_member": {"status": "left", "user": user}}})
    assert [m.active for m in await members(bot)] == [False]


async def test_a_member_who_left_unnoticed_is_refused_at_the_next_press(
        bot: Harness, chat: GroupChat, reporter_id: Person) -> None:
    """Telegram does not always tell: the press itself asks (getChatMember)."""
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference, group = await alert_for(bot, reporter_id)
    bot.telegram.set_member_status(VILLAGE_GROUP_ID, WATI, "left")

    assert "petugas terdaftar" in await presses_detail(bot, group, reference)
    assert not got_the_story(bot)
    assert [m.active for m in await members(bot)] == [False]
    assert (await history(bot))[-1] == ("ended", "telegram", "left")


async def test_the_case_card_asks_telegram_too(
        bot: Harness, chat: GroupChat, reporter_id: Person) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference = await report_from_modang(reporter_id)
    wati = private_chat(bot)
    await wati.sends(f"/kasus {reference}")
    assert wati.last_text().startswith("📂")
    bot.clock.advance(seconds=61)  # Telegram's last answer is no longer trusted
    bot.telegram.set_member_status(VILLAGE_GROUP_ID, WATI, "kicked")
    await wati.presses("Detail")
    await bot.deliver_outbox()
    assert not got_the_story(bot)
    await wati.sends("/kasus")
    assert case_command(reference) not in wati.last_text()


async def test_telegrams_answer_is_trusted_for_a_minute_then_asked_again(
        bot: Harness, chat: GroupChat, reporter_id: Person) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference, group = await alert_for(bot, reporter_id)
    await presses_detail(bot, group, reference)
    await presses_detail(bot, group, reference)
    assert len(bot.telegram.calls_to("getChatMember")) == 1
    bot.clock.advance(seconds=61)
    await presses_detail(bot, group, reference)
    asked = bot.telegram.calls_to("getChatMember")
    assert len(asked) == 2
    assert (int(asked[-1].params["chat_id"]), int(asked[-1].params["user_id"])) == (
        VILLAGE_GROUP_ID, WATI)


async def test_leaving_within_that_minute_still_ends_access_at_once(
        bot: Harness, chat: GroupChat, wati: Activist, reporter_id: Person) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference, group = await alert_for(bot, reporter_id)
    await presses_detail(bot, group, reference)  # Telegram said "member" just now
    sent = len(bot.telegram.messages(WATI))
    await wati.leaves()
    assert "petugas terdaftar" in await presses_detail(bot, group, reference)
    assert not any(STORY in m.text for m in bot.telegram.messages(WATI)[sent:])


@pytest.mark.parametrize("fault", ["429", "5xx", "timeout"])
async def test_when_telegram_cannot_confirm_details_are_refused_with_try_again(
        bot: Harness, chat: GroupChat, reporter_id: Person, fault: str) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    reference, group = await alert_for(bot, reporter_id)
    bot.telegram.inject(fault, method="getChatMember", times=2)

    assert "coba lagi sebentar" in await presses_detail(bot, group, reference)
    wati = private_chat(bot)
    await wati.sends(f"/kasus {reference}")
    assert "coba lagi sebentar" in wati.last_text()
    assert not got_the_story(bot)
    assert [m.active for m in await members(bot)] == [True]  # an error ends nothing
    assert bot.runtime.metrics["errors"] == 0

    await presses_detail(bot, group, reference)  # Telegram answers again
    assert got_the_story(bot)


async def test_officers_of_the_area_list_members_and_withdraw_one(
        bot: Harness, officer: Person, chat: GroupChat, reporter_id: Person) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    await enrol(bot, VILLAGE_GROUP_ID, 6_700_002, "Yanti")
    reference, group = await alert_for(bot, reporter_id)
    await officer.sends("/grup")
    await officer.presses("PAPTBM Modang")
    assert "Anggota terdaftar: 2" in officer.last_text()
    assert "Cabut" not in officer.last_with_buttons().button_texts()  # the group: admins only
    await officer.presses("Anggota")
    assert "• Wati" in officer.last_text() and "• Yanti" in officer.last_text()
    await officer.presses("Wati")
    assert "Id Telegram: 6700001" in officer.last_text()
    assert "ditambahkan operator" in officer.last_text()
    await officer.presses("Cabut")
    assert "Dicabut: Wati" in officer.callback_answers()[-1]
    assert "• Wati" not in officer.last_text() and "• Yanti" in officer.last_text()

    await bot.deliver_outbox()
    assert "dicabut oleh petugas" in private_chat(bot).last_text()
    assert "petugas terdaftar" in await presses_detail(bot, group, reference)
    await officer.presses("Kembali")
    await officer.presses("Riwayat anggota")
    assert "Wati: keanggotaan berakhir (dicabut) oleh Bu Rina Kuaro" in officer.last_text()
    assert "Wati terdaftar (ditambahkan operator (baris perintah)) oleh operator" \
        in officer.last_text()


async def test_an_officer_of_another_area_can_neither_see_nor_withdraw_members(
        bot: Harness, chat: GroupChat) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    elsewhere = await register_officer(bot, 7_700_555, TANAH_GROGOT, "Pak Dedi Grogot")
    await elsewhere.sends("/grup")
    assert "PAPTBM Modang" not in elsewhere.last_text()
    [member] = await members(bot)
    for action, value in (("members", "0"), ("member", str(member.id)),
                          ("unenrol", str(member.id)), ("mhistory", "")):
        await press(elsewhere, StaffPress("group", action, member.responder_id, value).pack())
        assert "Hanya petugas wilayah ini" in elsewhere.callback_answers()[-1]
    assert "Wati" not in "\n".join(m.text for m in elsewhere.inbox())
    assert [m.active for m in await members(bot)] == [True]


@pytest.mark.parametrize("how", ["an admin revokes it", "the operator revokes it",
                                 "it removes the bot"])
async def test_a_group_that_ends_ends_all_its_enrolments(
        bot: Harness, admin: Person, chat: GroupChat, how: str,
        monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    await enrol(bot, VILLAGE_GROUP_ID, 6_700_002, "Yanti")
    await chat.activist(6_700_003, "Sari").sends("/gabung")  # still waiting
    if how == "an admin revokes it":
        await admin.sends("/grup")
        await admin.presses("PAPTBM Modang")
        await admin.presses("Cabut")
    elif how == "the operator revokes it":
        monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
        monkeypatch.setenv("PPA_BOT_SECURITY__ENCRYPTION_KEY", key)
        monkeypatch.setenv("PPA_BOT_SECURITY__LOOKUP_KEY", legacy_lookup_key(key))
        assert await in_a_shell("responders", "revoke", str(VILLAGE_GROUP_ID)) == 0
    else:
        bot_user = {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"}
        someone = {"id": 6_700_050, "is_bot": False, "first_name": "Kades"}
        await bot.feed({"update_id": 990_002, "my_chat_member": {
            "chat": {"id": VILLAGE_GROUP_ID, "type": "supergroup", "title": chat.title},
            "from": someone, "date": bot.telegram.now,
            "old_chat_member": {"status": "member", "user": bot_user},
            "new_chat_member": {"status": "left", "user": bot_user}}})
    assert [m.active for m in await members(bot)] == [False, False]
    assert [reason for kind, _a, reason in await history(bot) if kind == "ended"] == [
        "group_ended", "group_ended"]
    async with bot.runtime.sessions() as session:
        assert [r.status for r in await session.scalars(select(EnrolmentRequest))] == [
            "cancelled"]
    if how == "an admin revokes it":  # restoring the group enrols nobody again
        await admin.presses("Aktifkan lagi")
        assert [m.active for m in await members(bot)] == [False, False]


async def test_a_group_moved_to_another_village_ends_its_enrolments(
        bot: Harness, admin: Person, chat: GroupChat) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    await admin.sends("/grup")
    await admin.presses("PAPTBM Modang")
    await admin.presses("Pindahkan ke desa lain")
    await admin.presses("Kuaro")
    await admin.presses("Lolo")
    assert [m.active for m in await members(bot)] == [False]


async def test_a_group_that_becomes_a_supergroup_keeps_its_members(
        bot: Harness, chat: GroupChat, reporter_id: Person) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    await chat.becomes_a_supergroup(-1001000000999)
    reference = await report_from_modang(reporter_id)
    await bot.deliver_outbox()
    group = Group(bot, -1001000000999, "PAPTBM Modang")
    await presses_detail(bot, group, reference)
    assert got_the_story(bot)
    assert int(bot.telegram.calls_to("getChatMember")[-1].params["chat_id"]) == -1001000000999
    assert [m.active for m in await members(bot)] == [True]


async def test_a_request_of_someone_who_left_is_no_longer_open(
        bot: Harness, officer: Person, chat: GroupChat, wati: Activist) -> None:
    await wati.sends("/gabung")
    await bot.deliver_outbox()
    await wati.leaves()
    await officer.presses("Setujui")
    assert "sudah tidak berlaku" in officer.last_text()
    assert await members(bot) == []


async def test_a_name_cannot_dress_up_the_request_officers_read(
        bot: Harness, officer: Person, chat: GroupChat) -> None:
    crafted = chat.activist(6_700_077, "<b>Admin</b> \u202eDP2KBP3A\u200b")
    await crafted.sends("/gabung")
    await bot.deliver_outbox()
    text, _buttons = request_in(officer)
    assert "&lt;b&gt;Admin&lt;/b&gt; DP2KBP3A" in text
    assert "\u202e" not in text and "\u200b" not in text and "<b>Admin" not in text


async def test_member_buttons_replayed_in_a_group_do_nothing(
        bot: Harness, officer: Person, chat: GroupChat) -> None:
    await enrol(bot, VILLAGE_GROUP_ID, WATI, "Wati")
    [member] = await members(bot)
    withdraw = StaffPress("group", "unenrol", member.responder_id, str(member.id)).pack()
    await chat.activist(WATI, "Wati").sends("/gabung")  # a message of the bot in the group
    await chat.activist(officer.user_id, "Rina").presses_data(withdraw, chat.messages()[-1])
    assert [m.active for m in await members(bot)] == [True]
    assert popups_of(bot)[-1] == ""  # refused without a word: it is no button of a group
