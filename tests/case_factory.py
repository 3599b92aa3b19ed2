"""Cases and responders written straight into the database, for figures computed by hand.

Times are given in WITA (the district's clock), as an officer would read them off a report."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain import form
from bot.domain.register import people_from_report
from bot.services.people import add_people_of_cases
from models import Case, Responder
from models.responder import GROUP, OFFICER

WITA = ZoneInfo("Asia/Makassar")
_numbers = itertools.count(1)

# Villages used in the scenarios, by name: (kecamatan code, village code).
VILLAGES = {
    "Modang": ("64.01.05", "64.01.05.2006"),  # Kuaro
    "Pondong Baru": ("64.01.05", "64.01.05.2009"),  # Kuaro
    "Lolo": ("64.01.05", "64.01.05.2002"),  # Kuaro
    "Lombok": ("64.01.06", "64.01.06.2006"),  # Long Ikis
    "Janju": ("64.01.04", "64.01.04.2002"),  # Tanah Grogot
}


def wita(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=WITA)


def new_case(created: datetime, *, village: str = "Modang", types: tuple[str, ...] = ("fisik",),
             victim: str = "child", acknowledged_after: timedelta | None = None,
             practice: bool = False, **fields: Any) -> Case:
    kecamatan_code, village_code = VILLAGES[village]
    number = next(_numbers)
    values: dict[str, Any] = {
        "reference": f"PSR-{created.year % 100:02d}-T{number:05d}", "submit_key": f"t:{number}",
        "status": "baru", "priority": "normal", "reporter_role": "witness",
        "victim_category": victim, "victim_sex": "f",
        "victim_age_band": "6-12" if victim == "child" else "25-44",
        "violence_types": list(types), "kecamatan_code": kecamatan_code,
        "village_code": village_code, "place": "rumah_tangga", "occurred": "week",
        "perpetrator": "tetangga", "practice": practice,
        "narrative": "Tetangga memukul anaknya setiap malam.", "landmark": "dekat masjid",
        "phone": "+6281234567890", "contact_allowed": True,
        "created_at": created, "updated_at": created,
        "acknowledged_at": created + acknowledged_after if acknowledged_after else None,
    }
    values.update(fields)
    return Case(**values)


def summary_answers(case: Case) -> dict[str, Any]:
    """The report answers a case's summary columns stand for."""
    return {form.VICTIM_CATEGORY: case.victim_category, form.VICTIM_SEX: case.victim_sex,
            form.VICTIM_AGE: {"band": case.victim_age_band, "age": case.victim_age},
            form.VICTIM_COUNT: case.victim_count or 1, form.TYPES: case.violence_types,
            form.PERPETRATOR: case.perpetrator}


async def add_cases(sessions: async_sessionmaker[AsyncSession], *cases: Case,
                    people: bool = True) -> list[Case]:
    """Write the cases; each gets the victims and perpetrator its summary tells of, as a report
    through the bot does (``people=False``: the case alone)."""
    async with sessions.begin() as session:
        session.add_all(cases)
        await session.flush()
        if people:
            await add_people_of_cases(session, [(case.id, people_from_report(
                summary_answers(case))) for case in cases])
    return list(cases)


async def add_responder(sessions: async_sessionmaker[AsyncSession], *, kind: str, chat_id: int,
                        region: str, name: str = "", admin: bool = False, active: bool = True,
                        changed_at: datetime | None = None) -> Responder:
    when = changed_at or wita(2026, 1, 1)
    responder = Responder(kind=kind, chat_id=chat_id, region_code=region,
                          name=name or f"{kind} {chat_id}", is_admin=admin, active=active,
                          inactive_reason=None if active else "removed", created_at=when,
                          changed_at=when)
    async with sessions.begin() as session:
        session.add(responder)
    return responder


async def add_group(sessions: async_sessionmaker[AsyncSession], village: str, chat_id: int,
                    **kwargs: Any) -> Responder:
    return await add_responder(sessions, kind=GROUP, chat_id=chat_id,
                               region=VILLAGES[village][1], name=f"PAPTBM {village}", **kwargs)


async def add_officer(sessions: async_sessionmaker[AsyncSession], user_id: int, region: str,
                      **kwargs: Any) -> Responder:
    return await add_responder(sessions, kind=OFFICER, chat_id=user_id, region=region, **kwargs)
