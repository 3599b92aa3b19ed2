"""Flood limit: an account sending more than ``security.max_messages_per_minute`` is asked to slow
down, once, and its extra updates are not processed (it is told so: nothing is silently dropped).

The window lives in memory: losing it on a restart only forgives a burst, which is harmless.
"""

from __future__ import annotations

import logging
from collections import defaultdict, deque
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.i18n import language_for, translator
from handlers.common import answer

log = logging.getLogger(__name__)
WINDOW = timedelta(minutes=1)


class FloodGate:
    def __init__(self) -> None:
        self._seen: dict[int, deque[datetime]] = defaultdict(deque)
        self._warned: dict[int, datetime] = {}
        self._last_sweep: datetime | None = None

    def allow(self, user_id: int, now: datetime, limit: int) -> bool:
        if self._last_sweep is None or now - self._last_sweep >= WINDOW:
            self.forget_idle(now)  # windows of accounts gone quiet: memory stays bounded
            self._last_sweep = now
        seen = self._seen[user_id]
        while seen and now - seen[0] >= WINDOW:
            seen.popleft()
        if len(seen) >= limit:
            return False
        seen.append(now)
        self._warned.pop(user_id, None)
        return True

    def should_warn(self, user_id: int, now: datetime) -> bool:
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < WINDOW:
            return False
        self._warned[user_id] = now
        return True

    def tracked(self) -> int:
        return len(self._seen)

    def forget_idle(self, now: datetime) -> None:
        idle = [u for u, seen in self._seen.items() if not seen or now - seen[-1] >= WINDOW]
        for user_id in idle:
            del self._seen[user_id]
            self._warned.pop(user_id, None)


async def flood_gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    rt = context.runtime
    gate: FloodGate = context.application.bot_data.setdefault("flood_gate", FloodGate())
    now = rt.clock.now()
    if gate.allow(user.id, now, rt.settings.security.max_messages_per_minute):
        return
    rt.metrics["flood_limited"] += 1
    if gate.should_warn(user.id, now):
        log.info("flood limit reached by one account")
        _ = translator(language_for(user.language_code))
        text = _("You are sending messages very fast, so I paused for a minute. Your last "
                 "messages were not read; please send them again in a minute.")
        if update.callback_query is not None:
            await answer(update.callback_query, text, show_alert=True)
        else:
            await chat.send_message(text)
    raise ApplicationHandlerStop
