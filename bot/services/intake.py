"""An officer records a case that came another way (``/kasus_baru``): a walk-in at UPTD PPA, a
phone call, a referral from SAPA 129 or another agency, outreach, a letter.

It is the report form in its officer mode (``bot/domain/form.py``: ``INTAKE_ORDER``), on the
same engine as a reporter's report (``ReportService``: every answer committed before the next
question, redelivered updates applied once, stale buttons recognised). What differs:

- the draft is the officer's intake draft (``models.Draft.kind == INTAKE``), found by the keyed
  hash of their Telegram id: never the reporter draft the same person may hold, and no reporter
  record is made for the officer;
- who may is the access table's (``access.INTAKE``), asked at start and again at submit, for the
  village chosen (``who_is``): an officer records cases of their own area;
- the case has no reporter in the bot; its channel is the first answer; the officer holds it from
  the start (taken, so never escalated for acknowledgement), and its area's responders get the
  alert as information, routed like any other case (``on_case_created``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Row, Write
from bot.domain import access, form
from bot.domain.access import PRIVATE_CHAT, CaseFacts, PersonFacts, who_is
from bot.i18n import LANGUAGES, language_for
from bot.outbox import enqueue
from bot.services.case_access import officer_role
from bot.services.reports import (
    STEP_TYPES,
    DraftState,
    Input,
    Outcome,
    ReportService,
    Submitted,
)
from bot.services.responders import active_officer
from bot.services.updates import mark_processed
from models import Case, CaseEvent, Draft, Responder
from models.draft import INTAKE
from models.responder import OFFICER

# The officer's intake draft, in the shape a report step reads (``ReportService._step``).
READ_INTAKE = """\
SELECT d.id AS draft_id, d.nonce AS nonce, d.step AS step, d.answers AS answers,
       d.urgent AS urgent, d.editing AS editing, d.practice AS practice,
       d.version AS version, d.recent_updates AS recent_updates
FROM drafts AS d
WHERE d.staff_hash = :tg_hash AND d.kind = 'intake'
"""


ANSWERS_NOW = """\
SELECT 1 AS yes FROM drafts AS i
WHERE i.staff_hash = :tg_hash AND i.kind = 'intake'
AND NOT EXISTS (SELECT 1 FROM reporters AS r JOIN drafts AS d ON d.reporter_id = r.id
                WHERE r.tg_hash = :tg_hash AND d.updated_at > i.updated_at)
"""


class IntakeRefusal(StrEnum):
    NOT_OFFICER = "not_officer"  # not an officer or admin the access table lets record cases
    OUT_OF_AREA = "out_of_area"  # the village chosen is outside their area


@dataclass
class Refused:
    reason: IntakeRefusal
    language: str = "id"
    outcome: Outcome | None = None  # the draft, to show again (out of area)


@dataclass
class Recorded(Submitted):
    channel: str = ""


class IntakeService(ReportService):
    """The report form's engine for an officer's record; see the module's docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Who may hold an intake draft: the officers who held one when this process first
        # asked (read once), and everyone who started or resumed one here since. A typed message
        # from anyone else (every reporter) is not this service's, without a query.
        self._held_at_start: frozenset[int] | None = None
        self._started_here: set[int] = set()

    async def expire_intake_drafts(self, notice: Callable[[str, float], str]) -> int:
        """Delete officers' records untouched for ``drafts.officer_expire_days`` (each holds a
        victim's story) and queue a short private notice to each officer, in the same
        transaction: ``notice(language, days) -> str``. A draft whose officer is no longer
        registered is deleted without a word."""
        days = self.settings.drafts.officer_expire_days
        now = self.clock.now()
        async with self.sessions.begin() as session:
            expired = list(await session.execute(
                select(Draft.id, Draft.staff_hash).where(
                    Draft.kind == INTAKE, Draft.updated_at < now - timedelta(days=days))
                .with_for_update()))
            if not expired:
                return 0
            hashes = {staff_hash for _id, staff_hash in expired}
            for officer in await session.scalars(select(Responder).where(
                    Responder.kind == OFFICER).order_by(Responder.id)):
                if self.vault.hash_id(officer.chat_id) in hashes:
                    hashes.discard(self.vault.hash_id(officer.chat_id))
                    self._started_here.discard(officer.chat_id)
                    enqueue(session, kind="intake_expired", method="sendMessage", now=now,
                            responder_id=officer.id,
                            params={"chat_id": officer.chat_id,
                                    "text": notice(officer.language or "id", days)})
            await session.execute(delete(Draft).where(Draft.id.in_([i for i, _h in expired])))
            return len(expired)

    async def load_holders(self) -> None:
        """Read who holds an intake draft (start-up; else at the first typed message)."""
        self._held_at_start = None
        await self._holders_at_start()

    async def _holders_at_start(self) -> frozenset[int]:
        if self._held_at_start is None:
            async with self.sessions() as session:
                hashes = set(await session.scalars(select(Draft.staff_hash).where(
                    Draft.kind == INTAKE)))
                officers: list[int] = list(await session.scalars(select(Responder.chat_id).where(
                    Responder.kind == OFFICER))) if hashes else []
                self._held_at_start = frozenset(
                    chat_id for chat_id in officers if self.vault.hash_id(chat_id) in hashes)
        return self._held_at_start

    async def may_hold_draft(self, telegram_id: int) -> bool:
        """Whether this person may hold an intake draft, from memory (after one read at the
        first question): False for every reporter and for officers who hold none. With several
        workers, a person's updates stay on one worker (docs/PERFORMANCE.md), so a draft
        started on another is not missed."""
        return telegram_id in self._started_here or telegram_id in await self._holders_at_start()

    def _forget_holder(self, telegram_id: int) -> None:
        self._started_here.discard(telegram_id)
        if self._held_at_start is not None and telegram_id in self._held_at_start:
            self._held_at_start = self._held_at_start - {telegram_id}

    async def _language(self, telegram_id: int, language_code: str | None) -> str:
        async with self.sessions() as session:
            chosen = await session.scalar(select(Responder.language).where(
                Responder.chat_id == telegram_id, Responder.language.is_not(None)).limit(1))
        return chosen if chosen in LANGUAGES else language_for(language_code)

    async def _officer(self, session: AsyncSession, telegram_id: int) -> Responder | None:
        """The officer, when the access table lets their role record cases."""
        officer = await active_officer(session, telegram_id)
        if officer is None or not access.allowed(officer_role(officer), access.INTAKE):
            return None
        return officer

    async def answers_now(self, telegram_id: int) -> bool:
        """Whether a typed answer goes to this person's intake draft: they have one, and no
        reporter draft of theirs was asked a question since (a staff member who also reports
        keeps both drafts, and answers the one they touched last). Nothing is read for someone
        who holds no intake draft (``may_hold_draft``); one indexed read for someone who may."""
        if not await self.may_hold_draft(telegram_id):
            return False
        row = await self.lane.read(ANSWERS_NOW, {"tg_hash": self.vault.hash_id(telegram_id)},
                                   {})
        return row is not None

    async def may_record(self, telegram_id: int) -> bool:
        async with self.sessions() as session:
            return await self._officer(session, telegram_id) is not None

    # ---- the draft, as ReportService's but the officer's intake draft ---------------------------

    async def current(self, telegram_id: int, language_code: str | None = None) -> Outcome:
        language = await self._language(telegram_id, language_code)
        row = await self.lane.read(READ_INTAKE, {"tg_hash": self.vault.hash_id(telegram_id)},
                                   STEP_TYPES)
        if row is None:
            return Outcome(None, language)
        return Outcome(DraftState.of(row).view(json.loads(row["answers"])), language)

    async def start(self, telegram_id: int, language_code: str | None, key: int | None,
                    *, practice: bool = False,
                    message_id: int | None = None) -> tuple[Outcome, bool]:
        """The officer's intake draft, new or resumed (True). Raise ``PermissionError`` when the
        access table does not let this person record cases."""
        now = self.clock.now()
        language = await self._language(telegram_id, language_code)
        tg_hash = self.vault.hash_id(telegram_id)
        async with self.sessions.begin() as session:
            if await self._officer(session, telegram_id) is None:
                raise PermissionError("intake")
            draft = await session.scalar(select(Draft).where(Draft.staff_hash == tg_hash,
                                                             Draft.kind == INTAKE))
            self._started_here.add(telegram_id)
            if draft is not None:
                draft.updated_at = now  # the draft typed answers go to (``answers_now``)
                return Outcome(_view(draft), language), True
            draft = Draft(kind=INTAKE, staff_hash=tg_hash, reporter_id=None,
                          nonce=secrets.token_hex(4), step=form.CHANNEL,
                          answers=json.dumps(form.intake_answers()), created_at=now,
                          updated_at=now)
            session.add(draft)
            mark_processed(session, key, now)
            await session.flush()
            return Outcome(_view(draft), language), False

    async def apply(self, telegram_id: int, key: int | None, given: Input,
                    language_code: str | None = None) -> Outcome:
        now = self.clock.now()
        language = await self._language(telegram_id, language_code)

        def decide(row: Row | None) -> tuple[Write | None, Outcome]:
            if row is None:
                return None, Outcome(None, language)
            write, outcome = self._step({**row, "language": language, "reporter_id": None},
                                        key, given, now)
            if outcome is None:  # pragma: no cover - a row was read
                return None, Outcome(None, language)
            if outcome.discarded and write is not None:  # never asked of an officer; kept safe
                write = Write(write.statements[:1])
            return write, outcome

        return await self.lane.unit(READ_INTAKE, {"tg_hash": self.vault.hash_id(telegram_id)},
                                    decide, STEP_TYPES)

    async def cancel(self, telegram_id: int, nonce: str | None = None) -> bool:
        async with self.sessions.begin() as session:
            draft = await session.scalar(select(Draft).where(
                Draft.staff_hash == self.vault.hash_id(telegram_id), Draft.kind == INTAKE))
            if draft is None or (nonce is not None and nonce != draft.nonce):
                return False
            await session.delete(draft)
        self._forget_holder(telegram_id)
        return True

    # ---- the case -------------------------------------------------------------------------------

    async def record(self, telegram_id: int, nonce: str) -> Recorded | Refused | Outcome:
        """The draft becomes a case the officer holds, once (a second press or a redelivered
        update finds it: its submit key is the officer and the draft's nonce). One transaction:
        the case, its people, its history, its routing and alerts."""
        now = self.clock.now()
        language = await self._language(telegram_id, None)
        result = await self.lane.transaction(
            lambda session: self._record(session, telegram_id, nonce, language, now))
        if isinstance(result, Recorded):
            self._forget_holder(telegram_id)
        return result

    async def _record(self, session: AsyncSession, telegram_id: int, nonce: str, language: str,
                      now: datetime) -> Recorded | Refused | Outcome:
        submit_key = f"intake:{telegram_id}:{nonce}"
        earlier = await session.scalar(select(Case).where(Case.submit_key == submit_key))
        if earlier is not None:
            return Recorded(earlier.reference, earlier.priority, language, again=True,
                            channel=earlier.channel or "")
        officer = await self._officer(session, telegram_id)
        if officer is None:
            return Refused(IntakeRefusal.NOT_OFFICER, language)
        draft = await session.scalar(select(Draft).where(
            Draft.staff_hash == self.vault.hash_id(telegram_id), Draft.kind == INTAKE)
            .with_for_update())
        if draft is None or draft.nonce != nonce or draft.step != form.REVIEW:
            return Outcome(_view(draft) if draft else None, language, stale=True)
        answers = json.loads(draft.answers)
        if form.next_step(None, answers) != form.REVIEW:
            return Outcome(_view(draft), language, error=form.Invalid.INCOMPLETE)
        facts = PersonFacts(officer_region=officer.region_code, admin=officer.is_admin)
        who = who_is(facts, PRIVATE_CHAT, CaseFacts(answers[form.VILLAGE], True))
        if not who.may(access.INTAKE):
            return Refused(IntakeRefusal.OUT_OF_AREA, language, Outcome(_view(draft), language))
        case = await self._create_case(session, None, language, draft, answers, now,
                                       submit_key=submit_key)
        # The officer holds it from the start: taken, so no acknowledgement is awaited.
        case.status = "diterima"
        case.acknowledged_at = now
        case.acknowledged_by = officer.name
        case.handler_user_id = telegram_id
        case.handler_name = officer.name
        actor = f"officer:{officer.id}"
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor, actor_name=officer.name,
                              kind="recorded", detail={"channel": case.channel,
                                                       "priority": case.priority}))
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor, actor_name=officer.name,
                              kind="acknowledged", detail={"in_group": False}))
        await session.delete(draft)
        for subscriber in self.on_case_created:
            await subscriber(session, case)
        return Recorded(case.reference, case.priority, language, channel=case.channel or "")


def _view(draft: Draft) -> form.DraftView:
    return form.DraftView(draft.id, draft.nonce, draft.step, json.loads(draft.answers),
                          draft.urgent, draft.editing, draft.practice)
