"""(b) Sustained report steps per second with 1,000 reporters talking at once.

1,000 people each walk a whole report (18 updates: /lapor, every answer and button, Kirim) at the
same time, so 1,000 drafts are open and their updates interleave. The bot processes updates one at
a time, as PTB does by default and as ``ppa-bot run`` does: this is the rate one bot process
sustains. ``steps/s`` is updates handled per second of wall-clock time, the driver that plays the
1,000 people included; ``in-bot`` counts only the time inside ``process_update``; the CPU time is
this process's (its SQLite threads and the driver included; PostgreSQL's server runs apart).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import Databases, median, percentile, start_bot, walk_report
from tests.case_factory import add_group
from tests.harness import Person

TARGET = 600.0


async def measure(url: str, reporters: int, budget: int) -> dict[str, Any]:
    """Run until ``budget`` updates are handled (after every reporter has started)."""
    bot = await start_bot(url)
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=-100_555_0001)
    people = [Person(bot, 8_000_000 + number, language_code="en") for number in range(reporters)]
    await people[0].completes_report()  # warm-up: imports, caches, prepared statements
    people = people[1:]
    for person in people:  # everyone has an open draft before the clock starts
        await person.sends("/lapor")
    bot.samples.clear()
    bot.budget = budget
    cpu = time.process_time()
    started = time.perf_counter()
    tasks = [asyncio.create_task(walk_report(person, start=False)) for person in people]
    watcher = asyncio.create_task(bot.budget_spent.wait())
    finished: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*tasks))
    await asyncio.wait([watcher, finished], return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    handled = len(bot.samples)
    samples = list(bot.samples)
    for task in tasks:
        task.cancel()
    watcher.cancel()
    await asyncio.gather(*tasks, watcher, return_exceptions=True)
    await bot.stop()
    return {"reporters": reporters, "steps": handled, "seconds": elapsed,
            "steps_per_second": handled / elapsed,
            "in_bot_per_second": handled / sum(samples),
            "cpu_ms_per_step": cpu / handled * 1000,
            "p50": median(samples), "p99": percentile(samples, 0.99)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    reporters = 1000
    budget = 3000 if quick else 12000
    for backend in databases.backends:
        url = databases.fresh(backend)
        try:
            figures = asyncio.run(measure(url, reporters + 1, budget))
        finally:
            databases.drop(url)
        figures["backend"] = backend
        met = figures["steps_per_second"] >= TARGET
        figures["target_met"] = met
        print(f"(b) sustained report steps [{backend}], {reporters} reporters at once, "
              f"{figures['steps']} steps in {figures['seconds']:.1f} s: "
              f"{figures['steps_per_second']:.0f} steps/s (in-bot "
              f"{figures['in_bot_per_second']:.0f}/s; step p50 {figures['p50'] * 1000:.2f} ms, "
              f"p99 {figures['p99'] * 1000:.2f} ms; CPU {figures['cpu_ms_per_step']:.2f} "
              f"ms/step in this process, driver included)"
              + (f" (target >= {TARGET:.0f}/s: {'met' if met else 'MISSED'})"
                 if backend == "sqlite" else ""))
        results.append(figures)
    return results
