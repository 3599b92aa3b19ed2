"""Tier policy (DESIGN §4): the tiers along the region tree, which tier a region is, where a new
case goes first, where it climbs next, and how long each priority may wait for "Terima".

Pure: the services apply these decisions to the responders registered in the database
(``bot/services/routing.py``, ``bot/services/escalation.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.config import Settings
from bot.domain import form, services

# The tiers, lowest first: the village's PAPTBM group, the kecamatan, the kabupaten (UPTD PPA).
DESA = "desa"
KECAMATAN_TIER = "kecamatan"
KABUPATEN_TIER = "kabupaten"
TIERS = (DESA, KECAMATAN_TIER, KABUPATEN_TIER)

# A case's priority: how long it may wait for "Terima" before it climbs.
URGENT = "urgent"
HIGH = "high"
NORMAL = "normal"


class Gone(StrEnum):
    """Why a responder stopped receiving alerts (``Responder.inactive_reason``)."""

    REVOKED = "revoked"
    REMOVED = "removed"  # the bot was removed from the group (or blocked by the officer)
    NOT_FOUND = "chat_not_found"
    NO_RIGHTS = "no_rights"
    NOT_STARTED = "not_started"  # an officer who never opened a private chat with the bot


@dataclass(frozen=True)
class Taken:
    """Who took a case ("Terima") and when."""

    by: str
    at: datetime


class Why(StrEnum):
    """Why an alert or a reminder is sent (the views word each one)."""

    ESCALATED = "escalated"  # nobody took it in time: it climbed a tier
    HELP = "help"  # someone pressed "Butuh bantuan"
    REROUTED = "rerouted"  # the chat that had it is gone
    REPEAT = "repeat"  # top tier: nobody has taken it yet
    POLICE = "police"  # the UU TPKS police-report deadline is near


# UU TPKS (12/2022) and TPPO: these never wait for the village; the kabupaten hears at once.
AT_ONCE_TO_KABUPATEN = {form.SEXUAL, form.TRAFFICKING}


def tier_of(region_code: str) -> str:
    """``64.01`` → kabupaten, ``64.01.05`` → kecamatan, ``64.01.05.2009`` → desa."""
    depth = region_code.count(".")
    if depth <= 1:
        return KABUPATEN_TIER
    return KECAMATAN_TIER if depth == 2 else DESA


def tier_rank(tier: str | None) -> int:
    return TIERS.index(tier) if tier in TIERS else -1


def covers(region_code: str, village_code: str) -> bool:
    """Whether a responder bound to ``region_code`` is responsible for a case in this village."""
    return village_code == region_code or village_code.startswith(region_code + ".")


def chain(village_code: str) -> list[str]:
    """The region codes that cover a village, lowest first: village, kecamatan, kabupaten."""
    parts = village_code.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 1, -1)]


@dataclass(frozen=True)
class Candidate:
    """An active responder as routing sees it: an id and the region it is bound to."""

    id: int
    region_code: str

    @property
    def tier(self) -> str:
        return tier_of(self.region_code)


@dataclass(frozen=True)
class Route:
    tier: str | None  # the tier that holds the case for escalation: the lowest one alerted
    targets: tuple[Candidate, ...]
    also_kabupaten: bool = False

    @property
    def unrouted(self) -> bool:
        return not self.targets


def goes_to_kabupaten_at_once(urgent: bool, types: Iterable[str]) -> bool:
    return urgent or bool(AT_ONCE_TO_KABUPATEN & set(types))


def plan(candidates: Sequence[Candidate], *, urgent: bool, types: Iterable[str]) -> Route:
    """The lowest tier with an active responder gets the case; urgent cases, sexual violence and
    trafficking also go to the kabupaten tier at once. Nobody registered: an empty route."""
    by_tier = {tier: [c for c in candidates if c.tier == tier] for tier in TIERS}
    lowest = next((tier for tier in TIERS if by_tier[tier]), None)
    if lowest is None:
        return Route(None, ())
    targets = list(by_tier[lowest])
    extra = goes_to_kabupaten_at_once(urgent, types) and lowest != KABUPATEN_TIER \
        and bool(by_tier[KABUPATEN_TIER])
    if extra:
        targets += by_tier[KABUPATEN_TIER]
    return Route(lowest, tuple(targets), also_kabupaten=extra)


def next_tier(current: str | None, available: Iterable[str]) -> str | None:
    """The first tier above ``current`` that has an active responder; None at the top."""
    present = set(available)
    for tier in TIERS[tier_rank(current) + 1:]:
        if tier in present:
            return tier
    return None


def ack_timeout(settings: Settings, priority: str) -> timedelta:
    minutes = {URGENT: settings.escalation.ack_timeout_urgent_minutes,
               HIGH: settings.escalation.ack_timeout_high_minutes}.get(
        priority, settings.escalation.ack_timeout_normal_minutes)
    return timedelta(minutes=minutes)


def police_deadline(settings: Settings, created_at: datetime,
                    types: Iterable[str]) -> datetime | None:
    """UU TPKS: UPTD PPA passes a report of sexual violence or trafficking (TPPO) to the police
    within 3 x 24 hours (``bot/domain/services.py``)."""
    return services.police_deadline(created_at, types, settings.escalation.police_deadline_hours)
