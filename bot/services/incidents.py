"""Telling the district admins that something failed: a correlation id and where, never content."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import enqueue
from bot.services.responders import admins

# One notice a minute at most: a failure repeating on every update must not flood the admins.
QUIET_PERIOD = timedelta(minutes=1)


class IncidentNotifier:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.last_notice: datetime | None = None
        self.suppressed = 0

    async def failed(self, now: datetime, text: str) -> bool:
        """Queue ``text`` for every active admin; False when still in the quiet period."""
        if self.last_notice is not None and now - self.last_notice < QUIET_PERIOD:
            self.suppressed += 1
            return False
        self.last_notice = now
        async with self.sessions.begin() as session:
            for admin in await admins(session):
                enqueue(session, kind="incident", method="sendMessage", now=now,
                        params={"chat_id": admin.chat_id, "text": text})
        return True
