"""The victims and perpetrators of cases, written in bulk: a few statements for any number of
cases (a report's one, or a whole imported register), never one ORM object per row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.register import People
from models import Perpetrator, Victim, VictimPerpetrator


async def add_people(session: AsyncSession, case_id: int, people: People) -> None:
    await add_people_of_cases(session, [(case_id, people)])


async def add_people_of_cases(session: AsyncSession,
                              cases: Sequence[tuple[int, People]]) -> None:
    """Insert every case's victims, perpetrators and the links between them, in this session's
    transaction."""
    victim_rows = [{"case_id": case_id, **victim.columns()}
                   for case_id, people in cases for victim in people.victims]
    perpetrator_rows = [{"case_id": case_id, **perpetrator.columns()}
                        for case_id, people in cases for perpetrator in people.perpetrators]
    if not victim_rows:
        return
    victim_ids = await _ids(session, Victim, victim_rows)
    perpetrator_ids = await _ids(session, Perpetrator, perpetrator_rows) \
        if perpetrator_rows else {}
    links = [{"victim_id": victim_ids[case_id, victim], "relation": relation,
              "perpetrator_id": perpetrator_ids[case_id, perpetrator]}
             for case_id, people in cases for victim, perpetrator, relation in people.links]
    if links:
        await session.execute(insert(VictimPerpetrator), links)


async def _ids(session: AsyncSession, model: type[Victim] | type[Perpetrator],
               rows: list[dict[str, object]]) -> dict[tuple[int, int], int]:
    """Insert ``rows``; their ids by (case id, number)."""
    result = await session.execute(
        insert(model).returning(model.id, model.case_id, model.number,
                                sort_by_parameter_order=True), rows)
    return {(case_id, number): row_id for row_id, case_id, number in result}
