"""The reporter's rights under UU PDP (27/2022): see what is stored and who viewed it
(``/dataku``), withdraw consent (``/tarik_persetujuan``), wipe the chat; and retention, which
erases the content of long-closed cases. What counts as a reporter's data is named in
``bot/services/reporter_data.py``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.crypto import Vault
from bot.domain import form
from bot.services.case_access import VILLAGE_MEMBER, officer_role
from bot.services.reporter_data import (
    RETENTION,
    WITHDRAWN,
    erase_case_content,
    outbox_of_reporter,
)
from bot.services.reporters import DELETABLE_FOR, find_reporter, forget_if_unused
from models import Case, CaseEvent, Draft, Evidence, OutboxMessage, Reporter, Responder
from models.outbox import FAILED, SENT

RECENT_MESSAGES = 200
VIEWED = "viewed"  # the case event of an officer reading the details (or the history)


@dataclass
class Viewing:
    """Someone read the details of a case: their role, never their name."""

    role: str
    at: datetime


@dataclass
class StoredCase:
    case: Case  # decrypted, detached: the reporter's own answers
    evidence: list[str]  # kinds of the files they sent
    messages: int  # messages exchanged with the officers
    viewings: list[Viewing] = field(default_factory=list)


@dataclass
class StoredData:
    """Everything kept about one reporter."""

    language: str
    first_seen: datetime
    status_updates: bool
    draft_answers: dict[str, Any] | None
    cases: list[StoredCase] = field(default_factory=list)


@dataclass
class Withdrawal:
    cases: int  # cases whose content was erased and link removed


def answers_of(case: Case) -> dict[str, Any]:
    """A case's stored answers in the report form's shape (to show them as the review did)."""
    return {
        form.ROLE: case.reporter_role, form.VICTIM_CATEGORY: case.victim_category,
        form.VICTIM_SEX: case.victim_sex,
        form.VICTIM_AGE: {"band": case.victim_age_band, "age": case.victim_age},
        form.VICTIM_COUNT: case.victim_count, form.TYPES: list(case.violence_types or []),
        form.KECAMATAN: case.kecamatan_code, form.VILLAGE: case.village_code,
        form.PLACE: case.place, form.LANDMARK: case.landmark, form.WHEN: case.occurred,
        form.PERPETRATOR: case.perpetrator,
        form.CONTACT: form.YES if case.contact_allowed else form.NO,
        form.PHONE: case.phone, form.SAFE_TIME: case.contact_time,
        form.LOCATION: _location(case.location),
        form.STORY: {"texts": [case.narrative] if case.narrative else [], "media": []},
    }


def _location(stored: str | None) -> dict[str, float] | None:
    if not stored:
        return None
    latitude, _sep, longitude = stored.partition(",")
    return {"lat": float(latitude), "lon": float(longitude)}


class PrivacyService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 vault: Vault, *, settled: Callable[[], Awaitable[None]] | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.vault = vault
        # Waits out a notification this process is sending right now (the outbox sender's).
        self.settled = settled

    # ---- /dataku -------------------------------------------------------------------------------

    async def stored_data(self, telegram_id: int) -> StoredData | None:
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return None
            draft = await session.scalar(select(Draft).where(Draft.reporter_id == reporter.id))
            cases = list(await session.scalars(
                select(Case).where(Case.reporter_id == reporter.id,
                                   Case.consent_withdrawn.is_(False))
                .order_by(Case.created_at)))
            stored = StoredData(
                language=reporter.language, first_seen=reporter.created_at,
                status_updates=reporter.status_updates,
                draft_answers=json.loads(draft.answers) if draft else None)
            for case in cases:
                stored.cases.append(StoredCase(
                    case,
                    list(await session.scalars(select(Evidence.kind).where(
                        Evidence.case_id == case.id).order_by(Evidence.id))),
                    int(await session.scalar(select(func.count()).select_from(CaseEvent).where(
                        CaseEvent.case_id == case.id,
                        CaseEvent.kind.in_(("relay_in", "relay_out")))) or 0),
                    await self._viewings(session, case.id)))
            return stored

    async def _viewings(self, session: AsyncSession, case_id: int) -> list[Viewing]:
        """Who read the details, from the case history: roles, never names."""
        events = list(await session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == VIEWED).order_by(CaseEvent.at)))
        officers: dict[int, Responder | None] = {}
        found = []
        for event in events:
            kind, _sep, ident = event.actor.partition(":")
            if kind == "member":
                found.append(Viewing(VILLAGE_MEMBER, event.at))
            elif kind == "officer" and ident.isdigit():
                if int(ident) not in officers:
                    officers[int(ident)] = await session.get(Responder, int(ident))
                officer = officers[int(ident)]
                if officer is not None:
                    found.append(Viewing(officer_role(officer), event.at))
        return found

    # ---- /tarik_persetujuan --------------------------------------------------------------------

    async def withdraw_consent(self, telegram_id: int) -> Withdrawal | None:
        """Erase what the reporter told (story, landmark, phone, files, messages), every
        notification addressed to them or carrying their data (pending ones never go out), the
        draft, and the reporter record with the link from their cases; keep the anonymous
        figures. None when nothing was stored about this account."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return None
            # First the outbox: on PostgreSQL this waits for a row being sent right now (the
            # sender holds its lock), so the sending is over before anything else changes.
            await session.execute(delete(OutboxMessage).where(outbox_of_reporter(reporter.id))
                                  .execution_options(synchronize_session=False))
            # Then the cases, locked: an officer's reply at this moment waits, then is refused.
            # (FOR NO KEY UPDATE: the sender, recording a sent message against a case, only needs
            # the key, and must not wait for us while we wait for its row.)
            case_ids = list(await session.scalars(
                select(Case.id).where(Case.reporter_id == reporter.id)
                .with_for_update(key_share=True)))
            await erase_case_content(session, case_ids, now, WITHDRAWN)
            # The draft goes with it (ON DELETE CASCADE), and so does any notification another
            # transaction queued for them meanwhile.
            await session.delete(reporter)
        await self._leave_no_copy()
        if self.settled is not None:
            await self.settled()
        return Withdrawal(len(case_ids))

    async def _leave_no_copy(self) -> None:
        """SQLite: copy the write-ahead log into the database file and empty it, so that the
        pages as they were before the deletion survive nowhere (``secure_delete`` zeroes the
        deleted content in the file itself, ``bot/db.py``). PostgreSQL reclaims the old row
        versions by (auto)vacuum."""
        async with self.sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                await session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    # ---- retention -----------------------------------------------------------------------------

    async def forget_closed_cases(self, retention_days: int) -> int:
        """Erase the content of cases closed more than ``retention_days`` ago and remove the
        link to their reporter (whose record goes when nothing else is left)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            cases = list(await session.execute(
                select(Case.id, Case.reporter_id).where(
                    Case.erased_at.is_(None), Case.closed_at.is_not(None),
                    Case.closed_at < now - timedelta(days=retention_days))
                .with_for_update(key_share=True)))
            case_ids = [case_id for case_id, _reporter in cases]
            await erase_case_content(session, case_ids, now, RETENTION)
            # Every notification about these cases, however old.
            await session.execute(delete(OutboxMessage).where(OutboxMessage.case_id.in_(case_ids))
                                  .execution_options(synchronize_session=False))
            for reporter_id in {r for _case, r in cases if r is not None}:
                reporter = await session.get(Reporter, reporter_id)
                if reporter is not None:
                    await forget_if_unused(session, reporter)
        if case_ids:
            await self._leave_no_copy()
        return len(case_ids)

    async def forget_sent_messages(self, keep_days: int) -> int:
        """Delete notifications sent (or given up) more than ``keep_days`` ago: their payload
        holds what was said, and nothing needs it once it went out."""
        cutoff = self.clock.now() - timedelta(days=keep_days)
        async with self.sessions.begin() as session:
            result = await session.execute(
                delete(OutboxMessage).where(OutboxMessage.status.in_((SENT, FAILED)),
                                            OutboxMessage.due_at < cutoff)
                .execution_options(synchronize_session=False))
            return int(getattr(result, "rowcount", 0) or 0)

    # ---- /hapus_chat ---------------------------------------------------------------------------

    async def wipe_range(self, telegram_id: int, up_to_message_id: int) -> list[int]:
        """Message ids of the conversation still deletable (48 h), and forget the start."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            start = max(1, up_to_message_id - RECENT_MESSAGES)  # nothing tracked: the recent ones
            if reporter is not None:
                began, began_at = reporter.wipe_from_message_id, reporter.wipe_from_at
                if began is not None and began_at is not None \
                        and now - began_at < DELETABLE_FOR:
                    start = began
                reporter.wipe_from_message_id = None
                reporter.wipe_from_at = None
            return list(range(start, up_to_message_id + 1))
