"""Named events between parts of the bot, each with the one signature its subscribers take.

A publisher owns its events (``ReportService.case_created``, ``OutboxSender.sent`` …); the app
wiring (``bot/runtime.py``) subscribes the services that want to know. Subscribers run in order,
inside the publisher's transaction, so what they write commits (or not) with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models import Case, OutboxMessage

# A case was created (submit, or a practice report): route it, in the submit transaction.
CaseCreated = Callable[[AsyncSession, Case], Awaitable[None]]
# The outbox sender delivered a row: (session, row, Bot API parameters, message id if any).
MessageSent = Callable[[AsyncSession, OutboxMessage, dict[str, Any], int | None], Awaitable[None]]
# Telegram says the chat of a row is gone for the bot (removed, blocked): (session, row, error).
ChatGone = Callable[[AsyncSession, OutboxMessage, str], Awaitable[None]]
# A group became a supergroup with a new id: (session, old chat id, new chat id).
GroupMigrated = Callable[[AsyncSession, int, int], Awaitable[None]]

S = TypeVar("S", bound=Callable[..., Awaitable[None]])


class Event(Generic[S]):
    """One named thing that happens, and its subscribers in the order they subscribed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[S] = []

    def subscribe(self, subscriber: S) -> None:
        self._subscribers.append(subscriber)

    def __iter__(self) -> Iterator[S]:
        return iter(tuple(self._subscribers))

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._subscribers)} subscribers)"
