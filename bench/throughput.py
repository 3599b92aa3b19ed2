"""(b) Sustained report steps per second with 1,000 reporters talking at once.

1,000 people each walk a whole report (18 updates: /lapor, every answer and button, Kirim) at the
same time, so 1,000 drafts are open and their updates interleave. The bot processes updates one at
a time, as PTB does by default and as ``ppa-bot run`` does: this is the rate one bot process
sustains. ``steps/s`` is updates handled per second of wall-clock time, the driver that plays the
1,000 people included; ``in-bot`` counts only the time inside ``process_update``; the CPU time is
this process's (its SQLite threads and the driver included; PostgreSQL's server runs apart).

Each step's answer is committed (and on SQLite fsynced) before its next question is sent, and the
steps are processed one after another: the rate can never beat one step's CPU plus one durable
commit. That commit is measured beside the figure, through the raw driver on the same database, so
a slow disk is seen as what it is. Beside the double, the same run through PTB's real HTTP client
(``HTTPXRequest``) against the fake Bot API server in a process of its own (``bench/fake_api.py``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from bench.common import Databases, median, percentile, start_bot, walk_report
from bench.fake_api import fake_api_process
from bench.step_cost import raw_committer
from tests.case_factory import add_group
from tests.harness import Person

TARGET = 600.0


def run_queue_wait() -> float:
    """Seconds this thread has spent runnable but waiting for a CPU (``/proc/thread-self/
    schedstat``: the kernel's own count; 0 where there is none). On a shared machine this is the
    time other work took from the bot."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


async def commit_latency(url: str, count: int = 200) -> float:
    """Median time of one durable commit of one row through the raw driver, nothing else."""
    commit, close = await raw_committer(url)
    samples = []
    for number in range(count):
        started = time.perf_counter()
        await commit(50_000_000 + number)
        samples.append(time.perf_counter() - started)
    await close()
    return median(samples)


async def measure(url: str, reporters: int, budget: int, api: str | None = None) -> dict[str, Any]:
    """Run until ``budget`` updates are handled (after every reporter has started); with ``api``,
    through PTB's real HTTP client to that fake Bot API."""
    bot = await start_bot(url, api=api)
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=-100_555_0001)
    people = [Person(bot, 8_000_000 + number, language_code="en") for number in range(reporters)]
    await people[0].completes_report()  # warm-up: imports, caches, prepared statements
    people = people[1:]
    for person in people:  # everyone has an open draft before the clock starts
        await person.sends("/lapor")
    bot.samples.clear()
    bot.budget = budget
    cpu = time.process_time()
    waited = run_queue_wait()
    started = time.perf_counter()
    tasks = [asyncio.create_task(walk_report(person, start=False)) for person in people]
    watcher = asyncio.create_task(bot.budget_spent.wait())
    finished: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*tasks))
    await asyncio.wait([watcher, finished], return_when=asyncio.FIRST_COMPLETED)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    waited = run_queue_wait() - waited
    handled = len(bot.samples)
    samples = list(bot.samples)
    for task in tasks:
        task.cancel()
    watcher.cancel()
    await asyncio.gather(*tasks, watcher, return_exceptions=True)
    await bot.stop()
    commit = await commit_latency(url)
    return {"reporters": reporters, "steps": handled, "seconds": elapsed, "commit": commit,
            "cpu_wait_ms_per_step": waited / handled * 1000,
            "ceiling": 1 / (cpu / handled + commit),
            "steps_per_second": handled / elapsed,
            "in_bot_per_second": handled / sum(samples),
            "cpu_ms_per_step": cpu / handled * 1000,
            "p50": median(samples), "p99": percentile(samples, 0.99)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    reporters = 1000
    budget = 3000 if quick else 12000
    with fake_api_process() as api:
        for backend in databases.backends:
            for client in ("double", "HTTPXRequest"):
                url = databases.fresh(backend)
                try:
                    figures = asyncio.run(measure(url, reporters + 1, budget,
                                                  api if client != "double" else None))
                finally:
                    databases.drop(url)
                figures |= {"backend": backend, "client": client}
                met = figures["steps_per_second"] >= TARGET
                figures["target_met"] = met
                print(f"(b) sustained report steps [{backend}, {client}], {reporters} reporters "
                      f"at once, {figures['steps']} steps in {figures['seconds']:.1f} s: "
                      f"{figures['steps_per_second']:.0f} steps/s (in-bot "
                      f"{figures['in_bot_per_second']:.0f}/s; step p50 "
                      f"{figures['p50'] * 1000:.2f} ms, p99 {figures['p99'] * 1000:.2f} ms; CPU "
                      f"{figures['cpu_ms_per_step']:.2f} ms/step in this process, driver "
                      f"included)" + (f" (target >= {TARGET:.0f}/s: {'met' if met else 'MISSED'})"
                                      if client == "double" else ""))
                print(f"    one durable commit through the raw driver, now: "
                      f"{figures['commit'] * 1000:.2f} ms; one step after another can do at most "
                      f"1 / (CPU per step + commit) = {figures['ceiling']:.0f} steps/s here; the "
                      f"bot's thread waited {figures['cpu_wait_ms_per_step']:.2f} ms per step for "
                      f"a CPU (other work on the machine)")
                results.append(figures)
    return results
