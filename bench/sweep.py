"""(d) The escalation sweep with 10², 10⁴ and 10⁶ cases in the database.

Only due rows should cost anything: each size holds the same 10 unacknowledged cases past their
deadline (they climb from the village group to the kecamatan officer), about 1% open cases whose
deadline is still ahead, and the rest acknowledged or closed (10% of them sexual violence cases
whose police reminder was already sent). Cases are written in bulk (executemany on SQLite, COPY on
PostgreSQL), then ANALYZE, as autovacuum would. Each size is timed over several sweeps: one
with nothing due (the indexed questions alone) and one that escalates the 10 due cases (which are
put back between runs). Flatness is judged on the fastest of 11 runs (the least disturbed by
anything else on the machine); the median is shown beside it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, text, update
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url

from bench.common import Databases, bench_settings
from bot.clock import FakeClock
from bot.crypto import Vault, generate_key
from bot.runtime import Runtime
from models import Alert, Case, CaseEvent, OutboxMessage
from models.responder import OFFICER
from tests.case_factory import add_responder

DUE = 10
REPEATS = 11
KUARO = "64.01.05"
PONDONG_BARU = "64.01.05.2009"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
CHUNK = 20_000
FLATNESS = 2.0  # "flat": the largest size costs at most this many times the smallest


def _row(number: int, due: bool) -> dict[str, Any]:
    created = NOW - timedelta(days=number % 900, hours=3)
    row: dict[str, Any] = {
        "reference": f"PSR-26-{number:08d}", "submit_key": f"b:{number}", "reporter_id": None,
        "public_id": f"b{number:011d}",
        "status": "baru", "priority": "normal", "urgent": False, "practice": False,
        "language": "id", "reporter_role": "witness", "victim_category": "child",
        "victim_sex": "f", "victim_age_band": "6-12", "victim_age": None, "victim_count": 1,
        "violence_types": ["fisik"], "kecamatan_code": KUARO, "village_code": PONDONG_BARU,
        "place": "rumah_tangga", "landmark": None, "occurred": "week", "perpetrator": "tetangga",
        "narrative": None, "contact_allowed": False, "phone": None, "contact_time": None,
        "created_at": created, "updated_at": created, "tier": "desa", "ack_deadline": None,
        "acknowledged_at": None, "acknowledged_by": None, "police_deadline": None,
        "police_reminded": False, "unrouted": False, "consent_withdrawn": False,
        "closed_at": None, "referral": None, "close_reason": None,
    }
    if due:
        row["ack_deadline"] = NOW - timedelta(minutes=30)
    elif number % 100 == 0:  # open, deadline ahead
        row["ack_deadline"] = NOW + timedelta(hours=1 + number % 20)
    else:  # handled long ago
        row["acknowledged_at"] = created + timedelta(minutes=20)
        row["acknowledged_by"] = "Ibu Rahma"
        row["status"] = "selesai"
        row["closed_at"] = created + timedelta(days=10)
        if number % 10 == 1:
            row["violence_types"] = ["seksual"]
            row["police_deadline"] = created + timedelta(hours=72)
            row["police_reminded"] = True
    return row


def _rows(total: int) -> Any:
    """Every column filled (columns added to the model later get their default, or NULL)."""
    others = {column.name: getattr(column.default, "arg", None) for column in Case.__table__.columns
              if column.name != "id"}
    for number in range(total):
        yield others | _row(number, due=number >= total - DUE)


def fill_sqlite(url: str, total: int) -> None:
    engine = create_sync_engine(make_url(url).set(drivername="sqlite"))
    insert = Table.insert(Case.__table__)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(text("PRAGMA synchronous=OFF"))
        chunk: list[dict[str, Any]] = []
        for row in _rows(total):
            chunk.append(row)
            if len(chunk) == CHUNK:
                connection.execute(insert, chunk)
                chunk = []
        if chunk:
            connection.execute(insert, chunk)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


async def fill_postgres(url: str, total: int) -> None:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                       password=parsed.password, database=parsed.database)
    columns = [c.name for c in Case.__table__.columns if c.name != "id"]
    try:
        chunk: list[tuple[Any, ...]] = []
        for row in _rows(total):
            row["violence_types"] = json.dumps(row["violence_types"])
            chunk.append(tuple(row[c] for c in columns))
            if len(chunk) == CHUNK:
                await connection.copy_records_to_table("cases", records=chunk, columns=columns)
                chunk = []
        if chunk:
            await connection.copy_records_to_table("cases", records=chunk, columns=columns)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def time_sweeps(url: str) -> dict[str, float]:
    clock = FakeClock(NOW - timedelta(hours=1))
    rt = Runtime.create(bench_settings(url), clock=clock, vault=Vault([generate_key()]))
    await rt.load_regions()
    await add_responder(rt.sessions, kind=OFFICER, chat_id=7_100_001, region=KUARO,
                        name="Ibu Rahma")
    async with rt.sessions() as session:
        due_ids = list(await session.scalars(
            text("SELECT id FROM cases WHERE ack_deadline <= :now"), {"now": NOW}))
    assert len(due_ids) == DUE, due_ids

    async def put_back() -> None:
        async with rt.sessions.begin() as session:
            for model in (OutboxMessage, CaseEvent, Alert):
                await session.execute(delete(model).where(model.case_id.in_(due_ids)))
            await session.execute(update(Case).where(Case.id.in_(due_ids)).values(
                tier="desa", ack_deadline=NOW - timedelta(minutes=30)))

    idle: list[float] = []
    busy: list[float] = []
    await rt.escalation.sweep()  # warm-up
    for _ in range(REPEATS):
        clock._now = NOW - timedelta(hours=1)  # nothing due yet
        started = time.perf_counter()
        report = await rt.escalation.sweep()
        idle.append(time.perf_counter() - started)
        assert not report, report
        clock._now = NOW
        started = time.perf_counter()
        report = await rt.escalation.sweep()
        busy.append(time.perf_counter() - started)
        assert report.escalated == DUE, report
        await put_back()
    await rt.close()
    # The fastest run is the one least disturbed by anything else on the machine: flatness is
    # judged on it; the median is shown beside it.
    return {"idle": min(idle), "busy": min(busy), "idle_median": statistics.median(idle),
            "busy_median": statistics.median(busy)}


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    sizes = [100, 10_000, 100_000] if quick else [100, 10_000, 1_000_000]
    results = []
    for backend in databases.backends:
        figures: dict[str, Any] = {"backend": backend, "sizes": {}}
        for size in sizes:
            url = databases.fresh(backend)
            try:
                started = time.perf_counter()
                if backend == "sqlite":
                    fill_sqlite(url, size)
                else:
                    asyncio.run(fill_postgres(url, size))
                filled = time.perf_counter() - started
                timing = asyncio.run(time_sweeps(url))
            finally:
                databases.drop(url)
            figures["sizes"][size] = timing
            print(f"(d) escalation sweep [{backend}] {size:>9,} cases: nothing due "
                  f"{timing['idle'] * 1000:.2f} ms (median {timing['idle_median'] * 1000:.2f}), "
                  f"escalating {DUE} due {timing['busy'] * 1000:.1f} ms (median "
                  f"{timing['busy_median'] * 1000:.1f}); bulk insert {filled:.1f} s")
        small, large = figures["sizes"][sizes[0]], figures["sizes"][sizes[-1]]
        ratio = max(large["idle"] / small["idle"], large["busy"] / small["busy"])
        figures["largest_vs_smallest"] = ratio
        figures["target_met"] = ratio <= FLATNESS
        print(f"    {sizes[-1]:,} vs {sizes[0]:,} cases: {ratio:.2f}x "
              f"(flat, target <= {FLATNESS}x: {'met' if ratio <= FLATNESS else 'MISSED'})")
        results.append(figures)
    return results
