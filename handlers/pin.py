"""The PIN that guards a reporter's follow-up (``bot/services/pin.py``): asking for it before
``/status``, ``/dataku``, ``/tambah``, "Buka" and replies, and choosing or removing it.

Every prompt is neutral: it says a PIN is wanted, never what for.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.i18n import Translate
from bot.services.pin import Gate, Setting
from handlers.common import reply, translate_for

log = logging.getLogger(__name__)


def ask_text(_: Translate) -> str:
    return "🔒 " + _("Please type your PIN (4 to 6 digits). I delete your message at once.")


async def gate(update: Update, context: BotContext, pending: dict[str, Any]) -> Gate:
    """``OPEN``: go on. ``ASK``: the PIN was asked for (``pending`` is done once it is right).
    ``PAUSED``: three wrong tries a moment ago; the caller answers as if there were nothing."""
    user = update.effective_user
    assert user is not None
    found = await context.runtime.pins.gate(user.id, pending)
    if found is Gate.ASK:
        await reply(update, ask_text(await translate_for(update, context)))
    return found


async def delete_typed(update: Update, context: BotContext) -> None:
    """The message holding a PIN goes at once."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    try:
        await context.bot.delete_message(chat.id, message.message_id)
    except TelegramError as exc:
        log.info("a message holding a PIN could not be deleted: %s", type(exc).__name__)


async def start_setting(update: Update, context: BotContext) -> None:
    """"Choose a PIN" (under the reference, or in /bantuan → privacy)."""
    user = update.effective_user
    assert user is not None
    _ = await translate_for(update, context)
    found = await context.runtime.pins.begin_setting(user.id)
    if found is Setting.ASK_NEW:
        await reply(update, "🔑 " + _("Choose a PIN of 4 to 6 digits and type it here. Avoid "
                                     "1234 or a birthday others know. I delete your message "
                                     "at once."))
    elif found is Setting.ASK:
        await reply(update, ask_text(_))
    elif found is Setting.NO_REPORT:
        await reply(update, _("A PIN protects what you have sent. You can choose one once you "
                              "have made a report (/lapor)."))
    else:  # paused: nothing to tell the person holding the phone
        await reply(update, _("Nothing was changed."))


async def remove(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    _ = await translate_for(update, context)
    found = await context.runtime.pins.remove(user.id)
    if found is Setting.ASK:
        await reply(update, ask_text(_))
    elif found is Setting.REMOVED:
        await reply(update, _("The PIN is removed."))
    else:
        await reply(update, _("Nothing was changed."))
