"""Translations from gettext catalogues (``bot/locales/<lang>/LC_MESSAGES/ppa_bot.po``).

Message ids are English source strings; ``id`` and ``en`` catalogues both carry every one, so a
translator works with standard tools (Poedit, Weblate) and a test catches a missing translation.
Catalogues are read from the .po files at start-up with Babel: no compile step to forget.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

from babel.messages.pofile import read_po

DOMAIN = "ppa_bot"
LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
Translate = Callable[[str], str]


def N_(message: str) -> str:
    return message


def locale_dir() -> Path:
    return Path(str(resources.files("bot").joinpath("locales")))


def po_path(language: str) -> Path:
    return locale_dir() / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(language: str) -> dict[str, str]:
    with po_path(language).open("rb") as fh:
        catalog = read_po(fh, locale=language)
    return {m.id: m.string for m in catalog
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
            and not m.fuzzy}


def language_for(code: str | None) -> str:
    """Telegram's ``language_code`` to one of ours; Indonesian unless the person uses English."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def translator(language: str) -> Translate:
    messages = catalogue(language if language in LANGUAGES else DEFAULT_LANGUAGE)

    def gettext(message: str) -> str:
        return messages.get(message, message)

    return gettext
