"""(e) Memory per open draft, at 10,000 drafts.

Drafts live in the database, so what matters is what the bot process keeps per reporter while a
draft is open (PTB's per-user and per-chat dictionaries, the flood gate's window, caches). 10,000
reporters each start a report and answer the first question; the growth of the process is divided
by 10,000: Python's own allocations (tracemalloc) and the resident set (RSS, which also holds
SQLite's page cache). The Telegram double forgets each chat's transcript: its memory is Telegram's,
not the bot's.

Before and after, in the same run: PTB, given no persistence, still adds every chat and user id to
two sets "to be persisted" that nothing empties (``telegram/ext/_application.py``); the bot's
``BotApplication`` (``bot/app.py``) marks nothing without a persistence. The traced run is made
twice, once with PTB's own marking put back, and the ids PTB keeps are counted.
"""

from __future__ import annotations

import asyncio
import gc
import re
import resource
import sys
import tracemalloc
from collections import deque
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import func, select
from telegram.ext import Application

from bench.common import ROOT, Databases, start_bot
from bot.app import BotApplication
from models import Draft
from tests.harness import Person

TARGET_KB = 20.0


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def open_drafts(bot: Any, first_id: int, count: int) -> None:
    for number in range(count):
        person = Person(bot, first_id + number, language_code="en")
        await person.sends("/lapor")
        await person.presses("No")
        bot.telegram.forget_chat(person.user_id)
        bot.samples.clear()


def where(frame: str) -> str:
    """A traceback frame's file, from the project or from the installed package."""
    for prefix in ("site-packages/", str(ROOT) + "/"):
        if prefix in frame:
            return frame.split(prefix, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", frame)


def ptb_memory(application: Application) -> tuple[int, int]:
    """Ids PTB keeps per chat and user (its two "to be persisted" sets, ``chat_data`` and
    ``user_data``), and the bytes they hold."""
    kept = [application._chat_ids_to_be_updated_in_persistence,
            application._user_ids_to_be_updated_in_persistence,
            application.chat_data, application.user_data]
    count = sum(len(ids) for ids in kept)
    size = sum(sys.getsizeof(ids) + sum(sys.getsizeof(i) for i in ids) for ids in kept)
    return count, size


async def measure(url: str, drafts: int, *, trace: bool,
                  ptb_marking: bool = False) -> dict[str, Any]:
    """RSS growth over ``drafts`` new drafts; with ``trace``, Python's allocations too (tracemalloc
    makes every allocation slow, so it runs on fewer drafts) and where they are. With
    ``ptb_marking``, PTB's own marking of ids for a persistence, as before ``BotApplication``."""
    with mock.patch.object(BotApplication, "_mark_for_persistence_update",
                           Application._mark_for_persistence_update) if ptb_marking \
            else nullcontext():
        return await _measure(url, drafts, trace=trace)


async def _measure(url: str, drafts: int, *, trace: bool) -> dict[str, Any]:
    bot = await start_bot(url)
    bot.telegram.calls = deque(maxlen=16)  # type: ignore[assignment]  # the double's own record
    await open_drafts(bot, 5_000_000, 300)  # warm-up: imports, caches, pools
    gc.collect()
    if trace:
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
    rss_before = rss_kb()
    await open_drafts(bot, 6_000_000, drafts)
    gc.collect()
    rss_after = rss_kb()
    assert bot.app is not None
    ids, ids_bytes = ptb_memory(bot.app)
    figures: dict[str, Any] = {"drafts": drafts, "rss_mb": rss_after / 1024,
                               "rss_kb_per_draft": (rss_after - rss_before) / drafts,
                               "ptb_ids": ids, "ptb_kb_per_draft": ids_bytes / 1024 / drafts}
    if trace:
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = after.compare_to(before, "lineno")
        figures["python_kb_per_draft"] = sum(d.size_diff for d in growth) / 1024 / drafts
        figures["top"] = [(where(str(d.traceback[0])), d.size_diff / drafts) for d in growth[:4]]
        figures["ptb_traced_b_per_draft"] = sum(
            d.size_diff for d in growth
            if "telegram/ext/_application.py" in str(d.traceback[0])) / drafts
    async with bot.runtime.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Draft))
    await bot.stop()
    assert stored is not None and stored >= drafts, stored
    return figures


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    drafts = 2_000 if quick else 10_000
    for backend in databases.backends:
        url = databases.fresh(backend)
        try:
            figures = asyncio.run(measure(url, drafts, trace=False))
        finally:
            databases.drop(url)
        figures["backend"] = backend
        figures["target_met"] = figures["rss_kb_per_draft"] <= TARGET_KB
        print(f"(e) memory per open draft [{backend}], {drafts:,} drafts open: RSS growth "
              f"{figures['rss_kb_per_draft']:.2f} KB/draft (process RSS {figures['rss_mb']:.0f} MB)"
              f" (target <= {TARGET_KB:.0f} KB: {'met' if figures['target_met'] else 'MISSED'})")
        results.append(figures)
        print(f"    ids PTB keeps for chats and users after {drafts:,} drafts: "
              f"{figures['ptb_ids']:,} ({figures['ptb_kb_per_draft']:.2f} KB/draft)")
    for marking in (True, False):
        url = databases.fresh("sqlite")
        try:
            traced = asyncio.run(measure(url, 500 if quick else 1_000, trace=True,
                                         ptb_marking=marking))
        finally:
            databases.drop(url)
        print(f"    Python allocations (tracemalloc, {traced['drafts']:,} drafts, sqlite, "
              + ("PTB's own marking for a persistence, as before" if marking
                 else "BotApplication, as the bot runs") + f"): "
              f"{traced['python_kb_per_draft']:.2f} KB/draft, of which PTB's sets of ids "
              f"{traced['ptb_traced_b_per_draft']:.0f} B/draft ({traced['ptb_ids']:,} ids kept); "
              "largest: " + "; ".join(f"{where} {size:.0f} B" for where, size in traced["top"]))
        results.append({"backend": "sqlite", "traced": traced, "ptb_marking": marking})
    return results
