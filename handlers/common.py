"""What every handler needs: the runtime, the person's language, and safe ways to answer."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.i18n import Translate, translator
from bot.runtime import Runtime


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    rt: Runtime = context.application.bot_data["runtime"]
    return rt


async def language_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    if user is None:
        return "id"
    return await runtime(context).reports.language(user.id, user.language_code)


async def translate_for(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translate:
    return translator(await language_of(update, context))


async def reply(update: Update, text: str,
                markup: InlineKeyboardMarkup | ReplyKeyboardRemove | Any = None) -> Message | None:
    """Send an HTML message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                   disable_web_page_preview=True)


async def replace_or_reply(update: Update, text: str,
                           markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Edit the message whose button was pressed; send a new one when that is not possible."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            edited = await query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                                   reply_markup=markup,
                                                   disable_web_page_preview=True)
            return edited if isinstance(edited, Message) else None
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return None
    return await reply(update, text, markup)
