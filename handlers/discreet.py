""""Buka" and "Sembunyikan" under a discreet message (``bot/services/to_reporter.py``): the
content is shown in the same message, after the PIN when there is one, and covered again by
itself after ``privacy.reveal_minutes``."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot.callback_data import OpenPress
from bot.context import BotContext
from bot.services.pin import Gate
from bot.services.to_reporter import OpenOutcome
from bot.views.discreet import gone_text
from handlers import pin
from handlers.common import answer, language_of, parsed_as

log = logging.getLogger(__name__)


async def on_open_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = parsed_as(query.data, OpenPress)
    message = query.message
    if pressed is None or message is None or update.effective_chat is None \
            or update.effective_chat.type != "private":
        await answer(query)
        return
    if pressed.action == "hide":
        await answer(query)
        shown = await context.runtime.phone.hide(user.id, pressed.sealed_id,
                                                 await language_of(update, context))
        await _show(context, user.id, message.message_id,
                    shown.params if shown.outcome is OpenOutcome.SHOWN else None, shown.language)
        return
    found = await pin.gate(update, context, {"do": "open", "sealed": pressed.sealed_id,
                                             "message": message.message_id})
    if found is Gate.PAUSED:  # as if the content were gone, and the message stays as it is
        await answer(query, gone_text(await language_of(update, context)))
        return
    await answer(query)
    if found is Gate.OPEN:
        await open_message(update, context, pressed.sealed_id, message.message_id)


async def open_message(update: Update, context: BotContext, sealed_id: int,
                       message_id: int) -> None:
    """Show the content in the message (also after the PIN was given)."""
    user = update.effective_user
    assert user is not None
    opened = await context.runtime.phone.open(user.id, sealed_id, message_id,
                                              await language_of(update, context))
    await _show(context, user.id, message_id,
                opened.params if opened.outcome is OpenOutcome.SHOWN else None, opened.language)


async def _show(context: BotContext, chat_id: int, message_id: int,
                params: dict[str, Any] | None, language: str) -> None:
    """Edit the message to ``params``; None: the content is gone, and the message says so."""
    if params is None:
        params = {"text": gone_text(language)}
    markup = params.get("reply_markup")
    try:
        await context.bot.edit_message_text(
            chat_id=chat_id, message_id=message_id, text=str(params["text"]),
            parse_mode=params.get("parse_mode"),
            reply_markup=InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None,
            disable_web_page_preview=True)
    except BadRequest as exc:  # not modified, or the reporter deleted the message meanwhile
        log.info("a discreet message was not edited: %s", type(exc).__name__)
    except TelegramError as exc:
        log.info("a discreet message was not edited: %s", type(exc).__name__)
