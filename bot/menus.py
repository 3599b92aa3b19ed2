"""Command menus (``set_my_commands``): each person sees only what they can use, in their language.

Scopes: every private chat gets the reporter's commands; every group chat the group's; each active
officer's private chat the officer's (admins: the admin's), set per chat; a revoked officer's chat
falls back to the private default. Each menu is set for Indonesian (the default, no language code)
and for English (``language_code="en"``). Published at start-up, and for one officer whenever
their role changes. Failures are logged and never stop the bot.
"""

from __future__ import annotations

import logging

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

from bot.i18n import N_, translator
from models import Responder
from models.responder import OFFICER

log = logging.getLogger(__name__)

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
GROUP = [
    ("daftar", N_("Register this group as a village's PAPTBM group")),
    ("gabung", N_("Enrol as a member, to receive case details in private")),
]
# Officers: other modules add theirs here (e.g. case handling) before start-up.
OFFICER_COMMANDS = [
    ("kasus", N_("Cases of my area; /kasus REF opens one")),
    ("catat", N_("/catat REF text: a private note on a case")),
    ("balas", N_("/balas REF text: a message to the reporter")),
    ("riwayat", N_("/riwayat REF: a case's history")),
    ("statistik", N_("Case figures for a year, with a chart")),
    ("latihan", N_("Practice report (for trainings)")),
]
ADMIN_COMMANDS = [
    ("ekspor", N_("Export a year's cases (xlsx)")),
    ("undang", N_("Invite an officer with a one-time link")),
    ("petugas", N_("Officers: list, change, revoke")),
    ("grup", N_("Village groups: list, move, revoke")),
    ("hapus_latihan", N_("Delete every practice report")),
    ("poster", N_("A village's poster with the bot's QR code (PDF)")),
]
LANGUAGES = (("id", None), ("en", "en"))  # (catalogue, Telegram language_code)


def commands(entries: list[tuple[str, str]], language: str) -> list[BotCommand]:
    _ = translator(language)
    return [BotCommand(name, _(description)[:256]) for name, description in entries]


def menu_for(responder: Responder) -> list[tuple[str, str]]:
    entries = REPORTER + OFFICER_COMMANDS
    return entries + ADMIN_COMMANDS if responder.is_admin else entries


async def _set(bot: Bot, entries: list[tuple[str, str]], scope: BotCommandScope) -> bool:
    try:
        for language, code in LANGUAGES:
            await bot.set_my_commands(commands(entries, language), scope=scope,
                                      language_code=code)
    except TelegramError as exc:
        log.warning("command menu for scope %s not set: %s", scope.type, type(exc).__name__)
        return False
    return True


async def publish_for(bot: Bot, responder: Responder) -> bool:
    """One officer's menu, after their role changed; a revoked officer loses it."""
    if responder.kind != OFFICER:
        return False
    scope = BotCommandScopeChat(responder.chat_id)
    if responder.active:
        return await _set(bot, menu_for(responder), scope)
    try:
        for _language, code in LANGUAGES:
            await bot.delete_my_commands(scope=scope, language_code=code)
    except TelegramError as exc:
        log.warning("command menu of officer %s not removed: %s", responder.id,
                    type(exc).__name__)
        return False
    return True


async def publish(bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> int:
    """Every menu, at start-up; returns how many officer menus were set."""
    await _set(bot, REPORTER, BotCommandScopeAllPrivateChats())
    await _set(bot, GROUP, BotCommandScopeAllGroupChats())
    async with sessions() as session:
        officers = list(await session.scalars(select(Responder).where(Responder.kind == OFFICER)
                                              .order_by(Responder.id)))
    done = 0
    for officer in officers:
        if await publish_for(bot, officer) and officer.active:
            done += 1
    return done
