"""(e) Memory per open draft, at 10,000 drafts.

Drafts live in the database, so what matters is what the bot process keeps per reporter while a
draft is open (PTB's per-user and per-chat dictionaries, the flood gate's window, caches). 10,000
reporters each start a report and answer the first question; the growth of the process is divided
by 10,000: Python's own allocations (tracemalloc) and the resident set (RSS, which also holds
SQLite's page cache). The Telegram double forgets each chat's transcript: its memory is Telegram's,
not the bot's.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import tracemalloc
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import Databases, start_bot
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


async def measure(url: str, drafts: int, *, trace: bool) -> dict[str, Any]:
    """RSS growth over ``drafts`` new drafts; with ``trace``, Python's allocations too (tracemalloc
    makes every allocation slow, so it runs on fewer drafts) and where they are."""
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
    figures: dict[str, Any] = {"drafts": drafts, "rss_mb": rss_after / 1024,
                               "rss_kb_per_draft": (rss_after - rss_before) / drafts}
    if trace:
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        growth = after.compare_to(before, "lineno")
        figures["python_kb_per_draft"] = sum(d.size_diff for d in growth) / 1024 / drafts
        figures["top"] = [(str(d.traceback[0]), d.size_diff / drafts) for d in growth[:4]]
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
    url = databases.fresh("sqlite")
    try:
        traced = asyncio.run(measure(url, 500 if quick else 1_000, trace=True))
    finally:
        databases.drop(url)
    print(f"    Python allocations (tracemalloc, {traced['drafts']:,} drafts, sqlite): "
          f"{traced['python_kb_per_draft']:.2f} KB/draft; largest: "
          + "; ".join(f"{where} {size:.0f} B" for where, size in traced["top"]))
    results.append({"backend": "sqlite", "traced": traced})
    return results
