"""``ppa-bot providers import CSV``: load a district's provider directory (columns kind, name,
kecamatan; ``bot/data/paser_layanan.csv`` is Paser's). Safe while the bot runs: the file is
checked whole first, every bad line reported with its number and then nothing written; a good
file is written in one short transaction (new providers added, known ones updated)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.admin_cli import _run, read_input, refuse_file
from bot.config import Settings


def cmd_providers_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.providers import Imported, import_file

    path = Path(args.csv)
    if (raw := read_input(path)) is None:
        return 1

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Imported:
        return await import_file(sessions, raw, f"import:{path.name}"[:40], Clock().now(),
                                 dry_run=args.dry_run)

    result = _run(settings, work)
    if result.errors:
        return refuse_file(path, result.errors)
    if args.dry_run:
        print(f"checked {path}: {result.added} provider(s) would be imported; nothing was "
              "written")
        return 0
    print(f"imported {path}: {result.added} provider(s) added, {result.updated} updated")
    return 0


def add_commands(sub: Any) -> None:
    """Add ``providers …`` to the ``ppa-bot`` sub-parsers."""
    providers = sub.add_parser("providers", help="the provider directory",
                               description="Provider directory commands.")
    providers_sub = providers.add_subparsers(dest="providers_command", required=True,
                                             metavar="ACTION")
    imp = providers_sub.add_parser(
        "import", help="load a provider directory (kind, name, kecamatan)",
        description="Load a provider directory from CSV with the columns kind, name, kecamatan "
                    "(kind: a service code of docs/SIMFONI.md). Every problem is reported with "
                    "its line and then nothing is written; providers already there are updated "
                    "and reactivated. Contact numbers are not in the file: set them under "
                    "[providers] contacts in the configuration. Safe while the bot runs.")
    imp.add_argument("csv", help="the directory, UTF-8, comma or semicolon")
    imp.add_argument("--dry-run", action="store_true",
                     help="only check the file and say what would be imported")
    imp.set_defaults(func=cmd_providers_import)
