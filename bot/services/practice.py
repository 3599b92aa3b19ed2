"""Practice mode: ``/latihan`` reports for trainings of village activists.

A practice case is a case with ``practice`` set. It reaches nobody real: the router skips it
(``bot/services/routing.py``) and ``PracticeRouter`` sends a practice alert (the real alert's view:
the same texts and buttons, marked as practice) only to the training chat (``training.chat_id``)
or, without one, back to the trainee. Statistics and exports never count it
(``bot.services.stats.counted``), and ``purge_practice`` removes practice cases in bulk
(``ppa-bot practice purge``, ``/hapus_latihan``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.outbox import PRIVATE_BUCKET, enqueue
from models import Case, CaseEvent, Reporter

log = logging.getLogger(__name__)

class PracticeViews(Protocol):
    """How the practice alert looks (``bot/views/alerts.py``: the real alert, marked)."""

    def practice_alert(self, case: Case, language: str = ...) -> dict[str, Any]: ...


class PracticeRouter:
    """Subscribed to ``ReportService.on_case_created``: practice cases only (real ones pass by)."""

    def __init__(self, settings: Settings, clock: Clock, views: PracticeViews) -> None:
        self.settings = settings
        self.clock = clock
        self.views = views

    async def on_case_created(self, session: AsyncSession, case: Case) -> None:
        if not case.practice:
            return
        now = self.clock.now()
        training = self.settings.training.chat_id
        if training:
            enqueue(session, kind="practice_alert", method="sendMessage", now=now,
                    case_id=case.id, bucket=str(training) if training < 0 else PRIVATE_BUCKET,
                    params={"chat_id": training, **self.views.practice_alert(case)})
            to = "training_chat"
        else:
            reporter = await session.get(Reporter, case.reporter_id) if case.reporter_id else None
            if reporter is None:
                return
            enqueue(session, kind="practice_alert", method="sendMessage", now=now,
                    case_id=case.id, params={
                        "chat_id": int(reporter.chat_id),
                        **self.views.practice_alert(case, case.language)})
            to = "trainee"
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="practice_routed",
                              detail={"to": to}))


async def count_practice(session: AsyncSession) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Case).where(Case.practice.is_(True))) or 0)


async def purge_practice(session: AsyncSession, now: datetime, *,
                         older_than_days: float = 0) -> int:
    """Delete practice cases (with their evidence, alerts, history and queued messages, by the
    database's cascades); return how many."""
    query = select(Case.id).where(Case.practice.is_(True))
    if older_than_days > 0:
        query = query.where(Case.created_at <= now - timedelta(days=older_than_days))
    ids = list(await session.scalars(query))
    if ids:
        await session.execute(delete(Case).where(Case.id.in_(ids)))
        log.info("removed %d practice cases", len(ids))
    return len(ids)
