"""The flood limit (DESIGN §6): every limit is a clear message, and a normal person's answer is
never dropped.

An account may send ``security.max_messages_per_minute`` updates a minute in private. Presses of
the buttons of the question it is answering do not count: a person in a hurry presses many (they
have a cap of their own, ``PRESS_FACTOR`` times higher, for real floods). A message over the
limit is **held**: kept in the database (encrypted, it may be an answer) and handled, in the order
it came, as soon as the sender's minute clears: when they write again, or by the release job a
few seconds later (``release``). The sender is told once to wait, never to send it again. Up to
a minute's worth of messages is held per person; what comes beyond that is a flood and is not
read. A press of any other button over the limit is refused with a pop-up.

The windows live in memory (a restart only forgives a burst); held messages are rows, released
after a restart too.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict, deque
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop

from bot.callback_data import ReportPress
from bot.context import BotContext, runtime_of
from bot.domain import form
from bot.i18n import language_for, translator
from bot.services import updates as held_updates
from bot.services.reports import DraftView
from handlers.common import answer, language_hint, parsed_as

log = logging.getLogger(__name__)
WINDOW = timedelta(minutes=1)
PRESS_FACTOR = 4  # presses of the current question: a cap this many times the limit
RELEASE_SECONDS = 5  # how often the release job looks for held messages whose minute cleared
GATE = "flood_gate"  # the application's bot_data key that holds the FloodGate


class FloodGate:
    def __init__(self) -> None:
        self._seen: dict[int, deque[datetime]] = defaultdict(deque)
        self._presses: dict[int, deque[datetime]] = defaultdict(deque)
        self._warned: dict[int, datetime] = {}
        self._questions: dict[int, tuple[str, frozenset[str]]] = {}  # the question being asked
        self._held: dict[int, int] = {}  # held messages of each sender not yet handled
        self.releasing: set[int] = set()  # update ids being handled from the hold
        self._last_sweep: datetime | None = None

    @staticmethod
    def _admit(seen: deque[datetime], now: datetime, limit: int) -> bool:
        while seen and now - seen[0] >= WINDOW:
            seen.popleft()
        if len(seen) >= limit:
            return False
        seen.append(now)
        return True

    def allow(self, user_id: int, now: datetime, limit: int) -> bool:
        if self._last_sweep is None or now - self._last_sweep >= WINDOW:
            self.forget_idle(now)  # windows of accounts gone quiet: memory stays bounded
            self._last_sweep = now
        if not self._admit(self._seen[user_id], now, limit):
            return False
        self._warned.pop(user_id, None)
        return True

    def full(self, user_id: int, now: datetime, limit: int) -> bool:
        """Whether this sender's minute is full (nothing is counted)."""
        seen = self._seen.get(user_id) or deque()
        return sum(1 for at in seen if now - at < WINDOW) >= limit

    def allow_press(self, user_id: int, now: datetime, limit: int) -> bool:
        """A press of the current question's buttons: its own window, ``PRESS_FACTOR`` × limit."""
        return self._admit(self._presses[user_id], now, limit * PRESS_FACTOR)

    def should_warn(self, user_id: int, now: datetime) -> bool:
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < WINDOW:
            return False
        self._warned[user_id] = now
        return True

    # -- the question each person is answering
    def expect(self, user_id: int, draft: DraftView) -> None:
        self._questions[user_id] = (draft.nonce,
                                    frozenset(form.asked_steps(draft.step, draft.answers)))

    def is_current(self, user_id: int, pressed: ReportPress) -> bool:
        nonce, steps = self._questions.get(user_id, ("", frozenset()))
        return pressed.nonce == nonce and pressed.step in steps

    # -- held messages
    def held(self, user_id: int) -> int:
        return self._held.get(user_id, 0)

    def add_held(self, user_id: int) -> None:
        self._held[user_id] = self.held(user_id) + 1

    def took_held(self, user_id: int) -> None:
        left = self.held(user_id) - 1
        if left > 0:
            self._held[user_id] = left
        else:
            self._held.pop(user_id, None)

    def tracked(self) -> int:
        return len(self._seen)

    def forget_idle(self, now: datetime) -> None:
        def idle(seen: deque[datetime]) -> bool:
            return not seen or now - seen[-1] >= WINDOW

        for user_id in [u for u, seen in self._seen.items() if idle(seen)]:
            del self._seen[user_id]
            self._warned.pop(user_id, None)
            if user_id not in self._presses:
                self._questions.pop(user_id, None)
        for user_id in [u for u, seen in self._presses.items() if idle(seen)]:
            del self._presses[user_id]
            if user_id not in self._seen:
                self._questions.pop(user_id, None)


def gate_of(application: Application[Any, Any, Any, Any, Any, Any]) -> FloodGate:
    gate: FloodGate = application.bot_data.setdefault(GATE, FloodGate())
    return gate


def expect(context: BotContext, user_id: int, draft: DraftView) -> None:
    """The report asked ``draft``'s question: presses of its buttons do not count."""
    gate_of(context.application).expect(user_id, draft)


async def flood_gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    gate = gate_of(context.application)
    if update.update_id in gate.releasing:
        return  # a held message, counted when it was released
    rt = context.runtime
    now = rt.clock.now()
    limit = rt.settings.security.max_messages_per_minute
    query = update.callback_query
    if query is not None:
        pressed = parsed_as(query.data, ReportPress)
        if pressed is not None and gate.is_current(user.id, pressed):
            if gate.allow_press(user.id, now, limit):
                return
        elif gate.allow(user.id, now, limit):
            return
        rt.metrics["flood_limited"] += 1
        _ = translator(language_for(language_hint(update, context)))
        await answer(query, _("You are pressing very fast. Please wait a moment, then press "
                              "again."), show_alert=True)
        raise ApplicationHandlerStop
    if update.message is None:  # an edited message and the like: not read over the limit
        if gate.allow(user.id, now, limit):
            return
        rt.metrics["flood_limited"] += 1
        raise ApplicationHandlerStop
    if not gate.held(user.id) and gate.allow(user.id, now, limit):
        return
    # Over the limit, or earlier messages still wait: this one waits behind them, in order.
    await hold(update, context, now, limit)
    await release(context.application, user_id=user.id)
    raise ApplicationHandlerStop


async def hold(update: Update, context: BotContext, now: datetime, limit: int) -> None:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    rt = context.runtime
    gate = gate_of(context.application)
    rt.metrics["flood_limited"] += 1
    if gate.held(user.id) >= limit:  # beyond a minute's worth held: a flood, not a person
        rt.metrics["flood_dropped"] += 1
        log.info("flood limit: an update beyond the held ones was not read")
        return
    async with rt.sessions.begin() as session:
        kept = await held_updates.hold(session, rt.vault.hash_id(user.id), update.update_id,
                                       json.dumps(update.to_dict(), ensure_ascii=False), now)
    if kept:
        gate.add_held(user.id)
        rt.metrics["flood_held"] += 1
    if gate.full(user.id, now, limit) and gate.should_warn(user.id, now):
        log.info("flood limit reached by one account; its messages are held")
        _ = translator(language_for(language_hint(update, context)))
        await chat.send_message(_("You are writing very fast. I have kept your messages and will "
                                  "answer them in a minute, in the order you sent them. Please "
                                  "wait."))


async def release(application: Application[Any, Any, Any, Any, Any, Any], *,
                  user_id: int | None = None) -> int:
    """Handle held messages, oldest first, as far as each sender's minute allows (one sender's,
    or everyone's); returns how many were handled."""
    rt = runtime_of(application)
    gate = gate_of(application)
    now = rt.clock.now()
    limit = rt.settings.security.max_messages_per_minute
    async with rt.sessions() as session:
        rows = await held_updates.held_waiting(
            session, now, user_hash=rt.vault.hash_id(user_id) if user_id is not None else None)
    waiting: set[str] = set()
    done = 0
    for row in rows:
        if row.user_hash in waiting:
            continue  # an earlier message of theirs still waits: keep the order
        held = Update.de_json(json.loads(row.payload), application.bot)
        sender = held.effective_user
        if sender is not None and not gate.allow(sender.id, now, limit):
            waiting.add(row.user_hash)
            continue
        async with rt.sessions.begin() as session:
            if not await held_updates.claim_held(session, row.id, now):
                continue  # another worker handles it
        gate.releasing.add(held.update_id)
        try:
            await application.process_update(held)
        finally:
            gate.releasing.discard(held.update_id)
        async with rt.sessions.begin() as session:
            await held_updates.forget_held(session, row.id)
        if sender is not None:
            gate.took_held(sender.id)
        done += 1
    return done


async def release_job(context: BotContext) -> None:
    """Every few seconds: held messages whose sender's minute has cleared are answered."""
    await release(context.application)
