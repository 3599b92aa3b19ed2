"""The outbox sender: sends queued notifications, retries with backoff, honours
``retry_after``, keeps Telegram's pace, and marks each row sent exactly once.

Each row is claimed, sent and marked, the database work on the bot's lane (``bot/db.py``): on
PostgreSQL in one transaction whose ``FOR UPDATE SKIP LOCKED`` keeps two workers off the same row
while its request is in flight; on SQLite (one writer, no row locks: this process's rounds take
turns) the claim and the mark are each one call to the lane's thread, and no lock is held across
the request. A crash between Telegram's answer and the mark can repeat one message; nothing is ever
lost.

A row deleted meanwhile (a withdrawal of consent deletes every row about the reporter) is never
sent: the claim reads the row as it stands, right before the request. A request
already on its way when the deletion commits ends before the deleting side goes on: on PostgreSQL
the DELETE waits for the row lock held across the request; on SQLite (one process, no row locks)
the deleting side waits in ``settled``. So nothing about a reporter arrives after their withdrawal
is confirmed.

Pace: at most ``outbox.group_messages_per_minute`` requests per group in any minute (Telegram
allows about 20), counted here so that one busy group never holds up the others; PTB's
``AIORateLimiter`` on the production bot keeps the overall 30 per second. A 429 pauses the chat's
bucket for ``retry_after``; network errors, timeouts and 5xx back off exponentially per row.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.clock import Clock
from bot.db import Lane, open_lane
from bot.events import ChatGone, Event, GroupMigrated, MessageSent
from bot.outbox.queue import PRIVATE_BUCKET
from models import Alert, OutboxMessage
from models.outbox import FAILED, PENDING, SENT

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300
BATCH = 50
MINUTE = timedelta(minutes=1)
# Telegram answers these when the chat is gone for us: the bot was removed or blocked.
GONE_MARKERS = ("chat not found", "bot was kicked", "bot was blocked", "user is deactivated",
                "not a member", "have no rights to send", "not enough rights to send",
                "initiate conversation")
HARMLESS_MARKERS = ("message is not modified",)


class Answer(NamedTuple):
    """Telegram's answer to a row's request: its parameters, and the result or the refusal."""

    params: dict[str, Any]
    result: Any
    error: TelegramError | None


def backoff(attempts: int) -> float:
    """1, 2, 4, 8 … seconds, at most five minutes: a long outage costs a request every 5 min."""
    return float(min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


Job = Callable[[Bot, dict[str, Any]], Awaitable[Any]]


class OutboxSender:
    """Delivers the outbox. Its events (``on_sent``, ``on_chat_gone``, ``on_chat_migrated``) run
    in the transaction that marks the row, each in a savepoint of its own.

    ``jobs``: rows whose ``method`` names a job of ours rather than a Bot API method (an evidence
    download, ``bot/services/evidence.py``) are run by it, retried and marked like any request: a
    ``TelegramError`` it raises is Telegram's answer. ``only``: the methods this sender handles
    (a sender of its own for long jobs); every other sender leaves those methods alone."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *,
                 group_messages_per_minute: int = 20, lane: Lane | None = None,
                 jobs: dict[str, Job] | None = None, only: frozenset[str] | None = None,
                 skip: frozenset[str] = frozenset()) -> None:
        self.jobs: dict[str, Job] = dict(jobs or {})
        self.only = only
        self.skip = skip
        self.sessions = sessions
        self.lane = lane or open_lane(sessions.kw["bind"], sessions)
        self.clock = clock
        self.bot: Bot | None = None
        self.group_messages_per_minute = group_messages_per_minute
        self.on_sent: Event[MessageSent] = Event("outbox message sent")
        self.on_chat_gone: Event[ChatGone] = Event("chat gone for the bot")
        self.on_chat_migrated: Event[GroupMigrated] = Event("group migrated to a supergroup")
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()  # set while no row is being claimed or sent
        self._idle.set()
        # One round at a time in this process (the loop, a shutdown flush, a test's drain):
        # SQLite has no row locks, so two rounds here could both pick the same row.
        self._round = asyncio.Lock()
        self._stopping = False
        self._recent: dict[str, deque[datetime]] = {}  # group bucket → send times this minute
        self._paused: dict[str, datetime] = {}  # bucket → until (after a 429)
        self.sent = 0
        self.failed = 0
        self.retried = 0

    def wake(self) -> None:
        """Send now rather than at the next poll (``bot.outbox.wake_on_commit`` calls it)."""
        self._wake.set()

    @property
    def woken(self) -> bool:
        """Whether a wake is waiting for the loop (it is cleared when the loop goes idle)."""
        return self._wake.is_set()

    # ---- pace -----------------------------------------------------------------------------------
    def _held_back(self, now: datetime) -> list[str]:
        """Buckets that must wait: paused after a 429, or a group at its per-minute limit."""
        held = []
        for bucket, until in list(self._paused.items()):
            if until > now:
                held.append(bucket)
            else:
                del self._paused[bucket]
        for bucket, times in list(self._recent.items()):
            while times and now - times[0] >= MINUTE:
                times.popleft()
            if not times:
                del self._recent[bucket]
            elif len(times) >= self.group_messages_per_minute:
                held.append(bucket)
        return held

    def _count(self, bucket: str, now: datetime) -> None:
        if bucket != PRIVATE_BUCKET:
            self._recent.setdefault(bucket, deque()).append(now)

    # ---- sending --------------------------------------------------------------------------------
    async def run_once(self, limit: int = BATCH) -> int:
        """Send up to ``limit`` rows that are due now; return how many were handled."""
        assert self.bot is not None, "OutboxSender.bot is set at start-up"
        async with self._round:
            return await self._round_of(limit)

    async def _round_of(self, limit: int) -> int:
        handled = 0
        while handled < limit and await self._one(self.clock.now()):
            handled += 1
        return handled

    def _next_due(self, now: datetime) -> Select[OutboxMessage]:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.status == PENDING, OutboxMessage.due_at <= now)
                 .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(1)
                 .with_for_update(skip_locked=True))
        held = self._held_back(now)
        if held:
            query = query.where(OutboxMessage.bucket.not_in(held))
        if self.only is not None:
            query = query.where(OutboxMessage.method.in_(self.only))
        elif self.skip:
            query = query.where(OutboxMessage.method.not_in(self.skip))
        return query

    async def _one(self, now: datetime) -> bool:
        """Claim the next row that is due, send it, mark it; False when none is due."""
        self._idle.clear()
        try:
            if self.lane.backend != "sqlite":
                return await self._one_locked(now)
            return await self._one_by_lane(now)
        finally:
            self._idle.set()

    async def _one_by_lane(self, now: datetime) -> bool:
        """SQLite: the claim (the row as it is now: a row deleted meanwhile is not found) and
        the mark are each one call on the lane; the request between them holds no lock."""
        row = await self.lane.transaction(lambda session: session.scalar(self._next_due(now)))
        if row is None:
            return False
        try:
            answer = await self._request(row)
            await self.lane.transaction(lambda session: self._record_claimed(session, row, answer))
        except StaleDataError:
            # Deleted while its request was on the way (SQLite has no row lock to wait on):
            # whoever deleted it waits in ``settled`` until this request is over.
            log.info("outbox message %s was deleted while it was being sent", row.id)
        except Exception:
            await self._set_aside(row.id, now)
        return True

    async def _one_locked(self, now: datetime) -> bool:
        """PostgreSQL: one transaction, the row locked from the claim to the mark (a DELETE of
        it waits for the request to end; another worker skips it)."""
        row_id: int | None = None
        try:
            async with self.sessions.begin() as session:
                row = await session.scalar(self._next_due(now))
                if row is None:
                    return False
                row_id = row.id
                await self._record(session, row, await self._request(row))
        except StaleDataError:
            log.info("outbox message %s was deleted while it was being sent", row_id)
        except Exception:
            if row_id is None:
                raise
            await self._set_aside(row_id, now)
        return True

    async def settled(self) -> None:
        """Return once no row is being sent by this process. After a transaction that deleted
        rows commits, every later send sees the deletion; this waits out the one request that may
        already be on its way, so that nothing arrives after the caller's confirmation. (On
        PostgreSQL the row lock already makes the deletion wait for that request.)"""
        await self._idle.wait()

    async def _set_aside(self, row_id: int, now: datetime) -> None:
        """A row that broke the sender (not Telegram) waits, so it cannot block the queue."""
        log.exception("outbox message %s could not be handled; it will be retried later", row_id)
        async with self.sessions.begin() as session:
            attempts = (await session.scalar(select(OutboxMessage.attempts)
                                             .where(OutboxMessage.id == row_id)) or 0) + 1
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row_id)
                .values(attempts=attempts, last_error="internal error",
                        due_at=now + timedelta(seconds=backoff(attempts)))
                .execution_options(synchronize_session=False))

    async def drain(self, rounds: int = 100) -> None:
        """Send everything that is due (tests and shutdown)."""
        for _ in range(rounds):
            if await self.run_once() == 0:
                return

    async def _request(self, row: OutboxMessage) -> Answer:
        """The row's Bot API request: its parameters and Telegram's result, or its refusal."""
        assert self.bot is not None
        params: dict[str, Any] = json.loads(row.payload)
        job = self.jobs.get(row.method)
        if job is not None:
            try:
                return Answer(params, await job(self.bot, params), None)
            except TelegramError as exc:
                return Answer(params, None, exc)
        try:
            with warnings.catch_warnings():
                # Rows name their Bot API method: calling it by name is the point here.
                warnings.simplefilter("ignore", PTBUserWarning)
                result = await self.bot.do_api_request(row.method, api_kwargs=params)
        except TelegramError as exc:
            return Answer(params, None, exc)
        return Answer(params, result, None)

    async def _record_claimed(self, session: AsyncSession, claimed: OutboxMessage,
                              answer: Answer) -> None:
        """``_record`` for a row claimed in an earlier transaction (unchanged since)."""
        await self._record(session, await session.merge(claimed, load=False), answer)

    async def _record(self, session: AsyncSession, row: OutboxMessage, answer: Answer) -> None:
        """What Telegram's answer means for the row (sent, later, moved, gone, refused), and
        the events that follow, in the caller's transaction."""
        now = self.clock.now()
        params, result, error = answer
        row.attempts += 1
        if isinstance(error, RetryAfter):
            with warnings.catch_warnings():  # int now, timedelta in PTB 23: both handled
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            row.due_at = now + timedelta(seconds=seconds)
            row.last_error = f"retry_after {seconds:.0f}s"
            self._paused[row.bucket] = row.due_at
            self.retried += 1
            log.warning("outbox: Telegram asked to wait %.0fs (bucket %s)", seconds,
                        "private" if row.bucket == PRIVATE_BUCKET else "group")
            return
        if isinstance(error, ChatMigrated):
            await self._moved(session, row, params, int(error.new_chat_id))
            return
        if isinstance(error, Forbidden):
            await self._gone(session, row, str(error))
            return
        if isinstance(error, BadRequest):
            text = str(error).lower()
            if any(marker in text for marker in HARMLESS_MARKERS):
                self._mark_sent(row, None)
            elif any(marker in text for marker in GONE_MARKERS):
                await self._gone(session, row, str(error))
            else:
                row.status = FAILED
                row.last_error = str(error)[:200]
                self.failed += 1
                log.error("outbox message %s (%s) refused: %s", row.id, row.kind, error)
            return
        if error is not None:  # network errors, timeouts, 5xx
            row.due_at = now + timedelta(seconds=backoff(row.attempts))
            row.last_error = type(error).__name__
            self.retried += 1
            log.warning("outbox message %s (%s) will be retried: %s", row.id, row.kind,
                        type(error).__name__)
            return
        self._count(row.bucket, now)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        with session.no_autoflush:
            still_there = await session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.id == row.id))
        if still_there is None:
            raise StaleDataError(f"outbox message {row.id} is gone")
        self._mark_sent(row, message_id)
        if row.alert_id is not None and message_id is not None and row.method == "sendMessage" \
                and row.kind == "alert":
            await session.execute(update(Alert).where(Alert.id == row.alert_id)
                                  .values(message_id=message_id)
                                  .execution_options(synchronize_session=False))
        for subscriber in self.on_sent:
            await self._safely(session, subscriber(session, row, params, message_id), row)

    async def _safely(self, session: AsyncSession, work: Awaitable[None],
                      row: OutboxMessage) -> None:
        """A failing subscriber must not undo "sent": it runs in a savepoint and is logged."""
        try:
            async with session.begin_nested():
                await work
        except Exception:
            log.exception("outbox subscriber failed after message %s (%s) was sent", row.id,
                          row.kind)

    def _mark_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        row.status = SENT
        row.sent_at = self.clock.now()
        row.result_message_id = message_id
        self.sent += 1

    async def _gone(self, session: AsyncSession, row: OutboxMessage, reason: str) -> None:
        row.status = FAILED
        row.last_error = reason[:200]
        self.failed += 1
        log.warning("outbox message %s (%s): chat is gone for the bot", row.id, row.kind)
        for subscriber in self.on_chat_gone:
            await self._safely(session, subscriber(session, row, reason), row)

    async def _moved(self, session: AsyncSession, row: OutboxMessage, params: dict[str, Any],
                     new_chat_id: int) -> None:
        """A group upgraded to a supergroup has a new id: send there, and tell the subscribers."""
        old_chat_id = int(params["chat_id"])
        params["chat_id"] = new_chat_id
        row.payload = json.dumps(params, ensure_ascii=False)
        if row.bucket == str(old_chat_id):
            row.bucket = str(new_chat_id)
        row.due_at = self.clock.now()
        log.info("outbox: group %s moved to %s", old_chat_id, new_chat_id)
        for subscriber in self.on_chat_migrated:
            await self._safely(session, subscriber(session, old_chat_id, new_chat_id), row)

    # ---- the background loop --------------------------------------------------------------------
    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        """Send, then sleep until woken or the next poll."""
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox sender round failed; retrying")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
