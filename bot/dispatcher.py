"""The outbox dispatcher: sends queued notifications, retries with backoff, honours
``retry_after``, and marks each row sent exactly once.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) inside the transaction that marks them
sent, so two workers never send the same row. Telegram's own limits are kept by PTB's
``AIORateLimiter`` on the bot that sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.clock import Clock
from models import Alert, OutboxMessage
from models.outbox import FAILED, PENDING, SENT

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
BATCH = 50
# Telegram answers these when the chat is gone for us: the bot was removed or blocked.
GONE_MARKERS = ("chat not found", "bot was kicked", "bot was blocked", "user is deactivated",
                "not a member", "group chat was upgraded", "have no rights to send")
HARMLESS_MARKERS = ("message is not modified",)

ChatGone = Callable[[AsyncSession, OutboxMessage, str], Awaitable[None]]


def backoff(attempts: int) -> float:
    return float(min(2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock
        self.bot: Bot | None = None
        self.on_chat_gone: list[ChatGone] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self, limit: int = BATCH) -> int:
        """Send what is due now; return how many rows were handled."""
        assert self.bot is not None, "Dispatcher.bot is set at start-up"
        now = self.clock.now()
        async with self.sessions.begin() as session:
            rows = list(await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == PENDING, OutboxMessage.due_at <= now)
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)))
            for row in rows:
                await self._send(session, row)
        return len(rows)

    async def drain(self, rounds: int = 100) -> None:
        """Send everything that is due (tests and shutdown)."""
        for _ in range(rounds):
            if await self.run_once() == 0:
                return

    async def _send(self, session: AsyncSession, row: OutboxMessage) -> None:
        assert self.bot is not None
        now = self.clock.now()
        params: dict[str, Any] = json.loads(row.payload)
        row.attempts += 1
        try:
            result = await self.bot.do_api_request(row.method, api_kwargs=params)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            row.due_at = now + timedelta(seconds=seconds)
            row.last_error = f"retry_after {seconds:.0f}s"
            return
        except Forbidden as exc:
            await self._gone(session, row, str(exc))
            return
        except BadRequest as exc:
            text = str(exc).lower()
            if any(marker in text for marker in HARMLESS_MARKERS):
                self._mark_sent(row, None)
            elif any(marker in text for marker in GONE_MARKERS):
                await self._gone(session, row, str(exc))
            else:
                row.status = FAILED
                row.last_error = str(exc)[:200]
                self.failed += 1
                log.error("outbox message %s (%s) refused: %s", row.id, row.kind, exc)
            return
        except TelegramError as exc:  # network errors, timeouts, 5xx
            row.due_at = now + timedelta(seconds=backoff(row.attempts))
            row.last_error = type(exc).__name__
            log.warning("outbox message %s (%s) will be retried: %s", row.id, row.kind,
                        type(exc).__name__)
            return
        message_id = result.get("message_id") if isinstance(result, dict) else None
        self._mark_sent(row, message_id)
        if row.alert_id is not None and message_id is not None and row.method == "sendMessage":
            await session.execute(update(Alert).where(Alert.id == row.alert_id)
                                  .values(message_id=message_id))

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
        for hook in self.on_chat_gone:
            await hook(session, row, reason)

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        """The background loop: send, then sleep until woken or the next poll."""
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("outbox dispatcher round failed; retrying")
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

