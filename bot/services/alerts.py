"""Alerts: the messages that tell responders about a case, and what responders do with them.

Everything a responder sees is a row in the outbox written in the transaction that causes it:
alerts, the edits that show who took a case, reminders (always a reply to the chat's first alert),
details sent in private, the gentle notice to the reporter, the notices to admins. How those
messages look is the ``AlertViews`` given at start-up (``bot/views/alerts.py``); this module
knows nothing of Telegram.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import access
from bot.domain.tiers import ack_timeout, next_tier, tier_of, tier_rank
from bot.outbox import PRIVATE_BUCKET, enqueue
from bot.services.contact_time import next_contact_time
from bot.services.responders import (
    NO_RIGHTS,
    NOT_FOUND,
    NOT_STARTED,
    REMOVED,
    REVOKED,
    admins,
    alerted_group,
    bucket_for,
    enrolled_member,
    find_responder,
    officer_in_scope,
    responders_by_tier,
)
from bot.services.updates import already_processed, mark_processed
from models import Alert, Case, CaseEvent, Evidence, OutboxMessage, Reporter, Responder
from models.outbox import FAILED, PENDING

log = logging.getLogger(__name__)

# Outbox kinds written here.
ALERT = "alert"
ALERT_TAKEN = "alert_taken"
REMINDER = "reminder"
DETAIL = "detail"
REPORTER_ACK = "reporter_ack"
ADMIN_NOTICE = "admin_notice"

# Why an alert or a reminder is sent (the views word each one).
ESCALATED = "escalated"  # nobody took it in time: it climbed a tier
HELP = "help"  # someone pressed "Butuh bantuan"
REROUTED = "rerouted"  # the chat that had it is gone
REPEAT = "repeat"  # top tier: nobody has taken it yet
POLICE = "police"  # the UU TPKS police-report deadline is near

# Press outcomes.
TAKEN = "taken"
ALREADY = "already"
REFUSED = "refused"
MISSING = "missing"
SENT = "sent"
CLIMBED = "climbed"
AT_TOP = "at_top"


@dataclass(frozen=True)
class Taken:
    by: str
    at: datetime


@dataclass(frozen=True)
class Presser:
    """Who pressed a button under an alert, and in which chat."""

    user_id: int
    name: str
    chat_id: int
    in_group: bool


@dataclass(frozen=True)
class Authority:
    actor: str  # for the case history: "officer:<responder id>" or "group:<responder id>:<user>"
    name: str  # shown to everyone: "Diterima oleh <name>"
    officer: Responder | None


@dataclass
class PressResult:
    outcome: str
    reference: str = ""
    by: str | None = None
    at: datetime | None = None
    tier: str | None = None


@dataclass
class Climb:
    """What one step up the chain did."""

    to: str | None
    alerted: int = 0
    reminded: int = 0


class AlertViews(Protocol):
    """How alert messages look: Bot API parameters without ``chat_id``."""

    def alert(self, case: Case, taken: Taken | None, note: str | None = None) -> dict[str, Any]: ...

    def is_open(self, params: dict[str, Any]) -> bool:
        """Whether a sent alert still offers "Terima"."""
        ...

    def reminder(self, case: Case, reason: str, *, tier: str | None = None,
                 by: str | None = None) -> dict[str, Any]: ...

    def reporter_acknowledged(self, case: Case, language: str) -> dict[str, Any]: ...

    def detail(self, case: Case, evidence: list[Evidence]) -> list[tuple[str, dict[str, Any]]]: ...

    def responder_gone(self, responder: Responder, reason: str,
                       rerouted: list[str]) -> dict[str, Any]: ...

    def group_joined(self, chat_id: int, title: str) -> dict[str, Any]: ...


def gone_reason(error: str) -> str:
    """Telegram's words for an unreachable chat, as one of our reason codes."""
    text = error.lower()
    if "chat not found" in text:
        return NOT_FOUND
    if "initiate conversation" in text:
        return NOT_STARTED
    if "rights" in text:
        return NO_RIGHTS
    return REMOVED


def bucket_of(chat_id: int) -> str:
    return str(chat_id) if chat_id < 0 else PRIVATE_BUCKET


class AlertService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings,
                 views: AlertViews) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.views = views

    # ---- writing alerts and reminders (in the caller's transaction) -----------------------------

    async def alert_responders(self, session: AsyncSession, case: Case,
                               responders: list[Responder], now: datetime,
                               note: str | None = None) -> int:
        """One alert per responder not yet alerted about this case; returns how many."""
        already = set(await session.scalars(select(Alert.responder_id)
                                            .where(Alert.case_id == case.id)))
        taken = _taken(case)
        count = 0
        for responder in responders:
            if responder.id in already or not responder.active:
                continue
            alert = Alert(case_id=case.id, responder_id=responder.id,
                          tier=tier_of(responder.region_code), chat_id=responder.chat_id,
                          created_at=now)
            session.add(alert)
            await session.flush()
            enqueue(session, kind=ALERT, method="sendMessage", now=now,
                    params={"chat_id": responder.chat_id, **self.views.alert(case, taken, note)},
                    bucket=bucket_for(responder), case_id=case.id, alert_id=alert.id,
                    responder_id=responder.id)
            already.add(responder.id)
            count += 1
        return count

    async def live_alerts(self, session: AsyncSession, case_id: int) -> list[Alert]:
        """The case's alerts in chats that still receive alerts, oldest first."""
        return list(await session.scalars(
            select(Alert).join(Responder, Responder.id == Alert.responder_id)
            .where(Alert.case_id == case_id, Responder.active.is_(True)).order_by(Alert.id)))

    async def remind(self, session: AsyncSession, case: Case, alerts: list[Alert], reason: str,
                     now: datetime, *, tier: str | None = None, by: str | None = None) -> int:
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
                      **self.views.reminder(case, reason, tier=tier, by=by),
                      "reply_parameters": {"message_id": alert.message_id,
                                           "allow_sending_without_reply": True}}
            enqueue(session, kind=REMINDER, method="sendMessage", params=params, now=now,
                    bucket=bucket_of(alert.chat_id), case_id=case.id, alert_id=alert.id,
                    responder_id=alert.responder_id)
            count += 1
        return count

    # ---- climbing the chain ---------------------------------------------------------------------

    async def escalate(self, session: AsyncSession, case: Case, now: datetime, *,
                       reason: str = ESCALATED, by: str | None = None) -> Climb:
        """Move the case one tier up (alerting that tier, reminding the one below); at the top,
        remind the top tier again. The caller holds the case row."""
        available = await responders_by_tier(session, case.village_code)
        present = [tier for tier, found in available.items() if found]
        alerts = await self.live_alerts(session, case.id)
        current = case.tier
        target = next_tier(current, present)
        timeout = ack_timeout(self.settings, case.priority)
        if target is None:
            if not alerts:
                self._mark_unrouted(session, case, now)
                return Climb(None)
            reminded = 0
            if reason == ESCALATED:
                top = max(tier_rank(a.tier) for a in alerts)
                holding = [a for a in alerts if tier_rank(a.tier) == top]
                reminded = await self.remind(session, case, holding, REPEAT, now)
                session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="reminded",
                                      detail={"tier": holding[0].tier, "chats": reminded}))
                if case.acknowledged_at is None:
                    case.ack_deadline = now + timeout
            return Climb(None, 0, reminded)
        alerted = await self.alert_responders(session, case, available[target], now, note=reason)
        holding = [a for a in alerts if a.tier == current]
        reminded = await self.remind(session, case, holding, reason, now, tier=target, by=by)
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

    # ---- button presses -------------------------------------------------------------------------

    async def authorise(self, session: AsyncSession, case: Case,
                        presser: Presser) -> Authority | None:
        """At press time, the rule of ``bot/domain/access.py`` (the buttons under an alert)."""
        officer = await officer_in_scope(session, presser.user_id, case.village_code)
        group = None
        if officer is None and presser.in_group:
            group = await alerted_group(session, presser.chat_id, case.id)
        who = access.alert_presser(officer_in_scope=officer is not None,
                                   in_alerted_group=group is not None)
        if who == access.ALERT_OFFICER and officer is not None:
            return Authority(f"officer:{officer.id}", officer.name, officer)
        if who == access.ALERTED_GROUP_MEMBER and group is not None:
            return Authority(f"group:{group.id}:{presser.user_id}",
                             f"{presser.name} ({group.name})"[:120], None)
        return None

    async def acknowledge(self, case_id: int, presser: Presser,
                          authority: Authority | None = None) -> PressResult:
        """The first press wins: a conditional UPDATE, so two presses together cannot both win.
        The winner's transaction also queues every alert's edit and the reporter's notice.
        ``authority``: already decided by the caller at press time (the case card's "take",
        ``bot/services/cases.py``, which also admits enrolled village group members)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return PressResult(MISSING)
            authority = authority or await self.authorise(session, case, presser)
            if authority is None:
                self._refused(session, case, presser, "acknowledge", now)
                return PressResult(REFUSED, case.reference)
            won: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                update(Case).where(Case.id == case_id, Case.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=authority.name, ack_deadline=None,
                        handler_user_id=presser.user_id, handler_name=authority.name,
                        status=sql_case((Case.status == "baru", "diterima"), else_=Case.status),
                        updated_at=now)
                .execution_options(synchronize_session=False))
            await session.refresh(case)
            if won.rowcount != 1:
                return PressResult(ALREADY, case.reference, case.acknowledged_by,
                                   case.acknowledged_at)
            session.add(CaseEvent(case_id=case.id, at=now, actor=authority.actor,
                                  actor_name=authority.name, kind="acknowledged",
                                  detail={"in_group": presser.in_group}))
            await self._show_taken(session, case, now)
            await self._tell_reporter(session, case, now)
            return PressResult(TAKEN, case.reference, authority.name, now)

    async def _show_taken(self, session: AsyncSession, case: Case, now: datetime) -> None:
        """Every alert about the case, in every chat, shows who took it: sent ones are edited;
        unsent ones are rewritten before they go; one being sent right now is edited afterwards
        (``on_sent``)."""
        taken = _taken(case)
        for alert in await session.scalars(select(Alert).where(Alert.case_id == case.id)
                                           .order_by(Alert.id)):
            view = self.views.alert(case, taken)
            if alert.message_id is None:
                rewritten: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                    update(OutboxMessage).where(
                        OutboxMessage.alert_id == alert.id, OutboxMessage.kind == ALERT,
                        OutboxMessage.status == PENDING)
                    .values(payload=json.dumps({"chat_id": alert.chat_id, **view},
                                               ensure_ascii=False))
                    .execution_options(synchronize_session=False))
                if rewritten.rowcount:
                    continue
                # Sent meanwhile by another worker: read the message id it stored.
                await session.refresh(alert)
                if alert.message_id is None:
                    continue
            self._queue_edit(session, case, alert, view, now)

    def _queue_edit(self, session: AsyncSession, case: Case, alert: Alert,
                    view: dict[str, Any], now: datetime) -> None:
        enqueue(session, kind=ALERT_TAKEN, method="editMessageText", now=now,
                params={"chat_id": alert.chat_id, "message_id": alert.message_id, **view},
                bucket=bucket_of(alert.chat_id), case_id=case.id, alert_id=alert.id,
                responder_id=alert.responder_id)

    async def _tell_reporter(self, session: AsyncSession, case: Case, now: datetime) -> None:
        if case.reporter_id is None or case.consent_withdrawn:
            return
        reporter = await session.get(Reporter, case.reporter_id)
        if reporter is None or not reporter.status_updates:  # they asked for no status news
            return
        # Like every message to the reporter, it waits for their safe contact time.
        due = next_contact_time(now, case.contact_time, self.settings.tz)
        enqueue(session, kind=REPORTER_ACK, method="sendMessage", now=now, case_id=case.id,
                due_at=due, params={"chat_id": int(reporter.chat_id),
                        **self.views.reporter_acknowledged(case, reporter.language)})

    def _refused(self, session: AsyncSession, case: Case, presser: Presser, action: str,
                 now: datetime) -> None:
        session.add(CaseEvent(case_id=case.id, at=now, actor=f"tg:{presser.user_id}",
                              actor_name=presser.name[:120], kind="refused",
                              detail={"action": action, "in_group": presser.in_group}))

    async def detail(self, case_id: int, presser: Presser, key: int | None) -> PressResult:
        """The full case, evidence included, in private to an officer in scope or an enrolled
        member of a group of that area (``/gabung``); recorded."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return PressResult(MISSING)
            officer = await officer_in_scope(session, presser.user_id, case.village_code)
            member = None if officer is not None else await enrolled_member(
                session, presser.user_id, case.village_code)
            if officer is not None:
                actor, name = f"officer:{officer.id}", officer.name
            elif member is not None:
                actor, name = f"member:{member.id}", member.name
            else:
                self._refused(session, case, presser, "detail", now)
                return PressResult(REFUSED, case.reference)
            if await already_processed(session, key):
                return PressResult(SENT, case.reference)
            evidence = list(await session.scalars(select(Evidence).where(
                Evidence.case_id == case.id).order_by(Evidence.id)))
            # No responder_id on these rows: an officer who never started the bot is told to,
            # not switched off.
            for method, params in self.views.detail(case, evidence):
                enqueue(session, kind=DETAIL, method=method, now=now, case_id=case.id,
                        params={"chat_id": presser.user_id, **params})
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor, actor_name=name,
                                  kind="viewed",
                                  detail={"evidence": len(evidence), "via": "alert"}))
            mark_processed(session, key, now)
            return PressResult(SENT, case.reference)

    async def ask_next_tier(self, case_id: int, presser: Presser, key: int | None) -> PressResult:
        """"Butuh bantuan": the next tier up is alerted now, whatever the deadline says."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
            if case is None:
                return PressResult(MISSING)
            authority = await self.authorise(session, case, presser)
            if authority is None:
                self._refused(session, case, presser, "help", now)
                return PressResult(REFUSED, case.reference)
            if await already_processed(session, key):
                return PressResult(CLIMBED, case.reference, tier=case.tier)
            mark_processed(session, key, now)
            climb = await self.escalate(session, case, now, reason=HELP, by=authority.name)
            session.add(CaseEvent(case_id=case.id, at=now, actor=authority.actor,
                                  actor_name=authority.name, kind="help_requested",
                                  detail={"to": climb.to}))
            if climb.to is None:
                return PressResult(AT_TOP, case.reference, tier=case.tier)
            return PressResult(CLIMBED, case.reference, tier=climb.to)

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
        view = self.views.responder_gone(responder, reason, rerouted)
        for admin in await admins(session):
            enqueue(session, kind=ADMIN_NOTICE, method="sendMessage", now=now,
                    params={"chat_id": admin.chat_id, **view}, responder_id=admin.id)
        return rerouted

    async def _reroute(self, session: AsyncSession, case: Case, gone_tier: str,
                       now: datetime) -> bool:
        alerts = await self.live_alerts(session, case.id)
        if any(a.tier == gone_tier for a in alerts):
            return False  # another responder of the same tier still has it
        available = await responders_by_tier(session, case.village_code)
        target = next_tier(gone_tier, [t for t, found in available.items() if found])
        if target is None:
            if not alerts:
                self._mark_unrouted(session, case, now)
            return False
        await self.alert_responders(session, case, available[target], now, note=REROUTED)
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

    async def chat_joined(self, chat_id: int, title: str) -> bool:
        """The bot was added to a group: admins get its id and the command that registers it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            responder = await find_responder(session, chat_id)
            if responder is not None and responder.active:
                return False
            log.info("bot added to group %s, not (or no longer) registered", chat_id)
            view = self.views.group_joined(chat_id, title)
            for admin in await admins(session):
                enqueue(session, kind=ADMIN_NOTICE, method="sendMessage", now=now,
                        params={"chat_id": admin.chat_id, **view}, responder_id=admin.id)
            return True

    # ---- outbox sender events --------------------------------------------------------------------

    async def on_chat_gone(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        """403 / 400 "chat not found" on a responder's message: the responder goes inactive."""
        if row.responder_id is None:
            return
        responder = await session.get(Responder, row.responder_id)
        if responder is not None and responder.active:
            await self.deactivate(session, responder, gone_reason(error), self.clock.now())

    async def on_chat_migrated(self, session: AsyncSession, old_chat_id: int,
                               new_chat_id: int) -> None:
        """A group became a supergroup: its responder and alerts follow it to the new id."""
        responder = await find_responder(session, old_chat_id)
        if responder is not None and await find_responder(session, new_chat_id) is None:
            responder.chat_id = new_chat_id
            responder.changed_at = self.clock.now()
        await session.execute(update(Alert).where(Alert.chat_id == old_chat_id)
                              .values(chat_id=new_chat_id)
                              .execution_options(synchronize_session=False))

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, params: dict[str, Any],
                      message_id: int | None) -> None:
        """An alert that left with "Terima" while the case was being taken is edited at once."""
        if row.kind != ALERT or row.alert_id is None or message_id is None \
                or not self.views.is_open(params):
            return
        case = await session.scalar(select(Case).where(Case.id == row.case_id)
                                    .execution_options(populate_existing=True))
        alert = await session.get(Alert, row.alert_id)
        if case is None or alert is None or case.acknowledged_at is None:
            return
        alert.message_id = message_id
        self._queue_edit(session, case, alert, self.views.alert(case, _taken(case)),
                         self.clock.now())


def _taken(case: Case) -> Taken | None:
    if case.acknowledged_at is None:
        return None
    return Taken(case.acknowledged_by or "", case.acknowledged_at)
