"""Idempotency: each Telegram update changes state at most once, even when delivered twice."""

from __future__ import annotations

from collections import OrderedDict
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


class RecentUpdates:
    """The updates this process has already answered (the newest ``size``). The database decides
    whether a redelivered update changes anything; this decides whether to answer it again: a
    process that answered it stays quiet (the person has the answer on screen), while a process
    that never saw it, after a restart, answers (the answer may never have gone out)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._ids: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """Remember ``update_id``; False when this process had already seen it."""
        if update_id in self._ids:
            return False
        self._ids[update_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True
