"""The anonymous relay (DESIGN §5): officers and a reporter talk about a case through the bot, and
neither ever sees the other's account.

- An officer's message reaches the reporter signed "Petugas" (or "Petugas PAPTBM <desa>"), in the
  reporter's safe contact time: outside it, it waits in the outbox until the window opens.
- The reporter answers by replying to that message (or to a status message), by ``/tambah REF``,
  or with a photo, voice note or file sent as a reply. It reaches the case's handlers in private
  chat, never a group, with the reporter's phone only if they chose to share it.
- Each change of public status is told to the reporter in plain words, unless they opted out.
- Everything said is a case event, encrypted at rest (``CaseEvent.secret``, the outbox payload).

How the messages look is the ``RelayViews`` given at start-up (``bot/views/cases.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain.access import ACCESS, ADD, MESSAGES, allowed, officer_role
from bot.domain.tiers import chain
from bot.domain.workflow import STATUS_WORDS
from bot.outbox import enqueue
from bot.services.alerts import REPORTER_ACK
from bot.services.case_access import Actor, actor_for
from bot.services.contact_time import next_contact_time
from bot.services.evidence import EvidenceService
from bot.services.reporters import find_reporter
from bot.services.to_reporter import ReporterPhone
from bot.services.updates import already_processed, mark_processed
from models import Case, CaseEvent, Evidence, OutboxMessage, RelayMessage, Reporter, Responder
from models.relay import TO_HANDLER, TO_REPORTER
from models.responder import OFFICER

log = logging.getLogger(__name__)

# Outbox kinds written here.
TO_REPORTER_KIND = "relay_to_reporter"
TO_HANDLER_KIND = "relay_to_handler"
CORRECTION_KIND = "correction_request"  # /ubah REF text: the reporter asks to correct their report
STATUS_NEWS = "status_news"
READ_RECEIPT = "read_receipt"
# What the reporter can answer by replying to it (the acknowledgement too).
REPORTER_SIDE_KINDS = {TO_REPORTER_KIND, STATUS_NEWS, READ_RECEIPT, REPORTER_ACK}



class Unreachable(StrEnum):
    """Why the reporter cannot be reached."""

    WITHDRAWN = "withdrawn"  # they withdrew consent (UU PDP)
    UNLINKED = "unlinked"  # the link to them was removed (retention after closing)
    NO_CONTACT = "no_contact"  # they asked not to be contacted
    BLOCKED = "blocked"  # they blocked the bot: nothing is sent until they write to it again


WITHDRAWN, UNLINKED = Unreachable.WITHDRAWN, Unreachable.UNLINKED
NO_CONTACT, BLOCKED = Unreachable.NO_CONTACT, Unreachable.BLOCKED

# Safe contact time (form.SAFE_TIME), in the district's clock: [start, end) hours.


class RelayOutcome(StrEnum):
    """What came of a reporter's message to the people handling their case."""

    DELIVERED = "delivered"
    NOT_YOURS = "not_yours"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_LARGE = "too_large"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"


def unreachable_reason(case: Case) -> Unreachable | None:
    """Why a message cannot be sent to the case's reporter, or None when it can."""
    if case.consent_withdrawn:
        return WITHDRAWN
    if case.reporter_id is None:
        return UNLINKED
    if not case.contact_allowed:
        return NO_CONTACT
    return None


async def reporter_unreachable(session: AsyncSession, case: Case) -> Unreachable | None:
    """``unreachable_reason``, and whether the reporter blocked the bot."""
    reason = unreachable_reason(case)
    if reason is None and case.reporter_id is not None and await session.scalar(
            select(Reporter.blocked_at).where(Reporter.id == case.reporter_id)) is not None:
        return BLOCKED
    return reason


class RelayViews(Protocol):
    """How relay messages look: Bot API parameters without ``chat_id``."""

    def to_reporter(self, case: Case, language: str, text: str,
                    village: str | None) -> dict[str, Any]: ...

    def status_news(self, case: Case, language: str) -> dict[str, Any]: ...

    def read_receipt(self, case: Case, language: str) -> dict[str, Any]: ...

    def from_reporter(self, case: Case, text: str | None, media: dict[str, Any] | None,
                      blocked: str | None) -> list[tuple[str, dict[str, Any]]]: ...

    def taken_over(self, case: Case, by: str) -> dict[str, Any]: ...

    def correction(self, case: Case, text: str,
                   blocked: str | None) -> list[tuple[str, dict[str, Any]]]: ...


@dataclass
class FromReporter:
    outcome: RelayOutcome
    reference: str = ""
    handlers: int = 0


@dataclass
class Reporting:
    """A reporter's own cases, for ``/tambah`` without a reference."""

    references: list[str]


class RelayService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, vault: Vault, views: RelayViews, *,
                 phone: ReporterPhone) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.vault = vault
        self.views = views
        self.phone = phone  # every message to a reporter goes through it
        # Files the reporter adds are downloaded and kept (set at start-up: bot/runtime.py).
        self.evidence: EvidenceService | None = None

    # ---- to the reporter (in the caller's transaction) ------------------------------------------

    async def _reporter(self, session: AsyncSession, case: Case) -> Reporter | None:
        if case.reporter_id is None or case.consent_withdrawn:
            return None
        return await session.get(Reporter, case.reporter_id)

    def contact_due(self, case: Case, now: datetime) -> datetime:
        return next_contact_time(now, case.contact_time, self.settings.tz)

    async def send_to_reporter(self, session: AsyncSession, case: Case, actor: Actor, text: str,
                               now: datetime) -> datetime | None:
        """An officer's message, signed for the reporter; None when they cannot be reached (the
        caller checks ``unreachable_reason`` first). Returns when it will be sent."""
        reporter = await self._reporter(session, case)
        if reporter is None or unreachable_reason(case) is not None:
            return None
        signed_village = actor.village
        due = await self.phone.queue(
            session, reporter, kind=TO_REPORTER_KIND, now=now, case=case,
            content=self.views.to_reporter(case, reporter.language, text, signed_village))
        if due is None:
            return None
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, actor_name=actor.name,
                              kind="relay_out", secret=text, detail={
                                  "signed": "village" if signed_village else "officer",
                                  "village": signed_village,
                                  "due": due.isoformat() if due > now else None}))
        await self.mark_read(session, case, now, tell=False)
        return due

    async def tell_status(self, session: AsyncSession, case: Case, now: datetime) -> bool:
        """The reporter hears of the new public status, gently, unless they opted out."""
        if case.status not in STATUS_WORDS:
            return False
        reporter = await self._reporter(session, case)
        if reporter is None or not reporter.status_updates:
            return False
        return await self.phone.queue(
            session, reporter, kind=STATUS_NEWS, now=now, case=case,
            content=self.views.status_news(case, reporter.language)) is not None

    async def mark_read(self, session: AsyncSession, case: Case, now: datetime, *,
                        tell: bool = True) -> bool:
        """An officer read the reporter's latest messages: the reporter is told so (once), so
        they are never left wondering. Returns whether anything was unread."""
        last_in = await session.scalar(select(func.max(CaseEvent.id)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "relay_in"))
        if last_in is None:
            return False
        last_read = await session.scalar(select(func.max(CaseEvent.id)).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "relay_read"))
        if last_read is not None and last_read > last_in:
            return False
        told = False
        reporter = await self._reporter(session, case)
        if tell and reporter is not None and unreachable_reason(case) is None:
            told = await self.phone.queue(
                session, reporter, kind=READ_RECEIPT, now=now, case=case,
                content=self.views.read_receipt(case, reporter.language)) is not None
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="relay_read",
                              detail={"told": told}))
        return True

    # ---- to the handlers -----------------------------------------------------------------------

    async def handlers_of(self, session: AsyncSession, case: Case) -> list[int]:
        """Who hears the reporter, in private: whoever reads their messages
        (``bot/domain/access.py``): the one who took the case, while they still may handle it,
        and every active officer whose region covers it, and the admins."""
        found: list[int] = []
        if case.handler_user_id is not None:
            holder = await actor_for(session, self.vault, case.handler_user_id, "", case)
            if holder.reads(MESSAGES):
                found.append(case.handler_user_id)
        officers = await session.scalars(select(Responder).where(
            Responder.kind == OFFICER, Responder.active.is_(True),
            Responder.region_code.in_(chain(case.village_code)) | Responder.is_admin.is_(True))
            .order_by(Responder.id))
        for officer in officers:
            reads = MESSAGES in ACCESS[officer_role(officer.is_admin, officer.region_code)].reads
            if reads and officer.chat_id > 0 and officer.chat_id not in found:
                found.append(officer.chat_id)
        return found

    async def _to_handlers(self, session: AsyncSession, case: Case, text: str | None,
                           media: dict[str, Any] | None, now: datetime, *,
                           correction: bool = False) -> int:
        recipients = await self.handlers_of(session, case)
        blocked = await reporter_unreachable(session, case)
        kind = CORRECTION_KIND if correction else TO_HANDLER_KIND
        for chat_id in recipients:
            messages = self.views.correction(case, text or "", blocked) if correction \
                else self.views.from_reporter(case, text, media, blocked)
            for method, params in messages:
                # No responder_id: an officer who never opened the bot is not switched off.
                # The reporter's: it carries their words (withdrawal deletes it).
                enqueue(session, kind=kind, method=method, now=now, case_id=case.id,
                        reporter_id=case.reporter_id, params={"chat_id": chat_id, **params})
        if not recipients:
            log.warning("case %s: nobody can receive the reporter's message yet; it is kept in "
                        "the case history", case.reference)
        return len(recipients)

    # ---- from the reporter ---------------------------------------------------------------------

    async def replied_case(self, telegram_id: int, message_id: int) -> int | None:
        """The case whose relayed message the reporter replied to (only their own cases)."""
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return None
            found: int | None = await session.scalar(
                select(RelayMessage.case_id).join(Case, Case.id == RelayMessage.case_id)
                .where(RelayMessage.side == TO_REPORTER, RelayMessage.message_id == message_id,
                       Case.reporter_id == reporter.id).order_by(RelayMessage.id.desc()).limit(1))
            return found

    async def handler_replied_case(self, user_id: int, message_id: int) -> int | None:
        """The case whose relayed reporter message this handler replied to."""
        async with self.sessions() as session:
            found: int | None = await session.scalar(
                select(RelayMessage.case_id).where(
                    RelayMessage.side == TO_HANDLER, RelayMessage.chat_id == user_id,
                    RelayMessage.message_id == message_id)
                .order_by(RelayMessage.id.desc()).limit(1))
            return found

    async def own_references(self, telegram_id: int) -> Reporting:
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return Reporting([])
            return Reporting(list(await session.scalars(
                select(Case.reference).where(Case.reporter_id == reporter.id)
                .order_by(Case.created_at.desc()).limit(10))))

    async def from_reporter(self, telegram_id: int, key: int | None, *,
                            case_id: int | None = None, reference: str | None = None,
                            text: str | None = None,
                            media: dict[str, Any] | None = None) -> FromReporter:
        """The reporter adds a message (or a file) to their own case: recorded, then passed to
        the case's handlers in private. Someone else's case is refused, and that is recorded."""
        now = self.clock.now()
        text = (text or "").strip() or None
        async with self.sessions.begin() as session:
            if case_id is not None:
                case = await session.get(Case, case_id)
            else:
                case = await session.scalar(select(Case).where(Case.reference == reference))
            if case is None:
                return FromReporter(RelayOutcome.NOT_YOURS)
            actor = await actor_for(session, self.vault, telegram_id, "", case)
            if not allowed(actor.role, ADD):
                session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, kind="refused",
                                      actor_name=actor.name or None,
                                      detail={"action": ADD, "role": actor.role}))
                return FromReporter(RelayOutcome.NOT_YOURS)
            if text is None and media is None:
                return FromReporter(RelayOutcome.EMPTY, case.reference)
            limits = self.settings.evidence
            if text is not None and len(text) > limits.max_text_chars:
                return FromReporter(RelayOutcome.TOO_LONG, case.reference)
            if await already_processed(session, key):
                return FromReporter(RelayOutcome.DUPLICATE, case.reference)
            if media is not None:
                if int(media.get("size") or 0) > limits.max_bytes:
                    return FromReporter(RelayOutcome.TOO_LARGE, case.reference)
                count = await session.scalar(select(func.count()).select_from(Evidence)
                                             .where(Evidence.case_id == case.id)) or 0
                if count >= limits.max_items:
                    return FromReporter(RelayOutcome.TOO_MANY, case.reference)
                caption = (str(media.get("caption") or "").strip() or None)
                evidence = Evidence(case_id=case.id, kind=str(media["kind"]),
                                    file_id=str(media["file_id"]),
                                    file_unique_id=str(media.get("file_unique_id") or "")[:64],
                                    size=media.get("size"), caption=caption,
                                    from_message=True, created_at=now)
                session.add(evidence)
                if self.evidence is not None:
                    await self.evidence.added(session, evidence, now)
                text = caption
            mark_processed(session, key, now)
            session.add(CaseEvent(case_id=case.id, at=now, actor="reporter", kind="relay_in",
                                  secret=text, detail={"media": media["kind"] if media else None}))
            case.updated_at = now
            handlers = await self._to_handlers(session, case, text, media, now)
            return FromReporter(RelayOutcome.DELIVERED, case.reference, handlers)

    async def correction(self, telegram_id: int, key: int | None, reference: str,
                         text: str | None) -> FromReporter:
        """``/ubah REF text``: the reporter asks to correct their report. It reaches whoever
        handles the case and the officers of its area, in private, as a correction request, and
        is kept in the case history. Someone else's case is refused, and that is recorded."""
        now = self.clock.now()
        text = (text or "").strip() or None
        async with self.sessions.begin() as session:
            case = await session.scalar(select(Case).where(Case.reference == reference))
            if case is None:
                return FromReporter(RelayOutcome.NOT_YOURS)
            actor = await actor_for(session, self.vault, telegram_id, "", case)
            if not allowed(actor.role, ADD):
                session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, kind="refused",
                                      actor_name=actor.name or None,
                                      detail={"action": "correct", "role": actor.role}))
                return FromReporter(RelayOutcome.NOT_YOURS)
            if text is None:
                return FromReporter(RelayOutcome.EMPTY, case.reference)
            if len(text) > self.settings.evidence.max_text_chars:
                return FromReporter(RelayOutcome.TOO_LONG, case.reference)
            if await already_processed(session, key):
                return FromReporter(RelayOutcome.DUPLICATE, case.reference)
            mark_processed(session, key, now)
            session.add(CaseEvent(case_id=case.id, at=now, actor="reporter", kind="correction",
                                  secret=text, detail={}))
            case.updated_at = now
            handlers = await self._to_handlers(session, case, text, None, now, correction=True)
            return FromReporter(RelayOutcome.DELIVERED, case.reference, handlers)

    async def set_status_news(self, telegram_id: int, wanted: bool) -> bool:
        """``/berhenti_kabar`` and its button; ``/lanjut_kabar``. False: nobody to set it for."""
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return False
            reporter.status_updates = wanted
            return True

    # ---- outbox sender event ---------------------------------------------------------------------

    async def on_sent(self, session: AsyncSession, row: OutboxMessage, params: dict[str, Any],
                      message_id: int | None) -> None:
        """Remember which sent message belongs to which case, so that a reply to it is relayed."""
        if message_id is None or row.case_id is None:
            return
        if row.kind in REPORTER_SIDE_KINDS:
            session.add(RelayMessage(case_id=row.case_id, side=TO_REPORTER, chat_id=None,
                                     message_id=message_id, created_at=self.clock.now()))
        elif row.kind in (TO_HANDLER_KIND, CORRECTION_KIND):
            session.add(RelayMessage(case_id=row.case_id, side=TO_HANDLER,
                                     chat_id=int(params["chat_id"]), message_id=message_id,
                                     created_at=self.clock.now()))
