"""``make bench`` (``python -m bench``): every figure of DESIGN §8, with the machine's description.

    python -m bench                       all figures, SQLite and a throwaway PostgreSQL
    python -m bench --only a,d --quick    some figures, smaller sizes
    python -m bench --postgres URL        an existing server (its user may create databases)
    python -m bench --no-postgres         SQLite only
    python -m bench --json results.json   also write the figures as JSON

Without ``--postgres`` a durable (fsync on) PostgreSQL is started in the work folder with
``.ci/postgres.sh`` (installed from apt when missing); if that fails the PostgreSQL figures are
left out and the output says so. Logs go to ``bench.log`` in the work folder, at INFO as in
production.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

FIGURES = {
    "a": ("step_cost", "a report step vs PTB echo and echo + one commit (raw driver); profile"),
    "b": ("throughput", "sustained report steps per second, 1,000 reporters, double and HTTP"),
    "c": ("alert_latency", "submit -> first alert request"),
    "d": ("sweep", "escalation sweep with 10^2, 10^4, 10^6 cases"),
    "e": ("draft_memory", "memory per open draft at 10,000 drafts"),
    "f": ("cold_start", "cold start to first getUpdates"),
    "g": ("register", "export and statistics at 100,000 victims, inside the bot"),
    "h": ("evidence", "evidence download: a 20 MB file through the fake Bot API, others talking"),
}


def _logging_to(path: Path) -> None:
    from bot.logging_setup import QUIET_LOGGERS

    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(floor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="abcdefgh", help="figures to run, e.g. a,c (default all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a quick look)")
    parser.add_argument("--postgres", default=os.environ.get("PPA_BOT_BENCH_POSTGRES_URL"),
                        help="PostgreSQL server URL (postgresql+asyncpg://...)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--workdir", help="where the databases go (default: a new temp folder)")
    parser.add_argument("--json", help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    wanted = [key for key in args.only.replace(",", "") if key in FIGURES]

    from bench import machine
    from bench.common import Databases, temporary_postgres
    from tests import pg

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ppa-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    _logging_to(workdir / "bench.log")
    results: dict[str, Any] = {"command": "python -m bench " + " ".join(argv or sys.argv[1:])}
    with ExitStack() as stack:
        if not args.workdir:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        postgres = None if args.no_postgres else args.postgres
        if not args.no_postgres and not postgres:
            print("starting a throwaway PostgreSQL (fsync on) with .ci/postgres.sh ...", flush=True)
            postgres = stack.enter_context(temporary_postgres(workdir))
        pg_version = pg.server_version(postgres) if postgres else None
        description = machine.describe(workdir, pg_version)
        results["machine"] = description
        print("== ppa-bot benchmarks" + (" (quick)" if args.quick else ""))
        for line in description:
            print("   " + line)
        databases = Databases(workdir, postgres)
        stack.callback(databases.close)
        import importlib

        for key in wanted:
            module_name, title = FIGURES[key]
            load = os.getloadavg()[0]
            print(f"\n-- ({key}) {title}  [load {load:.2f}]", flush=True)
            module = importlib.import_module(f"bench.{module_name}")
            started = time.perf_counter()
            results[key] = {"load_at_start": load,
                            "figures": module.run(databases, quick=args.quick)}
            print(f"   ({time.perf_counter() - started:.0f} s)", flush=True)
            if args.json:  # after each figure: a long run that fails late keeps the rest
                Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
