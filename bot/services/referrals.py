"""Services and referrals of a case (DESIGN §5): any number of services per case (health care,
legal aid, shelter, ...), each with its provider, dates, status and the survivor's consent to
that referral.

Every call names the person acting and is authorised by ``who_is`` (``bot/domain/access.py``:
``SERVICES`` to change, ``CARD`` to read), through ``CaseService.act``; every change is one
transaction with its history event. The consent is either asked through the bot, when the
reporter may be contacted (``ReporterPhone.queue``, the only way to write to a reporter), and
answered by them with a button, or recorded by the officer with how it was obtained. The legal
rules (no mediation for sexual violence) are ``bot/domain/services.py``'s. Telegram-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import services as rules
from bot.domain.access import CARD, SERVICES
from bot.outbox import enqueue
from bot.services.case_access import Actor
from bot.services.cases import CaseService, Result
from bot.services.relay import reporter_unreachable
from bot.services.reporters import find_reporter, heard_from
from bot.services.to_reporter import ReporterPhone
from bot.services.updates import already_processed, mark_processed
from models import (
    Case,
    CaseEvent,
    CaseServiceRecord,
    FollowUp,
    Provider,
    Reporter,
    ServiceInput,
)

CONSENT_ASK = "consent_ask"  # the outbox kind of the question to the reporter
CONSENT_NOTICE = "consent_notice"  # the holder hears the reporter's answer
MAX_PROVIDER = 120
INPUT_MINUTES = 30  # how long "type the provider's name" waits


class ServiceOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # the domain says no (``refusal``)
    MISSING = "missing"  # no such service on this case
    UNREACHABLE = "unreachable"  # the reporter cannot be asked through the bot (``reason``)
    DUPLICATE = "duplicate"
    ALREADY = "already"  # the consent was already answered
    GONE = "gone"  # (the reporter's press) not theirs, or nothing to answer: nothing is told
    TOO_LONG = "too_long"


@dataclass
class Services:
    """A case's services, as one person sees them."""

    case: Case
    actor: Actor
    services: list[CaseServiceRecord]
    providers: list[Provider] = field(default_factory=list)  # of the kind asked for
    reachable: bool = False  # the reporter may be asked through the bot
    unreachable: str | None = None

    def may_change(self) -> bool:
        return self.actor.may(SERVICES)


@dataclass
class Done:
    outcome: ServiceOutcome
    case: Case | None = None
    service: CaseServiceRecord | None = None
    refusal: rules.Refusal | None = None
    reason: str | None = None
    due: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == ServiceOutcome.OK


class ConsentViews(Protocol):
    """What the reporter and the holder read about a consent (``bot/views/services.py``)."""

    def consent_question(self, case: Case, service: CaseServiceRecord,
                         language: str) -> dict[str, Any]: ...

    def consent_answered(self, case: Case, service: CaseServiceRecord) -> dict[str, Any]: ...


def follow_up_days(settings: Settings, kind: str) -> float:
    days = settings.deadlines.service_follow_up_days
    return days.get(kind, days.get("default", 7))


class ReferralService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings, vault: Vault, cases: CaseService, phone: ReporterPhone,
                 views: ConsentViews) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.vault = vault
        self.cases = cases
        self.phone = phone
        self.views = views

    # ---- reading --------------------------------------------------------------------------------

    async def list(self, user_id: int, name: str, case_id: int,
                   kind: str | None = None) -> Services | Result:
        async def work(session: AsyncSession, case: Case, actor: Actor,
                       now: datetime) -> Services:
            found = Services(case, actor, await _services_of(session, case.id))
            if kind is not None:
                found.providers = list(await session.scalars(
                    select(Provider).where(Provider.kind == kind, Provider.active.is_(True))
                    .order_by(Provider.kecamatan.is_(None), Provider.name)))
            found.unreachable = await reporter_unreachable(session, case)
            found.reachable = found.unreachable is None
            return found
        return await self.cases.act(user_id, name, CARD, work, case_id=case_id)

    # ---- changes --------------------------------------------------------------------------------

    async def add(self, user_id: int, name: str, case_id: int, kind: str, key: int | None, *,
                  provider_id: int | None = None,
                  provider_name: str | None = None) -> Done | Result:
        """A new service (planned), with a provider from the directory or typed."""
        typed = (provider_name or "").strip()
        if len(typed) > MAX_PROVIDER:
            return Done(ServiceOutcome.TOO_LONG)

        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            refusal = rules.check_new(kind, case.violence_types)
            if refusal is not None:
                session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                      actor_name=actor.name, kind="service_refused",
                                      detail={"kind": kind, "reason": refusal.reason}))
                return Done(ServiceOutcome.REFUSED, case, refusal=refusal)
            if await already_processed(session, key):
                return Done(ServiceOutcome.DUPLICATE, case)
            mark_processed(session, key, now)
            provider = await session.get(Provider, provider_id) if provider_id else None
            number = int(await session.scalar(select(func.coalesce(func.max(
                CaseServiceRecord.number), 0)).where(CaseServiceRecord.case_id == case.id)) or 0)
            due = now + timedelta(days=follow_up_days(self.settings, kind))
            service = CaseServiceRecord(
                case_id=case.id, number=number + 1, kind=kind,
                provider_id=provider.id if provider else None,
                provider_name=provider.name if provider else (typed or None),
                status=rules.PLANNED, follow_up_at=due, created_at=now, updated_at=now)
            session.add(service)
            await session.flush()
            session.add(FollowUp(case_id=case.id, service_id=service.id, subject=kind,
                                 due_at=due))
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="service_added",
                                  detail={"number": service.number, "kind": kind,
                                          "provider": service.provider_name}))
            case.updated_at = now
            return Done(ServiceOutcome.OK, case, service)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id, lock=True)

    async def move(self, user_id: int, name: str, case_id: int, number: int, target: str,
                   key: int | None) -> Done | Result:
        """Planned → running → completed, or cancelled; the dates follow."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            service = await _service(session, case.id, number)
            if service is None:
                return Done(ServiceOutcome.MISSING, case)
            if await already_processed(session, key):
                return Done(ServiceOutcome.DUPLICATE, case, service)
            refusal = rules.check_move(service.status, target)
            if refusal is not None:
                return Done(ServiceOutcome.REFUSED, case, service, refusal=refusal)
            mark_processed(session, key, now)
            before = service.status
            service.status = target
            service.updated_at = now
            today = now.astimezone(self.settings.tz).date()
            if target == rules.RUNNING and service.started_on is None:
                service.started_on = today
            if target in rules.ENDED:
                service.ended_on = today
                service.follow_up_at = None
                await session.execute(update(FollowUp).where(
                    FollowUp.service_id == service.id, FollowUp.done_at.is_(None))
                    .values(done_at=now).execution_options(synchronize_session=False))
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="service_status",
                                  detail={"number": service.number, "kind": service.kind,
                                          "from": before, "to": target}))
            case.updated_at = now
            return Done(ServiceOutcome.OK, case, service)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id, lock=True)

    async def followed_up(self, user_id: int, name: str, case_id: int, number: int,
                          key: int | None) -> Done | Result:
        """The follow-up was done: the next one is due after the kind's interval again."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            service = await _service(session, case.id, number)
            if service is None or service.status in rules.ENDED:
                return Done(ServiceOutcome.MISSING, case)
            if await already_processed(session, key):
                return Done(ServiceOutcome.DUPLICATE, case, service)
            mark_processed(session, key, now)
            await session.execute(update(FollowUp).where(
                FollowUp.service_id == service.id, FollowUp.done_at.is_(None))
                .values(done_at=now).execution_options(synchronize_session=False))
            due = now + timedelta(days=follow_up_days(self.settings, service.kind))
            service.follow_up_at = due
            service.updated_at = now
            session.add(FollowUp(case_id=case.id, service_id=service.id, subject=service.kind,
                                 due_at=due))
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="service_followed_up",
                                  detail={"number": service.number, "kind": service.kind}))
            return Done(ServiceOutcome.OK, case, service, due=due)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id, lock=True)

    async def record_consent(self, user_id: int, name: str, case_id: int, number: int,
                             given: bool, via: str, key: int | None) -> Done | Result:
        """The officer records the survivor's answer and how it was obtained (in person, by
        phone, through a guardian or companion)."""
        if via not in rules.OFFICER_WAYS:
            return Done(ServiceOutcome.REFUSED)

        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            service = await _service(session, case.id, number)
            if service is None:
                return Done(ServiceOutcome.MISSING, case)
            if await already_processed(session, key):
                return Done(ServiceOutcome.DUPLICATE, case, service)
            mark_processed(session, key, now)
            service.consent = rules.YES if given else rules.NO
            service.consent_via = via
            service.consent_at = now
            service.updated_at = now
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="service_consent",
                                  detail={"number": service.number, "kind": service.kind,
                                          "consent": service.consent, "via": via}))
            return Done(ServiceOutcome.OK, case, service)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id, lock=True)

    async def ask_consent(self, user_id: int, name: str, case_id: int, number: int,
                          key: int | None) -> Done | Result:
        """Ask the reporter through the bot (discreet, in their safe time). Never for a reporter
        who asked not to be contacted, withdrew, or blocked the bot."""
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            service = await _service(session, case.id, number)
            if service is None:
                return Done(ServiceOutcome.MISSING, case)
            reason = await reporter_unreachable(session, case)
            if reason is not None:
                return Done(ServiceOutcome.UNREACHABLE, case, service, reason=reason)
            if await already_processed(session, key):
                return Done(ServiceOutcome.DUPLICATE, case, service)
            reporter = await session.get(Reporter, case.reporter_id) \
                if case.reporter_id is not None else None
            if reporter is None:
                return Done(ServiceOutcome.UNREACHABLE, case, service, reason="unlinked")
            mark_processed(session, key, now)
            due = await self.phone.queue(
                session, reporter, kind=CONSENT_ASK, now=now, case=case,
                content=self.views.consent_question(case, service, reporter.language))
            if due is None:
                return Done(ServiceOutcome.UNREACHABLE, case, service,
                            reason=await reporter_unreachable(session, case) or "unlinked")
            service.consent = rules.ASKED
            service.consent_via = rules.RELAY
            service.consent_at = None
            service.updated_at = now
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="service_consent_asked",
                                  detail={"number": service.number, "kind": service.kind}))
            return Done(ServiceOutcome.OK, case, service, due=due if due > now else None)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id, lock=True)

    # ---- "type the provider's name" -------------------------------------------------------------

    async def begin_typing(self, user_id: int, name: str, case_id: int,
                           kind: str) -> Done | Result:
        async def work(session: AsyncSession, case: Case, actor: Actor, now: datetime) -> Done:
            refusal = rules.check_new(kind, case.violence_types)
            if refusal is not None:
                return Done(ServiceOutcome.REFUSED, case, refusal=refusal)
            await session.execute(delete(ServiceInput).where(ServiceInput.user_id == user_id))
            session.add(ServiceInput(user_id=user_id, case_id=case.id, kind=kind,
                                     expires_at=now + timedelta(minutes=INPUT_MINUTES)))
            return Done(ServiceOutcome.OK, case)
        return await self.cases.act(user_id, name, SERVICES, work, case_id=case_id)

    async def typing(self, user_id: int) -> ServiceInput | None:
        """This person's provider-name input, while it lasts (an expired one is forgotten)."""
        async with self.sessions() as session:
            waiting = await session.get(ServiceInput, user_id)
        if waiting is not None and waiting.expires_at <= self.clock.now():
            await self.stop_typing(user_id)
            return None
        return waiting

    async def stop_typing(self, user_id: int) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(delete(ServiceInput).where(
                ServiceInput.user_id == user_id))
            return bool(getattr(result, "rowcount", 0))

    async def finish_typing(self, user_id: int, name: str, text: str,
                            key: int | None) -> Done | Result:
        waiting = await self.typing(user_id)
        if waiting is None:
            return Done(ServiceOutcome.MISSING)
        if len(text.strip()) > MAX_PROVIDER or not text.strip():
            return Done(ServiceOutcome.TOO_LONG)
        await self.stop_typing(user_id)
        return await self.add(user_id, name, waiting.case_id, waiting.kind, key,
                              provider_name=text.strip())

    async def answer_consent(self, telegram_id: int, service_id: int, given: bool) -> Done:
        """The reporter pressed "Setuju" or "Tidak" under the question. Only the reporter of that
        case, and only while it is asked; anyone else learns nothing."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            service = await session.get(CaseServiceRecord, service_id, with_for_update=True)
            case = await session.get(Case, service.case_id) if service is not None else None
            if reporter is None or service is None or case is None \
                    or case.reporter_id != reporter.id or case.consent_withdrawn:
                return Done(ServiceOutcome.GONE)
            heard_from(reporter)
            if service.consent != rules.ASKED:
                return Done(ServiceOutcome.ALREADY, case, service)
            service.consent = rules.YES if given else rules.NO
            service.consent_at = now
            service.updated_at = now
            session.add(CaseEvent(case_id=case.id, at=now, actor="reporter",
                                  kind="service_consent",
                                  detail={"number": service.number, "kind": service.kind,
                                          "consent": service.consent, "via": rules.RELAY}))
            if case.handler_user_id is not None and case.handler_user_id > 0:
                enqueue(session, kind=CONSENT_NOTICE, method="sendMessage", now=now,
                        case_id=case.id, params={"chat_id": case.handler_user_id,
                                                 **self.views.consent_answered(case, service)})
            return Done(ServiceOutcome.OK, case, service)


async def _services_of(session: AsyncSession, case_id: int) -> list[CaseServiceRecord]:
    return list(await session.scalars(select(CaseServiceRecord).where(
        CaseServiceRecord.case_id == case_id).order_by(CaseServiceRecord.number)))


async def _service(session: AsyncSession, case_id: int, number: int) -> CaseServiceRecord | None:
    return await session.scalar(select(CaseServiceRecord).where(
        CaseServiceRecord.case_id == case_id, CaseServiceRecord.number == number)
        .with_for_update())
