"""What every handler needs: the runtime, the person's language, and safe ways to answer."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.callback_data import BadCallback, parse
from bot.context import BotContext
from bot.i18n import Translate, translator

log = logging.getLogger(__name__)
T = TypeVar("T")
P = TypeVar("P")
REPLY_ATTEMPTS = 3
REPLY_MAX_WAIT_SECONDS = 10.0  # a longer 429 fails the reply: the error handler apologises


# context.user_data key: a language chosen (/bahasa) by someone with no reporter record. Kept in
# this process's memory only, never stored: an account that has not reported is not kept. It is
# written into the reporter record when they start a report.
CHOSEN_LANGUAGE = "language"


def aside(update: Update, context: BotContext, work: Awaitable[None], name: str) -> None:
    """Run long work (an export, the statistics) beside the update pipeline; a failure goes to
    the error handler as a handler's would (the person hears we are sorry, with a code)."""
    async def guarded() -> None:
        try:
            await work
        except Exception as exc:
            await context.application.process_error(update, exc)

    context.runtime.run_aside(guarded(), name)


def language_hint(update: Update, context: BotContext) -> str | None:
    """The language chosen in this session, else the one Telegram gives. (Read without
    ``context.user_data``, which would keep an empty entry for every account that writes.)"""
    user = update.effective_user
    if user is None:
        return None
    kept = context.application.user_data.get(user.id)
    chosen = kept.get(CHOSEN_LANGUAGE) if kept else None
    return chosen or user.language_code


async def language_of(update: Update, context: BotContext) -> str:
    user = update.effective_user
    if user is None:
        return "id"
    return await context.runtime.reports.language(user.id, language_hint(update, context))


async def translate_for(update: Update, context: BotContext) -> Translate:
    return translator(await language_of(update, context))


async def through_hiccups(send: Callable[[], Awaitable[T]]) -> T:
    """A reply that survives a hiccup instead of leaving the person without the next question:
    Telegram's 429 (wait ``retry_after`` when it is short), a 5xx, a timeout or a broken connection
    (try again soon). A refusal (400, 403) is final. After a timeout the first attempt may have
    arrived after all: a message shown twice is better than silence."""
    for attempt in range(1, REPLY_ATTEMPTS + 1):
        try:
            return await send()
        except RetryAfter as exc:
            with warnings.catch_warnings():  # int now, timedelta in PTB 23: both handled
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = _seconds(exc.retry_after)
            if attempt == REPLY_ATTEMPTS or wait > REPLY_MAX_WAIT_SECONDS:
                raise
            log.info("reply held back by Telegram for %.0fs", wait)
            await asyncio.sleep(wait)
        except BadRequest:
            raise
        except NetworkError as exc:  # 5xx, timeouts, connections (BadRequest is one too: above)
            if attempt == REPLY_ATTEMPTS:
                raise
            log.info("reply failed (%s); trying again", type(exc).__name__)
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def show_typing(update: Update) -> None:
    """Show "typing…" while something slow happens: only a courtesy, so never fatal."""
    if update.effective_chat is None:
        return
    try:
        await update.effective_chat.send_action(ChatAction.TYPING)
    except TelegramError as exc:
        log.info("typing not shown: %s", type(exc).__name__)


async def answer(query: CallbackQuery, text: str | None = None, *,
                 show_alert: bool = False) -> None:
    """Stop the pressed button's spinner (and show ``text``). Never fatal: a press Telegram
    delivers again after a crash was already answered ("query is too old"), and a slow or failing
    network must not keep the handler from doing the work and sending the next question."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        log.info("button press not answered: %s", type(exc).__name__)


def parsed_as(data: str | None, kind: type[P]) -> P | None:
    """The press in a button's ``data`` when it is a ``kind``; None for anything else (forged,
    stale, another version)."""
    try:
        press = parse(data)
    except BadCallback:
        return None
    return press if isinstance(press, kind) else None


async def stale_button(query: CallbackQuery, _: Translate) -> None:
    await answer(query, _("That button is no longer active."))


async def pressed_as(query: CallbackQuery, kind: type[P], _: Translate, *,
                     usable: bool = True) -> P | None:
    """The pressed button when it is a ``kind`` (and ``usable``: pressed where it may be); else
    the person is told it is no longer active, and None."""
    press = parsed_as(query.data, kind)
    if press is None or not usable:
        await stale_button(query, _)
        return None
    return press


async def reply(update: Update, text: str,
                markup: InlineKeyboardMarkup | ReplyKeyboardRemove | Any = None) -> Message | None:
    """Send an HTML message to the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await through_hiccups(lambda: chat.send_message(
        text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True))


async def replace_or_reply(update: Update, text: str,
                           markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Edit the message whose button was pressed; send a new one when that is not possible."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            edited = await through_hiccups(lambda: query.edit_message_text(
                text, parse_mode=ParseMode.HTML, reply_markup=markup,
                disable_web_page_preview=True))
            return edited if isinstance(edited, Message) else None
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return None
    return await reply(update, text, markup)
