"""The context every handler and job receives: PTB's ``CallbackContext`` with the running bot's
``Runtime`` as a typed property (``context.runtime``)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.runtime import Runtime

RUNTIME = "runtime"  # the application's bot_data key that holds it


def runtime_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Runtime:
    rt: Runtime = application.bot_data[RUNTIME]
    return rt


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def runtime(self) -> Runtime:
        return runtime_of(self.application)


CONTEXT_TYPES = ContextTypes(context=BotContext)
