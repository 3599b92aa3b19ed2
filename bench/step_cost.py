"""(a) What one report step costs, against PTB's bare echo handler and echo plus one database
commit, in the same run, on the same Telegram double and the same kind of database.

All three are the real python-telegram-bot ``Application`` fed through ``process_update``; the time
is measured from the raw update (``Update.de_json``) to the handler's last Bot API request answered.
The report step is every update of a full report (the /lapor command, each answer, each button),
walked one reporter at a time; the submit (Kirim) is shown on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bench.common import TOKEN, Databases, LeanTelegram, bench_settings, median, ms, start_bot
from bot.db import create_engine, session_factory
from models import ProcessedUpdate
from tests.case_factory import add_group
from tests.harness import Person

TARGET = 1.5
_ids = itertools.count(10_000_000)


def echo_application(telegram: LeanTelegram, commit_to: str | None) -> Application:
    """PTB's echo bot; with ``commit_to``, each update also commits one row first."""
    settings = bench_settings(commit_to or "sqlite+aiosqlite:///unused")
    sessions = session_factory(create_engine(commit_to)) if commit_to else None

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        if sessions is not None:
            async with sessions.begin() as session:
                session.add(ProcessedUpdate(update_id=update.update_id, at=datetime.now(UTC)))
        await update.message.reply_text(update.message.text)

    application = (ApplicationBuilder().token(TOKEN).request(telegram)
                   .get_updates_request(telegram).defaults(Defaults(tzinfo=settings.tz)).build())
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.bot_data["sessions"] = sessions
    return application


def text_update(user_id: int, text: str) -> dict[str, Any]:
    return {"update_id": next(_ids), "message": {
        "message_id": next(_ids), "date": 1_770_000_000, "text": text,
        "chat": {"id": user_id, "type": "private", "first_name": "Sari"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Sari", "language_code": "en"}}}


async def time_echo(application: Application, count: int, samples: list[float]) -> None:
    for number in range(count):
        payload = text_update(6_000_000 + number % 50, "Tetangga memukul anaknya setiap malam.")
        started = time.perf_counter()
        await application.process_update(Update.de_json(payload, application.bot))
        samples.append(time.perf_counter() - started)


async def measure(url: str, reporters: int) -> dict[str, Any]:
    """Reporters walk whole reports one after another; before each of their updates, one echo and
    one echo+commit update run, so that all three meet the same machine (caches, other load)."""
    telegram = LeanTelegram()
    echo = echo_application(telegram, None)
    echo_commit = echo_application(telegram, url)
    bot = await start_bot(url)
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=-100_555_0001)
    steps: list[float] = []
    submits: list[float] = []
    echoes: list[float] = []
    commits: list[float] = []
    user_ids = itertools.count(7_000_000)
    async with echo, echo_commit:
        warm: list[float] = []
        await time_echo(echo, 50, warm)
        await time_echo(echo_commit, 50, warm)
        await Person(bot, next(user_ids), language_code="en").completes_report()
        bot.samples.clear()

        async def baselines() -> None:
            await time_echo(echo, 1, echoes)
            await time_echo(echo_commit, 1, commits)

        bot.before_each = baselines
        for _ in range(reporters):
            person = Person(bot, next(user_ids), language_code="en")
            await person.completes_report()
            steps += bot.samples[:-1]
            submits.append(bot.samples[-1])
            bot.samples.clear()
            bot.telegram.forget_chat(person.user_id)  # type: ignore[attr-defined]
    await bot.stop()
    await echo_commit.bot_data["sessions"].kw["bind"].dispose()
    return {"step": median(steps), "step_mean": sum(steps) / len(steps),
            "submit": median(submits), "echo": median(echoes),
            "echo_commit": median(commits), "steps": len(steps)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    for backend in databases.backends:
        url = databases.fresh(backend)
        try:
            figures = asyncio.run(measure(url, reporters=20 if quick else 100))
        finally:
            databases.drop(url)
        ratio = figures["step"] / figures["echo_commit"]
        figures |= {"backend": backend, "vs_echo": figures["step"] / figures["echo"],
                    "vs_echo_commit": ratio, "target_met": ratio <= TARGET}
        print(f"(a) report step [{backend}], median of {figures['steps']} steps: "
              f"step {ms(figures['step'])} (mean {ms(figures['step_mean'])}), "
              f"echo {ms(figures['echo'])}, echo+commit {ms(figures['echo_commit'])}, "
              f"submit {ms(figures['submit'])}")
        print(f"    step / echo = {figures['vs_echo']:.2f}x, step / (echo + commit) = "
              f"{ratio:.2f}x (target <= {TARGET}x: {'met' if ratio <= TARGET else 'MISSED'})")
        results.append(figures)
    return results
