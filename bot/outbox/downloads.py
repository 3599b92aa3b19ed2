"""The outbox's download job: a file fetched from the Bot API for ``EvidenceService.download``
(``getFile``, then PTB's ``File.download_as_bytearray``). Telegram's refusal of a file over its
download limit ("file is too big") is ``TooBig``; a timeout is Telegram's ``TimedOut``, which the
sender retries with backoff like any network error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, TimedOut

from bot.services.evidence import TELEGRAM_TOO_BIG, Fetch, TooBig

Keep = Callable[[Fetch, dict[str, Any]], Awaitable[dict[str, Any]]]


async def fetch_file(bot: Bot, file_id: str, *, limit: int,
                     seconds: float) -> tuple[bytes, str | None]:
    """The file's bytes and Telegram's path for it (its suffix names the format)."""
    try:
        async with asyncio.timeout(seconds):
            telegram_file = await bot.get_file(file_id)
            if (telegram_file.file_size or 0) > limit:
                raise TooBig
            data = await telegram_file.download_as_bytearray()
    except BadRequest as exc:
        if TELEGRAM_TOO_BIG in str(exc).lower():
            raise TooBig from exc
        raise
    except TimeoutError as exc:
        raise TimedOut("the file download took too long") from exc
    return bytes(data), telegram_file.file_path


def download_job(keep: Keep, *, limit: int,
                 timeout: float) -> Callable[[Bot, dict[str, Any]], Awaitable[dict[str, Any]]]:
    """The job the download sender runs for a row: ``keep`` with a fetch through this bot."""
    async def job(bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        async def fetch(file_id: str) -> tuple[bytes, str | None]:
            return await fetch_file(bot, file_id, limit=limit, seconds=timeout)
        return await keep(fetch, params)
    return job
