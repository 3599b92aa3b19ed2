"""Everything the handlers and jobs share for one running bot: settings, clock, database,
services."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault, load_key_material
from bot.db import Lane, create_engine, open_lane, session_factory
from bot.outbox import wake_on_commit
from bot.outbox.downloads import download_job
from bot.outbox.sender import OutboxSender
from bot.regions import RegionDirectory
from bot.services.alerts import AlertService
from bot.services.cases import CaseService
from bot.services.deadlines import Deadlines
from bot.services.enrolment import EnrolmentService
from bot.services.escalation import Escalation
from bot.services.evidence import (
    DOWNLOAD_METHOD,
    EvidenceService,
    EvidenceStore,
    evidence_folder,
    shred_on_commit,
)
from bot.services.incidents import IncidentNotifier
from bot.services.intake import IntakeService
from bot.services.pin import PinService
from bot.services.practice import PracticeRouter
from bot.services.privacy import PrivacyService
from bot.services.providers import ProviderDirectory
from bot.services.referrals import ReferralService
from bot.services.register_edit import RegisterEditService
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.routing import Router
from bot.services.to_reporter import ReporterPhone
from bot.services.updates import RecentUpdates
from bot.views.alerts import AlertView
from bot.views.cases import CaseView
from bot.views.discreet import DiscreetView
from bot.views.services import ServiceView
from models.encryption import install_cipher

log = logging.getLogger(__name__)
ERRANDS_GRACE_SECONDS = 60  # an export in progress at shutdown may finish and be sent


def default_key_file(settings: Settings) -> Path:
    """``security.key_file``, else ``ppa-bot.key`` beside the SQLite database (or in ./data)."""
    if settings.security.key_file:
        return Path(settings.security.key_file)
    url = make_url(settings.database.url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "ppa-bot.key"
    return Path("data") / "ppa-bot.key"


def open_vault(settings: Settings, *, create: bool = False) -> Vault:
    """The keys as configured, for a command other than ``run``; ``create`` only for a new
    database (one that holds nothing encrypted yet)."""
    security = settings.security
    vault = load_key_material(security.encryption_key, security.lookup_key,
                              default_key_file(settings), create=create).vault()
    install_cipher(vault)
    return vault


def checked_vault(settings: Settings) -> Vault:
    """The keys ``ppa-bot run`` starts with: created for a database without encrypted data,
    else checked against it (``bot/keys.py``). Call it before the bot's event loop."""
    from bot.keys import open_checked_vault

    return open_checked_vault(
        settings.database.url, configured=settings.security.encryption_key,
        configured_lookup=settings.security.lookup_key, key_file=default_key_file(settings))


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    lane: Lane  # where the hot units of work run in one call (a report step, a submit, the outbox)
    vault: Vault
    regions: RegionDirectory
    reports: ReportService
    intake: IntakeService
    sender: OutboxSender
    privacy: PrivacyService
    alerts: AlertService
    router: Router
    escalation: Escalation
    cases: CaseService
    register_edit: RegisterEditService
    relay: RelayService
    incidents: IncidentNotifier
    enrolments: EnrolmentService
    phone: ReporterPhone
    pins: PinService
    evidence: EvidenceService
    downloads: OutboxSender  # the outbox's long jobs (evidence downloads), beside ``sender``
    referrals: ReferralService  # services and referrals of a case, consent
    deadlines: Deadlines  # the police deadline's alarms, stage and service follow-ups
    directory: ProviderDirectory  # /layanan
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    errands: set[asyncio.Task[Any]] = field(default_factory=set)
    metrics: Counter[str] = field(default_factory=Counter)
    answered: RecentUpdates = field(default_factory=RecentUpdates)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None,
               vault: Vault | None = None) -> Runtime:
        clock = clock or Clock()
        vault = vault or open_vault(settings)
        install_cipher(vault)
        engine = create_engine(settings.database.url, echo=settings.database.echo)
        sessions = session_factory(engine)
        lane = open_lane(engine, sessions)
        regions = RegionDirectory()
        # "Is this person enrolled for this village right now": Telegram is asked through the
        # bot once the application exists (``bot/app.py``).
        enrolments = EnrolmentService(sessions, clock, settings, vault)
        # Every message to a reporter after the reference goes through ``phone`` (discreet,
        # in their safe time, never when they refused contact); it also answers "Buka".
        phone = ReporterPhone(sessions, clock, settings, vault, DiscreetView())
        alert_view = AlertView(settings, regions)
        alerts = AlertService(sessions, clock, settings, alert_view, vault, enrolments,
                              phone=phone)
        router = Router(settings, clock, alerts)
        reports = ReportService(sessions, clock, vault, settings, regions, lane, phone=phone)
        reports.on_case_created.subscribe(router.on_case_created)
        # Practice cases (/latihan) reach only the training chat; the router above skips them.
        practice = PracticeRouter(settings, clock, alert_view)
        reports.on_case_created.subscribe(practice.on_case_created)
        # An officer's record of a case that came another way: the same form engine, routed
        # by the same subscribers.
        intake = IntakeService(sessions, clock, vault, settings, regions, lane, phone=phone)
        intake.on_case_created = reports.on_case_created
        # Every file of a report is downloaded, encrypted and hashed by a job in the outbox, run
        # by a sender of its own: a 20 MB download never holds up an alert.
        evidence = EvidenceService(sessions, clock, settings,
                                   EvidenceStore(evidence_folder(settings)))
        reports.on_case_created.subscribe(evidence.on_case_created)
        sender = OutboxSender(
            sessions, clock, group_messages_per_minute=settings.outbox.group_messages_per_minute,
            lane=lane, skip=frozenset({DOWNLOAD_METHOD}))
        downloads = OutboxSender(sessions, clock, lane=lane,
                                 jobs={DOWNLOAD_METHOD: download_job(
                                     evidence.download,
                                     limit=settings.evidence.download_max_bytes,
                                     timeout=settings.evidence.download_timeout_seconds)},
                                 only=frozenset({DOWNLOAD_METHOD}))

        def wake() -> None:
            sender.wake()
            downloads.wake()

        wake_on_commit(sessions, wake)  # once per commit that queued a notification
        lane.wake_on_commit(wake)  # the lane's own commits (a submit) too
        # Erased evidence (withdrawal, retention): its files go once the erasure commits.
        shred_on_commit(sessions, lambda: evidence.store)
        sender.on_sent.subscribe(alerts.on_sent)
        sender.on_chat_migrated.subscribe(alerts.on_chat_migrated)
        # Case handling and the anonymous relay: the relay remembers which sent
        # message belongs to which case, so that a reply to it is passed on.
        metrics: Counter[str] = Counter()
        case_view = CaseView(settings, regions)
        relay = RelayService(sessions, clock, settings, vault, case_view, phone=phone)
        relay.evidence = evidence
        escalation = Escalation(sessions, clock, settings, alerts, router)
        sender.on_chat_gone.subscribe(escalation.on_chat_gone)
        cases = CaseService(sessions, clock, settings, vault, alerts, escalation, relay, metrics)
        # The details a person asks for carry the case card's buttons.
        cases.card_buttons = case_view.card_buttons
        alerts.detail_buttons = cases.detail_buttons
        sender.on_sent.subscribe(relay.on_sent)
        sender.on_chat_gone.subscribe(phone.on_chat_gone)  # a reporter who blocked the bot
        # Services and referrals, the provider directory; legal deadlines and follow-ups, swept
        # with the escalation.
        service_view = ServiceView(settings)
        referrals = ReferralService(sessions, clock, settings, vault, cases, phone, service_view)
        deadlines = Deadlines(sessions, clock, settings, alerts, service_view)
        escalation.deadlines = deadlines
        cases.on_status_changed.subscribe(deadlines.on_status_changed)
        return cls(settings=settings, clock=clock, engine=engine, sessions=sessions, lane=lane,
                   vault=vault,
                   regions=regions,
                   reports=reports, intake=intake,
                   sender=sender,
                   privacy=PrivacyService(sessions, clock, vault, settled=sender.settled),
                   alerts=alerts, router=router,
                   escalation=escalation,
                   cases=cases, relay=relay, metrics=metrics,
                   register_edit=RegisterEditService(sessions, clock, vault, metrics,
                                                       settings),
                   incidents=IncidentNotifier(sessions), enrolments=enrolments,
                   phone=phone, pins=PinService(sessions, clock, vault),
                   evidence=evidence, downloads=downloads,
                   referrals=referrals, deadlines=deadlines,
                   directory=ProviderDirectory(sessions, clock, vault))

    async def load_regions(self) -> None:
        async with self.sessions() as session:
            loaded = await RegionDirectory.load(session)
        self.regions.places = loaded.places
        self.regions.spellings = loaded.spellings

    def start_background(self) -> None:
        self.tasks.append(asyncio.create_task(self.sender.run_forever(), name="outbox"))
        self.tasks.append(asyncio.create_task(self.downloads.run_forever(), name="downloads"))

    def run_aside(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Long work an update asked for (an export, the statistics) runs beside the updates,
        which the bot handles one at a time: nobody else's update waits for it. Stopping the bot
        lets it finish."""
        task = asyncio.create_task(work, name=f"aside:{name}")
        self.errands.add(task)
        task.add_done_callback(self.errands.discard)
        return task

    async def settle(self) -> None:
        """Wait for the work run aside (and any it started) to end."""
        while self.errands:
            await asyncio.gather(*self.errands, return_exceptions=True)

    async def stop_background(self) -> None:
        try:
            async with asyncio.timeout(ERRANDS_GRACE_SECONDS):
                await self.settle()
        except TimeoutError:
            log.warning("work still running aside at shutdown was cancelled")
            for task in list(self.errands):
                task.cancel()
        self.sender.stop()
        self.downloads.stop()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self.tasks.clear()

    async def close(self) -> None:
        await self.stop_background()
        await self.lane.close()
        await self.engine.dispose()
