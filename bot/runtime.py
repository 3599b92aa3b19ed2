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
from bot.crypto import Vault, load_keys
from bot.db import create_engine, session_factory
from bot.dispatcher import Dispatcher
from bot.escalation import EscalationSweep
from bot.regions import RegionDirectory
from bot.services.alerts import AlertService
from bot.services.cases import CaseService
from bot.services.incidents import IncidentNotifier
from bot.services.practice import PracticeRouter
from bot.services.privacy import PrivacyService
from bot.services.relay import RelayService
from bot.services.reports import ReportService
from bot.services.routing import Router
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
    vault = Vault(load_keys(settings.security.encryption_key, default_key_file(settings),
                            create=create))
    install_cipher(vault)
    return vault


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: Vault
    regions: RegionDirectory
    reports: ReportService
    dispatcher: Dispatcher
    privacy: PrivacyService
    alerts: AlertService
    router: Router
    escalation: EscalationSweep
    cases: CaseService
    relay: RelayService
    incidents: IncidentNotifier
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    errands: set[asyncio.Task[Any]] = field(default_factory=set)
    metrics: Counter[str] = field(default_factory=Counter)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None,
               vault: Vault | None = None) -> Runtime:
        clock = clock or Clock()
        vault = vault or open_vault(settings)
        install_cipher(vault)
        engine = create_engine(settings.database.url, echo=settings.database.echo)
        sessions = session_factory(engine)
        regions = RegionDirectory()
        from handlers.alert_view import AlertView  # late: handlers import the runtime

        alerts = AlertService(sessions, clock, settings, AlertView(settings, regions))
        router = Router(settings, clock, alerts)
        reports = ReportService(sessions, clock, vault, settings, regions)
        reports.on_case_created.append(router.on_case_created)
        # Practice cases (/latihan) reach only the training chat; the router above skips them.
        reports.on_case_created.append(PracticeRouter(settings, clock).on_case_created)
        dispatcher = Dispatcher(
            sessions, clock, group_messages_per_minute=settings.outbox.group_messages_per_minute)
        dispatcher.on_chat_gone.append(alerts.on_chat_gone)
        dispatcher.on_sent.append(alerts.on_sent)
        dispatcher.on_chat_migrated.append(alerts.on_chat_migrated)
        # Case handling and the anonymous relay: the relay remembers which sent
        # message belongs to which case, so that a reply to it is passed on.
        from handlers.case_view import CaseView

        metrics: Counter[str] = Counter()
        relay = RelayService(sessions, clock, settings, vault, CaseView(settings, regions))
        cases = CaseService(sessions, clock, settings, vault, alerts, relay, metrics)
        dispatcher.on_sent.append(relay.on_sent)
        return cls(settings=settings, clock=clock, engine=engine, sessions=sessions, vault=vault,
                   regions=regions,
                   reports=reports,
                   dispatcher=dispatcher,
                   privacy=PrivacyService(sessions, clock, vault),
                   alerts=alerts, router=router,
                   escalation=EscalationSweep(sessions, clock, settings, alerts, router),
                   cases=cases, relay=relay, metrics=metrics,
                   incidents=IncidentNotifier(sessions))

    async def load_regions(self) -> None:
        async with self.sessions() as session:
            loaded = await RegionDirectory.load(session)
        self.regions.places = loaded.places
        self.regions.spellings = loaded.spellings

    def start_background(self) -> None:
        self.tasks.append(asyncio.create_task(self.dispatcher.run_forever(), name="outbox"))

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
        self.dispatcher.stop()
        for task in self.tasks:
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self.tasks.clear()

    async def close(self) -> None:
        await self.stop_background()
        await self.engine.dispose()
