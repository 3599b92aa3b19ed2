"""(g) Export and statistics at 100,000 victims, inside the bot: time, peak memory, and the
longest stall of the event loop while they run.

A year of cases is bulk-written (executemany on SQLite, COPY on PostgreSQL): 80,000 cases, one in
four with two victims (100,000 victims), one perpetrator each, spread over the months and the 144
villages. Then, in a fresh process per measurement (so that memory is the bot's alone), the real
bot runs on that database and a kabupaten admin sends ``/ekspor`` (xlsx, both sheets) or
``/statistik`` through the Telegram double, as in chat. Measured:

- **time**: from the update reaching the bot to the document (or the chart) sent;
- **peak memory**: the largest growth of the bot process's resident set over its size just before
  the command, and of it together with the export's worker process (sampled every 5 ms by a
  thread; a small export and statistics run first, so first imports do not count), at two sizes:
  bounded memory is the same at both;
- **longest stall**: a ticker task on the bot's event loop wakes every 2 ms and records the
  largest lateness; every other update waits at least that long;
- **others' updates**: meanwhile another person sends a command every 50 ms; the longest time one
  of them spent in the bot is what a reporter would feel;
- **control**: before the command, the same ticker and the same person for 20 s with nothing else
  running: the stall and the slowest update the machine's own load causes (the figures are taken
  on a shared machine).

The Telegram double keeps only the size of a sent document, not its bytes (its memory is
Telegram's, not the bot's).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url

from bench.common import Databases, LeanTelegram, percentile, start_bot
from bot.app import freeze_startup_objects
from models import Case, Perpetrator, Victim, VictimPerpetrator

CHUNK = 20_000
STALL_TARGET = 0.100
TICK = 0.002
OTHERS_EVERY = 0.05
CONTROL_SECONDS = 20.0
ADMIN = 4_900_001
NEIGHBOUR = 4_900_002


def rss_kb(pid: int | str = "self") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # a worker that just ended
        pass
    return 0


def children() -> list[str]:
    """The processes this one started (the export's worker)."""
    found: list[str] = []
    for task in Path("/proc/self/task").iterdir():
        try:
            found += (task / "children").read_text().split()
        except OSError:
            continue
    return found


# ---- the data ---------------------------------------------------------------------------------

def _villages() -> list[tuple[str, str]]:
    import csv

    from bot.regions import shipped_file

    with shipped_file("paser_wilayah.csv").open(encoding="utf-8") as fh:
        return [(row["kecamatan_code"], row["village_code"]) for row in csv.DictReader(fh)]


def _defaults(model: Any) -> dict[str, Any]:
    """Every column with its default (or NULL): columns added to a model later are filled too."""
    return {column.name: getattr(column.default, "arg", None)
            for column in model.__table__.columns}


def generate(victims: int, year: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) for cases, victims, perpetrators and links, ids given, in insert order."""
    rng = random.Random(13)
    villages = _villages()
    start = datetime(year, 1, 1, tzinfo=UTC) - timedelta(hours=8)
    span = (min(datetime.now(UTC), datetime(year, 12, 31, tzinfo=UTC)) - start).total_seconds()
    forms = ["fisik", "psikis", "seksual", "eksploitasi", "tppo", "penelantaran", "lainnya"]
    places = ["rumah_tangga", "tempat_kerja", "sekolah", "fasilitas_umum", "lainnya"]
    bands = ["0-5", "6-12", "13-17", "18-24", "25-44", "45-59", "60+"]
    case_defaults, victim_defaults = _defaults(Case), _defaults(Victim)
    case_id = victim_id = 0
    made = 0
    while made < victims:
        case_id += 1
        count = 2 if case_id % 4 == 0 else 1
        kecamatan, village = villages[case_id % len(villages)]
        created = start + timedelta(seconds=span * case_id / (victims * 0.8 + 1))
        types = sorted(rng.sample(forms, 1 + (case_id % 7 == 0)), key=forms.index)
        band = bands[case_id % len(bands)]
        child = band in ("0-5", "6-12", "13-17")
        acknowledged = created + timedelta(minutes=5 + case_id % 300) \
            if case_id % 10 else None
        yield "cases", case_defaults | {
            "id": case_id, "reference": f"PSR-{year % 100}-B{case_id:07d}",
            "submit_key": f"bench:{case_id}", "public_id": f"B{case_id:011d}",
            "reporter_id": None,
            "status": "selesai" if acknowledged else "baru",
            "priority": "high" if child else "normal", "urgent": False, "practice": False,
            "language": "id", "reporter_role": "witness",
            "victim_category": "child" if child else "woman", "victim_sex": "f",
            "victim_age_band": band, "victim_age": None, "victim_count": count,
            "violence_types": types, "kecamatan_code": kecamatan, "village_code": village,
            "place": places[case_id % len(places)], "landmark": None, "occurred": "week",
            "perpetrator": "tetangga", "narrative": None, "contact_allowed": False,
            "phone": None, "contact_time": None, "created_at": created, "updated_at": created,
            "incident_date": created.date() - timedelta(days=3), "incident_precision": "day",
            "channel": "bot", "tier": "desa", "acknowledged_at": acknowledged,
            "acknowledged_by": "Ibu Rahma" if acknowledged else None,
            "closed_at": acknowledged + timedelta(days=9) if acknowledged else None,
        }
        yield "perpetrators", {"id": case_id, "case_id": case_id, "number": 1, "sex": "m",
                               "age": 20 + case_id % 40}
        for number in range(1, count + 1):
            victim_id += 1
            made += 1
            yield "victims", victim_defaults | {
                "id": victim_id, "case_id": case_id, "number": number, "sex": "f",
                "age": None, "age_band": band if number == 1 else None, "is_child": child,
                "violence": types, "education": None, "occupation": None,
                "marital_status": None, "disability": None, "services": ["pengaduan"],
            }
            yield "victim_perpetrators", {"victim_id": victim_id, "perpetrator_id": case_id,
                                          "relation": "tetangga"}


TABLES = {"cases": Case, "victims": Victim, "perpetrators": Perpetrator,
          "victim_perpetrators": VictimPerpetrator}
ORDER = ("cases", "perpetrators", "victims", "victim_perpetrators")


def fill_sqlite(url: str, victims: int, year: int) -> int:
    engine = create_sync_engine(make_url(url).set(drivername="sqlite"))
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in ORDER}
    cases = 0

    def flush(connection: Any) -> None:
        for name in ORDER:  # parents first: the foreign keys are checked
            if pending[name]:
                connection.execute(Table.insert(TABLES[name].__table__),  # type: ignore[arg-type]
                                   pending[name])
                pending[name] = []

    with engine.begin() as connection:
        connection.execute(text("PRAGMA synchronous=OFF"))
        for table, row in generate(victims, year):
            pending[table].append(row)
            cases += table == "cases"
            if len(pending["cases"]) >= CHUNK:
                flush(connection)
        flush(connection)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return cases


async def fill_postgres(url: str, victims: int, year: int) -> int:
    import asyncpg

    parsed = make_url(url)
    connection = await asyncpg.connect(host=parsed.host, port=parsed.port, user=parsed.username,
                                       password=parsed.password, database=parsed.database)
    columns = {name: [c.name for c in TABLES[name].__table__.columns] for name in ORDER}
    pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ORDER}
    json_columns = {"violence_types", "violence", "services"}
    cases = 0

    async def flush() -> None:
        for name in ORDER:
            if pending[name]:
                await connection.copy_records_to_table(name, records=pending[name],
                                                       columns=columns[name])
                pending[name] = []

    try:
        for table, row in generate(victims, year):
            pending[table].append(tuple(json.dumps(row[c]) if c in json_columns else row[c]
                                        for c in columns[table]))
            cases += table == "cases"
            if len(pending["cases"]) >= CHUNK:
                await flush()
        await flush()
        for name in ("cases", "victims", "perpetrators"):  # ids were given: move the sequences
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                                     f"(SELECT max(id) FROM {name}))")
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return cases


# ---- measuring inside the bot -------------------------------------------------------------------

class UploadSizes(LeanTelegram):
    """The double, keeping a sent document's size instead of its bytes."""

    async def do_request(self, url: str, method: str, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:
        answer = await super().do_request(url, method, *args, **kwargs)
        last = self.calls[-1]
        for name, value in list(last.files.items()):
            if isinstance(value, tuple) and len(value) > 1 and isinstance(value[1], bytes):
                last.files[name] = (value[0], len(value[1]))
        return answer


class Ticker:
    """Wakes every ``TICK`` on the event loop and records how late it woke. With
    ``PPA_BOT_BENCH_STALLS=FILE``, a watchdog thread also writes what the loop was doing whenever
    it stayed away longer than half the target (the loop thread's stack, counted)."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self.running = True
        self.last = time.perf_counter()
        self.stacks: dict[str, int] = {}

    async def run(self) -> None:
        watchdog = None
        if os.environ.get("PPA_BOT_BENCH_STALLS"):
            watchdog = threading.Thread(target=self._watch, args=(threading.get_ident(),),
                                        daemon=True)
            watchdog.start()
        self.last = last = time.perf_counter()
        while self.running:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            self.late.append(now - last - TICK)
            self.last = last = now
        if watchdog is not None:
            watchdog.join()
            found = "".join(f"---- {count} samples\n{stack}\n" for stack, count in
                            sorted(self.stacks.items(), key=lambda kv: -kv[1]))
            with Path(os.environ["PPA_BOT_BENCH_STALLS"]).open("a") as out:  # noqa: ASYNC230
                out.write(found)

    def _watch(self, loop_thread: int) -> None:
        while self.running:
            time.sleep(0.01)
            if time.perf_counter() - self.last > STALL_TARGET / 2:
                frame = sys._current_frames().get(loop_thread)
                if frame is not None:
                    stack = "".join(traceback.format_stack(frame)[-14:])
                    self.stacks[stack] = self.stacks.get(stack, 0) + 1

    @property
    def worst(self) -> float:
        return max(self.late, default=0.0)

    def summary(self) -> dict[str, float]:
        """Milliseconds: the longest stall, the 99.9th percentile, and stalls over the target per
        minute."""
        minutes = (sum(self.late) + TICK * len(self.late)) / 60 or 1.0
        return {"max_ms": self.worst * 1000, "p999_ms": percentile(self.late, 0.999) * 1000,
                "over_target_per_minute": sum(late > STALL_TARGET for late in self.late) / minutes}


class MemoryWatch(threading.Thread):
    """The largest resident set of the bot's process, and of it with its worker processes."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = self.peak_with_workers = rss_kb()
        self.stop = threading.Event()

    def run(self) -> None:
        seen: dict[str, float] = {}
        while not self.stop.wait(0.005):
            own = rss_kb()
            self.peak = max(self.peak, own)
            now = time.monotonic()
            # A worker is started by fork and exec: in between it shows the bot's own pages.
            # Counted from half a second after it appears.
            settled = [pid for pid in children() if now - seen.setdefault(pid, now) > 0.5]
            self.peak_with_workers = max(self.peak_with_workers,
                                         own + sum(rss_kb(pid) for pid in settled))


async def measure(url: str, command: str) -> dict[str, Any]:
    from tests.case_factory import add_officer
    from tests.harness import Person

    telegram = UploadSizes()
    bot = await start_bot(url, telegram=telegram)
    async with bot.runtime.sessions() as session:
        known = await session.scalar(text("SELECT 1 FROM responders WHERE chat_id = :id"),
                                     {"id": ADMIN})
    if not known:
        await add_officer(bot.runtime.sessions, ADMIN, "64.01", admin=True, name="Rina")
    admin = Person(bot, ADMIN, language_code="id")
    neighbour = Person(bot, NEIGHBOUR, language_code="id")
    await neighbour.sends("/bantuan")  # warm-up
    await admin.sends("/statistik 2019")
    await admin.sends("/ekspor 2019")
    await bot.runtime.settle()
    freeze_startup_objects()  # as the bot's start-up does (post_init)
    quiet = await control(bot, neighbour)
    baseline = rss_kb()
    watch = MemoryWatch()
    watch.start()
    ticker = Ticker()
    ticking = asyncio.create_task(ticker.run())
    others: list[float] = []
    started = time.perf_counter()
    await admin.sends(command)
    handler = time.perf_counter() - started
    while bot.runtime.errands:  # meanwhile, someone else talks to the bot
        sent = time.perf_counter()
        await neighbour.sends("/bantuan")
        others.append(time.perf_counter() - sent)
        if bot.runtime.errands:
            await asyncio.wait([*bot.runtime.errands], timeout=OTHERS_EVERY)
    await bot.runtime.settle()
    elapsed = time.perf_counter() - started
    ticker.running = False
    await ticking
    watch.stop.set()
    watch.join()
    sent = [c for c in telegram.calls if c.method in ("sendDocument", "sendPhoto")]
    assert sent, "nothing was sent"
    document = sent[-1].files.get("document", (None, 0))
    await bot.stop()
    return {"seconds": elapsed, "handler_seconds": handler,
            "peak_mb": (watch.peak - baseline) / 1024, "baseline_mb": baseline / 1024,
            "peak_with_workers_mb": (watch.peak_with_workers - baseline) / 1024,
            "stall_ms": ticker.worst * 1000, "stall": ticker.summary(),
            "others": len(others), "others_max_ms": max(others, default=0.0) * 1000,
            "control_stall": quiet[0], "control_others_max_ms": quiet[1] * 1000,
            "file_mb": document[1] / 1e6 if isinstance(document[1], int) else 0.0}


async def control(bot: Any, neighbour: Any) -> tuple[dict[str, float], float]:
    """The same ticker and the same neighbour, for ``CONTROL_SECONDS`` with nothing else going on:
    what the machine's own load costs (longest stall, slowest update)."""
    ticker = Ticker()
    ticking = asyncio.create_task(ticker.run())
    slowest = 0.0
    until = time.perf_counter() + CONTROL_SECONDS
    while time.perf_counter() < until:
        sent = time.perf_counter()
        await neighbour.sends("/bantuan")
        slowest = max(slowest, time.perf_counter() - sent)
        await asyncio.sleep(OTHERS_EVERY)
    ticker.running = False
    await ticking
    return ticker.summary(), slowest


def _in_child(url: str, command: str, answer: Any) -> None:
    try:
        answer.send(asyncio.run(measure(url, command)))
    except BaseException as exc:
        answer.send(exc)
        raise


def measured(url: str, command: str) -> dict[str, Any]:
    """``measure`` in a new process (not a daemon: the bot starts its own worker processes):
    its memory is the bot's alone."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_in_child, args=(url, command, send))
    child.start()
    result = receive.recv()
    child.join()
    if isinstance(result, BaseException):
        raise result
    return dict(result)


def run(databases: Databases, *, quick: bool) -> list[dict[str, Any]]:
    sizes = [10_000] if quick else [10_000, 100_000]
    year = date.today().year
    results = []
    for backend in databases.backends:
        for victims in sizes:
            url = databases.fresh(backend)
            try:
                started = time.perf_counter()
                cases = fill_sqlite(url, victims, year) if backend == "sqlite" \
                    else asyncio.run(fill_postgres(url, victims, year))
                filled = time.perf_counter() - started
                figures: dict[str, Any] = {"backend": backend, "victims": victims,
                                           "cases": cases, "fill_seconds": filled}
                for name, command in (("export", f"/ekspor {year}"),
                                      ("stats", f"/statistik {year}")):
                    figures[name] = one = measured(url, command)
                    verdict = "met" if one["stall_ms"] <= STALL_TARGET * 1000 else "MISSED"
                    stall, quiet = one["stall"], one["control_stall"]
                    print(f"(g) {name:6} [{backend}] {victims:>7,} victims ({cases:,} cases): "
                          f"{one['seconds']:.2f} s, peak +{one['peak_mb']:.0f} MB (process "
                          f"{one['baseline_mb']:.0f} MB before; with the worker process +"
                          f"{one['peak_with_workers_mb']:.0f} MB); loop stall max "
                          f"{stall['max_ms']:.0f} ms (target <= {STALL_TARGET * 1000:.0f} ms: "
                          f"{verdict}), p99.9 {stall['p999_ms']:.0f} ms, "
                          f"{stall['over_target_per_minute']:.1f}/min over the target; "
                          f"{one['others']} other updates meanwhile, slowest "
                          f"{one['others_max_ms']:.0f} ms. Control, nothing running: stall max "
                          f"{quiet['max_ms']:.0f} ms, p99.9 {quiet['p999_ms']:.0f} ms, "
                          f"{quiet['over_target_per_minute']:.1f}/min over; slowest update "
                          f"{one['control_others_max_ms']:.0f} ms"
                          + (f"; file {one['file_mb']:.1f} MB" if name == "export" else ""),
                          flush=True)
            finally:
                databases.drop(url)
            results.append(figures)
    return results
