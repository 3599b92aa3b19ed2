"""Set-up mistakes told in one line: what is wrong and how to fix it, never the token.

``ppa-bot`` prints a ``SetupError`` as ``error: <message>`` and exits with its ``code``. The
Telegram failures a new installation meets (a rejected token, an unreachable Bot API) are turned
into one here; PTB's own messages are not repeated, since a rejected token's message quotes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import Settings, require_token

if TYPE_CHECKING:  # PTB is imported only by the commands that talk to Telegram
    from telegram.error import TelegramError

TELEGRAM_API = "https://api.telegram.org/bot"


class SetupError(Exception):
    """A set-up problem, phrased for the person running the bot, with the fix."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def api_host(base_url: str) -> str:
    """The Bot API server as scheme://host[:port]: nothing of a path or credentials."""
    parts = urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or '?'}{port}"


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return type(cause).__name__ if cause is not None else type(exc).__name__


def telegram_failure(exc: TelegramError, settings: Settings) -> SetupError:
    """The one line for a Telegram error met while starting (getMe, setting the menus)."""
    from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter

    server = api_host(settings.telegram.base_url)
    if isinstance(exc, InvalidToken):
        where = (f" If the token is right, check telegram.base_url: {server} is not Telegram's "
                 "own server." if settings.telegram.base_url != TELEGRAM_API else "")
        return SetupError(
            "Telegram refused the bot token (Unauthorized): it was mistyped, or revoked in "
            "@BotFather. Copy the current token from @BotFather (/mybots, your bot, API Token) "
            "into telegram.token in the config file or PPA_BOT_TELEGRAM__TOKEN." + where, 2)
    if isinstance(exc, RetryAfter):
        return SetupError("Telegram asks the bot to slow down while starting (Too Many "
                          "Requests): wait a minute and start it again.")
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return SetupError(
            f"the Telegram Bot API at {server} cannot be reached "
            f"({_cause(exc)}): check this server's internet connection, DNS, firewall or proxy "
            "(HTTPS_PROXY), or telegram.base_url (PPA_BOT_TELEGRAM__BASE_URL); then start it "
            "again.")
    return SetupError(
        f"Telegram refused a start-up request ({type(exc).__name__}): check the bot in "
        "@BotFather and telegram.base_url (PPA_BOT_TELEGRAM__BASE_URL), then start it again.")


async def fetch_username(settings: Settings) -> str:
    """The bot's @username: from telegram.username, else asked from Telegram (getMe)."""
    if settings.telegram.username:
        return settings.telegram.username
    from telegram import Bot
    from telegram.error import TelegramError

    require_token(settings)
    bot = Bot(settings.telegram.token, base_url=settings.telegram.base_url,
              base_file_url=settings.telegram.base_file_url)
    try:
        async with bot:
            return bot.username
    except TelegramError as exc:
        raise telegram_failure(exc, settings) from None
