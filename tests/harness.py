"""A running bot for tests: the real Application on a real SQLite file, the Telegram double at the
request layer, a controllable clock; and people who talk to it like people do."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.app import build_application, start_runtime
from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.runtime import Runtime
from tests.telegram_double import ChatMessage, FakeTelegram

_update_ids = itertools.count(1000)
_chat_message_ids = itertools.count(5000)


@dataclass
class Harness:
    settings: Settings
    clock: FakeClock
    vault: Vault
    telegram: FakeTelegram = field(default_factory=FakeTelegram)
    app: Application | None = None  # type: ignore[type-arg]
    rt: Runtime | None = None

    async def start(self) -> Harness:
        self.rt = Runtime.create(self.settings, clock=self.clock, vault=self.vault)
        self.app = build_application(self.rt, request=self.telegram,
                                     updates_request=self.telegram, rate_limiter=False)
        await self.app.initialize()
        await start_runtime(self.app)
        return self

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.shutdown()
        if self.rt is not None:
            await self.rt.engine.dispose()

    async def restart(self) -> Harness:
        """A new Application and Runtime on the same database, as after a crash."""
        await self.stop()
        return await self.start()

    @property
    def runtime(self) -> Runtime:
        assert self.rt is not None
        return self.rt

    async def feed(self, payload: dict[str, Any]) -> Update:
        assert self.app is not None
        update = Update.de_json(payload, self.app.bot)
        await self.app.process_update(update)
        return update

    async def deliver_outbox(self) -> None:
        await self.runtime.dispatcher.drain()


def new_update_id() -> int:
    return next(_update_ids)


@dataclass
class Person:
    """Someone in a private chat with the bot."""

    harness: Harness
    user_id: int
    first_name: str = "Sari"
    language_code: str | None = "id"
    last_update: dict[str, Any] | None = None

    @property
    def telegram(self) -> FakeTelegram:
        return self.harness.telegram

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message(self, **content: Any) -> dict[str, Any]:
        return {"message_id": next(_chat_message_ids), "date": self.telegram.now,
                "chat": {"id": self.user_id, "type": "private", "first_name": self.first_name},
                "from": self._user(), **content}

    async def send_payload(self, payload: dict[str, Any]) -> None:
        self.last_update = payload
        await self.harness.feed(payload)

    async def sends(self, text: str, **extra: Any) -> None:
        content: dict[str, Any] = {"text": text, **extra}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        await self.send_payload({"update_id": new_update_id(), "message": self._message(**content)})

    async def sends_content(self, **content: Any) -> None:
        await self.send_payload({"update_id": new_update_id(), "message": self._message(**content)})

    async def sends_photo(self, caption: str | None = None, size: int = 50_000,
                          file_id: str = "PHOTO-FILE-ID-1") -> None:
        photo = [{"file_id": file_id, "file_unique_id": "uq" + file_id[-6:], "width": 800,
                  "height": 600, "file_size": size}]
        extra = {"caption": caption} if caption else {}
        await self.sends_content(photo=photo, **extra)

    async def sends_voice(self, file_id: str = "VOICE-FILE-ID-1", size: int = 20_000) -> None:
        await self.sends_content(voice={"file_id": file_id, "file_unique_id": "uv" + file_id[-4:],
                                        "duration": 7, "file_size": size})

    async def redelivers_last_update(self) -> None:
        assert self.last_update is not None
        await self.harness.feed(self.last_update)

    def inbox(self) -> list[ChatMessage]:
        return self.telegram.messages(self.user_id)

    def last_message(self) -> ChatMessage:
        return self.telegram.last_message(self.user_id)

    def last_text(self) -> str:
        return self.last_message().text

    def texts_since(self, count: int) -> str:
        return "\n".join(m.text for m in self.inbox()[count:])

    def last_with_buttons(self) -> ChatMessage:
        for message in reversed(self.inbox()):
            if message.buttons():
                return message
        raise AssertionError("no message with buttons in the chat")

    def button_data(self, label: str) -> tuple[ChatMessage, str]:
        message = self.last_with_buttons()
        wanted = label.casefold()
        for button in message.buttons():
            if wanted in button["text"].casefold():
                return message, button["callback_data"]
        raise AssertionError(f"no button {label!r} in {message.button_texts()}")

    async def presses(self, label: str) -> None:
        message, data = self.button_data(label)
        await self.presses_data(data, message)

    async def presses_data(self, data: str, message: ChatMessage | None = None) -> None:
        message = message or self.last_with_buttons()
        payload = {"update_id": new_update_id(), "callback_query": {
            "id": str(new_update_id()), "from": self._user(), "chat_instance": "ci",
            "data": data,
            "message": {"message_id": message.message_id, "date": self.telegram.now,
                        "chat": {"id": self.user_id, "type": "private"},
                        "from": {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"},
                        "text": message.text}}}
        await self.send_payload(payload)

    def callback_answers(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.telegram.calls_to("answerCallbackQuery")]

    # --- whole scenarios --------------------------------------------------------------------
    async def completes_report(self, *, village: str = "Pondong Baru", kecamatan: str | None = None,
                               danger: bool = False, victim: str = "child",
                               types: tuple[str, ...] = ("Physical",),
                               story: str = "Tetangga memukul anaknya setiap malam.",
                               contact: bool = True, phone: str | None = "0812 3456 7890",
                               language: str = "en") -> str:
        """Walk the whole conversation with English button labels; return the reference."""
        assert language == "en", "scenario buttons are matched by their English labels"
        await self.sends("/lapor")
        await self.presses("Yes, someone" if danger else "No")
        if danger:
            await self.presses("Continue the report")
        await self.presses("I agree")
        await self.presses("Family of the victim")
        if victim == "child":
            await self.presses("A child")
            await self.presses("Girl")
            await self.presses("6–12")
        else:
            await self.presses("A woman")
            await self.presses("25–44")
        await self.presses("1")
        for label in types:
            await self.presses(label)
        await self.presses("Done")
        if kecamatan:
            await self.presses(kecamatan)
            await self.presses(village)
        else:
            await self.sends(village)
            await self.presses(village)
        await self.presses("Household")
        await self.presses("Skip")
        await self.presses("This week")
        await self.presses("Neighbour")
        if story:
            await self.sends(story)
        await self.presses("Done")
        if contact:
            await self.presses("Yes, through this bot")
            if phone:
                await self.sends(phone)
            else:
                await self.presses("Skip")
            await self.presses("Any time")
        else:
            await self.presses("No, do not contact me")
        await self.presses("Send")
        return reference_in(self.last_text())


REFERENCE = re.compile(r"[A-Z]{2,6}-\d{2}-[A-HJ-NP-Z2-9]{6}")


def reference_in(text: str) -> str:
    match = REFERENCE.search(text)
    assert match, f"no reference in {text!r}"
    return match.group(0)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def template_path(directory: Path) -> Path:
    return directory / "template.sqlite3"
