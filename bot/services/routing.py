"""Routing (DESIGN §4): which responders a new case goes to, and where it climbs next.

``plan`` and ``next_tier`` are pure decisions over the responders registered for the case's
village; ``Router`` applies them inside the submit transaction (a hook in
``ReportService.on_case_created``), so a case and its alerts are committed together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import report_form as form
from bot.clock import Clock
from bot.config import Settings
from bot.services.responders import responders_by_tier, tier_of, tier_rank
from models import Case, CaseEvent
from models.case import HIGH, URGENT
from models.responder import KABUPATEN_TIER, TIERS

if TYPE_CHECKING:
    from bot.services.alerts import AlertService

log = logging.getLogger(__name__)

# UU TPKS (12/2022) and TPPO: these never wait for the village; the kabupaten hears at once.
AT_ONCE_TO_KABUPATEN = {form.SEXUAL, form.TRAFFICKING}


@dataclass(frozen=True)
class Candidate:
    """An active responder as routing sees it: an id and the region it is bound to."""

    id: int
    region_code: str

    @property
    def tier(self) -> str:
        return tier_of(self.region_code)


@dataclass(frozen=True)
class Route:
    tier: str | None  # the tier that holds the case for escalation: the lowest one alerted
    targets: tuple[Candidate, ...]
    also_kabupaten: bool = False

    @property
    def unrouted(self) -> bool:
        return not self.targets


def goes_to_kabupaten_at_once(urgent: bool, types: Iterable[str]) -> bool:
    return urgent or bool(AT_ONCE_TO_KABUPATEN & set(types))


def plan(candidates: Sequence[Candidate], *, urgent: bool, types: Iterable[str]) -> Route:
    """The lowest tier with an active responder gets the case; urgent cases, sexual violence and
    trafficking also go to the kabupaten tier at once. Nobody registered: an empty route."""
    by_tier = {tier: [c for c in candidates if c.tier == tier] for tier in TIERS}
    lowest = next((tier for tier in TIERS if by_tier[tier]), None)
    if lowest is None:
        return Route(None, ())
    targets = list(by_tier[lowest])
    extra = goes_to_kabupaten_at_once(urgent, types) and lowest != KABUPATEN_TIER \
        and bool(by_tier[KABUPATEN_TIER])
    if extra:
        targets += by_tier[KABUPATEN_TIER]
    return Route(lowest, tuple(targets), also_kabupaten=extra)


def next_tier(current: str | None, available: Iterable[str]) -> str | None:
    """The first tier above ``current`` that has an active responder; None at the top."""
    present = set(available)
    for tier in TIERS[tier_rank(current) + 1:]:
        if tier in present:
            return tier
    return None


def ack_timeout(settings: Settings, priority: str) -> timedelta:
    minutes = {URGENT: settings.escalation.ack_timeout_urgent_minutes,
               HIGH: settings.escalation.ack_timeout_high_minutes}.get(
        priority, settings.escalation.ack_timeout_normal_minutes)
    return timedelta(minutes=minutes)


def police_deadline(settings: Settings, created_at: datetime,
                    types: Iterable[str]) -> datetime | None:
    """UU TPKS: UPTD PPA passes a sexual violence report to the police within 3 x 24 hours."""
    if form.SEXUAL not in set(types):
        return None
    return created_at + timedelta(hours=settings.escalation.police_deadline_hours)


class Router:
    def __init__(self, settings: Settings, clock: Clock, alerts: AlertService) -> None:
        self.settings = settings
        self.clock = clock
        self.alerts = alerts

    async def on_case_created(self, session: AsyncSession, case: Case) -> None:
        """The ``ReportService.on_case_created`` hook: runs in the submit transaction."""
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
