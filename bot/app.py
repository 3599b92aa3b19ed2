"""Wiring: one function builds the Application from a Runtime and the handler layer; start-up and
shutdown are explicit.

Nothing in ``bot/`` imports ``handlers/`` (DESIGN §7). The handler layer is handed in: the running
process finds it by its entry point, group ``ppa_bot.handlers`` in ``pyproject.toml``
(``installed_handlers``); a test may hand in any object with the same two functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any, Protocol, cast

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot import first_steps, jobs, menus
from bot.context import CONTEXT_TYPES, RUNTIME, runtime_of
from bot.membership import TelegramMembership
from bot.runtime import Runtime
from bot.services import providers

log = logging.getLogger(__name__)
FLUSH_SECONDS = 20
HANDLERS_GROUP = "ppa_bot.handlers"  # the entry point group in pyproject.toml
HANDLERS = "handlers"  # the application's bot_data key that holds the handler layer


class Handlers(Protocol):
    """What the handler layer (the ``handlers`` package) gives the Application."""

    def register(self, application: Application) -> None:
        """Every handler, in the order PTB tries them, and the error handler."""

    def schedule(self, application: Application) -> None:
        """The handler layer's own repeating jobs (started with the running bot only)."""


def installed_handlers() -> Handlers:
    """The handler layer named by the ``ppa_bot.handlers`` entry point of the installed package
    (``pip install -e .``, which ``make`` does, writes it)."""
    found = entry_points(group=HANDLERS_GROUP)
    if len(found) != 1:
        raise RuntimeError(f"expected one {HANDLERS_GROUP!r} entry point, found {len(found)}: "
                           "install the package again (pip install -e .)")
    (entry,) = found
    return cast(Handlers, entry.load())


class BotApplication(Application):
    """PTB's ``Application``, without a memory of everyone it ever heard from.

    The bot keeps its state in the database and gives PTB no persistence, yet PTB adds the chat
    and user id of every update to two sets of ids "to be persisted", which only a persistence
    empties: about 0.26 KB per person, for as long as the process runs. Here nothing is marked
    unless there is a persistence to write it to. (``chat_data`` and ``user_data`` stay empty:
    no handler uses them; ``tests/test_report_step.py`` checks all four.)"""

    def _mark_for_persistence_update(self, *, update: object | None = None,
                                     job: Any = None) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


def build_application(rt: Runtime, handlers: Handlers, *, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None,
                      rate_limiter: bool = True) -> Application:
    settings = rt.settings
    builder = (
        ApplicationBuilder()
        .application_class(BotApplication)
        .token(settings.telegram.token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .defaults(Defaults(tzinfo=settings.tz))
        .context_types(CONTEXT_TYPES)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    if rate_limiter:
        # Our outbox sender does its own retries; the limiter only keeps the pace Telegram allows.
        # (PTB's builder types its rate-limiter slot as None until one is set: hence the ignore.)
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))  # type: ignore[arg-type]
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    application = builder.build()
    application.bot_data[RUNTIME] = rt
    application.bot_data[HANDLERS] = handlers
    rt.sender.bot = rt.downloads.bot = application.bot
    rt.enrolments.lookup = TelegramMembership(application.bot)
    handlers.register(application)
    return application


async def start_runtime(application: Application) -> None:
    """Start-up work shared by the real run and the tests: load regions, point the outbox at the
    bot."""
    rt = runtime_of(application)
    await rt.load_regions()
    await rt.intake.load_holders()  # officers who hold a /kasus_baru record (typed answers)
    if not rt.regions.places:
        log.warning("no regions in the database: run `ppa-bot regions import` first")
    rt.sender.bot = rt.downloads.bot = application.bot
    if removed := await rt.evidence.sweep_orphans():
        log.info("removed %d evidence file(s) whose record was erased", removed)
    # The provider directory, from the shipped list at the first start (bot/services/providers.py).
    await providers.seed(rt.sessions, rt.clock.now())


async def post_init(application: Application) -> None:
    rt = runtime_of(application)
    await start_runtime(application)
    await menus.publish(application.bot, rt.sessions)  # command menus per scope and language
    jobs.schedule(application, rt)
    handlers: Handlers = application.bot_data[HANDLERS]
    handlers.schedule(application)
    rt.start_background()
    freeze_startup_objects()
    # The enrolled members' menus, in the background: a district may have many.
    rt.tasks.append(asyncio.create_task(member_menus(application), name="member_menus"))
    log.info("bot started as @%s", application.bot.username)
    if steps := await first_steps.next_steps(rt.sessions, application.bot.username):
        print("\n".join(steps), flush=True)  # a new district's next steps, until they are done


def freeze_startup_objects() -> None:
    """What start-up made (modules, the Application, the services) lives as long as the process:
    keep it out of the garbage collector's full passes, which otherwise walk it all and pause the
    event loop for everyone, tens of milliseconds on a busy machine (docs/PERFORMANCE.md, g)."""
    gc.collect()
    gc.freeze()


async def member_menus(application: Application) -> None:
    try:
        await menus.publish_members(application.bot, runtime_of(application).sessions)
    except Exception as exc:  # a courtesy: never fatal
        log.warning("member menus not published: %s", type(exc).__name__)


async def post_stop(application: Application) -> None:
    """Updates in flight are done; send what they queued while the bot can still talk."""
    rt = runtime_of(application)
    await rt.stop_background()
    try:
        await asyncio.wait_for(rt.sender.drain(), timeout=FLUSH_SECONDS)
    except TimeoutError:
        log.warning("outbox not empty at shutdown; it is sent after the next start")


async def post_shutdown(application: Application) -> None:
    rt = runtime_of(application)
    await rt.close()


async def stop_application(application: Application,
                           in_flight: asyncio.Lock | None = None) -> None:
    """The shutdown sequence with our hooks; ``in_flight`` is held while updates stop."""
    async with in_flight or contextlib.nullcontext():
        await application.stop()
    await post_stop(application)
    await application.shutdown()
    await post_shutdown(application)


def run_until_signalled(serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """``serve(stop)`` in a new event loop; SIGTERM or SIGINT sets ``stop``."""
    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    asyncio.run(main())
