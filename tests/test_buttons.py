"""Every button declares where it may be pressed and by whom (DESIGN §6, issue 10 point 4).

Every kind of callback data the bot makes is replayed in every chat type (the presser's private
chat, the village group that received the case's alert, another group) by every role (the
reporter, a stranger in the group, an enrolled member, an officer in scope, an officer of another
area, an admin). Where the district's rule says the press must not act, nothing changes: no row
(but the record of the refusal), no message to anyone but a word to the presser, no edit, no
deletion. Where the kind was never meant to be pressed there, or by that person, the press is
refused before any handler runs, without a word.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bot.callback_data import (
    AlertPress,
    CancelPress,
    CaseListPress,
    CasePress,
    ConsentPress,
    EnrolmentPress,
    GroupRequestPress,
    HelpPress,
    InvitePress,
    LanguagePress,
    NewsPress,
    OpenPress,
    PosterPress,
    Press,
    PrivacyPress,
    ProviderPress,
    PurgePress,
    ReportPress,
    ServicePress,
    StaffPress,
    StartPress,
    VillagePickPress,
    parse,
)
from bot.domain.access import ADMINS, ANYONE, IN_GROUP, IN_PRIVATE, OFFICERS, STAFF
from bot.domain.workflow import DITERIMA, PENJANGKAUAN
from handlers import BUTTONS
from models import (
    Base,
    CaseEvent,
    EnrolmentRequest,
    GroupMember,
    GroupRequest,
    Reporter,
    Responder,
)
from tests.case_work import (
    KUARO,
    MODANG,
    PASER,
    TANAH_GROGOT,
    VILLAGE_GROUP_ID,
    report_from_modang,
)
from tests.group_chat import GroupChat
from tests.harness import Harness, Person, new_update_id
from tests.responder_people import register_group, register_officer
from tests.telegram_double import BOT_USER

OTHER_GROUP_ID = -1003000000003  # Janju's group: it never received the case's alert
JANJU = "64.01.04.2002"

# The district's declaration of each kind: where (private / group chats) and by whom.
DECLARED: dict[type[Press], tuple[frozenset[str], str]] = {
    ReportPress: (frozenset({IN_PRIVATE}), ANYONE),
    CancelPress: (frozenset({IN_PRIVATE}), ANYONE),
    StartPress: (frozenset({IN_PRIVATE}), ANYONE),
    LanguagePress: (frozenset({IN_PRIVATE}), ANYONE),
    PrivacyPress: (frozenset({IN_PRIVATE}), ANYONE),
    NewsPress: (frozenset({IN_PRIVATE}), ANYONE),
    OpenPress: (frozenset({IN_PRIVATE}), ANYONE),  # the reporter whose message it is
    HelpPress: (frozenset({IN_PRIVATE}), ANYONE),
    AlertPress: (frozenset({IN_PRIVATE, IN_GROUP}), ANYONE),  # the case's rule decides
    CasePress: (frozenset({IN_PRIVATE}), STAFF),
    CaseListPress: (frozenset({IN_PRIVATE}), STAFF),
    GroupRequestPress: (frozenset({IN_PRIVATE}), ADMINS),
    EnrolmentPress: (frozenset({IN_PRIVATE}), OFFICERS),
    VillagePickPress: (frozenset({IN_GROUP}), ANYONE),  # only the one who sent /daftar
    InvitePress: (frozenset({IN_PRIVATE}), ADMINS),
    StaffPress: (frozenset({IN_PRIVATE}), OFFICERS),
    PurgePress: (frozenset({IN_PRIVATE}), ADMINS),
    PosterPress: (frozenset({IN_PRIVATE}), ADMINS),
    ServicePress: (frozenset({IN_PRIVATE}), STAFF),  # who_is decides, for the case
    ConsentPress: (frozenset({IN_PRIVATE}), ANYONE),  # the case's reporter: the service checks
    ProviderPress: (frozenset({IN_PRIVATE}), ADMINS),
}


def test_every_kind_of_button_declares_where_and_by_whom() -> None:
    kinds = {kind for kind, _handler in BUTTONS}
    assert kinds == set(DECLARED)
    assert {kind: (kind.WHERE, kind.BY) for kind in kinds} == DECLARED


# ---- the people and the chats --------------------------------------------------------------------

REPORTER, STRANGER, MEMBER, OFFICER_IN, OFFICER_OUT, ADMIN = (
    "reporter", "stranger in the group", "enrolled member", "officer in scope",
    "officer of another area", "admin")
ROLES = (REPORTER, STRANGER, MEMBER, OFFICER_IN, OFFICER_OUT, ADMIN)
PRESSES_AS = {REPORTER: {ANYONE}, STRANGER: {ANYONE}, MEMBER: {ANYONE, STAFF},
              OFFICER_IN: {ANYONE, STAFF, OFFICERS}, OFFICER_OUT: {ANYONE, STAFF, OFFICERS},
              ADMIN: {ANYONE, STAFF, OFFICERS, ADMINS}}
PRIVATE, ALERTED_GROUP, OTHER_GROUP = "private chat", "the alerted group", "another group"
CHATS = (PRIVATE, ALERTED_GROUP, OTHER_GROUP)
CHAT_KIND = {PRIVATE: IN_PRIVATE, ALERTED_GROUP: IN_GROUP, OTHER_GROUP: IN_GROUP}
USER_IDS = {REPORTER: 5_550_001, STRANGER: 6_600_099, MEMBER: 6_600_001, OFFICER_IN: 7_700_001,
            OFFICER_OUT: 7_700_555, ADMIN: 7_900_001}
NOBODY_HERE = 6_600_777  # the one who sent /daftar: none of the roles


@dataclass
class World:
    bot: Harness
    reporter: Person
    reference: str
    case_key: str
    alert_message_id: int
    data: dict[str, str]


async def world(bot: Harness, reporter: Person) -> World:
    """A report from Modang alerted to its village group; an enrolled member and a stranger in
    that group; officers in and out of scope; an admin; a pending enrolment request and group
    registration; a note on the case; the reporter writing a second report."""
    chat = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    await register_group(bot, OTHER_GROUP_ID, JANJU, "PAPTBM Janju")
    officer = await register_officer(bot, USER_IDS[OFFICER_IN], KUARO, "Bu Rina Kuaro")
    outsider = await register_officer(bot, USER_IDS[OFFICER_OUT], TANAH_GROGOT, "Pak Dedi")
    admin = await register_officer(bot, USER_IDS[ADMIN], PASER, "Ibu Admin", admin=True)
    for person in (officer, outsider, admin):
        await person.sends("/start")
    async with bot.runtime.sessions.begin() as session:
        from bot.services import enrolment
        await enrolment.add_member(session, bot.vault, VILLAGE_GROUP_ID, USER_IDS[MEMBER], "Sri",
                                   bot.clock.now())
    await chat.activist(6_600_050, "Wati").sends("/gabung")  # a request waiting for officers
    await GroupChat(bot, -1004000000004, "PAPTBM Lolo").activist(6_600_060, "Ani").sends(
        "/daftar Lolo")  # a group waiting for an admin
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    alert = next(m for m in chat.messages() if m.buttons() and reference in m.text)
    await officer.sends(f"/catat {reference} Catatan petugas")
    await reporter.sends("/lapor")
    question = reporter.last_with_buttons()
    async with bot.runtime.sessions() as session:
        request = await session.scalar(select(EnrolmentRequest))
        group_request = await session.scalar(select(GroupRequest))
        group = await session.scalar(select(Responder).where(
            Responder.chat_id == VILLAGE_GROUP_ID))
        member = await session.scalar(select(GroupMember))
        other_officer = await session.scalar(select(Responder).where(
            Responder.chat_id == USER_IDS[OFFICER_OUT]))
    assert request and group_request and group and member and other_officer
    case_key = (await bot.cases())[0].public_id
    report_button = next(b["callback_data"] for b in question.buttons()
                         if isinstance(parse(b["callback_data"]), ReportPress))
    nonce = parse(report_button).nonce  # type: ignore[union-attr]
    data = {
        "report: an answer": report_button,
        "report: cancel": CancelPress(nonce, True).pack(),
        "report: start": StartPress().pack(),
        "language": LanguagePress("en").pack(),
        "privacy: wipe the chat": PrivacyPress("wipe").pack(),
        "privacy: withdraw consent": PrivacyPress("withdraw").pack(),
        "status news: stop": NewsPress(False).pack(),
        "discreet message: open": OpenPress(1, "open").pack(),
        "help: discreet off": HelpPress("discreet_off").pack(),
        **{f"alert: {action}": AlertPress(case_key, action).pack()
           for action in ("ack", "detail", "help")},
        "alert: help, out of reach": AlertPress(case_key, "help", "unreachable").pack(),
        **{f"case: {action} {value}".strip(): CasePress(case_key, action, value, seen).pack()
           for action, value, seen in (
               ("card", "", ""), ("detail", "", ""), ("note", "", ""), ("reply", "", ""),
               ("take", "", ""), ("takeover", "", ""), ("help", "", ""),
               ("set", PENJANGKAUAN, DITERIMA), ("refer", "police", DITERIMA),
               ("close", "duplicate", DITERIMA), ("menu", "", ""), ("history", "0", ""),
               ("share", "1", ""), ("help", "unreachable", ""))},
        "case list": CaseListPress("open", KUARO, 0).pack(),
        "group registration: approve": GroupRequestPress(group_request.id, True).pack(),
        "enrolment: approve": EnrolmentPress(request.id, True).pack(),
        "village picker of /daftar": VillagePickPress(NOBODY_HERE, "v", MODANG).pack(),
        "invitation": InvitePress("o", KUARO).pack(),
        "staff: withdraw a member": StaffPress("group", "unenrol", group.id,
                                               str(member.id)).pack(),
        "staff: revoke an officer": StaffPress("officer", "revoke", other_officer.id).pack(),
        "practice: delete": PurgePress(True).pack(),
        "poster": PosterPress("v", MODANG).pack(),
        "services: list": ServicePress(case_key, "list").pack(),
        "services: add one": ServicePress(case_key, "prov", "kesehatan:0").pack(),
        "consent: agree": ConsentPress(1, True).pack(),
        "directory: deactivate": ProviderPress("off", "kesehatan", 1).pack(),
    }
    return World(bot, reporter, reference, case_key, alert.message_id, data)


# ---- who may act where, as the district says -----------------------------------------------------

HANDLING_MEMBER = {"card", "detail", "note", "take", "takeover", "help", "menu", "history"}


def acts(sample: str, chat: str, role: str) -> bool:
    """Whether this press may do something (for the presser's own things, or as the rule allows):
    every other combination must change nothing."""
    kind = type(parse(SAMPLE_DATA[sample]))
    if kind in (ReportPress, CancelPress, StartPress, LanguagePress, PrivacyPress, NewsPress,
                OpenPress, HelpPress):
        return chat == PRIVATE  # one's own report, language, data, news and messages
    if kind is AlertPress:
        return chat in (PRIVATE, ALERTED_GROUP) and role in (MEMBER, OFFICER_IN, ADMIN)
    if chat != PRIVATE:
        return False
    if kind is CasePress:
        action = sample.split()[1]
        return role in (OFFICER_IN, ADMIN) or (role == MEMBER and action in HANDLING_MEMBER)
    if kind is ServicePress:  # reading the list is the card's; adding, the handler's
        return role in (OFFICER_IN, ADMIN) or (role == MEMBER and sample == "services: list")
    if kind is ConsentPress:
        return False  # no question was asked in this world: nobody's press changes anything
    if kind is CaseListPress:
        return role in (MEMBER, OFFICER_IN, OFFICER_OUT, ADMIN)
    if kind is EnrolmentPress or sample == "staff: withdraw a member":
        return role in (OFFICER_IN, ADMIN)
    if kind is VillagePickPress:
        return False
    return role == ADMIN  # group registrations, invitations, officers, practice, posters


def refused_unheard(sample: str, chat: str, role: str) -> bool:
    """Whether the registry itself refuses it (not where, or not by whom, it is declared)."""
    where, by = DECLARED[type(parse(SAMPLE_DATA[sample]))]
    return CHAT_KIND[chat] not in where or by not in PRESSES_AS[role]


# Callback data of the same shape as the world's, to name the samples at collection time.
SAMPLE_DATA: dict[str, str] = {}


def _collect_samples() -> list[str]:
    fake_key = "AbCdEfGhIjKl"
    names = {
        "report: an answer": ReportPress("0123abcd", "danger", "choose", "no").pack(),
        "report: cancel": CancelPress("0123abcd", True).pack(),
        "report: start": StartPress().pack(),
        "language": LanguagePress("en").pack(),
        "privacy: wipe the chat": PrivacyPress("wipe").pack(),
        "privacy: withdraw consent": PrivacyPress("withdraw").pack(),
        "status news: stop": NewsPress(False).pack(),
        "discreet message: open": OpenPress(1, "open").pack(),
        "help: discreet off": HelpPress("discreet_off").pack(),
        **{f"alert: {a}": AlertPress(fake_key, a).pack() for a in ("ack", "detail", "help")},
        "alert: help, out of reach": AlertPress(fake_key, "help", "unreachable").pack(),
        **{f"case: {a} {v}".strip(): CasePress(fake_key, a, v).pack() for a, v in (
            ("card", ""), ("detail", ""), ("note", ""), ("reply", ""), ("take", ""),
            ("takeover", ""), ("help", ""), ("set", PENJANGKAUAN), ("refer", "police"),
            ("close", "duplicate"), ("menu", ""), ("history", "0"), ("share", "1"),
            ("help", "unreachable"))},
        "case list": CaseListPress("open", KUARO, 0).pack(),
        "group registration: approve": GroupRequestPress(1, True).pack(),
        "enrolment: approve": EnrolmentPress(1, True).pack(),
        "village picker of /daftar": VillagePickPress(NOBODY_HERE, "v", MODANG).pack(),
        "invitation": InvitePress("o", KUARO).pack(),
        "staff: withdraw a member": StaffPress("group", "unenrol", 1, "1").pack(),
        "staff: revoke an officer": StaffPress("officer", "revoke", 1).pack(),
        "practice: delete": PurgePress(True).pack(),
        "poster": PosterPress("v", MODANG).pack(),
        "services: list": ServicePress(fake_key, "list").pack(),
        "services: add one": ServicePress(fake_key, "prov", "kesehatan:0").pack(),
        "consent: agree": ConsentPress(1, True).pack(),
        "directory: deactivate": ProviderPress("off", "kesehatan", 1).pack(),
    }
    SAMPLE_DATA.update(names)
    return list(names)


SAMPLES = _collect_samples()


def test_every_kind_of_button_is_replayed() -> None:
    replayed = {type(parse(data)) for data in SAMPLE_DATA.values()}
    assert replayed == {kind for kind, _handler in BUTTONS}


# ---- what changed --------------------------------------------------------------------------------

async def rows(bot: Harness, presser: int) -> dict[str, list[str]]:
    """Every row of every table, but the records of refusals (which a refusal may add) and the
    presser's own "last seen, in this language" row (which any message to the bot keeps)."""
    found: dict[str, list[str]] = {}
    async with bot.runtime.sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = (await session.execute(select(table))).mappings().all()
            if table.name == CaseEvent.__tablename__:
                result = [r for r in result if r["kind"] != "refused"]
            if table.name == Reporter.__tablename__:
                result = [r for r in result if r["chat_id"] != str(presser)]
            found[table.name] = sorted(repr(dict(r)) for r in result)
    return found


def press_payload(user_id: int, first_name: str, chat: str, data: str,
                  alert_message_id: int) -> dict[str, Any]:
    if chat == PRIVATE:
        where: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        message_id = 1
    elif chat == ALERTED_GROUP:
        where = {"id": VILLAGE_GROUP_ID, "type": "supergroup", "title": "PAPTBM Modang"}
        message_id = alert_message_id
    else:
        where = {"id": OTHER_GROUP_ID, "type": "group", "title": "PAPTBM Janju"}
        message_id = 5
    return {"update_id": new_update_id(), "callback_query": {
        "id": f"q{new_update_id()}", "chat_instance": f"c{where['id']}",
        "from": {"id": user_id, "is_bot": False, "first_name": first_name,
                 "language_code": "id"},
        "data": data,
        "message": {"message_id": message_id, "date": 0, "chat": where, "from": BOT_USER,
                    "text": "…"}}}


Check = Callable[[], None]


@pytest.mark.parametrize("sample", SAMPLES)
async def test_a_button_replayed_where_it_does_not_belong_changes_nothing(
        bot: Harness, reporter: Person, sample: str) -> None:
    here = await world(bot, reporter)
    data = here.data[sample]
    tried = 0
    for chat in CHATS:
        for role in ROLES:
            if acts(sample, chat, role):
                continue
            tried += 1
            where = f"{sample!r} pressed in {chat} by {role}"
            user_id = USER_IDS[role]
            before = await rows(bot, user_id)
            calls = len(bot.telegram.calls)
            await bot.feed(press_payload(user_id, role.split()[0].title(), chat, data,
                                         here.alert_message_id))
            await bot.deliver_outbox()

            after = await rows(bot, user_id)
            assert after == before, f"{where} changed the database: " + "; ".join(
                f"{table}: {sorted(set(after[table]) ^ set(before[table]))}"
                for table in before if after[table] != before[table])
            new = bot.telegram.calls[calls:]
            answers = [c for c in new if c.method == "answerCallbackQuery"]
            assert len(answers) == 1, f"{where}: answered {len(answers)} times"
            # Asking Telegram whether someone is in a group reads, and changes, nothing.
            others = [c for c in new if c.method not in ("answerCallbackQuery", "getChatMember")]
            for call in others:
                assert call.method in ("sendMessage", "editMessageText") and \
                    int(call.params.get("chat_id") or 0) == user_id, \
                    f"{where} made {call.method} to {call.params.get('chat_id')}"
            if refused_unheard(sample, chat, role):
                assert not answers[0].params.get("text") and others == [], \
                    f"{where} was not refused silently"
    assert bot.runtime.metrics["errors"] == 0
    assert tried > 0
