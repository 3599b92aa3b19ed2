"""A village group chat and the activists in it, who send commands there and press buttons,
as Telegram delivers them (in privacy mode a bot still receives commands and button presses)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.cli import main as ppa_bot
from tests.harness import Harness, new_update_id
from tests.telegram_double import ChatMessage


@dataclass
class GroupChat:
    harness: Harness
    chat_id: int
    title: str

    def messages(self) -> list[ChatMessage]:
        return self.harness.telegram.messages(self.chat_id)

    def last_text(self) -> str:
        return self.harness.telegram.last_message(self.chat_id).text

    def last_with_buttons(self) -> ChatMessage:
        for message in reversed(self.messages()):
            if message.buttons():
                return message
        raise AssertionError(f"no message with buttons in {self.title}")

    def activist(self, user_id: int, first_name: str, username: str | None = None) -> Activist:
        return Activist(self, user_id, first_name, username)

    async def becomes_a_supergroup(self, new_chat_id: int) -> None:
        """Telegram's two service messages when a group is upgraded: "migrated to" in the old
        chat, "migrated from" in the new one; from then on the group has the new id."""
        telegram = self.harness.telegram
        old = self.chat_id
        bot_user = {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"}
        await self.harness.feed({"update_id": new_update_id(), "message": {
            "message_id": telegram.next_message_id(old), "date": telegram.now,
            "chat": {"id": old, "type": "group", "title": self.title}, "from": bot_user,
            "migrate_to_chat_id": new_chat_id}})
        await self.harness.feed({"update_id": new_update_id(), "message": {
            "message_id": telegram.next_message_id(new_chat_id), "date": telegram.now,
            "chat": {"id": new_chat_id, "type": "supergroup", "title": self.title},
            "from": bot_user, "migrate_from_chat_id": old}})
        self.chat_id = new_chat_id


@dataclass
class Activist:
    group: GroupChat
    user_id: int
    first_name: str
    username: str | None = None

    def _user(self) -> dict[str, Any]:
        user = {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                "language_code": "id"}
        if self.username:
            user["username"] = self.username
        return user

    def _chat(self) -> dict[str, Any]:
        return {"id": self.group.chat_id, "type": "supergroup", "title": self.group.title}

    def _message(self, text: str) -> dict[str, Any]:
        telegram = self.group.harness.telegram
        message: dict[str, Any] = {
            "message_id": telegram.next_message_id(self.group.chat_id), "date": telegram.now,
            "chat": self._chat(), "from": self._user(), "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return message

    async def sends(self, text: str) -> None:
        await self.group.harness.feed({"update_id": new_update_id(),
                                       "message": self._message(text)})

    async def edits_last_message_to(self, text: str) -> None:
        """Telegram delivers an edit of an earlier message as an ``edited_message`` update."""
        message = self._message(text) | {"edit_date": self.group.harness.telegram.now}
        await self.group.harness.feed({"update_id": new_update_id(),
                                       "edited_message": message})

    async def leaves(self, *, removed_by: Activist | None = None) -> None:
        """The service message the bot receives (also in privacy mode) when someone leaves the
        group, or is removed from it by one of its admins; Telegram then answers getChatMember
        with "left" (or "kicked")."""
        telegram = self.group.harness.telegram
        telegram.set_member_status(self.group.chat_id, self.user_id,
                                   "left" if removed_by is None else "kicked")
        sender = removed_by or self
        await self.group.harness.feed({"update_id": new_update_id(), "message": {
            "message_id": telegram.next_message_id(self.group.chat_id), "date": telegram.now,
            "chat": self._chat(), "from": sender._user(),
            "left_chat_member": self._user()}})

    async def presses(self, label: str) -> None:
        message = self.group.last_with_buttons()
        for button in message.buttons():
            if label.casefold() in button["text"].casefold():
                await self.presses_data(button["callback_data"], message)
                return
        raise AssertionError(f"no button {label!r} in {message.button_texts()}")

    async def presses_data(self, data: str, message: ChatMessage) -> None:
        await self.group.harness.feed({"update_id": new_update_id(), "callback_query": {
            "id": str(new_update_id()), "from": self._user(), "chat_instance": "gi",
            "data": data,
            "message": {"message_id": message.message_id, "date": self.group.harness.telegram.now,
                        "chat": self._chat(),
                        "from": {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"},
                        "text": message.text}}})

    def popups(self) -> list[str]:
        return [str(c.params.get("text", ""))
                for c in self.group.harness.telegram.calls_to("answerCallbackQuery")]


async def in_a_shell(*args: str) -> int:
    """``ppa-bot ARGS`` run beside the bot (its own event loop, in a thread), as staff do."""
    return await asyncio.to_thread(ppa_bot, list(args))
