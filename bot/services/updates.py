"""Idempotency: each Telegram update changes state at most once, even when delivered twice. And
the updates the flood limit holds back: kept in the database until their sender's minute clears."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from models import HeldUpdate, ProcessedUpdate

CLAIM = timedelta(minutes=2)  # how long a held update is reserved for the worker handling it


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


# ---- updates held back by the flood limit -------------------------------------------------------

async def hold(session: AsyncSession, user_hash: str, update_id: int, payload: str,
               now: datetime) -> bool:
    """Keep an update for later; False when it is already kept (Telegram sent it twice)."""
    if await session.scalar(select(HeldUpdate.id).where(HeldUpdate.update_id == update_id)):
        return False
    session.add(HeldUpdate(user_hash=user_hash, update_id=update_id, payload=payload,
                           held_at=now))
    return True


async def held_count(session: AsyncSession, user_hash: str) -> int:
    return await session.scalar(select(func.count()).select_from(HeldUpdate).where(
        HeldUpdate.user_hash == user_hash)) or 0


async def held_waiting(session: AsyncSession, now: datetime, *, user_hash: str | None = None,
                       limit: int = 200) -> list[HeldUpdate]:
    """Held updates nobody is handling, oldest first (one sender's, or everyone's)."""
    query = select(HeldUpdate).where(or_(HeldUpdate.claimed_until.is_(None),
                                         HeldUpdate.claimed_until < now))
    if user_hash is not None:
        query = query.where(HeldUpdate.user_hash == user_hash)
    return list(await session.scalars(query.order_by(HeldUpdate.id).limit(limit)))


async def claim_held(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Reserve a held update for this worker; False when another took it first."""
    taken: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(HeldUpdate).where(HeldUpdate.id == row_id, or_(
            HeldUpdate.claimed_until.is_(None), HeldUpdate.claimed_until < now))
        .values(claimed_until=now + CLAIM).execution_options(synchronize_session=False))
    return taken.rowcount == 1


async def forget_held(session: AsyncSession, row_id: int) -> None:
    await session.execute(delete(HeldUpdate).where(HeldUpdate.id == row_id))
