"""Deadlines that remind and alarm (DESIGN §5), swept with the escalation (``bot/jobs.py``): no
timers, only columns and rows, so a restart or a second worker loses and repeats nothing.

- **The UU TPKS police deadline** (3 × 24 h, sexual violence and trafficking): whoever handles
  the case is reminded ``deadlines.police_reminder_hours`` before it (24 h and 6 h); when it
  passes, the holder, the kabupaten officers and the admins are alerted at once. Each alarm is a
  ``DeadlineAlarm`` row written with its outbox rows in one transaction (its key makes it happen
  once), the case row locked (``SKIP LOCKED``) and re-checked. A police referral ends them.
- **Follow-ups** of stages and services (``deadlines.stage_hours``,
  ``deadlines.service_follow_up_days``): a ``FollowUp`` row due at a time; the holder is reminded
  once, unless the stage moved on or the service ended first.

Nobody holds the case yet: the chats that received its alert are reminded instead.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import services as rules
from bot.domain import workflow
from bot.domain.tiers import KABUPATEN_TIER, tier_of
from bot.outbox import enqueue
from bot.services.alerts import AlertService, bucket_of
from bot.services.police import police_referred
from models import Case, CaseEvent, CaseServiceRecord, DeadlineAlarm, FollowUp, Responder
from models.responder import OFFICER

log = logging.getLogger(__name__)

BATCH = 500
POLICE = "police"
POLICE_ALARM = "police_alarm"  # outbox kind
FOLLOW_UP = "follow_up"  # outbox kind


class DeadlineViews(Protocol):
    """What the reminders say (``bot/views/services.py``): Bot API parameters, without chat."""

    def police_alarm(self, case: Case, step: str, holder: str | None) -> dict[str, Any]: ...

    def follow_up(self, case: Case, subject: str,
                  service: CaseServiceRecord | None) -> dict[str, Any]: ...


class Deadlines:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, alerts: AlertService, views: DeadlineViews) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.alerts = alerts
        self.views = views

    # ---- stage follow-ups, in the status change's transaction --------------------------------

    async def on_status_changed(self, session: AsyncSession, case: Case, before: str,
                                now: datetime) -> None:
        """Subscribed to ``CaseService.on_status_changed``: the follow-up of the stage left is
        met; the new stage gets its own, when the configuration names one."""
        await session.execute(update(FollowUp).where(
            FollowUp.case_id == case.id, FollowUp.service_id.is_(None),
            FollowUp.done_at.is_(None)).values(done_at=now)
            .execution_options(synchronize_session=False))
        hours = self.settings.deadlines.stage_hours.get(case.status)
        if hours is not None and not workflow.is_closed(case.status):
            session.add(FollowUp(case_id=case.id, subject=case.status,
                                 due_at=now + timedelta(hours=hours)))

    # ---- the sweep ----------------------------------------------------------------------------

    async def sweep(self) -> int:
        now = self.clock.now()
        return await self._police(now) + await self._follow_ups(now)

    async def _police(self, now: datetime) -> int:
        hours = self.settings.deadlines.police_reminder_hours
        window = now + timedelta(hours=max(hours, default=0))
        async with self.sessions() as session:
            due = list(await session.scalars(
                select(Case.id).where(Case.police_reminded.is_(False),
                                      Case.police_deadline <= window)
                .order_by(Case.police_deadline).limit(BATCH)))
        raised = 0
        for case_id in due:
            try:
                async with self.sessions.begin() as session:
                    raised += await self._police_case(session, case_id, hours, now)
            except IntegrityError:  # another worker raised the same alarm first
                log.info("a police alarm was already raised by another worker")
        return raised

    async def _police_case(self, session: AsyncSession, case_id: int, hours: list[float],
                           now: datetime) -> int:
        case = await session.scalar(select(Case).where(
            Case.id == case_id, Case.police_reminded.is_(False))
            .with_for_update(skip_locked=True))
        if case is None or case.police_deadline is None:
            return 0
        if case.closed_at is not None or case.practice or await police_referred(session, case):
            case.police_reminded = True  # nothing more to remind of
            return 0
        done = list(await session.scalars(select(DeadlineAlarm.step).where(
            DeadlineAlarm.case_id == case.id, DeadlineAlarm.deadline == POLICE)))
        raised = 0
        for step in rules.due_steps(case.police_deadline, now, hours, done):
            chats = await self._holders(session, case)
            if step == rules.OVERDUE:
                chats += await self._district(session)
                case.police_reminded = True
            chats = list(dict.fromkeys(chats))
            session.add(DeadlineAlarm(case_id=case.id, deadline=POLICE, step=step, at=now,
                                      recipients=len(chats), holder=case.handler_user_id))
            await session.flush()  # the key, before anything is queued
            params = self.views.police_alarm(case, step, case.handler_name)
            for chat_id in chats:
                enqueue(session, kind=POLICE_ALARM, method="sendMessage", now=now,
                        bucket=bucket_of(chat_id), case_id=case.id,
                        params={"chat_id": chat_id, **params})
            session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind=POLICE_ALARM,
                                  detail={"step": step, "chats": len(chats)}))
            raised += 1
        return raised

    async def _follow_ups(self, now: datetime) -> int:
        async with self.sessions() as session:
            due = list(await session.scalars(
                select(FollowUp.id).where(FollowUp.reminded_at.is_(None),
                                          FollowUp.done_at.is_(None), FollowUp.due_at <= now)
                .order_by(FollowUp.due_at).limit(BATCH)))
        reminded = 0
        for follow_up_id in due:
            async with self.sessions.begin() as session:
                follow_up = await session.scalar(select(FollowUp).where(
                    FollowUp.id == follow_up_id, FollowUp.reminded_at.is_(None),
                    FollowUp.done_at.is_(None)).with_for_update(skip_locked=True))
                if follow_up is None:
                    continue
                follow_up.reminded_at = now
                case = await session.get(Case, follow_up.case_id)
                service = await session.get(CaseServiceRecord, follow_up.service_id) \
                    if follow_up.service_id is not None else None
                if case is None or case.closed_at is not None or (
                        service is None and case.status != follow_up.subject) or (
                        service is not None and service.status in rules.ENDED):
                    follow_up.done_at = now
                    continue
                chats = list(dict.fromkeys(await self._holders(session, case)))
                params = self.views.follow_up(case, follow_up.subject, service)
                for chat_id in chats:
                    enqueue(session, kind=FOLLOW_UP, method="sendMessage", now=now,
                            bucket=bucket_of(chat_id), case_id=case.id,
                            params={"chat_id": chat_id, **params})
                session.add(CaseEvent(case_id=case.id, at=now, actor="system",
                                      kind="follow_up_reminder",
                                      detail={"subject": follow_up.subject,
                                              "number": service.number if service else None,
                                              "chats": len(chats)}))
                reminded += 1
        return reminded

    # ---- who is told ----------------------------------------------------------------------------

    async def _holders(self, session: AsyncSession, case: Case) -> list[int]:
        """Whoever handles the case; nobody yet: the chats its alert reached."""
        if case.handler_user_id is not None and case.handler_user_id > 0:
            return [case.handler_user_id]
        return [alert.chat_id for alert in await self.alerts.live_alerts(session, case.id)]

    async def _district(self, session: AsyncSession) -> list[int]:
        """The kabupaten officers and the admins (active)."""
        officers = await session.scalars(select(Responder).where(
            Responder.kind == OFFICER, Responder.active.is_(True),
            or_(Responder.is_admin.is_(True), Responder.region_code.not_like("%.%.%")))
            .order_by(Responder.id))
        return [o.chat_id for o in officers
                if o.is_admin or tier_of(o.region_code) == KABUPATEN_TIER]
