"""Webhook mode: only Telegram's secret token gets in, /healthz answers, SIGTERM drains."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from bot.app import build_application, installed_handlers
from bot.clock import FakeClock
from bot.config import ConfigError, load_settings, require_webhook
from bot.crypto import Vault, generate_key
from bot.runtime import Runtime
from bot.webhook import SECRET_HEADER, serve
from tests.conftest import TOKEN
from tests.harness import new_update_id
from tests.telegram_double import FakeTelegram

SECRET = "s3cret-token_for-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_update(user_id: int) -> dict[str, object]:
    return {"update_id": new_update_id(), "message": {
        "message_id": 1, "date": 1_770_000_000, "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}}}


async def test_webhook_takes_updates_only_with_the_secret_and_answers_health(db_path) -> None:
    port = _free_port()
    settings = load_settings(
        telegram={"token": TOKEN, "mode": "webhook"},
        database={"url": f"sqlite+aiosqlite:///{db_path}"},
        webhook={"listen": "127.0.0.1", "port": port, "url": "https://ppa.example.org/telegram",
                 "secret_token": SECRET})
    telegram = FakeTelegram()
    rt = Runtime.create(settings, clock=FakeClock(), vault=Vault([generate_key()]))
    application = build_application(rt, installed_handlers(), request=telegram,
                                    updates_request=telegram, rate_limiter=False)
    stop = asyncio.Event()
    server = asyncio.create_task(serve(application, rt, stop))
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        while not telegram.calls_to("setWebhook"):  # set right after the server binds
            assert not server.done(), server.exception()
            await asyncio.sleep(0)
        health = await client.get(base + "/healthz")
        assert health.status_code == 200
        assert json.loads(health.text)["outbox_pending"] == 0
        webhook = telegram.calls_to("setWebhook")[0].params
        assert webhook["secret_token"] == SECRET and webhook["url"].startswith("https://")

        refused = await client.post(base + "/telegram", json=_start_update(4001))
        wrong = await client.post(base + "/telegram", json=_start_update(4002),
                                  headers={SECRET_HEADER: "guess"})
        taken = await client.post(base + "/telegram", json=_start_update(4003),
                                  headers={SECRET_HEADER: SECRET})
    assert (refused.status_code, wrong.status_code, taken.status_code) == (403, 403, 200)
    # Telegram hears 200 only once the update is handled: a crash before that makes it re-send.
    assert telegram.messages(4003)
    stop.set()  # what SIGTERM does: the update in flight is finished before the server stops
    await asyncio.wait_for(server, timeout=30)
    assert telegram.messages(4003), "the accepted update was answered before shutdown"
    assert not telegram.messages(4001) and not telegram.messages(4002)


def test_webhook_mode_requires_a_secret_and_a_public_url() -> None:
    settings = load_settings(telegram={"token": TOKEN, "mode": "webhook"},
                             webhook={"url": "https://ppa.example.org/telegram"})
    with pytest.raises(ConfigError, match=r"webhook\.secret_token"):
        require_webhook(settings)
    settings = load_settings(telegram={"token": TOKEN, "mode": "webhook"},
                             webhook={"secret_token": SECRET})
    with pytest.raises(ConfigError, match=r"webhook\.url"):
        require_webhook(settings)
