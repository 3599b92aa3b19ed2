"""Each person sees their own bot (issue 14): a command menu per role and language, set when the
role is granted or removed; /start and /bantuan in that role's words; the details carry the case
card's buttons; "Minta bantuan" says why; pop-ups say only what has happened; the history speaks
plain words."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot import menus
from bot.callback_data import CasePress, StaffPress
from bot.domain.workflow import DITERIMA
from models import CaseEvent
from tests.case_factory import add_officer
from tests.case_work import (
    KABUPATEN_GROUP_ID,
    KUARO,
    PASER,
    VILLAGE_GROUP_ID,
    card_button,
    case_command,
    events,
    press,
    presses_case,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 4_900_001


def menus_of(bot: Harness, chat_id: int) -> dict[str | None, list[str]]:
    """The latest command menu set for one private chat, per language code ([] once removed)."""
    found: dict[str | None, list[str]] = {}
    for call in bot.telegram.calls:
        scope = call.params.get("scope") or {}
        if isinstance(scope, str):
            continue
        if scope.get("chat_id") != chat_id:
            continue
        if call.method == "setMyCommands":
            found[call.params.get("language_code")] = [c["command"]
                                                      for c in call.params["commands"]]
        elif call.method == "deleteMyCommands":
            found[call.params.get("language_code")] = []
    return found


async def admin(bot: Harness) -> Person:
    await add_officer(bot.runtime.sessions, ADMIN_ID, PASER, admin=True, name="Rina DP2KBP3A")
    return Person(bot, user_id=ADMIN_ID, first_name="Rina", language_code="id")


# ---- menus per role -----------------------------------------------------------------------------

async def test_an_activist_gets_the_activist_menu_on_enrolment(bot: Harness) -> None:
    member = await village_member(bot)

    menu = menus_of(bot, member.user_id)
    assert menu[None] == menu["en"] == [name for name, _ in menus.MENUS[menus.ACTIVIST_ROLE]]
    assert "kasus" in menu[None] and "statistik" not in menu[None] and "ekspor" not in menu[None]


async def test_a_group_revoked_takes_its_members_menus_away(bot: Harness) -> None:
    boss = await admin(bot)
    member = await village_member(bot)
    async with bot.runtime.sessions() as session:
        from sqlalchemy import select

        from models import Responder

        group = await session.scalar(select(Responder).where(
            Responder.chat_id == VILLAGE_GROUP_ID))
    assert group is not None
    await boss.sends("/grup")
    await boss.presses_data(StaffPress("group", "revoke", group.id, "").pack())

    assert menus_of(bot, member.user_id) == {None: [], "en": []}


async def test_the_group_leaving_takes_its_members_menus_away(bot: Harness) -> None:
    member = await village_member(bot)
    await bot.feed({"update_id": 99_000_001, "my_chat_member": {
        "chat": {"id": VILLAGE_GROUP_ID, "type": "supergroup", "title": "PAPTBM Modang"},
        "from": {"id": 1, "is_bot": False, "first_name": "X"}, "date": bot.telegram.now,
        "old_chat_member": {"status": "member", "user": {"id": 777000111, "is_bot": True,
                                                          "first_name": "Layanan PPA"}},
        "new_chat_member": {"status": "left", "user": {"id": 777000111, "is_bot": True,
                                                        "first_name": "Layanan PPA"}}}})

    assert menus_of(bot, member.user_id) == {None: [], "en": []}


async def test_an_officer_made_admin_gets_the_admin_menu_and_loses_it_when_revoked(
        bot: Harness) -> None:
    boss = await admin(bot)
    dedi = await add_officer(bot.runtime.sessions, 4_900_100, PASER, name="Dedi")
    await boss.sends("/petugas")
    await boss.presses("Dedi")
    await boss.presses("Jadikan admin")
    assert "undang" in menus_of(bot, dedi.chat_id)[None]

    await boss.presses("Cabut hak admin")
    menu = menus_of(bot, dedi.chat_id)[None]
    assert "statistik" in menu and "undang" not in menu
    await boss.presses("Cabut")
    assert menus_of(bot, dedi.chat_id) == {None: [], "en": []}


async def test_a_revoked_officer_who_is_also_an_activist_keeps_the_activist_menu(
        bot: Harness) -> None:
    boss = await admin(bot)
    member = await village_member(bot)
    officer = await add_officer(bot.runtime.sessions, member.user_id, KUARO, name="Sri")
    await menus.refresh(bot.app.bot, bot.runtime.sessions, member.user_id)  # type: ignore[union-attr]
    assert "statistik" in menus_of(bot, member.user_id)[None]
    await boss.sends("/petugas")
    await boss.presses_data(StaffPress("officer", "revoke", officer.id, "").pack())

    menu = menus_of(bot, member.user_id)[None]
    assert "kasus" in menu and "statistik" not in menu


async def test_at_start_up_every_enrolled_member_gets_the_menu(bot: Harness) -> None:
    member = await village_member(bot)
    bot.telegram.calls.clear()
    assert bot.app is not None
    assert await menus.publish_members(bot.app.bot, bot.runtime.sessions) == 1
    assert "kasus" in menus_of(bot, member.user_id)[None]


async def test_a_first_admin_added_while_the_bot_runs_gets_the_menu_on_start(
        bot: Harness) -> None:
    boss = await admin(bot)  # as `ppa-bot admin add` does, beside the running bot
    await boss.sends("/start")
    assert "undang" in menus_of(bot, ADMIN_ID)[None]
    assert "undang" in menus_of(bot, ADMIN_ID)["en"]


async def test_a_reporter_sending_start_changes_no_menu(bot: Harness, reporter: Person) -> None:
    await reporter.sends("/start")
    assert menus_of(bot, reporter.user_id) == {}


# ---- /start and /bantuan per role ---------------------------------------------------------------

def command_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^/\w+ – \S", line)]


async def test_start_greets_each_role_with_its_commands_one_line_each(
        bot: Harness, reporter_id: Person) -> None:
    boss = await admin(bot)
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    member = await village_member(bot)
    expected = [(boss, "admin", menus.ADMIN_ROLE),
                (officer, "petugas perlindungan untuk wilayah Kuaro", menus.OFFICER_ROLE),
                (member, "anggota PAPTBM desa Modang", menus.ACTIVIST_ROLE)]
    for person, words, role in expected:
        await person.sends("/start")
        text = person.last_text()
        assert words in text, text
        assert [line.split()[0] for line in command_lines(text)] == \
            ["/" + name for name, _ in menus.MENUS[role]]

    await reporter_id.sends("/start")
    assert command_lines(reporter_id.last_text()) == []  # two lines and a button, as before
    assert len(reporter_id.last_text().splitlines()) == 2


async def test_bantuan_lists_the_commands_of_each_role(bot: Harness, reporter_id: Person) -> None:
    boss = await admin(bot)
    member = await village_member(bot)
    for person, role in ((reporter_id, menus.REPORTER_ROLE), (member, menus.ACTIVIST_ROLE),
                         (boss, menus.ADMIN_ROLE)):
        await person.sends("/bantuan")
        text = person.last_text()
        assert [line.split()[0] for line in command_lines(text)] == \
            ["/" + name for name, _ in menus.MENUS[role]], role
        assert "112" in text
    assert "/kasus" not in reporter_id.last_text()
    assert "/ekspor" not in member.last_text()


# ---- the details carry the card's buttons -------------------------------------------------------

async def test_the_details_from_an_alert_carry_the_case_cards_buttons(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    alert = next(m for m in officer.inbox() if reference in m.text and m.buttons())
    await officer.presses_data(next(b["callback_data"] for b in alert.buttons()
                                    if "Detail" in b["text"]), alert)
    await bot.deliver_outbox()

    details = next(m for m in reversed(officer.inbox()) if m.text.startswith("📋"))
    actions = {press.action for press in _case_presses(details)}
    assert {"take", "note", "history", "help"} <= actions

    _message, data = card_button(officer, "take")
    await press(officer, data, details)
    assert details.text == next(m for m in officer.inbox()
                                if m.message_id == details.message_id).text  # still there


def _case_presses(message: Any) -> list[CasePress]:
    from bot.callback_data import BadCallback, parse

    found = []
    for button in message.buttons():
        try:
            pressed = parse(button["callback_data"])
        except BadCallback:
            continue
        if isinstance(pressed, CasePress):
            found.append(pressed)
    return found


async def test_the_details_from_the_card_carry_its_buttons(bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    reference = await report_from_modang(reporter)
    await member.sends(case_command(reference))
    await presses_case(member, "detail")
    await bot.deliver_outbox()

    details = next(m for m in reversed(member.inbox()) if m.text.startswith("📋"))
    assert {"take", "note", "detail"} <= {p.action for p in _case_presses(details)}


# ---- Minta bantuan, with a reason ---------------------------------------------------------------

async def test_minta_bantuan_from_the_card_asks_why_and_the_next_tier_sees_it(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    kabupaten = GroupChat(bot, KABUPATEN_GROUP_ID, "UPTD PPA Paser")
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    await member.sends(case_command(reference))

    await presses_case(member, "help")
    menu = member.last_with_buttons()
    assert "kenapa" in menu.text.lower()
    assert menu.button_texts()[:4] == ["Tidak bisa dihubungi", "Butuh petugas perempuan",
                                       "Di luar kemampuan kami", "Lainnya"]
    assert not await events(bot, reference, "help_requested")  # nothing happens yet

    await member.presses("Butuh petugas perempuan")
    await bot.deliver_outbox()
    alert = next(m for m in kabupaten.messages() if reference in m.text)
    assert "Alasan: Butuh petugas perempuan" in alert.text
    [asked] = await events(bot, reference, "help_requested")
    assert asked.detail["reason"] == "female_officer"
    await member.sends(f"/riwayat {reference}")
    assert "meminta bantuan tingkat berikutnya (Butuh petugas perempuan)" in member.last_text()


async def test_butuh_bantuan_in_the_group_asks_why_and_the_next_tier_sees_it(
        bot: Harness, reporter: Person) -> None:
    village = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    await register_group(bot, VILLAGE_GROUP_ID, "64.01.05.2006", "PAPTBM Modang")
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    sri = village.activist(6_600_001, "Sri")

    await sri.presses("Butuh bantuan")
    picker = village.last_with_buttons()
    assert "alasan" in picker.text and "Tidak bisa dihubungi" in picker.button_texts()
    assert not any(reference in m.text for m in officer.inbox())

    await sri.presses("Tidak bisa dihubungi")
    await bot.deliver_outbox()
    alert = next(m for m in officer.inbox() if reference in m.text and m.buttons())
    assert "Alasan: Tidak bisa dihubungi" in alert.text
    assert any("Sri minta bantuan (Tidak bisa dihubungi)" in m.text for m in village.messages())
    reminder = next(m for m in village.messages() if "meminta bantuan" in m.text)
    assert "Alasan: Tidak bisa dihubungi" in reminder.text


async def test_the_reasons_can_be_put_away(bot: Harness, reporter: Person) -> None:
    village = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    await register_group(bot, VILLAGE_GROUP_ID, "64.01.05.2006", "PAPTBM Modang")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    sri = village.activist(6_600_001, "Sri")
    await sri.presses("Butuh bantuan")
    await sri.presses("Batal")
    assert "Tidak jadi" in village.last_text()
    assert not await events(bot, reference, "help_requested")


# ---- pop-ups say only what has happened ---------------------------------------------------------

async def test_the_terima_popup_does_not_say_the_reporter_was_told(bot: Harness,
                                                                  reporter: Person) -> None:
    village = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    await register_group(bot, VILLAGE_GROUP_ID, "64.01.05.2006", "PAPTBM Modang")
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    before = len(reporter.inbox())

    await village.activist(6_600_001, "Sri").presses("Terima")

    popup = village.activist(6_600_001, "Sri").popups()[-1]
    assert popup == f"Anda sudah menerima laporan {reference}."
    assert len(reporter.inbox()) == before  # indeed: the reporter's message is still queued
    await bot.deliver_outbox()
    assert len(reporter.inbox()) == before + 1


async def test_a_status_popup_says_the_message_to_the_reporter_was_queued(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_001, KUARO, "Bu Rina Kuaro")
    reference = await report_from_modang(reporter)
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await presses_case(officer, "set")
    popup = officer.callback_answers()[-1]
    assert "diberi tahu" not in popup and "antrean" in popup


# ---- the history speaks plain words --------------------------------------------------------------

async def test_the_history_never_shows_an_internal_event_name(bot: Harness,
                                                              reporter: Person) -> None:
    officer = await register_officer(bot, 7_800_001, PASER, "Pak Yusuf UPTD", admin=True)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    async with bot.runtime.sessions.begin() as session:
        for kind in ("exported", "from_a_newer_version"):
            session.add(CaseEvent(case_id=case.id, at=bot.clock.now(), actor="officer:1",
                                  actor_name="Pak Yusuf UPTD", kind=kind, detail={}))
    await officer.sends(f"/riwayat {case.reference}")

    history = officer.last_text()
    assert "Ikut diekspor oleh Pak Yusuf UPTD" in history
    assert "Pak Yusuf UPTD: perubahan lain pada kasus" in history
    assert "exported" not in history and "from_a_newer" not in history


def test_every_kind_of_event_the_code_writes_has_plain_words() -> None:
    from bot.services.export import EXPORTED
    from bot.services.privacy import WITHDRAWN
    from bot.views.cases import EVENT_LINES

    written = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"CaseEvent\((.*?)\)", text, flags=re.S):
            written |= set(re.findall(r'kind="(\w+)"', block))
    written |= {EXPORTED, WITHDRAWN, "retention"}
    assert written and written <= set(EVENT_LINES), written - set(EVENT_LINES)


