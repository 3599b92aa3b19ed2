"""Command menus (``set_my_commands``): each person sees their own bot, in their language.

Roles, highest first: **admin**, **officer** (kecamatan or kabupaten; an officer bound to a village
acts as its activist), **activist** (an enrolled member of an active village group, ``/gabung``),
**reporter** (everyone else). Every private chat gets the reporter's menu; every group chat the
group's; each staff member's private chat their role's own menu, set per chat
(``BotCommandScopeChat``). Each menu is set for Indonesian (the default, no language code) and for
English (``language_code="en"``).

A person's menu is set when their role changes (an officer registered or revoked, made admin or
not, moved; a member enrolled; a group revoked, restored or left), whenever a staff member sends
``/start``, and for everyone at start-up (in the background: a district may have many). The
same lists, one line each, answer ``/start`` and ``/bantuan``. Failures are logged and never stop
the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot.domain.tiers import DESA, tier_of
from bot.i18n import N_, Translate, translator
from bot.services.case_access import memberships
from bot.services.responders import active_officer
from models import GroupMember, Responder
from models.responder import GROUP, OFFICER

log = logging.getLogger(__name__)

REPORTER_ROLE = "reporter"
ACTIVIST_ROLE = "activist"
OFFICER_ROLE = "officer"
ADMIN_ROLE = "admin"
STAFF = (ACTIVIST_ROLE, OFFICER_ROLE, ADMIN_ROLE)

REPORTER = [
    ("lapor", N_("Make a report")),
    ("status", N_("My reports and their status")),
    ("batal", N_("Cancel the report in progress")),
    ("bantuan", N_("Help and emergency numbers")),
    ("bahasa", N_("Bahasa Indonesia / English")),
    ("dataku", N_("What is stored about me, and who read it")),
    ("ubah", N_("Ask to correct my report")),
    ("hapus_chat", N_("Delete this conversation from my phone")),
    ("tarik_persetujuan", N_("Withdraw my consent")),
    ("tambah", N_("Add a message to my report")),
    ("berhenti_kabar", N_("Stop status news about my reports")),
]
GROUP_MENU = [
    ("daftar", N_("Register this group as a village's PAPTBM group")),
    ("gabung", N_("Ask to be enrolled as a member (an officer approves it)")),
]
# What every member of staff may also do as anyone may.
BASICS = [
    ("lapor", N_("Make a report")),
    ("bantuan", N_("Help and emergency numbers")),
    ("bahasa", N_("Bahasa Indonesia / English")),
]
CASE_WORK = [
    ("kasus", N_("Cases of my area; /kasus REF opens one")),
    ("catat", N_("/catat REF text: a private note on a case")),
    ("balas", N_("/balas REF text: a message to the reporter")),
    ("riwayat", N_("/riwayat REF: a case's history")),
]
ACTIVIST_COMMANDS = [
    ("kasus", N_("Cases of my village; /kasus REF opens one")),
    *CASE_WORK[1:],
    ("latihan", N_("Practice report (for trainings)")),
]
OFFICER_COMMANDS = [
    *CASE_WORK,
    ("statistik", N_("Case figures for a year, with a chart")),
    ("latihan", N_("Practice report (for trainings)")),
    ("grup", N_("Village groups and their members")),
    ("bukti", N_("/bukti REF: a case's files in a zip, with their hashes")),
]
ADMIN_COMMANDS = [
    ("ekspor", N_("Export a year's cases (xlsx)")),
    ("undang", N_("Invite an officer with a one-time link")),
    ("petugas", N_("Officers: list, change, revoke")),
    ("hapus_latihan", N_("Delete every practice report")),
    ("poster", N_("A village's poster with the bot's QR code (PDF)")),
    ("layanan", N_("Service providers: list, add, change")),
]
MENUS = {
    REPORTER_ROLE: REPORTER,
    ACTIVIST_ROLE: ACTIVIST_COMMANDS + BASICS,
    OFFICER_ROLE: OFFICER_COMMANDS + BASICS,
    ADMIN_ROLE: OFFICER_COMMANDS + ADMIN_COMMANDS + BASICS,
}
LANGUAGES = (("id", None), ("en", "en"))  # (catalogue, Telegram language_code)


@dataclass(frozen=True)
class Role:
    """Who someone is for the bot as a whole (what they may do with one case is
    ``bot/services/case_access.py``)."""

    name: str
    region_code: str | None = None  # an officer's region, or an activist's village


async def role_of(session: AsyncSession, user_id: int) -> Role:
    officer = await active_officer(session, user_id)
    if officer is not None:
        if officer.is_admin:
            return Role(ADMIN_ROLE, officer.region_code)
        if tier_of(officer.region_code) == DESA:
            return Role(ACTIVIST_ROLE, officer.region_code)
        return Role(OFFICER_ROLE, officer.region_code)
    enrolled = await memberships(session, user_id)
    if enrolled:
        return Role(ACTIVIST_ROLE, enrolled[0][1])
    return Role(REPORTER_ROLE)


def commands(entries: list[tuple[str, str]], language: str) -> list[BotCommand]:
    _ = translator(language)
    return [BotCommand(name, _(description)[:256]) for name, description in entries]


def command_lines(role: str, _: Translate) -> list[str]:
    """A role's commands, one line each: what ``/start`` and ``/bantuan`` list."""
    return [f"/{name} – {_(description)}" for name, description in MENUS[role]]


def menu_for(responder: Responder) -> list[tuple[str, str]]:
    if responder.is_admin:
        return MENUS[ADMIN_ROLE]
    return MENUS[ACTIVIST_ROLE if tier_of(responder.region_code) == DESA else OFFICER_ROLE]


async def _set(bot: Bot, entries: list[tuple[str, str]], scope: BotCommandScope) -> bool:
    try:
        for language, code in LANGUAGES:
            await bot.set_my_commands(commands(entries, language), scope=scope,
                                      language_code=code)
    except TelegramError as exc:
        log.warning("command menu for scope %s not set: %s", scope.type, type(exc).__name__)
        return False
    return True


async def _remove(bot: Bot, user_id: int) -> bool:
    """Back to the menu every private chat has (the reporter's)."""
    try:
        for _language, code in LANGUAGES:
            await bot.delete_my_commands(scope=BotCommandScopeChat(user_id), language_code=code)
    except TelegramError as exc:
        log.warning("command menu of one person not removed: %s", type(exc).__name__)
        return False
    return True


async def publish_role(bot: Bot, user_id: int, role: str) -> bool:
    """The menu of ``role`` in this person's private chat; a reporter's is the default one."""
    if role == REPORTER_ROLE:
        return await _remove(bot, user_id)
    return await _set(bot, MENUS[role], BotCommandScopeChat(user_id))


async def refresh(bot: Bot, sessions: async_sessionmaker[AsyncSession], user_id: int) -> Role:
    """This person's menu as their role is now (after it was granted or removed)."""
    async with sessions() as session:
        role = await role_of(session, user_id)
    await publish_role(bot, user_id, role.name)
    return role


async def refresh_group(bot: Bot, sessions: async_sessionmaker[AsyncSession],
                        chat_id: int) -> int:
    """The menus of a village group's enrolled members, after the group was revoked, restored,
    moved or left: returns how many were refreshed."""
    async with sessions() as session:
        members = list(await session.scalars(
            select(GroupMember.user_id).join(Responder, Responder.id == GroupMember.responder_id)
            .where(Responder.chat_id == chat_id, Responder.kind == GROUP)))
    for user_id in dict.fromkeys(members):
        await refresh(bot, sessions, user_id)
    return len(members)


async def publish_for(bot: Bot, responder: Responder) -> bool:
    """One officer's menu, after their role changed; a revoked officer loses it."""
    if responder.kind != OFFICER:
        return False
    if responder.active:
        return await _set(bot, menu_for(responder), BotCommandScopeChat(responder.chat_id))
    return await _remove(bot, responder.chat_id)


async def publish(bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> int:
    """The default menus and every officer's, at start-up; returns how many officer menus were
    set. The enrolled members' follow in the background (``publish_members``)."""
    await _set(bot, REPORTER, BotCommandScopeAllPrivateChats())
    await _set(bot, GROUP_MENU, BotCommandScopeAllGroupChats())
    async with sessions() as session:
        officers = list(await session.scalars(select(Responder).where(Responder.kind == OFFICER)
                                              .order_by(Responder.id)))
    done = 0
    for officer in officers:
        if await publish_for(bot, officer) and officer.active:
            done += 1
    return done


async def publish_members(bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> int:
    """Every enrolled member's menu (those who are not officers); returns how many were set."""
    async with sessions() as session:
        members = list(dict.fromkeys(await session.scalars(
            select(GroupMember.user_id).join(Responder, Responder.id == GroupMember.responder_id)
            .where(Responder.kind == GROUP).order_by(GroupMember.id))))
    done = 0
    for user_id in members:
        async with sessions() as session:
            role = await role_of(session, user_id)
        if role.name == ACTIVIST_ROLE or role.name == REPORTER_ROLE:  # officers: done above
            done += await publish_role(bot, user_id, role.name)
    return done
