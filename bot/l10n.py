"""Numbers, months, dates and durations the way the reader writes them: ``1.234`` and "Maret" in
Indonesian, ``1,234`` and "March" in English (Babel's CLDR data)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal

from bot.i18n import translator

LOCALES = {"id": "id_ID", "en": "en_GB"}


def locale_of(language: str) -> str:
    return LOCALES.get(language, LOCALES["id"])


def number(value: float, language: str) -> str:
    """``1234`` → ``1.234`` (id) or ``1,234`` (en); at most one decimal."""
    return format_decimal(round(value, 1), format="#,##0.#", locale=locale_of(language))


def percent(part: float, whole: float, language: str) -> str:
    """``part`` of ``whole`` as a whole percentage, ``–`` when there is no whole."""
    if not whole:
        return "–"
    return number(round(100 * part / whole), language) + "%"


def signed_change(now: float, before: float, language: str) -> str:
    """``+50%`` / ``-25%`` from ``before`` to ``now``; ``–`` when there was nothing before."""
    if not before:
        return "–"
    change = round(100 * (now - before) / before)
    return ("+" if change > 0 else "") + number(change, language) + "%"


def month_name(month: int, language: str, *, short: bool = False) -> str:
    names = get_month_names("abbreviated" if short else "wide", locale=locale_of(language))
    return str(names[month])


def day(value: date | datetime, language: str, tz: ZoneInfo | None = None) -> str:
    """``2 Maret 2026`` / ``2 March 2026``; an aware datetime is shown in ``tz``."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return format_date(value, "d MMMM y", locale=locale_of(language))


def short_day(value: date | datetime, language: str, tz: ZoneInfo | None = None) -> str:
    """``2 Mar`` (id and en)."""
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return format_date(value, "d MMM", locale=locale_of(language))


def duration(value: timedelta, language: str) -> str:
    """``1 hari 3 jam``, ``2 jam 5 menit``, ``12 menit`` (or English)."""
    _ = translator(language)
    minutes = max(0, round(value.total_seconds() / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("{days} d {hours} h").format(days=number(days, language), hours=hours)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=minutes)
