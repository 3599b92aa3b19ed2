"""The escalation sweep (DESIGN §4): deadlines are columns, and a repeating job moves what is due.

Each run asks three indexed questions, so it costs the same with a hundred cases or a million:
- unacknowledged cases past ``ack_deadline`` climb one tier (the tier below is reminded with a
  reply to its first alert); at the top tier the reminder repeats each interval;
- sexual violence cases whose UU TPKS police deadline is near: their holders are reminded, once;
- cases nobody could receive (``unrouted``): routed as soon as someone is registered.
Every case is handled in its own transaction with its row locked (``SKIP LOCKED``), and re-checked
after locking, so two workers never escalate one case twice and a restart loses nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.alerts import POLICE, AlertService
from bot.services.responders import count_unrouted
from bot.services.routing import Router
from models import Case, CaseEvent

log = logging.getLogger(__name__)

BATCH = 500
UNROUTED_WARNING_EVERY = timedelta(hours=1)
# A case referred to the police needs no more reminding of the police deadline.
POLICE_REFERRALS = {"police", "polisi"}


@dataclass
class SweepReport:
    escalated: int = 0
    police_reminders: int = 0
    routed: int = 0

    def __bool__(self) -> bool:
        return bool(self.escalated or self.police_reminders or self.routed)


class EscalationSweep:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, alerts: AlertService, router: Router) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.alerts = alerts
        self.router = router
        self._warned_at: datetime | None = None

    async def sweep(self) -> SweepReport:
        now = self.clock.now()
        report = SweepReport()
        report.escalated = await self._climb_due(now)
        report.police_reminders = await self._police_reminders(now)
        report.routed = await self._route_unrouted(now)
        await self._warn_unrouted(now)
        if report:
            log.info("escalation sweep: %d escalated, %d police reminders, %d routed late",
                     report.escalated, report.police_reminders, report.routed)
        return report

    async def _warn_unrouted(self, now: datetime) -> None:
        """Once an hour, the log repeats how many cases still reach nobody."""
        if self._warned_at is not None and now - self._warned_at < UNROUTED_WARNING_EVERY:
            return
        async with self.sessions() as session:
            left = await count_unrouted(session)
        if left:
            self._warned_at = now
            log.error("%d case(s) are UNROUTED: nobody registered receives them. Run `ppa-bot "
                      "responders list` and register a group or officer for their area", left)

    async def _due(self, query: Select[int]) -> list[int]:
        async with self.sessions() as session:
            return list(await session.scalars(query))

    async def _climb_due(self, now: datetime) -> int:
        due = await self._due(select(Case.id).where(Case.ack_deadline <= now)
                              .order_by(Case.ack_deadline).limit(BATCH))
        done = 0
        for case_id in due:
            async with self.sessions.begin() as session:
                case = await session.scalar(
                    select(Case).where(Case.id == case_id, Case.ack_deadline <= now,
                                       Case.acknowledged_at.is_(None))
                    .with_for_update(skip_locked=True))
                if case is None:
                    continue
                if case.closed_at is not None:
                    case.ack_deadline = None
                    continue
                await self.alerts.escalate(session, case, now)
                done += 1
        return done

    async def _police_reminders(self, now: datetime) -> int:
        soon = now + timedelta(hours=self.settings.escalation.police_reminder_hours_before)
        due = await self._due(select(Case.id).where(Case.police_reminded.is_(False),
                                                    Case.police_deadline <= soon)
                              .order_by(Case.police_deadline).limit(BATCH))
        done = 0
        for case_id in due:
            async with self.sessions.begin() as session:
                case = await session.scalar(
                    select(Case).where(Case.id == case_id, Case.police_reminded.is_(False))
                    .with_for_update(skip_locked=True))
                if case is None:
                    continue
                case.police_reminded = True
                if case.closed_at is not None or (case.referral or "") in POLICE_REFERRALS:
                    continue
                alerts = await self.alerts.live_alerts(session, case.id)
                chats = await self.alerts.remind(session, case, alerts, POLICE, now)
                session.add(CaseEvent(case_id=case.id, at=now, actor="system",
                                      kind="police_reminder", detail={"chats": chats}))
                done += 1
        return done

    async def _route_unrouted(self, now: datetime) -> int:
        due = await self._due(select(Case.id).where(Case.unrouted.is_(True))
                              .order_by(Case.id).limit(BATCH))
        done = 0
        for case_id in due:
            async with self.sessions.begin() as session:
                case = await session.scalar(
                    select(Case).where(Case.id == case_id, Case.unrouted.is_(True))
                    .with_for_update(skip_locked=True))
                if case is None:
                    continue
                if case.acknowledged_at is not None or case.closed_at is not None:
                    case.unrouted = False
                    continue
                if await self.router.route(session, case, now):
                    log.info("case %s was unrouted and is now routed", case.reference)
                    done += 1
        return done
