"""Reporters: found by a keyed hash of their Telegram id, never by the id itself.

A reporter record exists only while there is something of theirs to keep: it is made when a
report starts (``touch_reporter``, from ``/lapor``), and deleted when its last draft goes and no
case is linked to it (``forget_if_unused``). Looking something up, choosing a language or writing
to the bot stores nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Vault
from bot.i18n import language_for
from models import Case, Draft, Reporter

LAST_SEEN_PRECISION = timedelta(hours=1)


async def find_reporter(session: AsyncSession, vault: Vault, telegram_id: int) -> Reporter | None:
    return await session.scalar(
        select(Reporter).where(Reporter.tg_hash == vault.hash_id(telegram_id))
    )


async def touch_reporter(
    session: AsyncSession,
    vault: Vault,
    telegram_id: int,
    language_code: str | None,
    now: datetime,
) -> Reporter:
    """The reporter for this account, created when they start a report (with the language they
    chose, else Telegram's)."""
    reporter = await find_reporter(session, vault, telegram_id)
    if reporter is None:
        reporter = Reporter(
            tg_hash=vault.hash_id(telegram_id),
            chat_id=str(telegram_id),
            language=language_for(language_code),
            created_at=now,
            last_seen_at=now,
        )
        session.add(reporter)
        await session.flush()
    else:
        # Hourly is precise enough, and spares most steps a write.
        if now - reporter.last_seen_at >= LAST_SEEN_PRECISION:
            reporter.last_seen_at = now
        heard_from(reporter)
    return reporter


def heard_from(reporter: Reporter) -> None:
    """They wrote to the bot (Telegram delivers nothing from someone who blocks it): a reporter
    who had blocked it may be written to again."""
    if reporter.blocked_at is not None:
        reporter.blocked_at = None


# Telegram lets a bot delete messages in a private chat for 48 hours.
DELETABLE_FOR = timedelta(hours=48)


def remember_conversation_start(reporter: Reporter, message_id: int | None, now: datetime) -> None:
    """Keep the earliest message id that can still be deleted; older starts are out of reach."""
    if message_id is None:
        return
    expired = reporter.wipe_from_at is None or now - reporter.wipe_from_at >= DELETABLE_FOR
    if expired or reporter.wipe_from_message_id is None:
        reporter.wipe_from_message_id = message_id
        reporter.wipe_from_at = now


async def forget_if_unused(session: AsyncSession, reporter: Reporter) -> bool:
    """Delete the reporter record once no draft and no case is left to link to it."""
    await session.flush()
    used = await session.scalar(select(
        exists().where(Case.reporter_id == reporter.id)
        | exists().where(Draft.reporter_id == reporter.id)))
    if used:
        return False
    await session.delete(reporter)
    return True
