"""The district's commands of ``ppa-bot``: ``admin add``, ``stats``, ``export``, ``practice purge``,
``poster``.

Wired into the parser by ``bot.cli.parser`` (``add_commands``). Each runs against the configured
database while the bot may be running (a new database is migrated and gets the shipped regions
first); none needs the bot's token, except ``poster`` when the bot's username is neither given
nor configured (it is then asked from Telegram).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings

if TYPE_CHECKING:
    from bot.regions import RegionDirectory

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    from bot.bootstrap import prepare
    from bot.db import database

    prepare(settings)

    async def run() -> T:
        async with database(settings.database.url) as sessions:
            return await work(sessions)

    return asyncio.run(run())


MAX_PROBLEMS_SHOWN = 200  # of a file's problems, printed one a line; the count is always said


def read_input(path: Path) -> bytes | None:
    """A file named on the command line, whole; None (and one line on stderr) when unreadable."""
    try:
        return path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return None


def refuse_file(path: Path, problems: list[str]) -> int:
    """A file an import refused: each problem with its line, then that nothing was written."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"{path}: {problem}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"... and {len(problems) - MAX_PROBLEMS_SHOWN} more", file=sys.stderr)
    print(f"nothing was imported: {len(problems)} problem(s) in {path}; correct them and run "
          "the command again", file=sys.stderr)
    return 1


def _year(settings: Settings, year: int | None) -> int:
    from bot.clock import Clock

    return year or Clock().now().astimezone(settings.tz).year


def cmd_admin_add(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.onboarding import add_admin
    from bot.services.responders import ResponderError

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions.begin() as session:
            _responder, what = await add_admin(session, settings, args.user_id, args.name,
                                               Clock().now())
            return what

    try:
        what = _run(settings, work)
    except ResponderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"admin {args.user_id} ({args.name}) {what} for kabupaten "
          f"{settings.region.kabupaten_name} ({settings.region.kabupaten_code}). They now open "
          "the bot in Telegram and send /start; /petugas, /grup and /undang are theirs.")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.stats import Scope, StatsService, chart_png, render

    year = _year(settings, args.year)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Any:
        return await StatsService(sessions, Clock(), settings).year(year, Scope(args.region))

    stats = _run(settings, work)
    print(render(stats, args.language, html=False))
    if args.chart:
        Path(args.chart).write_bytes(chart_png(stats, args.language))
        print(f"\nchart written to {args.chart}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.export import SUFFIXES, ExportService
    from bot.services.export_sheets import victims_file

    year = _year(settings, args.year)
    suffix = Path(args.out).suffix.lower() if args.out else ""
    fmt = args.format or {".xlsx": "xlsx", ".zip": "csv", ".csv": "csv"}.get(suffix, "xlsx")
    allowed = {"xlsx": (".xlsx",), "csv": (".zip", ".csv")}[fmt]
    if args.out and suffix not in allowed:
        print(f"error: give --out FILE{' or FILE'.join(allowed)} for the {fmt} export",
              file=sys.stderr)
        return 2

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Any:
        service = ExportService(sessions, Clock(), settings)
        out = Path(args.out or service.filename(year) + SUFFIXES[fmt])
        return await service.export(year, fmt, actor="cli", actor_name="ppa-bot export",
                                    language=args.language, out=out)

    result = _run(settings, work)
    if result.path.suffix == ".csv":
        where = f"{result.path} (per case) and {victims_file(result.path)} (per victim)"
    else:
        where = f"{result.path} ({fmt}: " + ("sheets" if fmt == "xlsx" else "files") + \
            " per case and per victim)"
    print(f"exported {result.rows} cases ({result.victims} victims) of {year} to {where}; "
          f"recorded in each case's history as export {result.export_id}")
    return 0


def cmd_practice_purge(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.services.practice import purge_practice

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions.begin() as session:
            return await purge_practice(session, Clock().now(), older_than_days=args.older_than)

    removed = _run(settings, work)
    print(f"removed {removed} practice case(s)")
    return 0


def cmd_poster(args: argparse.Namespace, settings: Settings) -> int:
    from bot.config import USERNAME
    from bot.poster import PosterError, bot_link, file_name, poster_pdf, posters_zip, village_named
    from bot.setup_errors import fetch_username

    username = (args.username or "").strip().removeprefix("@")
    if username and not USERNAME.fullmatch(username):
        print("error: --username is the bot's username as in its t.me link (5-32 letters, digits "
              "or _), for example ppa_paser_bot", file=sys.stderr)
        return 2
    regions = _run(settings, _load_regions)
    try:
        place = None if args.all else village_named(regions, args.village)
    except PosterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not username:
        username = asyncio.run(fetch_username(settings))
    link = bot_link(username)
    if place is not None:
        out = Path(args.out or file_name(place))
        out.write_bytes(poster_pdf(settings, username, place, args.language))
        print(f"poster for {place.kind.capitalize()} {place.village}, Kecamatan {place.kecamatan} "
              f"({place.code}) written to {out}; its QR code opens {link}")
        return 0
    content, count = posters_zip(settings, username, regions, args.language)
    if count == 0:
        print("error: no villages in the database: import them with `ppa-bot regions import "
              "CSV`", file=sys.stderr)
        return 1
    out = Path(args.out or f"poster-{settings.region.kabupaten_name.lower()}.zip")
    out.write_bytes(content)
    print(f"{count} posters (one PDF per village, a folder per kecamatan) written to {out}; "
          f"their QR code opens {link}")
    return 0


async def _load_regions(sessions: async_sessionmaker[AsyncSession]) -> RegionDirectory:
    from bot.regions import RegionDirectory

    async with sessions() as session:
        return await RegionDirectory.load(session)


def add_commands(sub: Any) -> None:
    """Add this module's commands to the ``ppa-bot`` sub-parsers."""
    admin = sub.add_parser("admin", help="kabupaten admins", description="Admin commands.")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True, metavar="ACTION")
    add = admin_sub.add_parser(
        "add", help="make a Telegram user a kabupaten admin",
        description="Register USER_ID as an admin for the whole kabupaten. Use it once, for the "
                    "first admin; further officers and admins are invited in chat with /undang.")
    add.add_argument("user_id", type=int, help="the person's numeric Telegram user id")
    add.add_argument("--name", required=True, help="name shown when they take a case")
    add.set_defaults(func=cmd_admin_add)

    stats = sub.add_parser(
        "stats", help="case and victim figures for a year",
        description="Cases and victims (one per person, as SIMFONI-PPA counts) by month, "
                    "kecamatan, type of violence, victim category, sex and age group; year to "
                    "date against last year; median time to acknowledgement; village group "
                    "coverage. Practice cases never count.")
    stats.add_argument("--year", type=int, help="calendar year (default: this year)")
    stats.add_argument("--region", help="limit to a kecamatan or village code, e.g. 64.01.05")
    stats.add_argument("--language", choices=("id", "en"), default="id")
    stats.add_argument("--chart", metavar="PNG", help="also write the chart to this file")
    stats.set_defaults(func=cmd_stats)

    export = sub.add_parser(
        "export", help="the year's cases: per case and per victim (SIMFONI-PPA), xlsx or csv",
        description="Two sheets: one row per case (ppa-bot's categories), one row per victim "
                    "(the SIMFONI-PPA columns of docs/SIMFONI.md, which `cases import` reads "
                    "back). xlsx: one workbook; csv: a zip holding the two CSV files, or with "
                    "--out FILE.csv the two files FILE.csv and FILE-korban.csv. Never the "
                    "narrative or the reporter's identity. Recorded in each exported case's "
                    "history.")
    export.add_argument("--year", type=int, help="calendar year (default: this year)")
    export.add_argument("--format", choices=("xlsx", "csv"),
                        help="default: from --out's extension (.xlsx, .zip, .csv), else xlsx")
    export.add_argument("--out", metavar="FILE",
                        help="default: kasus-<kabupaten>-<year>-<time>.xlsx or .zip")
    export.add_argument("--language", choices=("id", "en"), default="id",
                        help="language of headers and categories (default id)")
    export.set_defaults(func=cmd_export)

    practice = sub.add_parser("practice", help="practice reports (/latihan)",
                              description="Practice report commands.")
    practice_sub = practice.add_subparsers(dest="practice_command", required=True,
                                           metavar="ACTION")
    purge = practice_sub.add_parser("purge", help="delete practice cases",
                                    description="Delete every practice case, with its alerts "
                                                "and history.")
    purge.add_argument("--older-than", type=float, default=0, metavar="DAYS",
                       help="only those older than DAYS days (default: all)")
    purge.set_defaults(func=cmd_practice_purge)

    poster = sub.add_parser(
        "poster", help="A4 posters with the bot's QR code, for villages",
        description="An A4 poster in Bahasa Indonesia for a village: what the bot is for, that it "
                    "is safe and secret, how to start (the bot's t.me link as a QR code and "
                    "printed) and the emergency numbers (config: hotlines). It names no one. The "
                    "bot's username comes from --username, telegram.username, or Telegram "
                    "(getMe, with the token).")
    which = poster.add_mutually_exclusive_group(required=True)
    which.add_argument("--village", metavar="CODE",
                       help="the village's Kemendagri code, e.g. 64.01.05.2009 (or its name)")
    which.add_argument("--all", action="store_true",
                       help="every village: one PDF each, in a zip with a folder per kecamatan")
    poster.add_argument("--out", metavar="FILE",
                        help="default: poster-<code>-<village>.pdf, or poster-<kabupaten>.zip")
    poster.add_argument("--username", metavar="BOT",
                        help="the bot's username (without asking Telegram), e.g. ppa_paser_bot")
    poster.add_argument("--language", choices=("id", "en"), default="id",
                        help="the poster's language (default id)")
    poster.set_defaults(func=cmd_poster)
