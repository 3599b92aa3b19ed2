"""(h) The evidence download path: a 20 MB file (the most the Bot API gives a bot) fetched through
the fake Bot API server (``bench/fake_api.py``, a process of its own) with PTB's real HTTP client
(``getFile``, then ``File.download_as_bytearray``), hashed, encrypted and written to the evidence
folder by the outbox's download sender, while another person keeps talking to the bot.

Measured: the time from the job's start to the file kept; the longest stall of the bot's event
loop meanwhile (the ticker of figure (g)); the other person's updates handled meanwhile and the
slowest of them; and a control with nothing downloading.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from bench.common import Databases, start_bot
from bench.fake_api import TOKEN, fake_api_process
from bench.register import OTHERS_EVERY, STALL_TARGET, Ticker
from tests.telegram_chats import DOWNLOAD_LIMIT, StoredFile

FILE_ID = "BENCH-EVIDENCE-20MB"
NEIGHBOUR = 4_900_102


def bench_file() -> StoredFile:
    """The file the fake server holds for the bench (``bench/fake_api.py`` registers it)."""
    return StoredFile(FILE_ID, "video", DOWNLOAD_LIMIT)


async def measure(url: str, api: str) -> dict[str, Any]:
    from models import Evidence
    from tests.case_work import seeded_case
    from tests.harness import Person

    bot = await start_bot(url, api=api, telegram_settings={
        "token": TOKEN, "base_url": api,
        "base_file_url": api.removesuffix("/bot") + "/file/bot"})
    neighbour = Person(bot, NEIGHBOUR, language_code="id")
    await neighbour.sends("/bantuan")  # warm-up
    case = await seeded_case(bot)
    quiet = Ticker()
    ticking = asyncio.create_task(quiet.run())
    control_slowest = 0.0
    until = time.perf_counter() + 5.0
    while time.perf_counter() < until:
        sent = time.perf_counter()
        await neighbour.sends("/bantuan")
        control_slowest = max(control_slowest, time.perf_counter() - sent)
        await asyncio.sleep(OTHERS_EVERY)
    quiet.running = False
    await ticking

    async with bot.runtime.sessions.begin() as session:
        evidence = Evidence(case_id=case.id, kind="video", file_id=FILE_ID,
                            file_unique_id="bench", size=None, created_at=bot.clock.now())
        session.add(evidence)
        await bot.runtime.evidence.added(session, evidence, bot.clock.now())
    ticker = Ticker()
    ticking = asyncio.create_task(ticker.run())
    started = time.perf_counter()
    job = asyncio.create_task(bot.runtime.downloads.drain())
    others: list[float] = []
    while not job.done():
        sent = time.perf_counter()
        await neighbour.sends("/bantuan")
        others.append(time.perf_counter() - sent)
        await asyncio.wait([job], timeout=OTHERS_EVERY)
    await job
    elapsed = time.perf_counter() - started
    ticker.running = False
    await ticking
    async with bot.runtime.sessions() as session:
        row = await session.get(Evidence, evidence.id)
        assert row is not None and row.stored is not None, "the file was not kept"
        kept = row.sha256 == hashlib.sha256(bench_file().bytes()).hexdigest()
    await bot.stop()
    return {"seconds": elapsed, "stall": ticker.summary(), "others": len(others),
            "others_max_ms": max(others, default=0.0) * 1000, "hash_ok": kept,
            "control_stall": quiet.summary(), "control_others_max_ms": control_slowest * 1000}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    results = []
    with fake_api_process() as api:
        for backend in databases.backends:
            url = databases.fresh(backend)
            try:
                one = asyncio.run(measure(url, api))
            finally:
                databases.drop(url)
            stall, quiet = one["stall"], one["control_stall"]
            verdict = "met" if stall["max_ms"] <= STALL_TARGET * 1000 else "MISSED"
            print(f"(h) evidence [{backend}] 20 MB through the fake Bot API: kept in "
                  f"{one['seconds']:.2f} s (hash {'checked' if one['hash_ok'] else 'WRONG'}); "
                  f"loop stall max {stall['max_ms']:.0f} ms (target <= "
                  f"{STALL_TARGET * 1000:.0f} ms: {verdict}), p99.9 {stall['p999_ms']:.0f} ms; "
                  f"{one['others']} other updates meanwhile, slowest "
                  f"{one['others_max_ms']:.0f} ms. Control: stall max {quiet['max_ms']:.0f} ms, "
                  f"slowest update {one['control_others_max_ms']:.0f} ms", flush=True)
            results.append({"backend": backend, **one})
    return results
