"""Onboarding and administration: the district runs its network from Telegram. The first admin is
made by the command line; after that a village group asks to be registered in its own chat, an
admin approves it with a tap, members enrol, officers are invited by a one-time link, and admins
list, change and revoke officers and groups on their phone."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import menus
from bot.callback_data import (
    BadCallback,
    GroupRequestPress,
    InvitePress,
    PurgePress,
    StaffPress,
    VillagePickPress,
)
from bot.callback_data import parse as parse_callback
from bot.clock import FakeClock
from bot.config import Settings, TrainingSettings
from bot.crypto import Vault
from bot.domain import form as report_form
from models import GroupMember, GroupRequest, Invitation, Responder
from models.responder import GROUP, OFFICER
from tests.case_factory import add_group, add_officer
from tests.group_chat import GroupChat, in_a_shell
from tests.harness import Harness, Person

MODANG = "64.01.05.2006"
KUARO = "64.01.05"
ADMIN_ID = 4_500_001
LINK = re.compile(r"https://t\.me/ppa_paser_bot\?start=(inv_[A-Za-z0-9_\-]+)")


@pytest.fixture
async def admin(bot: Harness) -> Person:
    await add_officer(bot.runtime.sessions, ADMIN_ID, "64.01", admin=True, name="Rina DP2KBP3A")
    return Person(bot, user_id=ADMIN_ID, first_name="Rina", language_code="id")


@pytest.fixture
def village_group(bot: Harness) -> GroupChat:
    return GroupChat(bot, -100_123_456, "PAPTBM Desa Modang")


async def responders(bot: Harness, kind: str) -> list[Responder]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Responder).where(Responder.kind == kind)
                                          .order_by(Responder.id)))


async def requests(bot: Harness) -> list[GroupRequest]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(GroupRequest).order_by(GroupRequest.id)))


# ---- the first admin ----

async def test_the_first_admin_is_made_from_the_command_line(
        bot: Harness, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    assert await in_a_shell("admin", "add", "4500009", "--name", "Rina Wulandari") == 0
    assert "admin 4500009 (Rina Wulandari) added for kabupaten Paser" in capsys.readouterr().out
    [made] = await responders(bot, OFFICER)
    assert (made.chat_id, made.region_code, made.is_admin, made.active) == (
        4500009, "64.01", True, True)
    first = Person(bot, user_id=4500009, first_name="Rina", language_code="id")
    await first.sends("/petugas")
    assert "Rina Wulandari" in first.last_text()


async def test_a_bad_user_id_is_refused_by_the_command_line(
        bot: Harness, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    assert await in_a_shell("admin", "add", "-5", "--name", "Nobody") == 1
    assert "not a Telegram user id" in capsys.readouterr().err
    assert await responders(bot, OFFICER) == []


# ---- a village group asks, an admin approves ----

async def test_a_village_group_named_in_the_command_is_approved_by_an_admin(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    activist = village_group.activist(6_000_001, "Siti")
    await activist.sends("/daftar modang")
    assert "dikirim ke admin kabupaten" in village_group.last_text()
    await bot.deliver_outbox()
    request = admin.last_with_buttons()
    assert "PAPTBM Desa Modang" in request.text  # the group's title
    assert "Modang, Kecamatan Kuaro" in request.text  # the village
    assert "Siti" in request.text and "6000001" in request.text  # the requester
    assert request.button_texts() == ["✅ Setujui", "✖️ Tolak"]

    await admin.presses("Setujui")
    assert "Disetujui" in admin.last_text()
    [group] = await responders(bot, GROUP)
    assert (group.chat_id, group.region_code, group.active) == (village_group.chat_id, MODANG, True)
    await bot.deliver_outbox()
    welcome = village_group.last_text()
    assert "Grup ini sekarang menjadi grup PAPTBM Modang" in welcome
    assert "Terima" in welcome and "/gabung" in welcome


async def test_the_village_is_picked_from_kecamatan_then_village_buttons(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    activist = village_group.activist(6_000_002, "Yanti")
    await activist.sends("/daftar")
    assert "Pilih kecamatannya" in village_group.last_text()
    await activist.presses("Kuaro")
    assert "Lolo" in village_group.last_with_buttons().button_texts()
    await activist.presses("▶")  # Kuaro has 13 villages: two pages
    await activist.presses("Pondong Baru")
    assert "grup PAPTBM Pondong Baru sudah dikirim" in village_group.last_text()
    [request] = await requests(bot)
    assert request.village_code == "64.01.05.2009" and request.requester_name == "Yanti"


async def test_only_the_person_who_asked_can_pick_the_village(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    await village_group.activist(6_000_003, "Yanti").sends("/daftar")
    other = village_group.activist(6_000_004, "Budi")
    await other.presses("Kuaro")
    assert "Hanya orang yang mengirim /daftar" in other.popups()[-1]
    assert "Pilih kecamatannya" in village_group.last_text()  # unchanged


async def test_a_misspelt_village_is_found_and_an_unknown_one_offers_the_list(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    activist = village_group.activist(6_000_005, "Siti")
    await activist.sends("/daftar Pondong Baroe")
    assert "grup PAPTBM Pondong Baru sudah dikirim" in village_group.last_text()
    await activist.sends("/daftar Xyzzyq")
    assert "tidak menemukan desa bernama “Xyzzyq”" in village_group.last_text()
    assert "Kuaro" in village_group.last_with_buttons().button_texts()


async def test_a_refused_group_is_told_and_receives_nothing(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    await village_group.activist(6_000_006, "Siti").sends("/daftar Modang")
    await bot.deliver_outbox()
    await admin.presses("Tolak")
    assert "Ditolak" in admin.last_text()
    await bot.deliver_outbox()
    assert "tidak menyetujui" in village_group.last_text()
    assert await responders(bot, GROUP) == []
    assert [r.status for r in await requests(bot)] == ["rejected"]


async def test_a_request_is_decided_once_when_two_admins_press(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    await add_officer(bot.runtime.sessions, 4_500_002, "64.01", admin=True, name="Agus")
    second = Person(bot, user_id=4_500_002, first_name="Agus", language_code="en")
    await second.sends("/bahasa")  # Agus reads English
    await second.presses("English")
    await village_group.activist(6_000_007, "Siti").sends("/daftar Modang")
    await bot.deliver_outbox()
    await admin.presses("Setujui")
    await second.presses("Approve")
    assert "already approved by Rina DP2KBP3A" in second.last_text()
    assert len(await responders(bot, GROUP)) == 1


async def test_asking_twice_asks_the_admins_once(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    activist = village_group.activist(6_000_020, "Siti")
    await activist.sends("/daftar Modang")
    await activist.sends("/daftar Modang")
    assert "masih menunggu keputusan" in village_group.last_text()
    await bot.deliver_outbox()
    assert len([m for m in admin.inbox() if m.buttons()]) == 1


async def test_asking_for_another_village_replaces_the_open_request(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    activist = village_group.activist(6_000_021, "Siti")
    await activist.sends("/daftar Modang")
    await bot.deliver_outbox()
    first = admin.last_with_buttons()
    await activist.sends("/daftar Lolo")
    await bot.deliver_outbox()
    second = admin.last_with_buttons()
    assert "Lolo" in second.text and second.message_id != first.message_id
    await admin.presses_data(first.buttons()[0]["callback_data"], first)
    assert "sudah diganti" in first.text  # the old request's message, edited
    assert await responders(bot, GROUP) == []
    await admin.presses_data(second.buttons()[0]["callback_data"], second)
    [group] = await responders(bot, GROUP)
    assert group.region_code == "64.01.05.2002"
    assert [r.status for r in await requests(bot)] == ["replaced", "approved"]


async def test_someone_who_is_not_an_admin_cannot_approve(
        bot: Harness, admin: Person, village_group: GroupChat, reporter: Person) -> None:
    await village_group.activist(6_000_008, "Siti").sends("/daftar Modang")
    [request] = await requests(bot)
    await add_officer(bot.runtime.sessions, 4_500_003, KUARO)
    officer = Person(bot, user_id=4_500_003, first_name="Dedi", language_code="en")
    await officer.sends("/start")
    await officer.presses_data(GroupRequestPress(request.id, True).pack())
    await reporter.sends("/start")
    await reporter.presses_data(GroupRequestPress(request.id, True).pack())
    # A button only admins are given: refused before anything runs, without a word.
    assert officer.callback_answers() == ["", ""]
    assert bot.runtime.metrics["press_refused"] == 2
    assert await responders(bot, GROUP) == []
    assert [r.status for r in await requests(bot)] == ["pending"]


async def test_without_any_admin_the_group_is_told_whom_to_contact(
        bot: Harness, village_group: GroupChat) -> None:
    await village_group.activist(6_000_009, "Siti").sends("/daftar Modang")
    assert "Belum ada admin kabupaten" in village_group.last_text()
    assert await requests(bot) == []


async def test_a_registered_group_is_not_registered_again(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    await add_group(bot.runtime.sessions, "Modang", village_group.chat_id)
    await village_group.activist(6_000_010, "Siti").sends("/daftar Lolo")
    assert "sudah menjadi grup PAPTBM Modang" in village_group.last_text()
    assert await requests(bot) == []


async def test_group_commands_in_a_private_chat_are_explained(reporter_id: Person) -> None:
    await reporter_id.sends("/daftar")
    assert "grup desa Anda" in reporter_id.last_text()
    await reporter_id.sends("/gabung")
    assert "grup desa Anda" in reporter_id.last_text()


# ---- members (the rest is tests/test_enrolment.py) ----

async def test_gabung_in_a_group_that_is_not_registered_is_refused(
        bot: Harness, village_group: GroupChat) -> None:
    await village_group.activist(6_000_012, "Wati").sends("/gabung")
    assert "belum terdaftar" in village_group.last_text()
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(GroupMember))) == []


# ---- officers by invitation ----

async def invitation_link(admin: Person, button: str) -> str:
    await admin.sends("/undang")
    await admin.presses(button)
    match = LINK.search(admin.last_text())
    assert match, admin.last_text()
    return match.group(1)


async def test_an_officer_invited_by_link_is_registered_when_opening_it(
        bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    assert "sekali" in admin.last_text() and "WITA" in admin.last_text()
    newcomer = Person(bot, user_id=4_600_001, first_name="Dedi", language_code="id")
    await newcomer.sends(f"/start {token}")
    assert "terdaftar sebagai petugas untuk Kuaro" in newcomer.last_text()
    officer = next(r for r in await responders(bot, OFFICER) if r.chat_id == 4_600_001)
    assert (officer.region_code, officer.is_admin, officer.name) == (KUARO, False, "Dedi")
    await bot.deliver_outbox()
    assert "Dedi sudah membuka undangan Anda" in admin.last_text()
    await newcomer.sends("/statistik")
    assert "Kecamatan Kuaro" in newcomer.inbox()[-2].text


async def test_an_invitation_works_once(bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    await Person(bot, user_id=4_600_002, first_name="Dedi").sends(f"/start {token}")
    late = Person(bot, user_id=4_600_003, first_name="Eko", language_code="id")
    await late.sends(f"/start {token}")
    assert "sudah dipakai" in late.last_text()
    assert 4_600_003 not in [r.chat_id for r in await responders(bot, OFFICER)]


async def test_an_invitation_expires(bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Admin · Kabupaten Paser")
    bot.clock.advance(hours=bot.settings.onboarding.invite_expire_hours + 1)
    late = Person(bot, user_id=4_600_004, first_name="Eko", language_code="en")
    await late.sends(f"/start {token}")
    assert "expired" in late.last_text()
    assert 4_600_004 not in [r.chat_id for r in await responders(bot, OFFICER)]


async def test_an_admin_opening_an_officer_link_leaves_it_for_its_person(
        bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    await admin.sends(f"/start {token}")
    assert "tautan ini tidak dipakai" in admin.last_text()
    [still] = await responders(bot, OFFICER)
    assert (still.region_code, still.is_admin) == ("64.01", True)
    newcomer = Person(bot, user_id=4_600_010, first_name="Dedi", language_code="id")
    await newcomer.sends(f"/start {token}")
    assert "terdaftar sebagai petugas" in newcomer.last_text()


async def test_an_admin_invitation_makes_an_admin(bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Admin · Kabupaten Paser")
    newcomer = Person(bot, user_id=4_600_005, first_name="Agus", language_code="en")
    await newcomer.sends(f"/start {token}")
    assert "registered as admin for Paser" in newcomer.last_text()
    assert "/undang" in newcomer.last_text()
    await newcomer.sends("/petugas")
    assert "Rina DP2KBP3A" in newcomer.last_text()


async def test_a_made_up_invitation_is_refused_and_the_plain_start_still_greets(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/start inv_madeup")
    assert "not valid" in reporter.last_text()
    await reporter.sends("/start")
    assert "reporting service" in reporter.last_text()


async def test_only_admins_invite(bot: Harness, reporter: Person) -> None:
    await add_officer(bot.runtime.sessions, 4_600_006, KUARO)
    officer = Person(bot, user_id=4_600_006, first_name="Dedi", language_code="en")
    await officer.sends("/undang")
    assert officer.last_text() == "Only district admins can do this."
    await reporter.sends("/undang")
    assert reporter.last_text() == "Only district admins can do this."
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(Invitation))) == []


async def test_only_a_hash_of_the_link_is_stored(bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    async with bot.runtime.sessions() as session:
        [stored] = list(await session.scalars(select(Invitation)))
    assert token.removeprefix("inv_") not in stored.token_hash
    assert stored.expires_at == bot.clock.now() + timedelta(hours=72)


# ---- admins manage officers and groups ----

async def test_admins_page_through_officers_and_revoke_and_restore_one(
        bot: Harness, admin: Person) -> None:
    for n in range(10):
        await add_officer(bot.runtime.sessions, 4_700_000 + n, KUARO, name=f"Petugas {n:02d}")
    await admin.sends("/petugas")
    listing = admin.last_text()
    assert "<b>Petugas</b> (11)" in listing
    assert "⭐ Rina DP2KBP3A" in listing
    assert len(admin.last_with_buttons().buttons()) == 8 + 2  # a page of eight, then 1/2 and ▶
    await admin.presses("▶")
    assert "Petugas 09" in admin.last_text()
    await admin.presses("Petugas 09")
    assert "Id Telegram: 4700009" in admin.last_text()
    await admin.presses("Cabut")
    assert "Status: dicabut" in admin.last_text()
    revoked = next(r for r in await responders(bot, OFFICER) if r.chat_id == 4_700_009)
    assert not revoked.active and revoked.inactive_reason == "revoked"
    former = Person(bot, user_id=4_700_009, first_name="Sembilan", language_code="id")
    await former.sends("/statistik")
    assert "petugas terdaftar" in former.last_text()
    await admin.presses("Aktifkan lagi")
    assert "Status: aktif" in admin.last_text()


async def test_an_officer_is_moved_and_made_admin_only_at_kabupaten_level(
        bot: Harness, admin: Person) -> None:
    dedi = await add_officer(bot.runtime.sessions, 4_700_100, KUARO, name="Dedi")
    await admin.sends("/petugas")
    await admin.presses("Dedi")
    await admin.presses("Jadikan admin")
    assert "pindahkan dulu ke tingkat kabupaten" in admin.callback_answers()[-1]
    await admin.presses("Ubah wilayah")
    await admin.presses("Long Ikis")
    assert "Wilayah: Long Ikis (64.01.06)" in admin.last_text()
    await admin.presses("Ubah wilayah")
    await admin.presses("Kabupaten Paser")
    await admin.presses("Jadikan admin")
    assert "Peran: admin" in admin.last_text()
    async with bot.runtime.sessions() as session:
        moved = await session.get(Responder, dedi.id)
    assert moved is not None and (moved.region_code, moved.is_admin) == ("64.01", True)


async def test_the_last_admin_cannot_be_revoked(bot: Harness, admin: Person) -> None:
    await admin.sends("/petugas")
    await admin.presses("Rina DP2KBP3A")
    await admin.presses("Cabut")
    assert "paling sedikit satu admin aktif" in admin.callback_answers()[-1]
    await admin.presses("Cabut hak admin")
    assert "paling sedikit satu admin aktif" in admin.callback_answers()[-1]
    [still] = await responders(bot, OFFICER)
    assert still.active and still.is_admin


async def test_admins_list_groups_move_one_and_revoke_it(bot: Harness, admin: Person) -> None:
    await add_group(bot.runtime.sessions, "Modang", -100_300_001)
    await admin.sends("/grup")
    assert "<b>Grup desa</b> (1)" in admin.last_text()
    await admin.presses("PAPTBM Modang")
    assert "Anggota terdaftar: 0" in admin.last_text()
    await admin.presses("Pindahkan ke desa lain")
    await admin.presses("Kuaro")
    await admin.presses("Lolo")
    assert "PAPTBM Lolo" in admin.last_text()
    await admin.presses("Cabut")
    [group] = await responders(bot, GROUP)
    assert (group.region_code, group.active) == ("64.01.05.2002", False)


async def test_an_empty_list_says_how_to_fill_it(bot: Harness, admin: Person) -> None:
    await admin.sends("/grup")
    assert "/daftar" in admin.last_text()


async def test_officer_lists_and_buttons_are_for_admins_only(
        bot: Harness, admin: Person, reporter: Person) -> None:
    target = await add_officer(bot.runtime.sessions, 4_700_200, KUARO, name="Dedi")
    officer = Person(bot, user_id=4_700_200, first_name="Dedi", language_code="en")
    await officer.sends("/petugas")
    assert officer.last_text() == "Only district admins can do this."
    for command in ("/petugas", "/grup"):
        await reporter.sends(command)
        assert reporter.last_text() == "Only district admins can do this."
    await officer.sends("/grup")  # a kecamatan officer sees the groups of their area only
    assert officer.last_text().startswith("<b>Village groups</b> (0)")
    await officer.sends("/start")  # a message with a button to press under
    await officer.presses_data(StaffPress("officer", "admin", target.id, "y").pack())
    assert officer.callback_answers()[-1] == "Only district admins can do this."
    async with bot.runtime.sessions() as session:
        unchanged = await session.get(Responder, target.id)
    assert unchanged is not None and not unchanged.is_admin


async def test_a_forged_staff_button_is_refused(bot: Harness, admin: Person) -> None:
    await admin.sends("/petugas")
    await admin.presses_data("o1|revoke|abc|")
    assert "no longer active" in admin.callback_answers()[-1] or \
        "tidak aktif" in admin.callback_answers()[-1]
    [still] = await responders(bot, OFFICER)
    assert still.active


async def test_officer_commands_sent_in_a_group_ask_for_a_private_chat(
        bot: Harness, admin: Person, village_group: GroupChat) -> None:
    for command in ("/ekspor", "/undang", "/petugas", "/grup", "/latihan"):
        await village_group.activist(ADMIN_ID, "Rina").sends(command)
        assert "chat pribadi" in village_group.last_text()
    assert bot.telegram.calls_to("sendDocument") == []


# ---- command menus ----

def menus_set(bot: Harness) -> dict[tuple[str, Any, str | None], list[str]]:
    found = {}
    for call in bot.telegram.calls_to("setMyCommands"):
        scope = call.params["scope"]
        key = (scope["type"], scope.get("chat_id"), call.params.get("language_code"))
        found[key] = [c["command"] for c in call.params["commands"]]
    return found


async def test_each_person_sees_only_the_commands_they_can_use(
        bot: Harness, admin: Person) -> None:
    await add_officer(bot.runtime.sessions, 4_800_001, KUARO)
    await add_officer(bot.runtime.sessions, 4_800_002, KUARO, active=False)
    assert bot.app is not None
    assert await menus.publish(bot.app.bot, bot.runtime.sessions) == 2
    found = menus_set(bot)
    private = found[("all_private_chats", None, None)]
    assert "lapor" in private and "statistik" not in private and "ekspor" not in private
    assert found[("all_group_chats", None, None)] == ["daftar", "gabung"]
    officer = found[("chat", 4_800_001, None)]
    assert "statistik" in officer and "lapor" in officer and "ekspor" not in officer
    admin_menu = found[("chat", ADMIN_ID, None)]
    assert {"ekspor", "undang", "petugas", "grup", "hapus_latihan"} <= set(admin_menu)
    assert ("chat", ADMIN_ID, "en") in found and ("all_group_chats", None, "en") in found
    deleted = [c.params["scope"].get("chat_id") for c in bot.telegram.calls_to("deleteMyCommands")]
    assert deleted == [4_800_002, 4_800_002]  # the revoked officer, in both languages


async def test_menus_are_described_in_each_language(bot: Harness) -> None:
    assert bot.app is not None
    await menus.publish(bot.app.bot, bot.runtime.sessions)
    descriptions = {(c.params["scope"]["type"], c.params.get("language_code")):
                    {d["command"]: d["description"] for d in c.params["commands"]}
                    for c in bot.telegram.calls_to("setMyCommands")}
    assert descriptions[("all_private_chats", None)]["lapor"] == "Buat laporan"
    assert descriptions[("all_private_chats", "en")]["lapor"] == "Make a report"


async def test_a_chat_the_bot_cannot_reach_does_not_stop_the_menus(
        bot: Harness, admin: Person) -> None:
    assert bot.app is not None
    bot.telegram.inject("400-chat", method="setMyCommands", times=1)
    await add_officer(bot.runtime.sessions, 4_800_003, KUARO)
    assert await menus.publish(bot.app.bot, bot.runtime.sessions) == 2


async def test_an_invited_officer_gets_the_officer_menu_at_once(
        bot: Harness, admin: Person) -> None:
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    await Person(bot, user_id=4_800_004, first_name="Dedi").sends(f"/start {token}")
    assert "statistik" in menus_set(bot)[("chat", 4_800_004, None)]


# ---- the whole story ----------------------------------------------------------------------------

@pytest.fixture
async def district(settings: Settings, clock: FakeClock,
                   vault: Vault) -> AsyncIterator[Harness]:
    """The bot as the district runs it, with a training group for practice reports."""
    configured = settings.model_copy(update={"training": TrainingSettings(chat_id=TRAINING)})
    harness = Harness(settings=configured, clock=clock, vault=vault)
    await harness.start()
    yield harness
    await harness.stop()


TRAINING = -100_999_000


async def test_the_district_runs_its_network_from_telegram(
        district: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = district
    # The first admin, by the command line.
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    assert await in_a_shell("admin", "add", str(ADMIN_ID), "--name", "Rina") == 0
    admin = Person(bot, user_id=ADMIN_ID, first_name="Rina", language_code="id")
    # A village group asks in its chat; the admin approves it.
    group = GroupChat(bot, -100_123_999, "PAPTBM Pondong Baru")
    await group.activist(6_100_001, "Siti").sends("/daftar Pondong Baru")
    await bot.deliver_outbox()
    await admin.presses("Setujui")
    await bot.deliver_outbox()
    assert "grup PAPTBM Pondong Baru" in group.last_text()
    # An officer, by a link.
    token = await invitation_link(admin, "Petugas · Kecamatan Kuaro")
    officer = Person(bot, user_id=6_100_002, first_name="Dedi", language_code="id")
    await officer.sends(f"/start {token}")
    # A real report reaches the village group; a practice one only the training group.
    reporter = Person(bot, user_id=6_100_003, first_name="Sari", language_code="en")
    reference = await reporter.completes_report(village="Pondong Baru")
    trainee = Person(bot, user_id=6_100_004, first_name="Ani", language_code="en")
    await trainee.sends("/latihan")
    await trainee.reaches(report_form.REVIEW)
    await trainee.picks("", "submit")
    await bot.deliver_outbox()
    practice_ref = next(c.reference for c in await bot.cases() if c.practice)
    assert any(reference in m.text for m in group.messages())
    assert not any(practice_ref in m.text for m in group.messages())
    assert any(practice_ref in m.text for m in bot.telegram.messages(TRAINING))
    # The officer reads the figures with the chart; the admin exports the year.
    await officer.sends("/statistik")
    assert "Kasus: <b>1</b>" in officer.inbox()[-2].text
    [chart] = [c for c in bot.telegram.calls_to("sendPhoto")
               if int(c.params["chat_id"]) == officer.user_id]
    assert chart.files["photo"][1].startswith(b"\x89PNG")
    await admin.sends("/ekspor")
    [export] = bot.telegram.calls_to("sendDocument")
    sheet = load_workbook(io.BytesIO(export.files["document"][1])).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["Referensi", reference]


# ---- buttons carry versioned, validated data ------------------------------------------------

@pytest.mark.parametrize("press", [
    GroupRequestPress(12, True), GroupRequestPress(12, False),
    VillagePickPress(6_000_001, "k", "64.01.05", 1), VillagePickPress(6_000_001, "v", MODANG),
    VillagePickPress(6_000_001, "b", ""), InvitePress("o", "64.01.05"), InvitePress("a", "64.01"),
    StaffPress("officer", "move", 7, "64.01.06"), StaffPress("group", "region", 7, "64.01.05:1"),
    StaffPress("group", "list", 0, "2"), PurgePress(True),
])
def test_every_administration_button_survives_the_round_trip(press: Any) -> None:
    data = press.pack()
    assert len(data.encode()) <= 64
    assert parse_callback(data) == press


@pytest.mark.parametrize("forged", [
    "g1|abc|y", "g1|12|maybe", "g2|12|y", "d1|6000001|v|64.01.05.2006; DROP|0",
    "d1|6000001|x|64.01.05|0", "d1|6000001|k|64.01.05|9999", "u1|x|64.01", "u1|a|Paser",
    "o1|delete|7|", "q1|show|-7|", "o1|move|7|<b>", "h1|maybe",
])
def test_forged_administration_buttons_are_refused(forged: str) -> None:
    with pytest.raises(BadCallback):
        parse_callback(forged)
