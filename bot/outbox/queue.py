"""The queue: notifications are rows written in the transaction that causes them (``enqueue``);
the sender (``bot/outbox/sender.py``) is woken after each commit that added one
(``wake_on_commit``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

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


QUEUED = "outbox_queued"  # in Session.info: this transaction flushed at least one outbox row


def wake_on_commit(sessions: async_sessionmaker[AsyncSession], wake: Callable[[], None]) -> None:
    """Call ``wake`` once after each commit, by a session of ``sessions``, that added outbox rows.

    The factory gets a session class of its own, so that each running bot (tests start several in
    one process) wakes only its own sender. A flush notes new ``OutboxMessage`` rows in the
    session's ``info``; the commit of the outermost transaction wakes the sender once; the end of
    that transaction (commit or rollback) forgets the note.
    """

    class OutboxSession(Session):
        pass

    def flushed(session: Session, _flush: UOWTransaction) -> None:
        if any(isinstance(obj, OutboxMessage) for obj in session.new):
            session.info[QUEUED] = True

    def committed(session: Session) -> None:
        if session.info.get(QUEUED):
            wake()

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            session.info.pop(QUEUED, None)

    event.listen(OutboxSession, "after_flush", flushed)
    event.listen(OutboxSession, "after_commit", committed)
    event.listen(OutboxSession, "after_transaction_end", ended)
    sessions.configure(sync_session_class=OutboxSession)
