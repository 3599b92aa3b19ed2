"""Whether a case was referred to the police (UU TPKS): a "penegakan hukum" service that was not
cancelled, or a move to "dirujuk" with the police as target, now or before. It meets the 3 × 24 h
police deadline, stops its alarms, and lets a sexual violence case be completed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import services, workflow
from models import Case, CaseEvent, CaseServiceRecord


async def police_referred(session: AsyncSession, case: Case) -> bool:
    if case.referral == workflow.POLICE:
        return True
    service = await session.scalar(select(CaseServiceRecord.id).where(
        CaseServiceRecord.case_id == case.id,
        CaseServiceRecord.kind == services.PENEGAKAN_HUKUM,
        CaseServiceRecord.status != services.CANCELLED).limit(1))
    if service is not None:
        return True
    moves = await session.scalars(select(CaseEvent.detail).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == "status_changed"))
    return any((detail or {}).get("referral") == workflow.POLICE for detail in moves)
