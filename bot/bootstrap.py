"""A database's first start: migrate to the newest schema and import the shipped Paser regions
when the region table is still empty. What `ppa-bot run` does; tests and benchmarks start there."""

from __future__ import annotations

import asyncio
import logging

from bot.db import transaction, upgrade
from bot.regions import import_regions, region_count, shipped_file

log = logging.getLogger(__name__)


async def import_shipped_regions_if_empty(url: str, *, kabupaten_code: str,
                                          kabupaten_name: str) -> None:
    async with transaction(url) as session:
        if await region_count(session) == 0:
            villages, aliases = await import_regions(
                session, shipped_file("paser_wilayah.csv"), shipped_file("paser_aliases.csv"),
                kabupaten_code=kabupaten_code, kabupaten_name=kabupaten_name)
            log.info("imported %d villages and %d aliases", villages, aliases)


def prepare_database(url: str, *, kabupaten_code: str = "64.01",
                     kabupaten_name: str = "Paser") -> None:
    """Synchronous: call it before the bot's event loop starts."""
    upgrade(url)
    asyncio.run(import_shipped_regions_if_empty(url, kabupaten_code=kabupaten_code,
                                                kabupaten_name=kabupaten_name))
