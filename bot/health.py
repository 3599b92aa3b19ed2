"""The bot's health in numbers: outbox depth, unrouted cases, overdue alerts. Shown by
``ppa-bot health`` and the webhook's ``/healthz``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Case, OutboxMessage
from models.outbox import FAILED, PENDING


async def health_report(sessions: async_sessionmaker[AsyncSession],
                        now: datetime) -> dict[str, Any]:
    async with sessions() as session:
        pending = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                       .where(OutboxMessage.status == PENDING))
        oldest = await session.scalar(select(func.min(OutboxMessage.created_at))
                                      .where(OutboxMessage.status == PENDING))
        failed = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                      .where(OutboxMessage.status == FAILED))
        unrouted = await session.scalar(select(func.count()).select_from(Case)
                                        .where(Case.unrouted.is_(True), Case.practice.is_(False),
                                               Case.acknowledged_at.is_(None)))
        overdue = await session.scalar(select(func.count()).select_from(Case)
                                       .where(Case.ack_deadline < now,
                                              Case.acknowledged_at.is_(None)))
    if oldest is not None and oldest.tzinfo is None:  # aggregates may skip the column type
        oldest = oldest.replace(tzinfo=UTC)
    return {
        "outbox_pending": int(pending or 0),
        "outbox_oldest_pending_seconds": round((now - oldest).total_seconds()) if oldest else 0,
        "outbox_failed": int(failed or 0),
        "unrouted_cases": int(unrouted or 0),
        "overdue_acknowledgements": int(overdue or 0),
    }


def is_healthy(report: dict[str, Any]) -> bool:
    """Unhealthy when notifications are stuck or a case reaches nobody."""
    return report["outbox_oldest_pending_seconds"] < 600 and report["unrouted_cases"] == 0
