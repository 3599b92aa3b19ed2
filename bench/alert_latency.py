"""(c) From the submitting update to the first alert request, p50 and p99.

A village group is registered for Pondong Baru; each reporter walks a report up to the review (not
timed), then presses Kirim. The clock starts when that update reaches the bot and stops when the
Telegram double receives the ``sendMessage`` of the alert to the group: the submit transaction
(case, alert row and outbox row together), the commit waking the outbox sender that runs in
the same process, and the sender claiming the row and sending it.

Telegram's 20-messages-a-minute pace for one group is lifted here (``outbox.
group_messages_per_minute``): hundreds of reports in a few seconds to one village would otherwise
measure that pacing, not the path.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import Databases, LeanTelegram, percentile, start_bot, walk_report
from tests.case_factory import add_group
from tests.harness import Person

GROUP = -100_555_0001


class AlertWatch(LeanTelegram):
    """Notes when the group's alert arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()
        self.arrived_at = 0.0

    async def do_request(self, url: str, method: str, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, *args, **kwargs)
        last = self.calls[-1]
        if last.method == "sendMessage" and str(last.params.get("chat_id")) == str(GROUP) \
                and not self.arrived.is_set():
            self.arrived_at = time.perf_counter()
            self.arrived.set()
        return answer


async def measure(url: str, reports: int) -> dict[str, Any]:
    telegram = AlertWatch()
    bot = await start_bot(url, telegram=telegram, outbox={"group_messages_per_minute": 100_000})
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=GROUP)
    bot.runtime.start_background()  # the outbox sender, as `ppa-bot run` starts it
    latencies: list[float] = []
    handler: list[float] = []
    for number in range(reports + 3):
        person = Person(bot, 9_000_000 + number, language_code="en")
        await walk_report(person, send=False)
        await asyncio.sleep(0.05)  # the sender is idle again, as between real reports
        telegram.arrived.clear()
        started = time.perf_counter()
        await person.presses("Send")
        await asyncio.wait_for(telegram.arrived.wait(), timeout=30)
        if number >= 3:  # the first few warm up
            latencies.append(telegram.arrived_at - started)
            handler.append(bot.samples[-1])
        telegram.forget_chat(person.user_id)
    await bot.runtime.stop_background()
    await bot.stop()
    return {"reports": reports, "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99), "max": max(latencies),
            "submit_p50": percentile(handler, 0.5)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    for backend in databases.backends:
        url = databases.fresh(backend)
        try:
            figures = asyncio.run(measure(url, 50 if quick else 200))
        finally:
            databases.drop(url)
        figures["backend"] = backend
        print(f"(c) submit -> first alert request [{backend}], {figures['reports']} reports: "
              f"p50 {figures['p50'] * 1000:.1f} ms, p99 {figures['p99'] * 1000:.1f} ms "
              f"(max {figures['max'] * 1000:.1f} ms; the submit update itself p50 "
              f"{figures['submit_p50'] * 1000:.1f} ms)")
        results.append(figures)
    return results
