"""The ``ppa-bot`` command (also ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from bot import admin_cli, cli_cases, cli_responders
from bot.config import ConfigError, Settings, load_settings, require_token, require_webhook
from bot.crypto import KeyMaterialError, generate_key
from bot.logging_setup import setup_logging

log = logging.getLogger("ppa_bot")


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_application
    from bot.bootstrap import prepare_database
    from bot.runtime import Runtime, open_vault

    require_token(settings)
    if settings.telegram.mode == "webhook":
        require_webhook(settings)
    prepare_database(settings.database.url, kabupaten_code=settings.region.kabupaten_code,
                     kabupaten_name=settings.region.kabupaten_name)
    vault = open_vault(settings, create=True)
    rt = Runtime.create(settings, vault=vault)
    application = build_application(rt)
    if settings.telegram.mode == "webhook":
        from bot.webhook import run_webhook

        run_webhook(application, rt)
        return 0
    # Not PTB's run_polling: it confirms updates to Telegram before handling them (bot/polling.py).
    from bot.polling import run_polling

    run_polling(application, rt)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from bot.db import upgrade

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
    print(generate_key())
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from bot.crypto import Vault, load_keys
    from bot.db import database
    from bot.keys import reencrypt_all
    from bot.runtime import default_key_file
    from models.encryption import install_cipher

    configured = settings.security.encryption_key
    key_file = default_key_file(settings)
    if configured.strip():
        keys = load_keys(configured, key_file, create=False)
        if len(keys) < 2:
            print("error: put the new key first and the old one after it in "
                  "security.encryption_key (\"NEW,OLD\"), then run this again", file=sys.stderr)
            return 2
    else:
        old = load_keys("", key_file, create=False)
        keys = [generate_key(), *old]
        _write_key_file(key_file, keys)  # both keys: a crash now leaves everything readable
    vault = Vault(keys)
    install_cipher(vault)

    async def run() -> int:
        async with database(settings.database.url) as sessions:
            return await reencrypt_all(sessions, vault)

    count = asyncio.run(run())
    if configured.strip():
        print(f"re-encrypted {count} rows; now remove the old key(s) from security.encryption_key")
    else:
        _write_key_file(key_file, keys[:1])
        print(f"re-encrypted {count} rows under a new key in {key_file}")
    return 0


def _write_key_file(path: Path, keys: list[str]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(keys) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    from bot.clock import Clock
    from bot.db import database
    from bot.health import health_report, is_healthy

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

    run = sub.add_parser("run", help="run the bot (polling or webhook, as telegram.mode says)",
                         description="Migrate the database, import regions if empty, run the bot.")
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database schema", description="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema",
                           description="Apply Alembic migrations up to REVISION (default head).")
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

    health = sub.add_parser(
        "health", help="outbox depth, unrouted cases, overdue alerts",
        description="Print the state of the outbox, unrouted cases and overdue acknowledgements; "
                    "exit 1 when something needs attention.")
    health.set_defaults(func=cmd_health)

    keys = sub.add_parser("keys", help="encryption keys", description="Encryption key commands.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    gen = keys_sub.add_parser("generate", help="print a new Fernet key",
                              description="Print a new key for security.encryption_key.")
    gen.set_defaults(func=cmd_keys_generate)
    rot = keys_sub.add_parser(
        "rotate", help="re-encrypt everything under a new key",
        description="With a key file: make a new key, re-encrypt every stored secret, drop the old "
                    "key. With security.encryption_key: give \"NEW,OLD\" there first. Stop the bot "
                    "while it runs.")
    rot.set_defaults(func=cmd_keys_rotate)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging()
    try:
        settings = load_settings()
        setup_logging(settings.logging.level, settings.logging.format)
        func: Command = args.func
        return func(args, settings)
    except (ConfigError, KeyMaterialError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, DBAPIError) as exc:
        # A database that cannot be reached or a path that cannot be written: one line, no
        # traceback, and never the URL itself (it may hold a password).
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        print(f"error: {reason}. Check database.url (PPA_BOT_DATABASE__URL) and the paths given.",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
