"""The reporter's rights under UU PDP: see what is stored, withdraw consent, wipe the chat; and
the retention rule that unlinks reporters from long-closed cases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.crypto import Vault
from bot.services.reporters import DELETABLE_FOR, find_reporter
from models import Case, CaseEvent, Draft

WITHDRAWN = "consent_withdrawn"
RECENT_MESSAGES = 200


@dataclass
class StoredCase:
    reference: str
    created_at: datetime
    status: str
    has_phone: bool
    evidence_note: str = ""


@dataclass
class StoredData:
    """Everything kept about one reporter, in words they can check (never the story itself)."""

    language: str
    first_seen: datetime
    draft_answers: int | None
    cases: list[StoredCase] = field(default_factory=list)


class PrivacyService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 vault: Vault) -> None:
        self.sessions = sessions
        self.clock = clock
        self.vault = vault

    async def stored_data(self, telegram_id: int) -> StoredData | None:
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return None
            draft = await session.scalar(select(Draft).where(Draft.reporter_id == reporter.id))
            cases = await session.scalars(select(Case).where(Case.reporter_id == reporter.id)
                                          .order_by(Case.created_at))
            return StoredData(
                language=reporter.language,
                first_seen=reporter.created_at,
                draft_answers=len(json.loads(draft.answers)) if draft else None,
                cases=[StoredCase(c.reference, c.created_at, c.status, c.phone is not None)
                       for c in cases],
            )

    async def withdraw_consent(self, telegram_id: int) -> int | None:
        """Delete the draft and the reporter, and unlink their cases (which stay for the officers,
        marked as withdrawn, with no way to message the reporter). Returns cases unlinked, or None
        when nothing was stored."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return None
            case_ids = list(await session.scalars(
                select(Case.id).where(Case.reporter_id == reporter.id)))
            await _unlink(session, case_ids, now, WITHDRAWN)
            await session.delete(reporter)  # the draft goes with it (ON DELETE CASCADE)
            return len(case_ids)

    async def forget_closed_cases(self, retention_days: int) -> int:
        """Unlink reporters from cases closed more than ``retention_days`` ago."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            case_ids = list(await session.scalars(
                select(Case.id).where(Case.reporter_id.is_not(None), Case.closed_at.is_not(None),
                                      Case.closed_at < now - timedelta(days=retention_days))))
            await _unlink(session, case_ids, now, "retention")
            return len(case_ids)

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


async def _unlink(session: AsyncSession, case_ids: list[int], now: datetime, why: str) -> None:
    if not case_ids:
        return
    await session.execute(update(Case).where(Case.id.in_(case_ids)).values(
        reporter_id=None, consent_withdrawn=why == WITHDRAWN, contact_allowed=False, phone=None,
        location=None,
        updated_at=now))
    for case_id in case_ids:
        session.add(CaseEvent(case_id=case_id, at=now, actor="reporter" if why == WITHDRAWN
                              else "system", kind=why, detail={}))
