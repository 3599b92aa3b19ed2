"""The fakes behave like Telegram where the tests rely on it. The fake Bot API: offsets, long
polling, one poller at a time, answers to callback queries, edits, and the faults it injects. Both
fakes (it and the in-process double): Telegram's refusals, in its words, as PTB turns them into
exceptions, and the 48 hours within which a message can be deleted. Driven through PTB's own
``Bot``, the client the real process uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, NetworkError, RetryAfter

from tests.conftest import TOKEN
from tests.fake_bot_api import FakeBotApi
from tests.telegram_chats import Chats, Fault
from tests.telegram_double import FakeTelegram

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


# --- the chat model both fakes share (tests/telegram_chats.py) -----------------------------------

@dataclass
class Fake:
    """PTB's own ``Bot`` on one of the fakes, the chats behind it, and its fault injection."""

    bot: Bot
    chats: Chats
    inject: Callable[..., Fault]


@pytest.fixture(params=["in-process double", "HTTP fake Bot API"])
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[Fake]:
    if request.param == "HTTP fake Bot API":
        server = await FakeBotApi(TOKEN).start()
        try:
            async with Bot(TOKEN, base_url=server.base_url) as client:
                yield Fake(client, server.chats, server.inject)
        finally:
            await server.stop()
    else:
        double = FakeTelegram()
        async with Bot(TOKEN, request=double, get_updates_request=double) as client:
            yield Fake(client, double.chats, double.inject)


GROUP = -4_001_000_001
SUPERGROUP = -1_004_001_000_001


async def test_both_fakes_refuse_with_telegrams_words_and_ptb_raises_what_it_raises_for_them(
        telegram: Fake) -> None:
    bot, chats = telegram.bot, telegram.chats
    chats.migrate(GROUP, SUPERGROUP)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "Laporan baru")
    assert migrated.value.new_chat_id == SUPERGROUP

    chats.block(SARI_ID)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was blocked by the user$"):
        await bot.send_message(SARI_ID, "Kabar laporan")
    chats.unblock(SARI_ID)
    chats.kick(-4_001_000_002)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the group chat$"):
        await bot.send_message(-4_001_000_002, "Laporan baru")
    chats.kick(SUPERGROUP)
    with pytest.raises(Forbidden, match=r"^Forbidden: bot was kicked from the supergroup chat$"):
        await bot.send_message(SUPERGROUP, "Laporan baru")

    sent = await bot.send_message(SARI_ID, "Ada yang dalam bahaya?")
    with pytest.raises(BadRequest, match=r"^Message is not modified: specified new message"):
        await bot.edit_message_text("Ada yang dalam bahaya?", chat_id=SARI_ID,
                                    message_id=sent.message_id)
    assert await bot.delete_message(SARI_ID, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("Setuju?", chat_id=SARI_ID, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(SARI_ID, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to be replied not found$"):
        await bot.send_message(SARI_ID, "Balasan", reply_to_message_id=sent.message_id)
    await bot.send_message(SARI_ID, "Pengingat", reply_to_message_id=sent.message_id,
                           allow_sending_without_reply=True)
    with pytest.raises(BadRequest, match=r"(?i)^query is too old and response timeout expired"):
        await bot.answer_callback_query("never-made")


async def test_the_persons_own_messages_are_in_the_chat_and_deletable_for_48_hours() -> None:
    now = [1_770_000_000.0]
    double = FakeTelegram(Chats(clock=lambda: now[0]))
    async with Bot(TOKEN, request=double, get_updates_request=double) as bot:
        double.sees({"update_id": 1, "message": {
            "message_id": double.next_message_id(SARI_ID), "date": double.now,
            "chat": {"id": SARI_ID, "type": "private"}, "from": SARI, "text": "/lapor"}})
        question = await bot.send_message(SARI_ID, "Ada yang dalam bahaya?")
        [mine] = double.chats.own_messages(SARI_ID)
        assert (mine.text, mine.message_id) == ("/lapor", question.message_id - 1)
        assert [m.text for m in double.messages(SARI_ID)] == ["Ada yang dalam bahaya?"]

        now[0] += 48 * 3600
        with pytest.raises(BadRequest, match=r"^Message can't be deleted$"):
            await bot.delete_message(SARI_ID, mine.message_id)
        answer = await bot.send_message(SARI_ID, "Setuju?")
        assert await bot.delete_messages(SARI_ID, [mine.message_id, question.message_id,
                                                   answer.message_id, 999])
        assert [m.text for m in double.chats.transcript(SARI_ID)] == [
            "/lapor", "Ada yang dalam bahaya?"]  # only the one under 48 hours went


async def test_a_press_may_be_answered_once(telegram: Fake) -> None:
    bot, chats = telegram.bot, telegram.chats
    chats.sees({"update_id": 5, "callback_query": {"id": "q-5", "from": SARI, "data": "x",
                                                   "chat_instance": "ci"}})
    assert await bot.answer_callback_query("q-5")
    with pytest.raises(BadRequest, match=r"(?i)^query is too old"):
        await bot.answer_callback_query("q-5")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after type
async def test_a_429_carries_retry_after_in_both_fakes(telegram: Fake) -> None:
    telegram.inject("429", method="sendMessage", retry_after=4)
    with pytest.raises(RetryAfter) as refused:
        await telegram.bot.send_message(SARI_ID, "satu")
    assert refused.value.retry_after in (4, timedelta(seconds=4))
