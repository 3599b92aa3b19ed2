"""A database's first start: migrate to the newest schema and import the shipped Paser regions
when the region table is still empty. What `ppa-bot run` and every other command that uses the
database do first; tests and benchmarks start there too."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.db import transaction, upgrade
from bot.regions import import_regions, region_count, shipped_file

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)

# The regions shipped in bot/data/ are Kabupaten Paser's; another kabupaten imports its own CSV.
SHIPPED_KABUPATEN = "64.01"


async def import_shipped_regions_if_empty(url: str, *, kabupaten_code: str,
                                          kabupaten_name: str) -> bool:
    """Import the shipped regions into an empty region table; True when it was empty."""
    async with transaction(url) as session:
        if await region_count(session) > 0:
            return False
        if kabupaten_code != SHIPPED_KABUPATEN:
            log.warning("no regions in the database: import kabupaten %s's villages with "
                        "`ppa-bot regions import CSV` (the shipped ones are Paser's)",
                        kabupaten_code)
            return True
        villages, aliases = await import_regions(
            session, shipped_file("paser_wilayah.csv"), shipped_file("paser_aliases.csv"),
            kabupaten_code=kabupaten_code, kabupaten_name=kabupaten_name)
        log.info("imported %d villages and %d aliases", villages, aliases)
        return True


def prepare_database(url: str, *, kabupaten_code: str = SHIPPED_KABUPATEN,
                     kabupaten_name: str = "Paser") -> bool:
    """Migrate, then import the shipped regions if there are none; True for a new database (it
    had no regions). Synchronous: call it before the bot's event loop starts."""
    upgrade(url)
    return asyncio.run(import_shipped_regions_if_empty(url, kabupaten_code=kabupaten_code,
                                                       kabupaten_name=kabupaten_name))


def prepare(settings: Settings) -> bool:
    """``prepare_database`` for the configured database and kabupaten."""
    return prepare_database(settings.database.url, kabupaten_code=settings.region.kabupaten_code,
                            kabupaten_name=settings.region.kabupaten_name)
