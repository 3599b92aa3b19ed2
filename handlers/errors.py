"""The error handler: the person hears we are sorry and that their answers are safe; the log gets
a correlation code with the exception's type and sanitised stack (every frame's file, line and
function), never the content of the update or the exception's message."""

from __future__ import annotations

import logging
import secrets

from telegram import Update

from bot.context import BotContext
from bot.i18n import language_for, translator
from bot.logging_setup import sanitised_stack
from bot.runtime import Runtime

log = logging.getLogger("ppa_bot.errors")


async def count_update(update: Update, context: BotContext) -> None:
    context.runtime.metrics["updates"] += 1


async def tell_admins(rt: Runtime, correlation: str, kind: str) -> None:
    _ = translator("id")
    text = _("⚠️ Something failed in the bot (code {code}, {kind}). The server log has the "
             "details under that code; no report content is included.").format(
                 code=correlation, kind=kind)
    try:
        await rt.incidents.failed(rt.clock.now(), text)
    except Exception:  # the database may be what failed; the log line above is enough then
        log.warning("could not queue the admin notice for error [%s]", correlation)


async def on_error(update: object, context: BotContext) -> None:
    correlation = secrets.token_hex(4)
    error = context.error
    # The type and every frame, without the message (it may quote user input) or locals.
    stack = sanitised_stack(error) if error is not None else "no exception"
    log.error("update failed [%s]: %s", correlation, stack)
    rt = context.runtime
    rt.metrics["errors"] += 1
    await tell_admins(rt, correlation, type(error).__name__)
    if isinstance(update, Update) and update.effective_chat is not None \
            and update.effective_chat.type == "private":
        user = update.effective_user
        _ = translator(language_for(user.language_code if user else None))
        try:
            await update.effective_chat.send_message(
                _("Sorry, something went wrong on our side. Your answers so far are saved. "
                  "Please try again in a moment. (code {code})").format(code=correlation))
        except Exception:  # the error handler must never raise
            log.warning("could not tell the user about error [%s]", correlation)
