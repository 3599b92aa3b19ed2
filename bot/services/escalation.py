"""Escalation (DESIGN §4): everything that moves a case up the tiers, in one place.

- A case not taken in time climbs one tier (``escalate``): the next tier with an active responder
  is alerted and the tier below reminded with a reply to its first alert (``remind``); at the top
  the reminder repeats. The tier policy itself (which tier is next, how long each priority waits)
  is ``bot/domain/tiers.py``.
- "Butuh bantuan" under an alert, or "Minta bantuan" on the case card, climbs at once
  (``help_requested``; the alert button is ``ask_next_tier``).
- A responder that can no longer be reached (revoked, removed, blocked) stops receiving alerts and
  its open cases go to the next tier (``deactivate``); the admins are told.
- The sweep (``sweep``, run by a repeating job in ``bot/jobs.py``): deadlines are columns, and
  each run asks three indexed questions, so it costs the same with a hundred cases or a million:
  - unacknowledged cases past ``ack_deadline`` climb one tier;
  - legal deadlines and follow-ups (``bot/services/deadlines.py``): the UU TPKS police deadline
    of sexual violence and trafficking cases (reminders, then the alarm when it passes), and the
    follow-ups of stages and services;
  - cases nobody could receive (``unrouted``): routed as soon as someone is registered.
  Every case is handled in its own transaction with its row locked (``SKIP LOCKED``), and
  re-checked after locking, so two workers never escalate one case twice and a restart loses
  nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import access
from bot.domain.tiers import Gone, Why, ack_timeout, next_tier, tier_of, tier_rank
from bot.outbox import enqueue
from bot.services import enrolment
from bot.services.alerts import (
    ADMIN_NOTICE,
    REMINDER,
    AlertService,
    Presser,
    PressOutcome,
    PressResult,
    bucket_of,
)
from bot.services.responders import (
    NO_RIGHTS,
    NOT_FOUND,
    NOT_STARTED,
    REMOVED,
    REVOKED,
    admins,
    count_unrouted,
    find_responder,
    responders_by_tier,
)
from bot.services.routing import Router
from bot.services.updates import already_processed, mark_processed
from models import Alert, Case, CaseEvent, OutboxMessage, Responder
from models.outbox import FAILED, PENDING

log = logging.getLogger(__name__)

BATCH = 500
UNROUTED_WARNING_EVERY = timedelta(hours=1)


class Sweeper(Protocol):
    async def sweep(self) -> int: ...


@dataclass
class Climb:
    """What one step up the chain did."""

    to: str | None
    alerted: int = 0
    reminded: int = 0


def gone_reason(error: str) -> Gone:
    """Telegram's words for an unreachable chat, as one of our reason codes."""
    text = error.lower()
    if "chat not found" in text:
        return NOT_FOUND
    if "initiate conversation" in text:
        return NOT_STARTED
    if "rights" in text:
        return NO_RIGHTS
    return REMOVED


@dataclass
class SweepReport:
    escalated: int = 0
    police_reminders: int = 0
    routed: int = 0

    def __bool__(self) -> bool:
        return bool(self.escalated or self.police_reminders or self.routed)


class Escalation:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, alerts: AlertService, router: Router) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.alerts = alerts
        self.router = router
        self._warned_at: datetime | None = None
        # Legal deadlines and follow-ups (``bot/services/deadlines.py``), swept with the rest:
        # set at start-up.
        self.deadlines: Sweeper | None = None

    # ---- reminders and climbing (in the caller's transaction) -----------------------------------

    async def remind(self, session: AsyncSession, case: Case, alerts: list[Alert], reason: str,
                     now: datetime, *, tier: str | None = None, by: str | None = None,
                     help_reason: str | None = None) -> int:
        """A reply to each chat's first alert. Nothing while that alert is still unsent, and
        nothing more while an earlier reminder there waits: an outage never piles them up."""
        count = 0
        for alert in alerts:
            if alert.message_id is None:
                continue
            waiting = await session.scalar(select(OutboxMessage.id).where(
                OutboxMessage.alert_id == alert.id, OutboxMessage.kind == REMINDER,
                OutboxMessage.status == PENDING).limit(1))
            if waiting is not None:
                continue
            params = {"chat_id": alert.chat_id,
                      **self.alerts.views.reminder(case, reason, tier=tier, by=by,
                                                   help_reason=help_reason),
                      "reply_parameters": {"message_id": alert.message_id,
                                           "allow_sending_without_reply": True}}
            enqueue(session, kind=REMINDER, method="sendMessage", params=params, now=now,
                    bucket=bucket_of(alert.chat_id), case_id=case.id, alert_id=alert.id,
                    responder_id=alert.responder_id)
            count += 1
        return count

    async def escalate(self, session: AsyncSession, case: Case, now: datetime, *,
                       reason: str = Why.ESCALATED, by: str | None = None,
                       help_reason: str | None = None) -> Climb:
        """Move the case one tier up (alerting that tier, reminding the one below); at the top,
        remind the top tier again. The caller holds the case row."""
        available = await responders_by_tier(session, case.village_code)
        present = [tier for tier, found in available.items() if found]
        alerts = await self.alerts.live_alerts(session, case.id)
        current = case.tier
        target = next_tier(current, present)
        timeout = ack_timeout(self.settings, case.priority)
        if target is None:
            if not alerts:
                self._mark_unrouted(session, case, now)
                return Climb(None)
            reminded = 0
            if reason == Why.ESCALATED:
                top = max(tier_rank(a.tier) for a in alerts)
                holding = [a for a in alerts if tier_rank(a.tier) == top]
                reminded = await self.remind(session, case, holding, Why.REPEAT, now)
                session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="reminded",
                                      detail={"tier": holding[0].tier, "chats": reminded}))
                if case.acknowledged_at is None:
                    case.ack_deadline = now + timeout
            return Climb(None, 0, reminded)
        alerted = await self.alerts.alert_responders(session, case, available[target], now,
                                                     note=reason, help_reason=help_reason)
        holding = [a for a in alerts if a.tier == current]
        reminded = await self.remind(session, case, holding, reason, now, tier=target, by=by,
                                     help_reason=help_reason)
        case.tier = target
        case.unrouted = False
        if case.acknowledged_at is None:
            case.ack_deadline = now + timeout
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="escalated", detail={
            "from": current, "to": target, "reason": reason, "alerted": alerted}))
        return Climb(target, alerted, reminded)

    def _mark_unrouted(self, session: AsyncSession, case: Case, now: datetime) -> None:
        if not case.unrouted:
            session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="unrouted",
                                  detail={"village": case.village_code}))
        case.unrouted = True
        case.tier = None
        case.ack_deadline = None
        log.error("case %s is UNROUTED: every responder that had it is gone and nobody else "
                  "covers village %s; see `ppa-bot responders list`", case.reference,
                  case.village_code)

    async def help_requested(self, session: AsyncSession, case: Case, now: datetime, *,
                             actor: str, name: str, via: str | None = None,
                             reason: str | None = None) -> Climb:
        """Someone handling the case asked for help: the next tier up is alerted now, whatever
        the deadline says ("Butuh bantuan" under an alert, "Minta bantuan" on the case card),
        and its alert says why (``reason``, one of ``workflow.HELP_REASONS``)."""
        climb = await self.escalate(session, case, now, reason=Why.HELP, by=name,
                                    help_reason=reason)
        detail: dict[str, str | None] = {"to": climb.to}
        if via is not None:
            detail["via"] = via
        if reason is not None:
            detail["reason"] = reason
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor, actor_name=name,
                              kind="help_requested", detail=detail))
        return climb

    async def ask_next_tier(self, case_id: int, presser: Presser, key: int | None,
                            reason: str | None = None) -> PressResult:
        """"Butuh bantuan" under an alert, with its reason, authorised at press time
        (``who_is``, as the card's "Minta bantuan")."""
        standing = await self.alerts.standing(presser.user_id, case_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
            if case is None:
                return PressResult(PressOutcome.MISSING)
            authority = await self.alerts.authorise(session, case, presser, access.HELP,
                                                    standing, now)
            if isinstance(authority, PressOutcome):
                return PressResult(authority, case.reference)
            if await already_processed(session, key):
                return PressResult(PressOutcome.CLIMBED, case.reference, tier=case.tier)
            mark_processed(session, key, now)
            climb = await self.help_requested(session, case, now, actor=authority.actor,
                                              name=authority.name, reason=reason)
            if climb.to is None:
                return PressResult(PressOutcome.AT_TOP, case.reference, tier=case.tier)
            return PressResult(PressOutcome.CLIMBED, case.reference, tier=climb.to)

    # ---- responders that can no longer be reached -----------------------------------------------

    async def deactivate(self, session: AsyncSession, responder: Responder, reason: str,
                         now: datetime) -> list[str]:
        """Stop alerting a responder: its unsent messages are dropped, its open cases go to the
        next tier (unless another responder of its tier has them), admins are told. Returns the
        references passed on."""
        if not responder.active:
            return []
        responder.active = False
        responder.inactive_reason = reason
        responder.changed_at = now
        # The enrolments of its members end with it.
        await enrolment.end_group(session, self.alerts.vault, responder, now)
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.responder_id == responder.id,
                                        OutboxMessage.status == PENDING)
            .values(status=FAILED, last_error=f"responder inactive: {reason}")
            .execution_options(synchronize_session=False))
        tier = tier_of(responder.region_code)
        rerouted: list[str] = []
        open_cases = await session.scalars(
            select(Case).join(Alert, Alert.case_id == Case.id)
            .where(Alert.responder_id == responder.id, Case.acknowledged_at.is_(None),
                   Case.closed_at.is_(None)).order_by(Case.id).with_for_update())
        for case in list(open_cases):
            if await self._reroute(session, case, tier, now):
                rerouted.append(case.reference)
        log.warning("responder %s (%s, region %s) is inactive: %s; %d open case(s) passed on",
                    responder.id, responder.kind, responder.region_code, reason, len(rerouted))
        view = self.alerts.views.responder_gone(responder, reason, rerouted)
        for admin in await admins(session):
            enqueue(session, kind=ADMIN_NOTICE, method="sendMessage", now=now,
                    params={"chat_id": admin.chat_id, **view}, responder_id=admin.id)
        return rerouted

    async def _reroute(self, session: AsyncSession, case: Case, gone_tier: str,
                       now: datetime) -> bool:
        alerts = await self.alerts.live_alerts(session, case.id)
        if any(a.tier == gone_tier for a in alerts):
            return False  # another responder of the same tier still has it
        available = await responders_by_tier(session, case.village_code)
        target = next_tier(gone_tier, [t for t, found in available.items() if found])
        if target is None:
            if not alerts:
                self._mark_unrouted(session, case, now)
            return False
        await self.alerts.alert_responders(session, case, available[target], now, note=Why.REROUTED)
        if tier_rank(target) > tier_rank(case.tier):
            case.tier = target
            case.ack_deadline = now + ack_timeout(self.settings, case.priority)
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="rerouted",
                              detail={"from": gone_tier, "to": target}))
        return True

    async def revoke(self, chat_id: int) -> tuple[Responder, list[str]] | None:
        """``ppa-bot responders revoke``: None when no responder has this id."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            responder = await find_responder(session, chat_id)
            if responder is None:
                return None
            return responder, await self.deactivate(session, responder, REVOKED, now)

    async def chat_left(self, chat_id: int, reason: str = REMOVED) -> bool:
        """The bot was removed from a group (Telegram told us): stop alerting it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            responder = await find_responder(session, chat_id)
            if responder is None or not responder.active:
                return False
            await self.deactivate(session, responder, reason, now)
            return True
    async def on_chat_gone(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        """403 / 400 "chat not found" on a responder's message: the responder goes inactive."""
        if row.responder_id is None:
            return
        responder = await session.get(Responder, row.responder_id)
        if responder is not None and responder.active:
            await self.deactivate(session, responder, gone_reason(error), self.clock.now())

    # ---- the sweep ------------------------------------------------------------------------------


    async def sweep(self) -> SweepReport:
        now = self.clock.now()
        report = SweepReport()
        report.escalated = await self._climb_due(now)
        if self.deadlines is not None:  # the police deadline's alarms, stage and service follow-ups
            report.police_reminders = await self.deadlines.sweep()
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
                await self.escalate(session, case, now)
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
