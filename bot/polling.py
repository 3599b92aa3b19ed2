"""Long polling that tells Telegram an update is done only after it was handled.

PTB's ``Application.run_polling`` confirms a batch of updates (its next ``getUpdates`` carries
``offset = last + 1``) as soon as it has queued them, before any handler ran: a process killed in
between loses them, and Telegram never sends them again (DESIGN §3: a crash never loses an answer).
Here the offset moves past an update only after ``Application.process_update`` returned for it, so
Telegram redelivers whatever a crash interrupted; the services make a redelivered update change
nothing twice (``processed_updates``, the submit key).

SIGTERM or SIGINT ends the long poll at once, lets the update in hand finish, flushes the outbox
(``post_stop``) and confirms what was handled.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.runtime import Runtime

log = logging.getLogger(__name__)

# "chat_member" arrives only where the bot is a group admin: members who leave (enrolments end).
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member",
                   "chat_member"]
LONG_POLL_SECONDS = 10
MAX_BACKOFF_SECONDS = 30.0
T = TypeVar("T")


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # int now, timedelta in PTB 23: both handled
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: float | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None when ``stop`` is set first (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, TelegramError):
        pass
    return None


async def _pause(seconds: float, stop: asyncio.Event) -> None:
    if seconds > 0:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            pass


def _backoff(failures: int) -> float:
    return min(0.5 * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)


async def _call_until_done(what: str, make: Callable[[], Awaitable[object]],
                           stop: asyncio.Event) -> None:
    """Retry a start-up call through network trouble until it works or we stop."""
    failures = 0
    while not stop.is_set():
        try:
            await _unless_stopped(make(), stop)
            return
        except InvalidToken:
            raise
        except RetryAfter as exc:
            await _pause(_retry_after(exc), stop)
        except TelegramError as exc:
            failures += 1
            log.warning("%s failed (%s); retrying", what, type(exc).__name__)
            await _pause(_backoff(failures), stop)


async def poll_updates(application: Application, stop: asyncio.Event, *,
                       interval: float = 0.0, long_poll: int = LONG_POLL_SECONDS) -> int:
    """Fetch, handle, and only then confirm updates until ``stop`` is set; returns the offset
    that confirms everything handled."""
    bot = application.bot
    offset = 0
    failures = 0
    while not stop.is_set():
        try:
            updates = await _unless_stopped(bot.get_updates(
                offset=offset, timeout=long_poll, allowed_updates=ALLOWED_UPDATES), stop)
        except InvalidToken:
            raise
        except RetryAfter as exc:
            log.warning("Telegram asks to wait %.0fs before polling again", _retry_after(exc))
            await _pause(_retry_after(exc), stop)
            continue
        except TelegramError as exc:  # network trouble, 5xx, a conflict with another poller
            failures += 1
            log.warning("polling failed (%s); retrying in %.1fs", type(exc).__name__,
                        _backoff(failures))
            await _pause(_backoff(failures), stop)
            continue
        if updates is None:  # stopped while waiting
            break
        failures = 0
        for update in updates:
            if stop.is_set():  # the rest come again after the next start
                break
            await _handle(application, update)
            offset = update.update_id + 1
        await _pause(interval, stop)
    return offset


async def _handle(application: Application, update: Update) -> None:
    try:
        await application.process_update(update)
    except Exception:  # process_update sends handler errors to the error handler; this is a bug
        log.exception("update %s could not be processed", update.update_id)


async def _confirm(application: Application, offset: int) -> None:
    """Tell Telegram every handled update is done, so the next start does not see them again."""
    if offset <= 0:
        return
    try:
        await application.bot.get_updates(offset=offset, timeout=0,
                                          allowed_updates=ALLOWED_UPDATES)
    except TelegramError as exc:  # they come again after the next start and change nothing twice
        log.warning("could not confirm the last updates (%s)", type(exc).__name__)


async def serve(application: Application, rt: Runtime,
                stop: asyncio.Event) -> None:
    """Run until ``stop`` is set; then finish, flush the outbox and shut down."""
    from bot.app import post_init, stop_application

    await application.initialize()
    await post_init(application)
    await application.start()
    offset = 0
    try:
        await _call_until_done("deleting the webhook", application.bot.delete_webhook, stop)
        offset = await poll_updates(application, stop, interval=rt.settings.telegram.poll_interval)
    finally:
        log.info("stopping: flushing the outbox")
        await _confirm(application, offset)
        await stop_application(application)


def run_polling(application: Application, rt: Runtime) -> None:
    from bot.app import run_until_signalled

    run_until_signalled(lambda stop: serve(application, rt, stop))
