"""Every message to a reporter after their reference is queued here, and only here (DESIGN §6).

``ReporterPhone.queue`` decides, for each one (acknowledgement, status news, an officer's message,
a read receipt, the expiry notice of a draft):

- **whether** anything may be sent: not to a reporter who asked not to be contacted, withdrew
  their consent, was unlinked, or blocked the bot (until they write to it again);
- **when**: in their safe contact time (outside it the row waits in the outbox);
- **how**: discreet (``privacy.discreet``, or the reporter's own choice in /bantuan) means a
  silent, protected, neutral cover with "Buka"; the content waits encrypted in
  ``sealed_messages`` and shows when they tap it (``ReporterPhone.open``), then is covered again
  after ``privacy.reveal_minutes`` by an edit queued with that due time. Not discreet: the
  message itself, as it is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import form
from bot.outbox import enqueue
from bot.services.contact_time import next_contact_time
from bot.services.reporters import find_reporter, heard_from
from models import Case, CaseEvent, OutboxMessage, Reporter, SealedMessage
from models.outbox import FAILED, PENDING

log = logging.getLogger(__name__)

REVEAL_HIDE = "reveal_hide"  # the queued edit that covers an opened message again


@dataclass(frozen=True)
class Reach:
    """May this reporter be written to at all, and when is it safe."""

    allowed: bool
    contact_time: str | None = None


def reach_of_case(case: Case) -> Reach:
    if case.consent_withdrawn or case.reporter_id is None:
        return Reach(False)
    return Reach(case.contact_allowed, case.contact_time)


async def reach_of_draft(session: AsyncSession, reporter: Reporter,
                         answers: dict[str, Any]) -> Reach:
    """For a draft's own notice: its contact answers when it got that far, else those of the
    reporter's latest report (a reporter who refused contact there hears nothing)."""
    if form.CONTACT in answers:
        return Reach(answers[form.CONTACT] == form.YES, answers.get(form.SAFE_TIME))
    latest = await session.scalar(select(Case).where(Case.reporter_id == reporter.id)
                                  .order_by(Case.created_at.desc()).limit(1))
    return reach_of_case(latest) if latest is not None else Reach(True)


def is_discreet(reporter: Reporter, settings: Settings) -> bool:
    return settings.privacy.discreet if reporter.discreet is None else reporter.discreet


def silently(params: dict[str, Any]) -> dict[str, Any]:
    """Sent without a sound, and it cannot be forwarded or saved."""
    return {**params, "disable_notification": True, "protect_content": True}


class DiscreetViews(Protocol):
    """How a discreet message looks (``bot/views/discreet.py``): Bot API parameters."""

    def cover(self, sealed_id: int, language: str) -> dict[str, Any]: ...

    def revealed(self, sealed_id: int, content: str, language: str,
                 minutes: float) -> dict[str, Any]: ...


class OpenOutcome(StrEnum):
    SHOWN = "shown"
    GONE = "gone"  # deleted (withdrawal, retention) or not this person's: nothing is told


@dataclass
class Opened:
    outcome: OpenOutcome
    language: str
    params: dict[str, Any] | None = None  # what the message shows now (editMessageText)


@dataclass
class PhoneSettings:
    discreet: bool
    known: bool  # a reporter record exists (a report was started): a choice can be kept
    reported: bool  # there is a report from this account (a PIN can guard it)


class ReporterPhone:
    """Every message to a reporter after the reference (``queue``), and what happens on their
    phone afterwards: "Buka" and "Sembunyikan", a reporter who blocked the bot, and their choice
    of discreet messages (/bantuan)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, vault: Vault, views: DiscreetViews) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.vault = vault
        self.views = views

    async def queue(self, session: AsyncSession, reporter: Reporter, *, kind: str,
                    content: dict[str, Any], now: datetime, case: Case | None = None,
                    reach: Reach | None = None, neutral: dict[str, Any] | None = None,
                    linked: bool = True) -> datetime | None:
        """Queue ``content`` (Bot API parameters of a sendMessage, without ``chat_id``) for the
        reporter, in the caller's transaction. Returns when it will be sent, or None when
        nothing may be sent to them (see the module's docstring).

        ``neutral``: a form of the message that gives nothing away by itself; when discreet it
        is sent (silently) instead of a cover, and nothing is kept behind a "Buka".
        ``linked=False``: the row does not name the reporter (their record may be deleted in
        this transaction); it then needs ``neutral``."""
        if reach is None:
            reach = reach_of_case(case) if case is not None else Reach(True)
        if case is not None and case.reporter_id != reporter.id:
            return None
        if not reach.allowed or reporter.blocked_at is not None:
            return None
        due = next_contact_time(now, reach.contact_time, self.settings.tz)
        params: dict[str, Any]
        if is_discreet(reporter, self.settings) and neutral is not None:
            params = silently(neutral)
        elif is_discreet(reporter, self.settings):
            assert linked, "a message not linked to its reporter is sent neutral"
            sealed = SealedMessage(reporter_id=reporter.id, case_id=case.id if case else None,
                                   kind=kind, content=json.dumps(content, ensure_ascii=False),
                                   language=reporter.language, created_at=now)
            session.add(sealed)
            await session.flush()
            params = silently(self.views.cover(sealed.id, reporter.language))
        else:
            params = content
        enqueue(session, kind=kind, method="sendMessage", now=now, due_at=due,
                case_id=case.id if case else None, reporter_id=reporter.id if linked else None,
                params={"chat_id": int(reporter.chat_id), **params})
        return due

    async def _sealed(self, session: AsyncSession, telegram_id: int,
                      sealed_id: int) -> tuple[Reporter | None, SealedMessage | None]:
        reporter = await find_reporter(session, self.vault, telegram_id)
        sealed = await session.get(SealedMessage, sealed_id)
        if reporter is None or sealed is None or sealed.reporter_id != reporter.id:
            return reporter, None
        return reporter, sealed

    async def open(self, telegram_id: int, sealed_id: int, message_id: int,
                   language: str) -> Opened:
        """Show the content in the message ``message_id`` and queue the edit that covers it
        again after ``privacy.reveal_minutes`` (a second press moves that time on)."""
        now = self.clock.now()
        minutes = self.settings.privacy.reveal_minutes
        async with self.sessions.begin() as session:
            reporter, sealed = await self._sealed(session, telegram_id, sealed_id)
            if reporter is not None:
                heard_from(reporter)
            if sealed is None:
                return Opened(OpenOutcome.GONE, reporter.language if reporter else language)
            await self._cancel_hide(session, sealed)
            row = enqueue(session, kind=REVEAL_HIDE, method="editMessageText", now=now,
                          due_at=now + timedelta(minutes=minutes), case_id=sealed.case_id,
                          reporter_id=sealed.reporter_id,
                          params={"chat_id": telegram_id, "message_id": message_id,
                                  **self.views.cover(sealed.id, sealed.language)})
            await session.flush()
            sealed.hide_row_id = row.id
            return Opened(OpenOutcome.SHOWN, sealed.language,
                          self.views.revealed(sealed.id, sealed.content, sealed.language,
                                              minutes))

    async def hide(self, telegram_id: int, sealed_id: int, language: str) -> Opened:
        """"Sembunyikan": covered at once; the queued edit is no longer needed."""
        async with self.sessions.begin() as session:
            reporter, sealed = await self._sealed(session, telegram_id, sealed_id)
            if sealed is None:
                return Opened(OpenOutcome.GONE, reporter.language if reporter else language)
            await self._cancel_hide(session, sealed)
            return Opened(OpenOutcome.SHOWN, sealed.language,
                          self.views.cover(sealed.id, sealed.language))

    @staticmethod
    async def _cancel_hide(session: AsyncSession, sealed: SealedMessage) -> None:
        if sealed.hide_row_id is not None:
            await session.execute(delete(OutboxMessage).where(
                OutboxMessage.id == sealed.hide_row_id, OutboxMessage.status == PENDING)
                .execution_options(synchronize_session=False))
            sealed.hide_row_id = None

    async def settings_of(self, telegram_id: int) -> PhoneSettings:
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return PhoneSettings(self.settings.privacy.discreet, False, False)
            reported = await session.scalar(select(exists().where(
                Case.reporter_id == reporter.id)))
            return PhoneSettings(is_discreet(reporter, self.settings), True, bool(reported))

    async def heard_from(self, telegram_id: int) -> None:
        """They wrote to the bot: if they had blocked it, it may write to them again."""
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is not None:
                heard_from(reporter)

    async def set_discreet(self, telegram_id: int, wanted: bool) -> bool:
        """The reporter's own choice, for every message from now on. False: there is no
        reporter record to keep it with (nobody is stored before a report starts)."""
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return False
            heard_from(reporter)
            reporter.discreet = wanted
            return True

    # ---- outbox sender event --------------------------------------------------------------------

    async def on_chat_gone(self, session: AsyncSession, row: OutboxMessage, error: str) -> None:
        """Telegram refused a message to a reporter (they blocked the bot, or their account is
        gone): nothing more is written to them until they write to the bot; what was queued
        is dropped. Their cases stay, and each case's history says so."""
        if row.reporter_id is None:
            return
        reporter = await session.get(Reporter, row.reporter_id)
        # Rows about a reporter also go to officers (their words, their case's details): only a
        # refusal of the reporter's own chat says anything about the reporter.
        if reporter is None or reporter.blocked_at is not None \
                or _chat_of(row) != int(reporter.chat_id):
            return
        now = self.clock.now()
        reporter.blocked_at = now
        pending = await session.scalars(select(OutboxMessage).where(
            OutboxMessage.reporter_id == reporter.id, OutboxMessage.status == PENDING,
            OutboxMessage.id != row.id))
        for waiting in pending:
            if _chat_of(waiting) == int(reporter.chat_id):
                waiting.status = FAILED
                waiting.last_error = "the reporter blocked the bot"
        for case_id in await session.scalars(select(Case.id).where(
                Case.reporter_id == reporter.id, Case.closed_at.is_(None))):
            session.add(CaseEvent(case_id=case_id, at=now, actor="system",
                                  kind="reporter_blocked", detail={}))
        log.info("a reporter blocked the bot: nothing more is sent to them until they write")


def _chat_of(row: OutboxMessage) -> int:
    return int(json.loads(row.payload).get("chat_id") or 0)
