"""Scheduler jobs (APScheduler through PTB's JobQueue). Each reads its work from the database, so a
restart loses nothing: nothing important lives in a pickled job."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.i18n import translator
from bot.runtime import Runtime
from bot.services.updates import RETENTION, forget_processed

log = logging.getLogger(__name__)


def draft_expired_notice(language: str) -> str:
    _ = translator(language)
    return _("Your unfinished report was deleted after a few days without answers, to keep you "
             "safe. You can start again at any time with /lapor.")


async def expire_drafts(rt: Runtime) -> int:
    removed = await rt.reports.expire_drafts(draft_expired_notice)
    if removed:
        log.info("expired %d abandoned drafts", removed)
        rt.dispatcher.wake()
    return removed


async def prune_processed_updates(rt: Runtime) -> None:
    async with rt.sessions.begin() as session:
        await forget_processed(session, rt.clock.now() - RETENTION)


async def forget_closed_cases(rt: Runtime) -> int:
    return await rt.privacy.forget_closed_cases(rt.settings.security.retention_days_after_close)


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    rt: Runtime = context.application.bot_data["runtime"]
    return rt


async def _expire_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await expire_drafts(_runtime(context))


async def _retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await forget_closed_cases(_runtime(context))


async def _prune_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await prune_processed_updates(_runtime(context))


def schedule(application: Application, rt: Runtime) -> None:  # type: ignore[type-arg]
    queue = application.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    queue.run_repeating(_expire_job, interval=rt.settings.drafts.sweep_seconds, first=5,
                        name="expire_drafts")
    queue.run_repeating(_prune_job, interval=3600, first=60, name="prune_processed_updates")
    queue.run_repeating(_retention_job, interval=3600, first=120, name="retention")
