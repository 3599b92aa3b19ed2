"""Where a report step's time goes: statements and thread hops per update, counted by the drivers
themselves, and the share of the ORM, encryption, PTB and the rest in a cProfile of the walk.

Counting, not timing: nothing here depends on the machine's load.

- **Statements**: every SQL statement the database driver is given, transaction control included,
  as the drivers report them: SQLite's trace callback (``sqlite3.Connection.set_trace_callback``,
  which also shows the ``BEGIN`` and ``COMMIT`` the sqlite3 module issues on its own) on every
  connection the process opens, SQLAlchemy's and the bot's own alike; asyncpg's query logger
  (``Connection.add_query_logger``) on PostgreSQL.
- **Thread hops** (SQLite): each call handed to a database thread and awaited back: aiosqlite's
  ``Connection._execute`` (what SQLAlchemy's aiosqlite dialect does for every cursor, execute,
  fetch, close and commit) and the bot's own worker (``bot.db.SQLiteLane._call``).
- **Shares**: cProfile's own time per function, summed by where the function lives.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import aiosqlite
import aiosqlite.core
import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.common import Databases, LeanTelegram, start_bot, walk_report
from bot.db import InlineConnection, SQLiteLane, _LaneThread
from tests.case_factory import add_group
from tests.harness import Person

GROUP = -100_555_0001


@dataclass
class Tally:
    """Statements (their first word) and thread hops seen since the last ``take``."""

    statements: list[str] = field(default_factory=list)
    hops: int = 0
    # The lane's calls: time from the caller's side less the time the unit took in the thread
    # (handing it over, waking the thread, handing the answer back): what one hop costs.
    hop_costs: list[float] = field(default_factory=list)

    def statement(self, sql: str) -> None:
        self.statements.append(sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?")

    def take(self) -> tuple[list[str], int]:
        taken = (self.statements, self.hops)
        self.statements, self.hops = [], 0
        return taken


@contextmanager
def counting() -> Iterator[Tally]:
    """Count statements and hops on every connection opened inside the block."""
    tally = Tally()
    real_connect = sqlite3.connect
    real_execute = aiosqlite.core.Connection._execute
    real_pg_connect = asyncpg.connect

    def traced_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_connect(*args, **kwargs)
        connection.set_trace_callback(tally.statement)
        return connection

    async def counted_execute(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(self, InlineConnection):  # the lane's: runs where it is called
            tally.hops += 1
        return await real_execute(self, fn, *args, **kwargs)

    async def logged_pg_connect(*args: Any, **kwargs: Any) -> Any:
        connection = await real_pg_connect(*args, **kwargs)
        connection.add_query_logger(lambda record: tally.statement(record.query))
        return connection

    def sent_by_sqlalchemy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # asyncpg's logger sees its connection's own queries (transaction control, the lane's
        # reads and writes), not the prepared statements SQLAlchemy runs: those are counted here.
        if _conn.dialect.name == "postgresql":
            tally.statement(statement)

    patches: list[Any] = [mock.patch("sqlite3.connect", traced_connect),
               mock.patch.object(aiosqlite.core.Connection, "_execute", counted_execute),
               mock.patch("asyncpg.connect", logged_pg_connect)]
    real_call = SQLiteLane._call
    real_run = _LaneThread.run
    inside: list[float] = []

    async def counted_call(self: Any, fn: Any, *args: Any) -> Any:
        tally.hops += 1
        started = time.perf_counter()
        result = await real_call(self, fn, *args)
        if inside:
            tally.hop_costs.append(time.perf_counter() - started - inside.pop())
        return result

    def timed_run(self: Any, caller: Any, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_run(self, caller, fn, *args)
        finally:
            inside.append(time.perf_counter() - started)

    patches.append(mock.patch.object(SQLiteLane, "_call", counted_call))
    patches.append(mock.patch.object(_LaneThread, "run", timed_run))
    for patch in patches:
        patch.start()
    event.listen(Engine, "before_cursor_execute", sent_by_sqlalchemy)
    try:
        yield tally
    finally:
        event.remove(Engine, "before_cursor_execute", sent_by_sqlalchemy)
        for patch in reversed(patches):
            patch.stop()


async def settled() -> None:
    """Let asyncpg's query loggers run: it calls them soon after the query, not during it."""
    for _ in range(3):
        await asyncio.sleep(0)


def _kind(payload: dict[str, Any], index: int, last: int) -> str:
    if index == last:
        return "submit (Kirim)"
    if "callback_query" in payload:
        return "button step"
    text = payload["message"].get("text", "")
    return "command" if text.startswith("/") else "typed step"


async def _counted_walks(url: str, reports: int, tally: Tally) -> dict[str, Any]:
    bot = await start_bot(url, telegram=LeanTelegram())
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=GROUP)
    per_kind: dict[str, list[tuple[int, int]]] = {}
    words: dict[str, Counter[str]] = {}
    rounds: list[tuple[int, int]] = []
    await Person(bot, 3_000_000, language_code="en").completes_report()  # warm-up
    await bot.runtime.sender.drain()
    payloads: list[dict[str, Any]] = []
    real_feed = bot.feed

    async def recorded_feed(payload: dict[str, Any]) -> Any:
        await settled()
        tally.take()
        update = await real_feed(payload)
        await settled()
        payloads.append({"payload": payload, "counts": tally.take()})
        return update

    bot.feed = recorded_feed  # type: ignore[method-assign]
    for number in range(reports):
        payloads.clear()
        await walk_report(Person(bot, 3_100_000 + number, language_code="en"))
        for index, seen in enumerate(payloads):
            kind = _kind(seen["payload"], index, len(payloads) - 1)
            statements, hops = seen["counts"]
            per_kind.setdefault(kind, []).append((len(statements), hops))
            words.setdefault(kind, Counter()).update(statements)
        await settled()
        tally.take()
        handled = await bot.runtime.sender.run_once(limit=1)  # the alert to the group
        await settled()
        statements, hops = tally.take()
        if handled:
            rounds.append((len(statements), hops))
            words.setdefault("outbox round (one message)", Counter()).update(statements)
        await bot.runtime.sender.drain()
        bot.telegram.forget_chat(3_100_000 + number)  # type: ignore[attr-defined]
    await bot.stop()
    per_kind["outbox round (one message)"] = rounds
    return {"per_kind": per_kind, "words": words, "hop_costs": list(tally.hop_costs)}


GROUPS = (  # where a function lives → what it is counted as (first match wins)
    ("ORM (SQLAlchemy)", ("sqlalchemy/", "greenlet")),
    ("driver (aiosqlite, sqlite3, asyncpg)", ("aiosqlite/", "sqlite3", "asyncpg/", "_sqlite3")),
    ("encryption (Fernet, HMAC)", ("cryptography/", "fernet", "bot/crypto.py", "hmac",
                                   "models/encryption.py", "_hashlib", "base64", "os.urandom",
                                   "ciphers", "openssl")),
    ("PTB (telegram)", ("telegram/",)),
    ("asyncio and threads", ("asyncio/", "threading.py", "queue.py", "concurrent/", "selectors",
                             "epoll", "_socket", "SimpleQueue", "_asyncio", "_contextvars",
                             "_thread")),
    ("JSON", ("json/", "_json")),
    ("the bot (bot/, handlers/, models/)", ("/bot/", "/handlers/", "/models/")),
    ("the Telegram double and the driver (tests/, bench/)", ("/tests/", "/bench/")),
)


def _group(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    for group, needles in GROUPS:
        if any(needle in where for needle in needles):
            return group
    return "other (stdlib, gettext, re, …)"


async def _profiled_walks(url: str, reports: int) -> dict[str, float]:
    bot = await start_bot(url, telegram=LeanTelegram())
    await add_group(bot.runtime.sessions, "Pondong Baru", chat_id=GROUP)
    await Person(bot, 3_400_000, language_code="en").completes_report()  # warm-up
    await bot.runtime.sender.drain()
    profile = cProfile.Profile(time.thread_time)  # this thread's CPU, not its waits
    for number in range(reports):
        person = Person(bot, 3_500_000 + number, language_code="en")
        profile.enable()
        await walk_report(person, send=False)
        profile.disable()
        await person.presses("Send")
        await bot.runtime.sender.drain()
        bot.telegram.forget_chat(person.user_id)  # type: ignore[attr-defined]
    await bot.stop()
    stats = pstats.Stats(profile)
    shares: Counter[str] = Counter()
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        shares[_group(filename, name)] += row[2]  # own time
    total = sum(shares.values())
    return {group: seconds / total for group, seconds in shares.most_common()}


def _mean(pairs: list[tuple[int, int]], index: int) -> float:
    return sum(p[index] for p in pairs) / len(pairs) if pairs else float("nan")


def measure(databases: Databases, backend: str, *, reports: int = 5,
            profiled: int = 20) -> dict[str, Any]:
    """Counted walks and profiled walks, each on a fresh database of ``backend``."""
    url = databases.fresh(backend)
    try:
        with counting() as tally:
            counted = asyncio.run(_counted_walks(url, reports, tally))
    finally:
        databases.drop(url)
    url = databases.fresh(backend)
    try:
        shares = asyncio.run(_profiled_walks(url, profiled))
    finally:
        databases.drop(url)
    kinds = {}
    for kind, pairs in counted["per_kind"].items():
        common = counted["words"][kind].most_common()
        kinds[kind] = {"updates": len(pairs), "statements": _mean(pairs, 0),
                       "hops": _mean(pairs, 1), "max_statements": max(p[0] for p in pairs),
                       "words": {w: n / len(pairs) for w, n in common}}
    costs = sorted(counted["hop_costs"])
    hop = costs[len(costs) // 2] if costs else None
    return {"kinds": kinds, "shares": shares, "hop_ms": hop * 1000 if hop is not None else None}


def report(backend: str, figures: dict[str, Any]) -> None:
    print(f"    per-update profile [{backend}] (statements and hops counted by the drivers):")
    for kind, row in figures["kinds"].items():
        words = ", ".join(f"{w} {n:.1f}".replace(".0", "") for w, n in row["words"].items())
        print(f"      {kind:28} {row['statements']:5.1f} statements, {row['hops']:5.1f} thread "
              f"hops  ({words})")
    if figures.get("hop_ms") is not None:
        print(f"      one hop to the lane's thread and back (median, the unit itself excluded): "
              f"{figures['hop_ms']:.3f} ms")
    shares = ", ".join(f"{group} {share:.0%}" for group, share in figures["shares"].items()
                       if share >= 0.005)
    print(f"    cProfile own time over the steps [{backend}]: {shares}")
