"""Routing (DESIGN §4): which responders a new case goes to.

``Router`` applies the tier policy (``bot/domain/tiers.py``: ``plan``) to the responders
registered for the case's village, inside the submit transaction (it subscribes to
``ReportService.on_case_created``), so a case and its alerts are committed together.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.domain.tiers import Candidate, ack_timeout, plan, police_deadline
from bot.services.alerts import AlertService
from bot.services.responders import responders_by_tier
from models import Case, CaseEvent

log = logging.getLogger(__name__)

class Router:
    def __init__(self, settings: Settings, clock: Clock, alerts: AlertService) -> None:
        self.settings = settings
        self.clock = clock
        self.alerts = alerts

    async def on_case_created(self, session: AsyncSession, case: Case) -> None:
        """Subscribed to ``ReportService.on_case_created``: runs in the submit transaction."""
        if case.practice:
            return  # no responder: the practice router sends it to the training chat
        case.police_deadline = police_deadline(self.settings, case.created_at, case.violence_types)
        await self.route(session, case, self.clock.now())

    async def route(self, session: AsyncSession, case: Case, now: datetime) -> bool:
        """Alert the responders the plan names; a case nobody can receive is kept, flagged and
        logged loudly, and the sweep tries it again. Returns whether anyone was alerted."""
        available = await responders_by_tier(session, case.village_code)
        responders = {r.id: r for tier in available.values() for r in tier}
        route = plan([Candidate(r.id, r.region_code) for r in responders.values()],
                     urgent=case.urgent, types=case.violence_types)
        if route.unrouted:
            if not case.unrouted:  # loudly, once; the sweep keeps trying and counts what is left
                case.unrouted = True
                case.tier = None
                case.ack_deadline = None
                session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="unrouted",
                                      detail={"village": case.village_code}))
                log.error("case %s is UNROUTED: no active responder covers village %s. Register "
                          "one with `ppa-bot responders add-group` or `add-officer`; `ppa-bot "
                          "responders list` shows every unrouted case", case.reference,
                          case.village_code)
            return False
        await self.alerts.alert_responders(session, case, [responders[t.id] for t in route.targets],
                                           now)
        was_unrouted = case.unrouted
        case.unrouted = False
        case.tier = route.tier
        if case.acknowledged_at is None:
            case.ack_deadline = now + ack_timeout(self.settings, case.priority)
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="routed", detail={
            "tier": route.tier, "responders": len(route.targets),
            "kabupaten_at_once": route.also_kabupaten, "late": was_unrouted}))
        return True
