"""Scheduler jobs (APScheduler through PTB's JobQueue). Each reads its work from the database, so a
restart loses nothing: nothing important lives in a pickled job."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.context import BotContext
from bot.i18n import translator
from bot.runtime import Runtime
from bot.services.digest import DIGEST_TIME, DIGEST_WEEKDAY, digest_due, queue_weekly_digest
from bot.services.updates import RETENTION, forget_processed

log = logging.getLogger(__name__)


def draft_expired_notice(language: str) -> str:
    _ = translator(language)
    return _("Your unfinished report was deleted after a few days without answers, to keep you "
             "safe. You can start again at any time with /lapor.")


def draft_expired_neutral(language: str) -> str:
    """The same, for a phone others may read (discreet messages): nothing gives it away."""
    _ = translator(language)
    return "🔔 " + _("The answers you had started were deleted after a few days, to keep you "
                    "safe. You can start again at any time with /lapor.")


def intake_expired_notice(language: str, days: float) -> str:
    """To an officer whose unfinished /kasus_baru record was deleted (private chat)."""
    _ = translator(language)
    return _("The unfinished new case record was deleted after {days} days. Send /kasus_baru "
             "to start again.").format(days=f"{days:g}")


async def expire_drafts(rt: Runtime) -> int:
    removed = await rt.reports.expire_drafts(draft_expired_notice, draft_expired_neutral)
    removed += await rt.intake.expire_intake_drafts(intake_expired_notice)
    if removed:
        log.info("expired %d abandoned drafts", removed)
    return removed


async def prune_processed_updates(rt: Runtime) -> None:
    async with rt.sessions.begin() as session:
        await forget_processed(session, rt.clock.now() - RETENTION)


async def forget_closed_cases(rt: Runtime) -> int:
    """Retention (UU PDP): the content of long-closed cases, and notifications long sent."""
    erased = await rt.privacy.forget_closed_cases(rt.settings.privacy.retention_days_after_close)
    if erased:
        log.info("retention: erased the content of %d closed cases", erased)
    await rt.privacy.forget_sent_messages(rt.settings.privacy.sent_messages_keep_days)
    return erased


async def sweep_escalations(rt: Runtime) -> None:
    await rt.escalation.sweep()


async def _expire_job(context: BotContext) -> None:
    await expire_drafts(context.runtime)


async def _retention_job(context: BotContext) -> None:
    await forget_closed_cases(context.runtime)


async def _escalation_job(context: BotContext) -> None:
    await sweep_escalations(context.runtime)


async def _prune_job(context: BotContext) -> None:
    await prune_processed_updates(context.runtime)


async def send_weekly_digest(rt: Runtime) -> int:
    """Queue the admins' weekly digest (once a week, however often called)."""
    queued = await queue_weekly_digest(rt.sessions, rt.clock, rt.settings, rt.vault)
    if queued:
        log.info("weekly digest queued for %d admins", queued)
    return queued


async def _digest_job(context: BotContext) -> None:
    await send_weekly_digest(context.runtime)


async def _digest_catch_up_job(context: BotContext) -> None:
    """At start-up: a digest missed while the bot was down goes out now, still once a week."""
    rt = context.runtime
    if digest_due(rt.clock.now(), rt.settings):
        await send_weekly_digest(rt)


def schedule(application: Application, rt: Runtime) -> None:
    queue = application.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    queue.run_repeating(_expire_job, interval=rt.settings.drafts.sweep_seconds, first=5,
                        name="expire_drafts")
    queue.run_repeating(_prune_job, interval=3600, first=60, name="prune_processed_updates")
    queue.run_repeating(_retention_job, interval=3600, first=120, name="retention")
    queue.run_repeating(_escalation_job, interval=rt.settings.escalation.sweep_seconds, first=2,
                        name="escalation")
    # Monday 08:00 WITA (PTB counts days from Sunday = 0, as cron does).
    queue.run_daily(_digest_job, time=DIGEST_TIME.replace(tzinfo=rt.settings.tz),
                    days=(DIGEST_WEEKDAY,), name="weekly_digest")
    queue.run_once(_digest_catch_up_job, when=90, name="weekly_digest_catch_up")
