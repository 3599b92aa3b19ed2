"""Several workers on one PostgreSQL database: two bots (two Runtimes, each with its own connection
pool, as two processes would have) share the outbox and the escalation deadlines. Every
notification is sent once and every due case climbs once, whoever gets to it first (row locks,
SKIP LOCKED).

PostgreSQL only: SQLite is the one-process setup."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.config import load_settings
from bot.crypto import Vault
from bot.outbox import enqueue
from models import Alert, Case, CaseEvent, OutboxMessage
from models.outbox import SENT
from models.responder import OFFICER
from tests.case_factory import add_cases, add_responder, new_case
from tests.conftest import TOKEN
from tests.harness import Harness
from tests.telegram_double import FakeTelegram

KUARO = "64.01.05"
NOTIFICATIONS = 300
DUE_CASES = 120


class SlowTelegram(FakeTelegram):
    """Telegram as reached over a network: every request gives the event loop away once, so the
    other worker runs while this one waits for its answer (holding its row lock)."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await asyncio.sleep(0)
        return await super().do_request(*args, **kwargs)


@pytest.fixture
async def workers(postgres_url: str, clock: FakeClock,
                  vault: Vault) -> AsyncIterator[tuple[Harness, Harness]]:
    settings = load_settings(telegram={"token": TOKEN}, database={"url": postgres_url})
    first = await Harness(settings=settings, clock=clock, vault=vault,
                          telegram=SlowTelegram()).start()
    second = await Harness(settings=settings, clock=clock, vault=vault,
                           telegram=SlowTelegram()).start()
    yield first, second
    await first.stop()
    await second.stop()


def sent_texts(*workers: Harness) -> Counter[tuple[int, str]]:
    return Counter((int(call.params["chat_id"]), str(call.params["text"]))
                   for worker in workers for call in worker.telegram.calls_to("sendMessage"))


async def test_two_dispatchers_send_every_notification_exactly_once(
        workers: tuple[Harness, Harness], clock: FakeClock) -> None:
    first, second = workers
    async with first.runtime.sessions.begin() as session:
        for number in range(NOTIFICATIONS):
            enqueue(session, kind="notice", method="sendMessage", now=clock.now(),
                    params={"chat_id": 8_000_000 + number, "text": f"notice {number}"})

    await asyncio.gather(first.runtime.sender.drain(), second.runtime.sender.drain())

    sent = sent_texts(first, second)
    assert len(sent) == NOTIFICATIONS and set(sent.values()) == {1}
    assert first.runtime.sender.sent > 0 and second.runtime.sender.sent > 0, \
        "both workers should have taken a share"
    async with first.runtime.sessions() as session:
        statuses = Counter((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {SENT: NOTIFICATIONS}


async def test_two_escalation_sweeps_climb_each_due_case_once(
        workers: tuple[Harness, Harness], clock: FakeClock) -> None:
    first, second = workers
    sessions = first.runtime.sessions
    officer = await add_responder(sessions, kind=OFFICER, chat_id=7_100_001, region=KUARO,
                                  name="Ibu Rahma")
    created = clock.now() - timedelta(hours=3)
    await add_cases(sessions, *(new_case(created, tier="desa",
                                         ack_deadline=created + timedelta(hours=1))
                                for _ in range(DUE_CASES)))

    reports = await asyncio.gather(first.runtime.escalation.sweep(),
                                   second.runtime.escalation.sweep())

    assert reports[0].escalated + reports[1].escalated == DUE_CASES
    assert reports[0].escalated > 0 and reports[1].escalated > 0, \
        "both workers should have taken a share"
    async with sessions() as session:
        climbs = Counter((await session.scalars(
            select(CaseEvent.case_id).where(CaseEvent.kind == "escalated"))).all())
        alerts = Counter((await session.scalars(
            select(Alert.case_id).where(Alert.responder_id == officer.id))).all())
        still_due = await session.scalar(
            select(func.count()).select_from(Case).where(Case.ack_deadline <= clock.now()))
    assert len(climbs) == DUE_CASES and set(climbs.values()) == {1}
    assert len(alerts) == DUE_CASES and set(alerts.values()) == {1}
    assert still_due == 0

    await asyncio.gather(first.runtime.sender.drain(), second.runtime.sender.drain())
    officer_inbox = [text for (chat, text), times in sent_texts(first, second).items()
                     if chat == officer.chat_id for _ in range(times)]
    assert len(officer_inbox) == DUE_CASES  # one alert per case, none twice
