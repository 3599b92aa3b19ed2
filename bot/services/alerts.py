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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import case as sql_case
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import access
from bot.domain.access import Standing
from bot.domain.tiers import Taken, tier_of
from bot.outbox import PRIVATE_BUCKET, enqueue
from bot.services import enrolment
from bot.services.case_access import Actor, actor_for, anonymous_key, chat_facts
from bot.services.responders import (
    admins,
    bucket_for,
    find_responder,
)
from bot.services.to_reporter import ReporterPhone
from bot.services.updates import already_processed, mark_processed
from models import Alert, Case, CaseEvent, Evidence, OutboxMessage, Reporter, Responder
from models.outbox import PENDING

log = logging.getLogger(__name__)

# Outbox kinds written here.
ALERT = "alert"
ALERT_TAKEN = "alert_taken"
REMINDER = "reminder"
DETAIL = "detail"
REPORTER_ACK = "reporter_ack"
ADMIN_NOTICE = "admin_notice"


class PressOutcome(StrEnum):
    """What came of a press on an alert's button."""

    TAKEN = "taken"
    ALREADY = "already"
    REFUSED = "refused"
    MISSING = "missing"
    TRY_AGAIN = "try_again"  # Telegram could not confirm that a member is still in their group
    SENT = "sent"
    CLIMBED = "climbed"
    AT_TOP = "at_top"


@dataclass(frozen=True)
class Presser:
    """Who pressed a button under an alert, and in which chat."""

    user_id: int
    name: str
    chat_id: int
    in_group: bool


@dataclass(frozen=True)
class Authority:
    actor: str  # for the case history: "officer:<responder id>" or "member:<member id>"
    name: str  # shown to everyone: "Diterima oleh <name>"
    officer: Responder | None
    reader: Actor | None = None  # who they are for the case (what they read)


@dataclass
class PressResult:
    outcome: PressOutcome
    reference: str = ""
    by: str | None = None
    at: datetime | None = None
    tier: str | None = None


class AlertViews(Protocol):
    """How alert messages look: Bot API parameters without ``chat_id``."""

    def alert(self, case: Case, taken: Taken | None, note: str | None = None,
              help_reason: str | None = None) -> dict[str, Any]: ...

    def is_open(self, params: dict[str, Any]) -> bool:
        """Whether a sent alert still offers "Terima"."""
        ...

    def reminder(self, case: Case, reason: str, *, tier: str | None = None,
                 by: str | None = None, help_reason: str | None = None) -> dict[str, Any]: ...

    def reporter_acknowledged(self, case: Case, language: str) -> dict[str, Any]: ...

    def detail(self, case: Case, evidence: list[Evidence], *,
               phone: bool) -> list[tuple[str, dict[str, Any]]]: ...

    def responder_gone(self, responder: Responder, reason: str,
                       rerouted: list[str]) -> dict[str, Any]: ...

    def group_joined(self, chat_id: int, title: str) -> dict[str, Any]: ...


DetailButtons = Callable[[AsyncSession, Case, Actor], Awaitable[dict[str, Any] | None]]


def bucket_of(chat_id: int) -> str:
    return str(chat_id) if chat_id < 0 else PRIVATE_BUCKET


class AlertService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings,
                 views: AlertViews, vault: Vault,
                 enrolments: enrolment.EnrolmentService | None = None, *,
                 phone: ReporterPhone) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.views = views
        self.vault = vault
        self.enrolments = enrolments or enrolment.EnrolmentService(sessions, clock, settings,
                                                                   vault)
        self.phone = phone  # every message to a reporter goes through it
        # The case card's buttons for one person (``CaseService.detail_buttons``), put under the
        # details sent to them: set at start-up.
        self.detail_buttons: DetailButtons | None = None

    # ---- writing alerts and reminders (in the caller's transaction) -----------------------------

    async def alert_responders(self, session: AsyncSession, case: Case,
                               responders: list[Responder], now: datetime,
                               note: str | None = None, help_reason: str | None = None) -> int:
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
                    params={"chat_id": responder.chat_id,
                            **self.views.alert(case, taken, note, help_reason)},
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

    # ---- button presses -------------------------------------------------------------------------

    async def standing(self, user_id: int, case_id: int) -> Standing | None:
        """Whether this person, if enrolled for the case's village, is still in its group: asked
        of Telegram before any transaction (``EnrolmentService.enrolled_now``)."""
        async with self.sessions() as session:
            village = await session.scalar(select(Case.village_code).where(Case.id == case_id))
        if village is None:
            return None
        return await self.enrolments.enrolled_now(user_id, village)

    async def authorise(self, session: AsyncSession, case: Case, presser: Presser, action: str,
                        standing: Standing | None, now: datetime) -> Authority | PressOutcome:
        """A press under an alert, decided at press time by ``who_is`` (``bot/domain/access.py``)
        for this person, this case and the chat the button was pressed in: the authority to act,
        or why not (a refusal is recorded; "try again" when only Telegram's word is missing)."""
        chat = await chat_facts(session, presser.chat_id, presser.in_group, case)
        actor = await actor_for(session, self.vault, presser.user_id, presser.name, case,
                                standing=standing or Standing.NOT_ENROLLED, chat=chat)
        if actor.may(action):
            return Authority(actor.key, actor.name, actor.officer, actor)
        if actor.who.may_once_confirmed(action):
            return PressOutcome.TRY_AGAIN
        self.refused(session, case, presser, action, now)
        return PressOutcome.REFUSED

    async def may_press(self, case_id: int, presser: Presser, action: str) -> PressResult | None:
        """None when this press may act (``who_is``); else why not (a refusal is recorded).
        For a button that first asks a question ("Butuh bantuan": why?)."""
        standing = await self.standing(presser.user_id, case_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return PressResult(PressOutcome.MISSING)
            decided = await self.authorise(session, case, presser, action, standing, now)
            return PressResult(decided, case.reference) if isinstance(decided, PressOutcome) \
                else None

    async def acknowledge(self, case_id: int, presser: Presser,
                          authority: Authority | None = None) -> PressResult:
        """"Terima": the first press wins, by a conditional UPDATE, so two presses together
        cannot both win. The winner's transaction also queues every alert's edit and the
        reporter's notice. Only someone who may take the case (``who_is``) wins anything; anyone
        else changes nothing: the case keeps climbing and the reporter hears nothing.
        ``authority``: already decided by the caller (the case card's "take",
        ``bot/services/cases.py``)."""
        standing = None if authority is not None else await self.standing(presser.user_id,
                                                                          case_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return PressResult(PressOutcome.MISSING)
            if authority is None:
                decided = await self.authorise(session, case, presser, access.TAKE, standing,
                                               now)
                if isinstance(decided, PressOutcome):
                    return PressResult(decided, case.reference)
                authority = decided
            won: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
                update(Case).where(Case.id == case_id, Case.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=authority.name, ack_deadline=None,
                        handler_user_id=presser.user_id, handler_name=authority.name,
                        status=sql_case((Case.status == "baru", "diterima"), else_=Case.status),
                        updated_at=now)
                .execution_options(synchronize_session=False))
            await session.refresh(case)
            if won.rowcount != 1:
                return PressResult(PressOutcome.ALREADY, case.reference, case.acknowledged_by,
                                   case.acknowledged_at)
            session.add(CaseEvent(case_id=case.id, at=now, actor=authority.actor,
                                  actor_name=authority.name, kind="acknowledged",
                                  detail={"in_group": presser.in_group}))
            await self._show_taken(session, case, now)
            await self._tell_reporter(session, case, now)
            return PressResult(PressOutcome.TAKEN, case.reference, authority.name, now)

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
        # Like every message to the reporter: not when they asked not to be contacted, in their
        # safe contact time, discreet unless they chose otherwise.
        await self.phone.queue(session, reporter, kind=REPORTER_ACK, now=now, case=case,
                               content=self.views.reporter_acknowledged(case, reporter.language))

    def refused(self, session: AsyncSession, case: Case, presser: Presser, action: str,
                 now: datetime) -> None:
        """Recorded by a keyed hash: the same presser is recognisable, never identifiable (no
        Telegram id, no name)."""
        session.add(CaseEvent(case_id=case.id, at=now,
                              actor=anonymous_key(self.vault, presser.user_id), kind="refused",
                              detail={"action": action, "in_group": presser.in_group}))

    async def case_id_of(self, public_id: str) -> int | None:
        """The case a button names (buttons carry ``Case.public_id``, never the row id)."""
        async with self.sessions() as session:
            found: int | None = await session.scalar(select(Case.id).where(
                Case.public_id == public_id))
            return found

    async def send_details(self, session: AsyncSession, case: Case, reader: Actor, via: str,
                           now: datetime) -> None:
        """The full case to ``reader`` in private, as much of it as they read (``who_is``): the
        phone number and the files the reporter sent later only to whoever handles the case and
        the officers of the area; and the view recorded in the case's history (``via``: the
        alert's "Detail" or the case card's). The caller has decided that they may see it."""
        evidence = list(await session.scalars(select(Evidence).where(
            Evidence.case_id == case.id).order_by(Evidence.id)))
        if not reader.reads(access.MESSAGES):
            evidence = [item for item in evidence if not item.from_message]
        messages = self.views.detail(case, evidence, phone=reader.reads(access.PHONE))
        buttons = await self.detail_buttons(session, case, reader) \
            if self.detail_buttons is not None else None
        text_parts = 0  # the text comes first, in one or more messages, then the evidence
        while text_parts < len(messages) and messages[text_parts][0] == "sendMessage":
            text_parts += 1
        if buttons is not None and text_parts:  # under the text's last part
            method, params = messages[text_parts - 1]
            messages[text_parts - 1] = (method, {**params, "reply_markup": buttons})
        # No responder_id on these rows: an officer who never started the bot is told to,
        # not switched off.
        for method, params in messages:
            enqueue(session, kind=DETAIL, method=method, now=now, case_id=case.id,
                    reporter_id=case.reporter_id,  # carries their story and phone
                    params={"chat_id": reader.user_id, **params})
        session.add(CaseEvent(case_id=case.id, at=now, actor=reader.key, actor_name=reader.name,
                              kind="viewed", detail={"evidence": len(evidence), "via": via}))

    async def detail(self, case_id: int, presser: Presser, key: int | None) -> PressResult:
        """"Detail" under an alert: the full case in private to whoever may read it
        (``who_is``: an officer in scope, or a member the district enrolled in the village's
        group who is still in it, asked of Telegram now); recorded."""
        standing = await self.standing(presser.user_id, case_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case = await session.get(Case, case_id)
            if case is None:
                return PressResult(PressOutcome.MISSING)
            decided = await self.authorise(session, case, presser, access.DETAILS, standing, now)
            if isinstance(decided, PressOutcome):
                return PressResult(decided, case.reference)
            if await already_processed(session, key):
                return PressResult(PressOutcome.SENT, case.reference)
            assert decided.reader is not None
            await self.send_details(session, case, decided.reader, "alert", now)
            mark_processed(session, key, now)
            return PressResult(PressOutcome.SENT, case.reference)

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
