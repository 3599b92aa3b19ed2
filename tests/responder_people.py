"""The people on the other side of a report: village PAPTBM groups, their members, and officers.

A group or officer is registered with the same registry the CLI uses; a member presses buttons in
the group chat the way Telegram delivers it (a callback query from a group message).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.domain import form
from bot.services import responders as registry
from tests.harness import Harness, Person, new_update_id, reference_in
from tests.telegram_double import ChatMessage

PONDONG_BARU = "64.01.05.2009"  # a village in Kecamatan Kuaro
KUARO = "64.01.05"
PASER = "64.01"
LOLO = "64.01.05.2002"  # another village in Kuaro
JANJU = "64.01.04.2002"  # a village in Kecamatan Tanah Grogot

# What a full report from Pondong Baru carries that must never reach a group.
NARRATIVE = "Pamannya memukul Rina dengan sapu di dapur setiap malam."
LANDMARK = "rumah biru dekat masjid Al-Ikhlas"
PHONE = "0812 3456 7890"
PHOTO = "PHOTO-SECRET-FILE-ID-42"


@dataclass
class Group:
    """A group chat the bot is in, registered for a region."""

    harness: Harness
    chat_id: int
    title: str

    def messages(self) -> list[ChatMessage]:
        return self.harness.telegram.messages(self.chat_id)

    def last_message(self) -> ChatMessage:
        return self.harness.telegram.last_message(self.chat_id)

    def alerts(self) -> list[ChatMessage]:
        """Messages with buttons: the alerts themselves (reminders carry none)."""
        return [m for m in self.messages() if m.buttons()]

    def alert_about(self, reference: str) -> ChatMessage:
        for message in self.alerts():
            if reference in message.text:
                return message
        raise AssertionError(f"no alert about {reference} in {self.title}")

    def replies_to(self, message: ChatMessage) -> list[ChatMessage]:
        return [m for m in self.messages() if replied_to(m) == message.message_id]

    def member(self, user_id: int, first_name: str) -> Member:
        return Member(self, user_id, first_name)


@dataclass
class Member:
    """Someone in a group chat, pressing the buttons under the bot's alerts."""

    group: Group
    user_id: int
    first_name: str
    query_ids: list[str] = field(default_factory=list)

    def press_payload(self, label: str, message: ChatMessage) -> dict[str, Any]:
        wanted = label.casefold()
        for button in message.buttons():
            if wanted in button["text"].casefold():
                data = button["callback_data"]
                break
        else:
            raise AssertionError(f"no button {label!r} in {message.button_texts()}")
        return self.payload(data, message)

    def payload(self, data: str, message: ChatMessage) -> dict[str, Any]:
        chat = {"id": self.group.chat_id, "type": "supergroup", "title": self.group.title}
        query_id = f"q{new_update_id()}"
        self.query_ids.append(query_id)
        return {"update_id": new_update_id(), "callback_query": {
            "id": query_id, "chat_instance": f"g{self.group.chat_id}",
            "from": {"id": self.user_id, "is_bot": False, "first_name": self.first_name,
                     "language_code": "id"},
            "data": data,
            "message": {"message_id": message.message_id, "date": self.group.harness.telegram.now,
                        "chat": chat,
                        "from": {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"},
                        "text": message.text}}}

    async def presses(self, label: str, message: ChatMessage) -> None:
        await self.group.harness.feed(self.press_payload(label, message))

    async def presses_data(self, data: str, message: ChatMessage) -> None:
        await self.group.harness.feed(self.payload(data, message))

    def popups(self) -> list[str]:
        """What the bot answered to this member's presses (the pop-up texts)."""
        return [str(call.params.get("text", ""))
                for call in self.group.harness.telegram.calls_to("answerCallbackQuery")
                if call.params.get("callback_query_id") in self.query_ids]


def replied_to(message: ChatMessage) -> int | None:
    reply = message.params.get("reply_parameters")
    if isinstance(reply, str):  # PTB sends JSON-encoded parameters
        reply = json.loads(reply)
    if isinstance(reply, dict):
        return int(reply["message_id"])
    legacy = message.params.get("reply_to_message_id")
    return int(legacy) if legacy is not None else None


async def register_group(bot: Harness, chat_id: int, region: str, title: str) -> Group:
    async with bot.runtime.sessions.begin() as session:
        await registry.add_group(session, chat_id, region, title, bot.clock.now())
    return Group(bot, chat_id, title)


async def register_officer(bot: Harness, user_id: int, region: str, name: str, *,
                           admin: bool = False) -> Person:
    async with bot.runtime.sessions.begin() as session:
        await registry.add_officer(session, user_id, region, name, admin, bot.clock.now())
    return Person(bot, user_id=user_id, first_name=name.split()[0], language_code="id")


def popup_texts(bot: Harness) -> list[str]:
    return [str(c.params.get("text", "")) for c in bot.telegram.calls_to("answerCallbackQuery")]


async def full_report(reporter: Person, *, types: tuple[str, ...] = ("fisik",),
                      danger: bool = False, victim: str = form.CHILD) -> str:
    """A report from Pondong Baru with everything a leak could carry: story, photo, landmark,
    phone. A child victim makes it high priority; a woman, normal (unless sexual or danger)."""
    await ready_to_send(reporter, types=types, danger=danger, victim=victim)
    await reporter.picks("", "submit")
    return reference_in(reporter.last_text())


async def ready_to_send(reporter: Person, *, types: tuple[str, ...] = ("fisik",),
                        danger: bool = False, victim: str = form.CHILD) -> None:
    if victim == form.WOMAN:
        await reporter.reaches(form.VICTIM_CATEGORY, danger=danger)
        await reporter.picks(form.WOMAN)
        await reporter.picks("25-44")
    await reporter.reaches(form.TYPES, danger=danger)
    for value in types:
        await reporter.picks(value, "toggle")
    await reporter.picks("", "done")
    await reporter.reaches(form.KECAMATAN)
    await reporter.sends("Pondong Baru")
    await reporter.picks(PONDONG_BARU)
    await reporter.reaches(form.STORY)
    await reporter.sends(NARRATIVE)
    await reporter.sends_photo(caption="foto memar di lengan", file_id=PHOTO)
    await reporter.finishes_story()
    await reporter.reaches(form.LANDMARK)  # "Tambah keterangan" on the review page
    await reporter.sends(LANDMARK)
    await reporter.sends(PHONE)
    await reporter.reaches(form.REVIEW)
