"""The escalation sweep stays flat as cases pile up (DESIGN §8): every question it asks the
database is answered from an index, never by reading the whole cases table. Checked with the
database's own query planner after ANALYZE, on SQLite and on PostgreSQL; the timings themselves
are in bench/sweep.py (benchmarks, not tests)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, text

from bot.clock import FakeClock
from tests.case_factory import add_cases, add_officer, new_case
from tests.harness import Harness

KUARO = "64.01.05"


async def planned_statements(bot: Harness) -> list[tuple[str, Any]]:
    """The SELECTs one sweep runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "cases" in statement:
            seen.append((statement, parameters))

    engine = bot.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        await bot.runtime.escalation.sweep()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


async def test_every_question_of_the_sweep_is_answered_from_an_index(
        bot: Harness, clock: FakeClock) -> None:
    await add_officer(bot.runtime.sessions, 7_100_001, KUARO)
    long_ago = clock.now() - timedelta(days=400)
    closed = [new_case(long_ago, acknowledged_after=timedelta(minutes=20), status="selesai",
                       closed_at=long_ago + timedelta(days=9), tier="desa")
              for _ in range(1500)]
    ahead = [new_case(clock.now(), tier="desa", ack_deadline=clock.now() + timedelta(hours=5))
             for _ in range(30)]
    due = [new_case(clock.now() - timedelta(hours=2), tier="desa",
                    ack_deadline=clock.now() - timedelta(hours=1)) for _ in range(3)]
    await add_cases(bot.runtime.sessions, *closed, *ahead, *due)
    async with bot.runtime.engine.begin() as conn:
        await conn.execute(text("ANALYZE"))

    statements = await planned_statements(bot)

    assert len(statements) >= 4  # due deadlines, police reminders, unrouted, the unrouted count
    sqlite = bot.runtime.engine.dialect.name == "sqlite"
    async with bot.runtime.engine.connect() as conn:
        for statement, parameters in statements:
            driver = await conn.get_raw_connection()
            plan = await _explain(driver.driver_connection, statement, parameters, sqlite)
            full_scan = "SCAN cases" if sqlite else "Seq Scan on cases"
            assert full_scan not in plan, f"{statement}\n{plan}"


async def _explain(driver: Any, statement: str, parameters: Any, sqlite: bool) -> str:
    if sqlite:
        cursor = await driver.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in await cursor.fetchall())
    rows = await driver.fetch("EXPLAIN " + statement, *(parameters or ()))
    return "\n".join(row[0] for row in rows)
