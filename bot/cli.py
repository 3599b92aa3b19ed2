"""The ``ppa-bot`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from bot import admin_cli, cli_cases, cli_providers, cli_responders
from bot.config import ConfigError, Settings, load_settings, require_token, require_webhook
from bot.crypto import KeyMaterialError, generate_key
from bot.logging_setup import setup_logging
from bot.setup_errors import SetupError

log = logging.getLogger("ppa_bot")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from telegram.error import TelegramError

    from bot.app import build_application, installed_handlers
    from bot.bootstrap import prepare
    from bot.runtime import Runtime, checked_vault
    from bot.setup_errors import telegram_failure

    require_token(settings)
    if settings.telegram.mode == "webhook":
        require_webhook(settings)
    prepare(settings)
    # Never a new key over existing encrypted data; never a key that cannot read it.
    vault = checked_vault(settings)
    rt = Runtime.create(settings, vault=vault)
    application = build_application(rt, installed_handlers())
    try:
        if settings.telegram.mode == "webhook":
            from bot.webhook import run_webhook

            run_webhook(application, rt)
            return 0
        # Not PTB's run_polling: it confirms updates to Telegram before handling them
        # (bot/polling.py).
        from bot.polling import run_polling

        run_polling(application, rt)
    except TelegramError as exc:  # getMe at start, or a token revoked while running
        raise telegram_failure(exc, settings) from None
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import prepare
    from bot.db import upgrade

    if args.revision == "head":  # as every command does: a new database gets the regions too
        new = prepare(settings)
        print("database is at revision head" + (", regions imported" if new else ""))
        return 0
    upgrade(settings.database.url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def cmd_db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import downgrade

    downgrade(settings.database.url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


def cmd_regions_import(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import transaction, upgrade
    from bot.regions import RegionFileError, import_regions

    upgrade(settings.database.url)

    async def run() -> tuple[int, int]:
        async with transaction(settings.database.url) as session:
            return await import_regions(
                session, Path(args.csv), Path(args.aliases) if args.aliases else None,
                kabupaten_code=settings.region.kabupaten_code,
                kabupaten_name=settings.region.kabupaten_name)

    try:
        villages, aliases = asyncio.run(run())
    except (RegionFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"imported {villages} villages and {aliases} aliases")
    return 0


def cmd_keys_generate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.crypto import generate_lookup_key

    print(generate_lookup_key() if args.lookup else generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import prepare
    from bot.crypto import load_key_material
    from bot.db import database
    from bot.keys import finish_rotation, rotate_key_file
    from bot.runtime import default_key_file
    from models.encryption import install_cipher

    new = prepare(settings)  # a new database gets its first key, as at the bot's first start
    configured = settings.security.encryption_key
    key_file = default_key_file(settings)
    if configured.strip():
        material = load_key_material(configured, settings.security.lookup_key, key_file,
                                     create=False)
        if len(material.fernet_keys) < 2:
            print("error: put the new key first and the old one after it in "
                  "security.encryption_key (\"NEW,OLD\"), then run this again", file=sys.stderr)
            return 2
        vault = material.vault()
        install_cipher(vault)

        async def by_config() -> int:
            async with database(settings.database.url) as sessions:
                return await finish_rotation(sessions, vault, "security.encryption_key")

        count = asyncio.run(by_config())
        print(f"re-encrypted {count} values; every value now reads with the first key alone: "
              f"remove the old key(s) from security.encryption_key")
        return 0

    if new and not key_file.is_file():  # a new database: its first key, as at the first start
        load_key_material("", settings.security.lookup_key, key_file, create=True)
    count, resumed = rotate_key_file(settings.database.url, key_file,
                                     configured_lookup=settings.security.lookup_key)
    if resumed:
        print("finished the rotation an earlier run left unfinished")
    print(f"re-encrypted {count} values under a new key in {key_file}")
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.bootstrap import prepare
    from bot.clock import Clock
    from bot.db import database
    from bot.health import health_report, is_healthy

    prepare(settings)

    async def run() -> dict[str, object]:
        async with database(settings.database.url) as sessions:
            return await health_report(sessions, Clock().now())

    report = asyncio.run(run())
    for key, value in report.items():
        print(f"{key.replace('_', ' ')}: {value}")
    healthy = is_healthy(report)
    print("state: " + ("healthy" if healthy else "NEEDS ATTENTION"))
    return 0 if healthy else 1


Command = Callable[[argparse.Namespace, Settings], int]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ppa-bot", description="PPA reporting bot for Telegram.")
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="run the bot (polling or webhook, as telegram.mode says)",
        description="Migrate the database, import the shipped regions if it has none, run the "
                    "bot. While the district has no admin or village group yet, it prints the "
                    "next steps.")
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database schema", description="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema",
                           description="Apply Alembic migrations up to REVISION (default head); "
                                       "at head, a database without regions gets the shipped "
                                       "ones.")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db_sub.add_parser("downgrade", help="migrate back to REVISION",
                             description="Revert Alembic migrations down to REVISION.")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)

    regions = sub.add_parser("regions", help="region data", description="Region data commands.")
    regions_sub = regions.add_subparsers(dest="regions_command", required=True, metavar="ACTION")
    imp = regions_sub.add_parser(
        "import", help="import a kabupaten's villages from CSV",
        description="Import kecamatan and villages (Kemendagri codes) from CSV; existing rows are "
                    "updated. Columns: kecamatan_code,kecamatan,village_code,village,village_type.")
    imp.add_argument("csv", help="villages CSV, e.g. bot/data/paser_wilayah.csv")
    imp.add_argument("--aliases", help="CSV of other spellings: region_code,alias,why")
    imp.set_defaults(func=cmd_regions_import)

    cli_responders.add_parser(sub)
    admin_cli.add_commands(sub)  # admin add, stats, export, practice purge
    cli_cases.add_commands(sub)  # cases import
    cli_providers.add_commands(sub)  # providers import

    health = sub.add_parser(
        "health", help="outbox depth, unrouted cases, overdue alerts",
        description="Print the state of the outbox, unrouted cases and overdue acknowledgements; "
                    "exit 1 when something needs attention.")
    health.set_defaults(func=cmd_health)

    keys = sub.add_parser("keys", help="encryption keys", description="Encryption key commands.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    gen = keys_sub.add_parser("generate", help="print a new Fernet key",
                              description="Print a new key for security.encryption_key (or, with "
                                          "--lookup, for security.lookup_key).")
    gen.add_argument("--lookup", action="store_true",
                     help="a lookup key (finds reporters; set once, never rotated)")
    gen.set_defaults(func=cmd_keys_generate)
    rot = keys_sub.add_parser(
        "rotate", help="re-encrypt everything under a new key",
        description="With a key file: make a new key, re-encrypt every stored secret, drop the old "
                    "key; a run that was interrupted is finished by running it again. With "
                    "security.encryption_key: give \"NEW,OLD\" there first. The lookup key is "
                    "never rotated. Stop the bot while it runs.")
    rot.set_defaults(func=cmd_keys_rotate)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    token = ""
    try:
        settings = load_settings()
        token = settings.telegram.token.strip()
        setup_logging(settings.logging.level, settings.logging.format)
        func: Command = args.func
        return func(args, settings)
    except (ConfigError, KeyMaterialError) as exc:
        return _fail(str(exc), 2, token)
    except SetupError as exc:
        return _fail(str(exc), exc.code, token)
    except (OSError, DBAPIError) as exc:
        # A database that cannot be reached or a path that cannot be written: one line, no
        # traceback, and never the URL itself (it may hold a password).
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return _fail(f"{reason}. Check database.url (PPA_BOT_DATABASE__URL) and the paths "
                     "given.", 1, token)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a fault of ours: its stack in the log, without its message
        log.error("%s failed", args.command, exc_info=exc)
        return _fail(f"{type(exc).__name__} in ppa-bot {args.command}: a fault of the program, "
                     "not of the set-up. The line above has where it happened; please report "
                     "it.", 1, token)


def _fail(message: str, code: int, token: str) -> int:
    """Print ``error: message`` as one line, without the bot's token whatever it quotes."""
    line = " ".join(message.split())
    if token:
        line = line.replace(token, "<token>")
    print(f"error: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
