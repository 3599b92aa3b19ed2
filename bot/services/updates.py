"""Idempotency: each Telegram update changes state at most once, even when delivered twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from models import ProcessedUpdate


async def already_processed(session: AsyncSession, key: int | None) -> bool:
    return key is not None and await session.get(ProcessedUpdate, key) is not None


def mark_processed(session: AsyncSession, key: int | None, now: datetime) -> None:
    """Stage the key in the caller's transaction: it is recorded exactly when the change is."""
    if key is not None:
        session.add(ProcessedUpdate(update_id=key, at=now))


async def forget_processed(session: AsyncSession, before: datetime) -> None:
    """Telegram redelivers only for a day; older keys can go."""
    await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < before))


RETENTION = timedelta(days=2)
