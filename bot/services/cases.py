"""Case handling (DESIGN §5): what officers and village activists do with a case from their phones.

Every call names the person acting and is authorised again here, against the database, whatever
button or command it came from (``bot/services/case_access.py``): list, card, details, notes,
status changes, replies to the reporter, taking the case, asking the next tier, history. A refusal
concerning a case is a "refused" event in its history; any other refusal only counts.

Each change is one transaction with its case events and outgoing messages (the outbox). Messages to
the reporter go through ``bot/services/relay.py``; the alerts' acknowledgement and escalation are
``bot/services/alerts.py``'s. Telegram-free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import form, workflow
from bot.domain.access import (
    CARD,
    CLOSE,
    DETAILS,
    HELP,
    HISTORY,
    MESSAGES,
    NOTE,
    NOTES,
    REPLY,
    SHARE,
    STATUS,
    TAKE,
    TEAM_NOTES,
    Standing,
)
from bot.events import Event
from bot.outbox import enqueue
from bot.services.alerts import AlertService, Authority, Presser, PressOutcome
from bot.services.case_access import Actor, Area, actor_for, area_of, pressers_of
from bot.services.escalation import Escalation
from bot.services.police import police_referred
from bot.services.register_edit import completeness, record_of, records_of
from bot.services.relay import RelayService, reporter_unreachable
from bot.services.updates import already_processed, mark_processed
from models import Case, CaseEvent, CaseServiceRecord, Evidence, PendingInput, Region

PAGE_SIZE = 8
MAX_TEXT = 2000  # a note or a reply: one phone screen or two
INPUT_MINUTES = 30  # how long "type your note now" waits


class CaseOutcome(StrEnum):
    """What came of an officer's command or press on a case."""

    OK = "ok"
    UNKNOWN = "unknown"  # no case has this reference
    OUT_OF_SCOPE = "out_of_scope"  # staff, but not of this case's area (or not allowed this action)
    NOT_STAFF = "not_staff"  # a reporter or a stranger
    STALE = "stale"  # the button was made for a status the case has left
    REFUSED = "refused"  # the workflow does not allow the move (see ``refusal``)
    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNREACHABLE = "unreachable"  # the reporter cannot be messaged (see ``reason``)
    DUPLICATE = "duplicate"  # the same update again: nothing more was done
    ALREADY_YOURS = "already_yours"
    TAKEN_BY_OTHER = "taken_by_other"
    CLOSED = "closed"
    AT_TOP = "at_top"
    NO_INPUT = "no_input"
    NEEDS_TAKE = "needs_take"
    TRY_AGAIN = "try_again"  # Telegram could not confirm that a member is still in the group
    CLOSED_FOR_VILLAGE = "closed_for_village"  # a closed case is the officers' alone


NOTE_KIND = "note"
REPLY_KIND = "reply"

T = TypeVar("T")
StatusChanged = Callable[[AsyncSession, Case, str, datetime], Awaitable[None]]


@dataclass
class Result:
    outcome: CaseOutcome
    case: Case | None = None
    actor: Actor | None = None
    reference: str = ""
    refusal: workflow.Refusal | None = None
    reason: str | None = None  # why the reporter cannot be reached
    due: datetime | None = None  # when a message to the reporter goes out, if it must wait
    by: str | None = None  # who holds the case
    tier: str | None = None
    told_reporter: bool = False
    action: str | None = None  # what was refused
    note: int | None = None  # a note's number on its case (1, 2, ...)
    team: bool = False  # the note is read by the village team too

    @property
    def ok(self) -> bool:
        return self.outcome == CaseOutcome.OK


@dataclass
class Card:
    case: Case
    actor: Actor
    village: str
    kecamatan: str
    notes: int
    messages: int
    police_referred: bool
    unreachable: str | None
    # "Lengkapi data": (known, all) SIMFONI-PPA fields (bot/services/register_edit.py)
    record_mark: tuple[int, int] | None = None
    too_big: int = 0  # files kept only as Telegram file ids (bot/services/evidence.py)
    # Services and referrals (``bot/services/referrals.py``), and when the card was drawn (the
    # police deadline shows overdue after it).
    services: list[CaseServiceRecord] = field(default_factory=list)
    now: datetime | None = None

    def may(self, action: str) -> bool:
        return self.actor.may(action)


@dataclass
class CaseList:
    area: Area
    cases: list[Case]
    total: int
    page: int
    pages: int
    status: str
    kecamatan: str
    place_names: dict[str, str] = field(default_factory=dict)
    record_marks: dict[int, tuple[int, int]] = field(default_factory=dict)  # by case id


@dataclass
class History:
    case: Case
    events: list[CaseEvent]
    reader: Actor  # what of the history they read (``who_is``)


class CaseService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, vault: Vault, alerts: AlertService, escalation: Escalation,
                 relay: RelayService, metrics: Counter[str]) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.vault = vault
        self.alerts = alerts
        self.escalation = escalation
        self.relay = relay
        self.metrics = metrics
        # The case card's buttons as Bot API markup (``bot/views/cases.py``), for the details
        # message: set at start-up.
        self.card_buttons: Callable[[Card], dict[str, Any]] | None = None
        # A case moved to another stage: (session, case, stage before, now), in its transaction
        # (the stage follow-ups of ``bot/services/deadlines.py``).
        self.on_status_changed: Event[StatusChanged] = Event("status_changed")

    async def detail_buttons(self, session: AsyncSession, case: Case,
                             reader: Actor) -> dict[str, Any] | None:
        """The card's buttons for this person, under the details sent to them (the alert's
        "Detail" and the card's): they act on the case from there, as far as ``who_is`` lets
        them."""
        if self.card_buttons is None:
            return None
        return self.card_buttons(await self._card(session, case, reader))

    # ---- who may --------------------------------------------------------------------------------

    async def pressers(self, user_id: int) -> frozenset[str]:
        """Who this person is before any case (anyone, staff, officers, admins), for the buttons'
        declarations (``bot/callback_data.py``)."""
        async with self.sessions() as session:
            return await pressers_of(session, user_id)

    async def resolve(self, public_id: str) -> int | None:
        """The case a button names (buttons carry ``Case.public_id``, never the row id)."""
        return await self.alerts.case_id_of(public_id)

    async def _standing(self, user_id: int, *, case_id: int | None = None,
                        reference: str | None = None) -> Standing | None:
        """Whether this person is enrolled for the case's village right now (Telegram is asked
        whether they are still in the group); None when there is no such case."""
        async with self.sessions() as session:
            if case_id is not None:
                village = await session.scalar(select(Case.village_code).where(
                    Case.id == case_id))
            else:
                village = await session.scalar(select(Case.village_code).where(
                    Case.reference == reference))
        if village is None:
            return None
        return await self.alerts.enrolments.enrolled_now(user_id, village)

    async def _find(self, session: AsyncSession, *, case_id: int | None = None,
                    reference: str | None = None, lock: bool = False) -> Case | None:
        if case_id is not None:
            query = select(Case).where(Case.id == case_id)
        elif reference is not None:
            query = select(Case).where(Case.reference == reference)
        else:
            return None
        if lock:
            query = query.with_for_update()
        return await session.scalar(query.execution_options(populate_existing=True))

    async def _authorise(self, session: AsyncSession, case: Case, user_id: int, name: str,
                         action: str, now: datetime,
                         standing: Standing | None = None) -> Result | Actor:
        """The actor, when ``who_is`` allows it; else the refusal (and it is recorded on the case).
        A village member whose presence in the group Telegram could not confirm is asked to try
        again: never granted, and not refused either."""
        actor = await actor_for(session, self.vault, user_id, name, case,
                                standing=standing or Standing.NOT_ENROLLED)
        if actor.may(action):
            return actor
        if actor.who.may_once_confirmed(action):
            return Result(CaseOutcome.TRY_AGAIN, case, None, case.reference, action=action)
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                              actor_name=actor.name or None, kind="refused",
                              detail={"action": action, "role": actor.role}))
        self.metrics["case_refused"] += 1
        if actor.who.closed_to_them and action in actor.who.row.does:
            outcome = CaseOutcome.CLOSED_FOR_VILLAGE
        else:
            outcome = CaseOutcome.OUT_OF_SCOPE if actor.staff else CaseOutcome.NOT_STAFF
        return Result(outcome, case, actor, case.reference, action=action)

    async def _open(self, session: AsyncSession, user_id: int, name: str, action: str,
                    now: datetime, *, case_id: int | None = None, reference: str | None = None,
                    lock: bool = False,
                    standing: Standing | None = None) -> Result | tuple[Case, Actor]:
        case = await self._find(session, case_id=case_id, reference=reference, lock=lock)
        if case is None:
            if await area_of(session, user_id) is None:
                self.metrics["case_refused"] += 1
                return Result(CaseOutcome.NOT_STAFF, reference=reference or "")
            return Result(CaseOutcome.UNKNOWN, reference=reference or "")
        authorised = await self._authorise(session, case, user_id, name, action, now, standing)
        if isinstance(authorised, Result):
            return authorised
        return case, authorised

    async def _acting(self, user_id: int, name: str, action: str,
                      work: Callable[[AsyncSession, Case, Actor, datetime], Awaitable[T]], *,
                      case_id: int | None = None, reference: str | None = None,
                      lock: bool = False) -> T | Result:
        """One transaction: the case opened for this person and ``action`` (else the refusal),
        then ``work(session, case, actor, now)``. Before it, an enrolled village member's
        presence in the group is confirmed with Telegram (outside the transaction)."""
        standing = await self._standing(user_id, case_id=case_id, reference=reference)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            opened = await self._open(session, user_id, name, action, now, case_id=case_id,
                                      reference=reference, lock=lock, standing=standing)
            if isinstance(opened, Result):
                return opened
            case, actor = opened
            return await work(session, case, actor, now)

    async def act(self, user_id: int, name: str, action: str,
                  work: Callable[[AsyncSession, Case, Actor, datetime], Awaitable[T]], *,
                  case_id: int | None = None, reference: str | None = None,
                  lock: bool = False) -> T | Result:
        """``work`` in one transaction, for a person ``who_is`` allows ``action`` on the case (else
        the refusal, recorded): for the services that act on a case beside this one."""
        return await self._acting(user_id, name, action, work, case_id=case_id,
                                  reference=reference, lock=lock)

    # ---- /kasus ---------------------------------------------------------------------------------

    async def list_cases(self, user_id: int, *, status: str = "open", kecamatan: str = "",
                         page: int = 0) -> CaseList | Result:
        villages, unconfirmed = await self.alerts.enrolments.villages_now(user_id)
        async with self.sessions() as session:
            area = await area_of(session, user_id, villages)
            if area is None and unconfirmed:
                return Result(CaseOutcome.TRY_AGAIN)
            if area is None:
                self.metrics["case_list_refused"] += 1
                return Result(CaseOutcome.NOT_STAFF)
            query = select(Case).where(area.condition(), Case.practice.is_(False))
            if status == "open":
                query = query.where(Case.closed_at.is_(None))
            elif status == "mine":
                query = query.where(Case.closed_at.is_(None), Case.handler_user_id == user_id)
            elif status in workflow.STATUSES:
                query = query.where(Case.status == status)
            if kecamatan:
                query = query.where(Case.kecamatan_code == kecamatan)
            total = int(await session.scalar(
                select(func.count()).select_from(query.subquery())) or 0)
            pages = max(1, -(-total // PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            cases = list(await session.scalars(
                query.order_by(Case.created_at.desc(), Case.id.desc())
                .offset(page * PAGE_SIZE).limit(PAGE_SIZE)))
            codes = {c.village_code for c in cases}
            if kecamatan:
                codes.add(kecamatan)
            names = {r.code: r.name for r in await session.scalars(
                select(Region).where(Region.code.in_(codes)))} if codes else {}
            marks = {case_id: completeness(record)
                     for case_id, record in (await records_of(session, cases)).items()}
            return CaseList(area, cases, total, page, pages, status, kecamatan, names, marks)

    async def card(self, user_id: int, name: str, *, case_id: int | None = None,
                   reference: str | None = None) -> Card | Result:
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Card:
            await self.relay.mark_read(session, case, now)
            return await self._card(session, case, actor)
        return await self._acting(user_id, name, CARD, work, case_id=case_id,
                                  reference=reference)

    async def _card(self, session: AsyncSession, case: Case, actor: Actor) -> Card:
        """The card shows what this person reads: the notes and messages they may open."""
        visible = await session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind.in_(("note", "relay_out", "relay_in"))))
        notes = messages = 0
        for event in visible:
            if event.kind == "note":
                notes += reads_event(actor, event)
            else:
                messages += reads_event(actor, event)
        village = await session.get(Region, case.village_code)
        kecamatan = await session.get(Region, case.kecamatan_code)
        return Card(case, actor, village.name if village else case.village_code,
                    kecamatan.name if kecamatan else case.kecamatan_code,
                    notes=notes, messages=messages,
                    police_referred=await self._police_referred(session, case),
                    unreachable=await reporter_unreachable(session, case),
                    record_mark=completeness(await record_of(session, case)),
                    too_big=await session.scalar(select(func.count()).select_from(Evidence).where(
                        Evidence.case_id == case.id, Evidence.too_big.is_(True))) or 0,
                    services=list(await session.scalars(select(CaseServiceRecord).where(
                        CaseServiceRecord.case_id == case.id).order_by(
                        CaseServiceRecord.number))),
                    now=self.clock.now())

    async def _police_referred(self, session: AsyncSession, case: Case) -> bool:
        return await police_referred(session, case)

    # ---- details --------------------------------------------------------------------------------

    async def details(self, user_id: int, name: str, case_id: int, key: int | None) -> Result:
        """The full report, evidence included, sent to this person's private chat; recorded."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Result:
            if await already_processed(session, key):
                return Result(CaseOutcome.DUPLICATE, case, actor, case.reference)
            mark_processed(session, key, now)
            await self.alerts.send_details(session, case, actor, "card", now)
            return Result(CaseOutcome.OK, case, actor, case.reference)
        return await self._acting(user_id, name, DETAILS, work, case_id=case_id)

    # ---- notes ----------------------------------------------------------------------------------

    def _text_problem(self, text: str) -> CaseOutcome | None:
        if not text.strip():
            return CaseOutcome.EMPTY
        if len(text) > MAX_TEXT:
            return CaseOutcome.TOO_LONG
        return None

    async def add_note(self, user_id: int, name: str, text: str, key: int | None, *,
                       case_id: int | None = None, reference: str | None = None) -> Result:
        return await self._acting(
            user_id, name, NOTE,
            lambda session, case, actor, now: self._note(session, case, actor, text, key, now),
            case_id=case_id, reference=reference)

    async def _note(self, session: AsyncSession, case: Case, actor: Actor, text: str,
                    key: int | None, now: datetime) -> Result:
        problem = self._text_problem(text)
        if problem is not None:
            return Result(problem, case, actor, case.reference)
        if await already_processed(session, key):
            return Result(CaseOutcome.DUPLICATE, case, actor, case.reference)
        mark_processed(session, key, now)
        # An officer's note is the officers' alone until they mark it for the village team; a
        # village member writes for the team (``bot/domain/access.py``).
        team = not actor.reads(NOTES)
        number = 1 + int(await session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "note")) or 0)
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, actor_name=actor.name,
                              kind="note", secret=text.strip(), detail={"team": team}))
        case.updated_at = now
        return Result(CaseOutcome.OK, case, actor, case.reference, note=number, team=team)

    async def share_note(self, user_id: int, name: str, case_id: int, number: int,
                         key: int | None) -> Result:
        """An officer marks a note for the village team: from now on the enrolled members of the
        village read it too (in the history); recorded."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Result:
            notes = list(await session.scalars(select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.kind == "note").order_by(CaseEvent.id)))
            if not 1 <= number <= len(notes):
                return Result(CaseOutcome.UNKNOWN, case, actor, case.reference)
            note = notes[number - 1]
            if (note.detail or {}).get("team") or await already_processed(session, key):
                return Result(CaseOutcome.DUPLICATE, case, actor, case.reference, note=number,
                              team=True)
            mark_processed(session, key, now)
            note.detail = {**(note.detail or {}), "team": True}
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="note_shared",
                                  detail={"note": number}))
            return Result(CaseOutcome.OK, case, actor, case.reference, note=number, team=True)
        return await self._acting(user_id, name, SHARE, work, case_id=case_id, lock=True)

    # ---- replies to the reporter ----------------------------------------------------------------

    async def reply(self, user_id: int, name: str, text: str, key: int | None, *,
                    case_id: int | None = None, reference: str | None = None) -> Result:
        # Locked: a withdrawal of consent at the same moment is either seen here (the reply is
        # refused) or comes after (and deletes the queued reply).
        return await self._acting(
            user_id, name, REPLY,
            lambda session, case, actor, now: self._reply(session, case, actor, text, key, now),
            case_id=case_id, reference=reference, lock=True)

    async def _reply(self, session: AsyncSession, case: Case, actor: Actor, text: str,
                     key: int | None, now: datetime) -> Result:
        reason = await reporter_unreachable(session, case)
        if reason is not None:
            return Result(CaseOutcome.UNREACHABLE, case, actor, case.reference, reason=reason)
        problem = self._text_problem(text)
        if problem is not None:
            return Result(problem, case, actor, case.reference)
        if await already_processed(session, key):
            return Result(CaseOutcome.DUPLICATE, case, actor, case.reference)
        mark_processed(session, key, now)
        due = await self.relay.send_to_reporter(session, case, actor, text.strip(), now)
        if due is None:
            return Result(CaseOutcome.UNREACHABLE, case, actor, case.reference,
                          reason=await reporter_unreachable(session, case) or "unlinked")
        case.updated_at = now
        return Result(CaseOutcome.OK, case, actor, case.reference, due=due if due > now else None)

    # ---- "type your note / reply now" -----------------------------------------------------------

    async def begin_input(self, user_id: int, name: str, kind: str, *,
                          case_id: int | None = None, reference: str | None = None) -> Result:
        """A button (or ``/catat REF`` alone) put this person in a short note or reply mode for
        one case; kept in the database, so a restart loses nothing."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Result:
            if kind == REPLY_KIND:
                reason = await reporter_unreachable(session, case)
                if reason is not None:
                    return Result(CaseOutcome.UNREACHABLE, case, actor, case.reference,
                                  reason=reason)
            await session.execute(delete(PendingInput).where(PendingInput.user_id == user_id))
            session.add(PendingInput(user_id=user_id, case_id=case.id, kind=kind, created_at=now,
                                     expires_at=now + timedelta(minutes=INPUT_MINUTES)))
            due = self.relay.contact_due(case, now) if kind == REPLY_KIND else now
            return Result(CaseOutcome.OK, case, actor, case.reference,
                          due=due if due > now else None)
        action = NOTE if kind == NOTE_KIND else REPLY
        return await self._acting(user_id, name, action, work, case_id=case_id,
                                  reference=reference)

    async def pending_input(self, user_id: int) -> PendingInput | None:
        """This person's note or reply mode, expired or not (an expired one is still answered,
        so that the text typed too late is not taken for something else)."""
        async with self.sessions() as session:
            return await session.get(PendingInput, user_id)

    async def cancel_input(self, user_id: int) -> bool:
        async with self.sessions.begin() as session:
            pending = await session.get(PendingInput, user_id)
            if pending is None:
                return False
            await session.delete(pending)
            return pending.expires_at > self.clock.now()

    async def finish_input(self, user_id: int, name: str, text: str,
                           key: int | None) -> tuple[str, Result]:
        """The text typed after a note or reply button: saved or relayed, re-authorised now.
        Returns the input's kind and the result; a text that is too long keeps the mode."""
        waiting = await self.pending_input(user_id)
        standing = None if waiting is None else await self._standing(user_id,
                                                                     case_id=waiting.case_id)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            pending = await session.get(PendingInput, user_id, with_for_update=True)
            if pending is None or pending.expires_at <= now:
                if await already_processed(session, key):
                    return NOTE_KIND, Result(CaseOutcome.DUPLICATE)
                if pending is not None:
                    await session.delete(pending)
                return NOTE_KIND, Result(CaseOutcome.NO_INPUT)
            kind = pending.kind
            action = NOTE if kind == NOTE_KIND else REPLY
            opened = await self._open(
                session, user_id, name, action, now, case_id=pending.case_id,
                standing=standing if waiting is not None and waiting.case_id == pending.case_id
                else None)
            if isinstance(opened, Result):
                await session.delete(pending)
                return kind, opened
            case, actor = opened
            if kind == NOTE_KIND:
                result = await self._note(session, case, actor, text, key, now)
            else:
                result = await self._reply(session, case, actor, text, key, now)
            if result.outcome not in (CaseOutcome.TOO_LONG, CaseOutcome.EMPTY):
                await session.delete(pending)
            return kind, result

    # ---- the workflow ---------------------------------------------------------------------------

    async def change_status(self, user_id: int, name: str, case_id: int, target: str, *,
                            seen: str | None, key: int | None, referral: str | None = None,
                            close_reason: str | None = None) -> Result:
        """Move a case along the workflow. ``seen``: the status the pressed button was made for
        (a button left over from before someone else moved the case is refused as stale)."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Result:
            if await already_processed(session, key):
                return Result(CaseOutcome.DUPLICATE, case, actor, case.reference)
            if seen is not None and seen != case.status:
                return Result(CaseOutcome.STALE, case, actor, case.reference)
            if case.status == workflow.BARU and target == workflow.DITERIMA:
                return Result(CaseOutcome.NEEDS_TAKE, case, actor, case.reference)
            refusal = workflow.check(
                case.status, target, referral=referral, close_reason=close_reason,
                sexual_violence=form.SEXUAL in (case.violence_types or []),
                police_referred=await self._police_referred(session, case))
            if refusal is not None:
                return Result(CaseOutcome.REFUSED, case, actor, case.reference, refusal=refusal)
            mark_processed(session, key, now)
            before = case.status
            reopened = workflow.is_reopen(before, target)
            case.status = target
            case.updated_at = now
            detail: dict[str, str | None] = {"from": before, "to": target}
            if target == workflow.DIRUJUK:
                case.referral = referral
                detail["referral"] = referral
            if target in workflow.CLOSED:
                case.closed_at = now
                case.ack_deadline = None
            if target == workflow.DITUTUP:
                case.close_reason = close_reason
                detail["reason"] = close_reason
            if reopened:
                case.closed_at = None
                case.close_reason = None
                detail["reopened"] = "yes"
            for subscriber in self.on_status_changed:
                await subscriber(session, case, before, now)
            told = await self.relay.tell_status(session, case, now)
            detail["reporter_told"] = "yes" if told else "no"
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="status_changed", detail=detail))
            return Result(CaseOutcome.OK, case, actor, case.reference, told_reporter=told)
        action = CLOSE if target == workflow.DITUTUP else STATUS
        return await self._acting(user_id, name, action, work, case_id=case_id, lock=True)

    # ---- taking the case ------------------------------------------------------------------------

    async def take(self, user_id: int, name: str, case_id: int, key: int | None, *,
                   takeover: bool = False) -> Result:
        """An unacknowledged case is acknowledged (everything the alert's "Terima" does: the alerts
        show who took it, escalation stops, the reporter is told). A case someone else holds is
        taken over only when asked to (``takeover``); they are told."""
        async def work(session: AsyncSession, case: Case, actor: Actor,
                       now: datetime) -> Result | tuple[Case, Actor]:
            if case.acknowledged_at is not None:
                if case.handler_user_id == user_id:
                    return Result(CaseOutcome.ALREADY_YOURS, case, actor, case.reference)
                holder = case.handler_name or case.acknowledged_by
                if not takeover:
                    return Result(CaseOutcome.TAKEN_BY_OTHER, case, actor, case.reference,
                                  by=holder)
                if await already_processed(session, key):
                    return Result(CaseOutcome.DUPLICATE, case, actor, case.reference)
                mark_processed(session, key, now)
                previous = case.handler_user_id
                case.handler_user_id, case.handler_name = user_id, actor.name
                case.updated_at = now
                session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                      actor_name=actor.name, kind="taken",
                                      detail={"from": holder}))
                if previous is not None and previous > 0 and previous != user_id:
                    enqueue(session, kind="handover", method="sendMessage", now=now,
                            case_id=case.id, params={"chat_id": previous,
                                                     **self.relay.views.taken_over(case,
                                                                                   actor.name)})
                return Result(CaseOutcome.OK, case, actor, case.reference, by=actor.name)
            return case, actor
        held = await self._acting(user_id, name, TAKE, work, case_id=case_id, lock=True)
        if isinstance(held, Result):
            return held
        case, actor = held
        # Nobody took it yet: the alerts' own acknowledgement (first press wins), as this actor.
        presser = Presser(user_id=user_id, name=name, chat_id=user_id, in_group=False)
        authority = Authority(actor.key, actor.name, actor.officer)
        pressed = await self.alerts.acknowledge(case_id, presser, authority=authority)
        if pressed.outcome == PressOutcome.TAKEN:
            return Result(CaseOutcome.OK, case, actor, case.reference, by=actor.name)
        if pressed.outcome == PressOutcome.ALREADY:
            return Result(CaseOutcome.TAKEN_BY_OTHER, case, actor, case.reference, by=pressed.by)
        return Result(CaseOutcome.UNKNOWN, reference=case.reference)

    # ---- asking the next tier -------------------------------------------------------------------

    async def ask_next_tier(self, user_id: int, name: str, case_id: int,
                            key: int | None, reason: str | None = None) -> Result:
        """"Minta bantuan": the next tier up is alerted now (as "Butuh bantuan" under an alert),
        and told why (``reason``)."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Result:
            if case.closed_at is not None:
                return Result(CaseOutcome.CLOSED, case, actor, case.reference)
            if await already_processed(session, key):
                return Result(CaseOutcome.DUPLICATE, case, actor, case.reference, tier=case.tier)
            mark_processed(session, key, now)
            climb = await self.escalation.help_requested(session, case, now, actor=actor.key,
                                                         name=actor.name, via="card",
                                                         reason=reason)
            if climb.to is None:
                return Result(CaseOutcome.AT_TOP, case, actor, case.reference, tier=case.tier)
            return Result(CaseOutcome.OK, case, actor, case.reference, tier=climb.to)
        return await self._acting(user_id, name, HELP, work, case_id=case_id, lock=True)

    # ---- /riwayat -------------------------------------------------------------------------------

    async def history(self, user_id: int, name: str, *, case_id: int | None = None,
                      reference: str | None = None, record: bool = True) -> History | Result:
        """The case's timeline, oldest first; opening it is itself recorded (``record``)."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> History:
            if record:
                session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                      actor_name=actor.name, kind="viewed",
                                      detail={"via": "history"}))
                await self.relay.mark_read(session, case, now)
                await session.flush()
            events = list(await session.scalars(select(CaseEvent).where(
                CaseEvent.case_id == case.id).order_by(CaseEvent.at, CaseEvent.id)))
            return History(case, events, actor)
        return await self._acting(user_id, name, HISTORY, work, case_id=case_id,
                                  reference=reference)


def reads_event(reader: Actor, event: CaseEvent) -> bool:
    """Whether this person reads what a history event carries (``bot/domain/access.py``): a note
    for officers, a note for the village team, the messages exchanged with the reporter."""
    if event.kind == "note":
        return reader.reads(NOTES) or (reader.reads(TEAM_NOTES)
                                       and bool((event.detail or {}).get("team")))
    if event.kind in ("relay_in", "relay_out"):
        return reader.reads(MESSAGES)
    return True
