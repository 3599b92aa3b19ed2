"""The reporter's safe time to be contacted (WITA windows) and when the next one opens."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CONTACT_WINDOWS = {"morning": (8, 12), "afternoon": (12, 17), "evening": (17, 21)}


def next_contact_time(now: datetime, contact_time: str | None, tz: ZoneInfo) -> datetime:
    """``now`` when it is a safe time to message the reporter; else the start of the next window."""
    window = CONTACT_WINDOWS.get(contact_time or "any")
    if window is None:
        return now
    start, end = window
    local = now.astimezone(tz)
    if start <= local.hour < end:
        return now
    opening = local.replace(hour=start, minute=0, second=0, microsecond=0)
    if local.hour >= end:
        opening += timedelta(days=1)
    return opening.astimezone(now.tzinfo)
