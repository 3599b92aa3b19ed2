"""Who is in a village group, as Telegram tells it: a member who leaves (or is removed) loses
their enrolment at once, and a group that becomes a supergroup keeps its registration and its
members' enrolments under the new chat id.

In privacy mode the bot still receives the ``left_chat_member`` service message; ``chat_member``
updates come only where the bot is an admin (and are asked for in ``allowed_updates``). Telegram
does not always send either, so every press that would open a case asks again
(``bot/services/enrolment.py``).
"""

from __future__ import annotations

import logging

from telegram import ChatMemberRestricted, Update
from telegram.constants import ChatMemberStatus

from bot import menus
from bot.context import BotContext
from bot.services import enrolment

log = logging.getLogger(__name__)


async def member_gone(context: BotContext, chat_id: int, user_id: int) -> None:
    rt = context.runtime
    rt.enrolments.forget(chat_id, user_id)
    async with rt.sessions.begin() as session:
        ended = await enrolment.member_left(session, rt.vault, chat_id, user_id, rt.clock.now())
    if ended:
        await menus.refresh(context.bot, rt.sessions, user_id)  # their menu, at once


async def on_member_left(update: Update, context: BotContext) -> None:
    """The "X left the group" / "Y removed X" service message."""
    message = update.effective_message
    if message is None or message.left_chat_member is None:
        return
    left = message.left_chat_member
    if left.id == context.bot.id:  # the bot itself: ``my_chat_member`` handles that
        return
    await member_gone(context, message.chat.id, left.id)


async def on_chat_member(update: Update, context: BotContext) -> None:
    """A ``chat_member`` update (where the bot is an admin): someone left, was removed, banned, or
    restricted out of the group."""
    change = update.chat_member
    if change is None:
        return
    new = change.new_chat_member
    gone = new.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED) or (
        isinstance(new, ChatMemberRestricted) and not new.is_member)
    if gone and not new.user.is_bot:
        await member_gone(context, change.chat.id, new.user.id)


async def on_migration(update: Update, context: BotContext) -> None:
    """A group became a supergroup (a new chat id): its registration, alerts and members'
    enrolments follow it."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    rt = context.runtime
    async with rt.sessions.begin() as session:
        await rt.alerts.on_chat_migrated(session, old, new)
    log.info("a group became a supergroup; its registration follows it")
