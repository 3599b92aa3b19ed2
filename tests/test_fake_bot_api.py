"""The fake Bot API behaves like Telegram where the process tests rely on it: offsets, long polling,
one poller at a time, answers to callback queries, edits, and the faults it injects. Driven through
PTB's own ``Bot``, the client the real process uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter

from tests.conftest import TOKEN
from tests.fake_bot_api import FakeBotApi

SARI_ID = 5_550_201
SARI = {"id": SARI_ID, "is_bot": False, "first_name": "Sari", "language_code": "id"}


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    server = await FakeBotApi(TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def test_an_update_comes_again_until_a_higher_offset_confirms_it(api: FakeBotApi,
                                                                       bot: Bot) -> None:
    first = api.private_message(SARI, text="/lapor")
    second = api.private_message(SARI, text="halo")

    assert [u.update_id for u in await bot.get_updates(offset=0)] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=0)] == [first, second]  # a restart
    assert [u.update_id for u in await bot.get_updates(offset=first + 1)] == [second]
    assert api.is_confirmed(first) and not api.is_confirmed(second)
    assert await bot.get_updates(offset=second + 1) == ()
    assert api.pending_updates() == []


async def test_a_long_poll_returns_when_an_update_arrives(api: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(offset=0, timeout=10))
    await api.wait_until(lambda: api.calls_to("getUpdates"), within=5, what="the poll")

    sent = api.private_message(SARI, text="/start")

    updates = await asyncio.wait_for(poll, timeout=5)
    assert [u.update_id for u in updates] == [sent]
    assert updates[0].message is not None and updates[0].message.text == "/start"


async def test_a_second_poller_ends_the_first_with_a_conflict(api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(offset=0, timeout=10))
    await api.wait_until(lambda: api.calls_to("getUpdates"), within=5, what="the first poll")

    async with Bot(TOKEN, base_url=api.base_url) as restarted:  # as after a crash
        assert await restarted.get_updates(offset=0, timeout=0) == ()

    with pytest.raises(Conflict):
        await asyncio.wait_for(first, timeout=5)


async def test_a_press_is_answered_once_and_an_identical_edit_is_refused(api: FakeBotApi,
                                                                         bot: Bot) -> None:
    sent = await bot.send_message(SARI_ID, "Ada yang dalam bahaya?")
    [message] = api.messages(SARI_ID)
    api.callback_query(SARI, message, "r1|abcdef12|danger|choose|no")
    [update] = await bot.get_updates(offset=0)
    assert update.callback_query is not None

    assert await update.callback_query.answer()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer()  # the same press, delivered again after a crash

    await bot.edit_message_text("Setuju?", chat_id=SARI_ID, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Setuju?", chat_id=SARI_ID, message_id=sent.message_id)
    assert api.messages(SARI_ID)[0].text == "Setuju?"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after type
async def test_injected_faults_look_like_telegram_and_the_network(api: FakeBotApi,
                                                                  bot: Bot) -> None:
    api.inject("429", method="sendMessage", retry_after=3)
    api.inject("5xx", method="sendMessage")
    api.inject("drop", method="sendMessage")
    api.inject("slow", method="sendMessage", delay=0.2)

    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(SARI_ID, "satu")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(SARI_ID, "dua")
    with pytest.raises(NetworkError):
        await bot.send_message(SARI_ID, "tiga")  # the connection closes without an answer
    await bot.send_message(SARI_ID, "empat")  # slow, but it arrives

    assert [m.text for m in api.messages(SARI_ID)] == ["empat"]
    assert [c.fault for c in api.calls_to("sendMessage")] == ["429", "5xx", "drop", "slow"]
