"""One handler for a plain private message (typed text, or a photo, voice note, video or file):
several parts of the bot may be waiting for one, so the first that takes it answers. The order
is written where the handler is registered (``handlers/__init__.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update

from bot.context import BotContext

Answer = Callable[[Update, BotContext], Awaitable[bool]]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def first_that_answers(*answers: Answer) -> Handler:
    """A handler that offers the message to each of ``answers`` in turn, until one takes it."""

    async def on_private_message(update: Update, context: BotContext) -> None:
        for answer in answers:
            if await answer(update, context):
                return

    return on_private_message
