"""The outbox: notifications are rows written in the transaction that causes them (``enqueue``)
and a dispatcher sends them (``bot/dispatcher.py``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxMessage

PRIVATE_BUCKET = "p"


def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    method: str,
    params: dict[str, Any],
    now: datetime,
    bucket: str = PRIVATE_BUCKET,
    case_id: int | None = None,
    alert_id: int | None = None,
    responder_id: int | None = None,
    reporter_id: int | None = None,
    due_at: datetime | None = None,
) -> OutboxMessage:
    """Add a notification to the caller's transaction; it is sent only if that commits.

    ``reporter_id``: the reporter it is addressed to, or whose words or data it carries (see
    ``bot/services/reporter_data.py``); withdrawing consent deletes it."""
    message = OutboxMessage(
        kind=kind,
        method=method,
        payload=json.dumps(params, ensure_ascii=False),
        bucket=bucket,
        case_id=case_id,
        alert_id=alert_id,
        responder_id=responder_id,
        reporter_id=reporter_id,
        due_at=due_at or now,
        created_at=now,
    )
    session.add(message)
    return message
