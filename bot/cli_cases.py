"""``ppa-bot cases import CSV``: load a past case register (one row per victim, the per-victim
columns of docs/SIMFONI.md). Safe while the bot runs: the file is checked whole first, then
written in one short transaction, and imported cases are never routed or alerted."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin_cli import _run, read_input, refuse_file
from bot.config import Settings


def cmd_cases_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.register_import import ImportRefused, ImportResult, import_register

    path = Path(args.csv)
    if (raw := read_input(path)) is None:
        return 1

    async def work(sessions: async_sessionmaker[AsyncSession]) -> ImportResult:
        return await import_register(sessions, raw, Clock(), settings, dry_run=args.dry_run,
                                     actor="cli", actor_name="ppa-bot cases import")

    try:
        result = _run(settings, work)
    except ImportRefused as refused:
        return refuse_file(path, [str(problem) for problem in refused.problems])
    years = "; ".join(f"{year}: {cases} cases, {victims} victims"
                      for year, (cases, victims) in result.by_year().items())
    what = f"{len(result.cases)} cases ({result.victims} victims, {result.perpetrators} " \
           f"perpetrators)"
    if not result.written:
        print(f"checked {path}: {what} would be imported ({years}); nothing was written")
        return 0
    print(f"imported {what} from {path} as import {result.batch} ({years}). They are recorded "
          "as completed, count in statistics and exports, and nobody was alerted.")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``cases …`` to the ``ppa-bot`` sub-parsers."""
    cases = sub.add_parser("cases", help="the case register",
                           description="Case register commands.")
    cases_sub = cases.add_subparsers(dest="cases_command", required=True, metavar="ACTION")
    imp = cases_sub.add_parser(
        "import", help="load a past register (one row per victim, SIMFONI-PPA columns)",
        description="Load a past case register from CSV: one row per victim, the columns of "
                    "docs/SIMFONI.md (\"Per-victim columns\"; docs/register-sample.csv is an "
                    "example, and a per-victim export reads back). Rows with the same "
                    "Referensi form one case. Every problem is reported with its line and "
                    "then nothing is written. Imported cases are recorded as completed, count "
                    "in statistics and exports, and are never routed or alerted. Safe while "
                    "the bot runs.")
    imp.add_argument("csv", help="the register, UTF-8 (or Excel's CSV), comma or semicolon")
    imp.add_argument("--dry-run", action="store_true",
                     help="only check the file and say what would be imported")
    imp.set_defaults(func=cmd_cases_import)
