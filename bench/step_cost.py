"""(a) What one report step costs, against PTB's bare echo handler and echo plus one database
commit, in the same run, on the same Telegram double and the same kind of database.

All are the real python-telegram-bot ``Application`` fed through ``process_update``; the time is
measured from the raw update (``Update.de_json``) to the handler's last Bot API request answered.
The report step is every update of a full report (the /lapor command, each answer, each button),
walked one reporter at a time; the submit (Kirim) is shown on its own.

The baseline that cannot flatter is "echo + one commit through the raw driver": one row committed
with aiosqlite (``execute`` + ``commit``, the same pragmas as the bot: WAL, ``synchronous=FULL``)
or asyncpg (one autocommitted ``INSERT``), then the echo. Beside it, the same through SQLAlchemy's
ORM session (what this figure used to be), and the echo through PTB's real HTTP client
(``HTTPXRequest``) against the fake Bot API server in a process of its own, to show what the
double leaves out: the HTTP client's CPU per request, in the bot's thread.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bench import profile
from bench.common import TOKEN, Databases, LeanTelegram, bench_settings, median, ms, start_bot
from bench.fake_api import fake_api_process
from bot.db import create_engine, session_factory
from models import ProcessedUpdate
from tests.case_factory import add_group
from tests.harness import Person

TARGET = 2.0
_ids = itertools.count(10_000_000)
Commit = Callable[[int], Awaitable[None]]


async def raw_committer(url: str) -> tuple[Commit, Callable[[], Awaitable[None]]]:
    """One row committed per call through the database's own driver, no ORM; and its closer."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = await aiosqlite.connect(str(Path(parsed.database or "")))
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            await connection.execute(f"PRAGMA {pragma}")

        async def commit_sqlite(update_id: int) -> None:
            await connection.execute(
                "INSERT INTO processed_updates (update_id, at) VALUES (?, ?)",
                (update_id, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))
            await connection.commit()

        return commit_sqlite, connection.close
    pg = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                               password=parsed.password, database=parsed.database)

    async def commit_pg(update_id: int) -> None:  # outside a transaction: it commits itself
        await pg.execute("INSERT INTO processed_updates (update_id, at) VALUES ($1, $2)",
                         update_id, datetime.now(UTC))

    return commit_pg, pg.close


def orm_committer(url: str) -> tuple[Commit, Callable[[], Awaitable[None]]]:
    """One row committed per call through an ORM session (the bot's engine settings)."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    async def commit(update_id: int) -> None:
        async with sessions.begin() as session:
            session.add(ProcessedUpdate(update_id=update_id, at=datetime.now(UTC)))

    return commit, engine.dispose


def echo_application(request: BaseRequest | None, commit: Commit | None,
                     base_url: str | None = None) -> Application:
    """PTB's echo bot; with ``commit``, each update also commits one row first."""
    settings = bench_settings("sqlite+aiosqlite:///unused")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        if commit is not None:
            await commit(update.update_id)
        await update.message.reply_text(update.message.text)

    builder = ApplicationBuilder().token(TOKEN).defaults(Defaults(tzinfo=settings.tz))
    if base_url is not None:
        builder = builder.base_url(base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


def text_update(user_id: int, text: str) -> dict[str, Any]:
    return {"update_id": next(_ids), "message": {
        "message_id": next(_ids), "date": 1_770_000_000, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "Sari"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Sari", "language_code": "en"}}}


async def time_echo(application: Application, count: int, samples: list[float],
                    cpu: list[float] | None = None) -> None:
    for number in range(count):
        payload = text_update(6_000_000 + number % 50, "Tetangga memukul anaknya setiap malam.")
        started, started_cpu = time.perf_counter(), time.thread_time()
        await application.process_update(Update.de_json(payload, application.bot))
        samples.append(time.perf_counter() - started)
        if cpu is not None:
            cpu.append(time.thread_time() - started_cpu)


async def measure(url: str, reporters: int, api: str) -> dict[str, Any]:
    """Reporters walk whole reports one after another; before each of their updates, one update
    of each baseline runs, so that all meet the same machine (caches, other load) alike."""
    telegram = LeanTelegram()
    raw_commit, close_raw = await raw_committer(url)
    orm_commit, close_orm = orm_committer(url)
    echo = echo_application(telegram, None)
    echo_raw = echo_application(telegram, raw_commit)
    echo_orm = echo_application(telegram, orm_commit)
    echo_http = echo_application(HTTPXRequest(connection_pool_size=8), None, base_url=api)
    bot = await start_bot(url)
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=-100_555_0001)
    steps: list[float] = []
    step_cpu: list[float] = []
    submits: list[float] = []
    samples: dict[str, list[float]] = {name: [] for name in (
        "echo", "echo_raw", "echo_orm", "echo_http", "echo_cpu", "echo_http_cpu")}
    user_ids = itertools.count(7_000_000)
    async with echo, echo_raw, echo_orm, echo_http:
        warm: list[float] = []
        for application in (echo, echo_raw, echo_orm, echo_http):
            await time_echo(application, 50, warm)
        await Person(bot, next(user_ids), language_code="en").completes_report()
        bot.samples.clear()
        cpu_before = 0.0

        async def baselines() -> None:
            nonlocal cpu_before
            await time_echo(echo, 1, samples["echo"], samples["echo_cpu"])
            await time_echo(echo_raw, 1, samples["echo_raw"])
            await time_echo(echo_orm, 1, samples["echo_orm"])
            await time_echo(echo_http, 1, samples["echo_http"], samples["echo_http_cpu"])
            cpu_before = time.thread_time()

        real_timed = bot._timed

        async def timed(payload: dict[str, Any]) -> Update:
            update = await real_timed(payload)
            step_cpu.append(time.thread_time() - cpu_before)
            return update

        bot._timed = timed  # type: ignore[method-assign]
        bot.before_each = baselines
        for _ in range(reporters):
            person = Person(bot, next(user_ids), language_code="en")
            await person.completes_report()
            steps += bot.samples[:-1]
            submits.append(bot.samples[-1])
            del step_cpu[-1]
            bot.samples.clear()
            bot.telegram.forget_chat(person.user_id)  # type: ignore[attr-defined]
    await bot.stop()
    await close_raw()
    await close_orm()
    figures = {name: median(values) for name, values in samples.items()}
    return {"step": median(steps), "step_mean": sum(steps) / len(steps),
            "step_cpu": median(step_cpu), "submit": median(submits), "steps": len(steps),
            **figures}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    with fake_api_process() as api:
        for backend in databases.backends:
            url = databases.fresh(backend)
            try:
                figures = asyncio.run(measure(url, 20 if quick else 100, api))
            finally:
                databases.drop(url)
            ratio = figures["step"] / figures["echo_raw"]
            figures |= {"backend": backend, "vs_echo": figures["step"] / figures["echo"],
                        "vs_echo_raw": ratio, "vs_echo_orm": figures["step"] / figures["echo_orm"],
                        "target_met": ratio <= TARGET}
            print(f"(a) report step [{backend}], median of {figures['steps']} steps: "
                  f"step {ms(figures['step'])} (mean {ms(figures['step_mean'])}, CPU "
                  f"{ms(figures['step_cpu'])} in the bot's thread), submit {ms(figures['submit'])}")
            print(f"    echo {ms(figures['echo'])}, echo + raw commit {ms(figures['echo_raw'])}, "
                  f"echo + ORM commit {ms(figures['echo_orm'])}")
            print(f"    step / (echo + raw commit) = {ratio:.2f}x (target <= {TARGET}x: "
                  f"{'met' if figures['target_met'] else 'MISSED'}); step / (echo + ORM commit) "
                  f"= {figures['vs_echo_orm']:.2f}x; step / echo = {figures['vs_echo']:.2f}x")
            print(f"    echo through PTB's HTTPXRequest to the fake Bot API (another process): "
                  f"{ms(figures['echo_http'])}, CPU {ms(figures['echo_http_cpu'])} in the bot's "
                  f"thread against {ms(figures['echo_cpu'])} with the double: the HTTP client "
                  f"costs {ms(figures['echo_http_cpu'] - figures['echo_cpu'])} of CPU per request")
            shown = profile.measure(databases, backend, reports=3 if quick else 5,
                                    profiled=10 if quick else 20)
            profile.report(backend, shown)
            figures["profile"] = shown
            results.append(figures)
    return results
