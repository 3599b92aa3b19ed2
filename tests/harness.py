"""A running bot for tests: the real Application on a real SQLite file, the Telegram double at the
request layer, a controllable clock; and people who talk to it like people do."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.ext import Application

from bot.app import build_application, installed_handlers, start_runtime
from bot.callback_data import BadCallback, OpenPress, ReportPress
from bot.callback_data import parse as parse_callback
from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import form as report_form
from bot.runtime import Runtime
from bot.services.reports import DraftView
from models import Case, Evidence
from tests.telegram_double import ChatMessage, FakeTelegram

_update_ids = itertools.count(1000)


@dataclass
class Harness:
    settings: Settings
    clock: FakeClock
    vault: Vault
    telegram: FakeTelegram = field(default_factory=FakeTelegram)
    app: Application | None = None  # type: ignore[type-arg]
    rt: Runtime | None = None

    async def start(self) -> Harness:
        # Telegram's clock is the test's: message dates, the 48 hours of deleting, the seconds a
        # button press may wait for its answer.
        self.telegram.chats.clock = lambda: self.clock.now().timestamp()
        self.rt = Runtime.create(self.settings, clock=self.clock, vault=self.vault)
        self.app = build_application(self.rt, installed_handlers(), request=self.telegram,
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
        """Handle one update, and wait for any work it started aside (an export, the figures):
        a scenario reads what the person sees once everything asked for is done."""
        assert self.app is not None
        self.telegram.sees(payload)
        update = Update.de_json(payload, self.app.bot)
        await self.app.process_update(update)
        await self.runtime.settle()
        return update

    async def deliver_outbox(self) -> None:
        await self.runtime.sender.drain()

    async def cases(self) -> list[Case]:
        """Every case in the database, oldest first (read in a fresh session)."""
        async with self.runtime.sessions() as session:
            return list(await session.scalars(select(Case).order_by(Case.id)))

    async def evidence(self, case: Case) -> list[Evidence]:
        async with self.runtime.sessions() as session:
            return list(await session.scalars(
                select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))


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
        return {"message_id": self.telegram.next_message_id(self.user_id),
                "date": self.telegram.now,
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

    def transcript(self) -> list[ChatMessage]:
        """The chat as it stands on the person's phone: both sides, deleted messages gone."""
        return self.telegram.chats.transcript(self.user_id)

    def own_messages(self) -> list[ChatMessage]:
        """What the person wrote that is still in the chat."""
        return self.telegram.chats.own_messages(self.user_id)

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

    # --- discreet messages (DESIGN §6): a neutral cover, opened with "Buka" ------------------
    def covers(self) -> list[ChatMessage]:
        """The discreet messages in the chat that are covered now (they show "Buka")."""
        return [m for m in self.inbox() if _open_button(m) is not None]

    async def opens(self, message: ChatMessage | None = None) -> ChatMessage:
        """Tap "Buka" on a discreet message (the newest covered one unless told): the message
        as it shows afterwards (the bot edits it in place)."""
        if message is None:
            covered = self.covers()
            assert covered, "no covered message in the chat"
            message = covered[-1]
        data = _open_button(message)
        assert data is not None, f"no Buka button on {message.text!r}"
        await self.presses_data(data, message)
        return message

    async def opens_all(self) -> None:
        """Tap "Buka" on every covered message in the chat."""
        for message in self.covers():
            await self.opens(message)

    async def reads_last(self) -> str:
        """What the newest message says, opened first when it arrived discreetly."""
        last = self.last_message()
        if _open_button(last) is not None:
            await self.opens(last)
        return last.text

    def callback_answers(self) -> list[str]:
        return [str(c.params.get("text", ""))
                for c in self.telegram.calls_to("answerCallbackQuery")]

    # --- any language: buttons by their callback data, the draft as stored -------------------
    def button_for(self, action: str, value: str = "") -> tuple[ChatMessage, str]:
        """The report button with ``action`` and ``value`` in the newest message with buttons."""
        message = self.last_with_buttons()
        for button in message.buttons():
            data = str(button.get("callback_data", ""))
            try:
                pressed = parse_callback(data)
            except BadCallback:
                continue
            if isinstance(pressed, ReportPress) and pressed.action == action \
                    and pressed.value == value:
                return message, data
        raise AssertionError(f"no {action}:{value} button in {message.button_texts()}")

    async def picks(self, value: str, action: str = "choose") -> None:
        """Press the button that answers ``value`` (whatever its label says in this language)."""
        message, data = self.button_for(action, value)
        await self.presses_data(data, message)

    async def draft(self) -> DraftView | None:
        """The draft as stored in the database now (read in a fresh session)."""
        return (await self.harness.runtime.reports.current(self.user_id)).draft

    async def reaches(self, step: str, *, danger: bool = False) -> DraftView:
        """Start (or resume) a report and give ordinary answers until ``step`` is asked."""
        if await self.draft() is None:
            await self.sends("/lapor")
        for _attempt in range(len(report_form.ORDER) + 2):
            draft = await self.draft()
            assert draft is not None, "the report was not started"
            if draft.step == step:
                return draft
            if draft.step == report_form.REVIEW and step in report_form.SECTIONS[report_form.EXTRA]:
                await self.picks(report_form.EXTRA, "edit")  # "Tambah keterangan"
                continue
            await self.answers_plainly(draft.step, danger=danger or step == report_form.DANGER_GO)
        raise AssertionError(f"never reached {step}")

    async def answers_plainly(self, step: str, *, danger: bool = False) -> None:
        """An ordinary answer to the question at ``step``, by button where there is one."""
        if step == report_form.DANGER:
            await self.picks(report_form.YES if danger else report_form.NO)
        elif step == report_form.TYPES:
            await self.picks("fisik", "toggle")
            await self.picks("", "done")
        elif step == report_form.STORY:
            await self.sends("Tetangga memukul anaknya setiap malam.")
            await self.finishes_story()
        elif step in (report_form.LANDMARK, report_form.PHONE):
            await self.picks("", "skip")
        else:
            await self.picks(PLAIN_ANSWERS[step])

    async def finishes_story(self) -> None:
        """The story's "done", which the next question's buttons imply (this stops at it)."""
        draft = await self.draft()
        assert draft is not None and draft.step == report_form.STORY
        await self.presses_data(ReportPress(draft.nonce, report_form.STORY, "done", "").pack())

    async def sends_video(self, file_id: str = "VIDEO-FILE-ID-1", size: int = 2_000_000,
                          caption: str | None = None) -> None:
        extra = {"caption": caption} if caption else {}
        await self.sends_content(video={"file_id": file_id, "file_unique_id": "uvid" + file_id[-4:],
                                        "width": 640, "height": 480, "duration": 12,
                                        "file_size": size}, **extra)

    async def sends_document(self, file_id: str = "DOC-FILE-ID-1", size: int = 80_000,
                             caption: str | None = None, name: str = "visum.pdf") -> None:
        extra = {"caption": caption} if caption else {}
        document = {"file_id": file_id, "file_unique_id": "ud" + file_id[-4:], "file_name": name,
                    "mime_type": "application/pdf", "file_size": size}
        await self.sends_content(document=document, **extra)

    async def sends_sticker(self) -> None:
        await self.sends_content(sticker={"file_id": "STICKER-1", "file_unique_id": "us1",
                                          "type": "regular", "width": 512, "height": 512,
                                          "is_animated": False, "is_video": False})

    async def sends_location(self, latitude: float = -1.9086, longitude: float = 116.1936) -> None:
        await self.sends_content(location={"latitude": latitude, "longitude": longitude})

    async def sends_contact(self, phone: str = "+6281234567890") -> None:
        await self.sends_content(contact={"phone_number": phone, "first_name": self.first_name,
                                          "user_id": self.user_id})

    async def sends_poll(self) -> None:
        await self.sends_content(poll={
            "id": "poll-1", "question": "Siapa?", "options": [
                {"text": "A", "voter_count": 0, "persistent_id": "a"},
                {"text": "B", "voter_count": 0, "persistent_id": "b"}],
            "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
            "allows_multiple_answers": False, "allows_revoting": False,
            "members_only": False})

    async def edits_message(self, text: str) -> None:
        payload = {"update_id": new_update_id(),
                   "edited_message": {**self._message(text=text), "edit_date": self.telegram.now}}
        await self.send_payload(payload)

    # --- whole scenarios --------------------------------------------------------------------
    async def completes_report(self, *, village: str = "Pondong Baru", kecamatan: str | None = None,
                               danger: bool = False, victim: str = "child",
                               types: tuple[str, ...] = ("Physical",),
                               story: str = "Tetangga memukul anaknya setiap malam.",
                               contact: bool = True, phone: str | None = "0812 3456 7890",
                               language: str = "en", safe_time: str = "Any time") -> str:
        """Walk the whole conversation with English button labels; return the reference."""
        assert language == "en", "scenario buttons are matched by their English labels"
        await self.sends("/lapor")
        await self.presses("Yes, someone" if danger else "No")
        if danger:
            await self.presses("Continue the report")
        await self.presses("I agree")
        await self.presses("Family of the victim")
        if victim == "child":
            await self.presses("Girl (under 18)")
            await self.presses("6–12")
        else:
            await self.presses("Woman (18")
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
        await self.presses("This week")
        await self.presses("Neighbour")
        if story:
            await self.sends(story)  # the next answer, a button, finishes the story
        else:
            await self.presses("Skip the story")
        if contact:
            await self.presses("Yes, through this bot")
            await self.presses(safe_time)
            if phone:  # "Add details": the landmark (skipped here), then the phone number
                await self.presses("Add details")
                await self.presses("Skip")
                await self.sends(phone)
        else:
            await self.presses("No, do not contact me")
        await self.presses("Send")
        return reference_in(self.last_text())


def _open_button(message: ChatMessage) -> str | None:
    for button in message.buttons():
        data = str(button.get("callback_data", ""))
        try:
            pressed = parse_callback(data)
        except BadCallback:
            continue
        if isinstance(pressed, OpenPress) and pressed.action == "open":
            return data
    return None


# What ``Person.reaches`` answers at each question that has a single button to press.
PLAIN_ANSWERS = {
    report_form.DANGER_GO: "go", report_form.CONSENT: "agree", report_form.ROLE: "family",
    report_form.VICTIM_CATEGORY: report_form.GIRL,
    report_form.VICTIM_AGE: "6-12", report_form.VICTIM_COUNT: "1",
    report_form.KECAMATAN: "64.01.05", report_form.VILLAGE: "64.01.05.2006",
    report_form.PLACE: "rumah_tangga", report_form.WHEN: "week",
    report_form.PERPETRATOR: "tetangga", report_form.CONTACT: report_form.YES,
    report_form.SAFE_TIME: "any",
}

REFERENCE = re.compile(r"[A-Z]{2,6}-\d{2}-[A-HJ-NP-Z2-9]{6}")


def reference_in(text: str) -> str:
    match = REFERENCE.search(text)
    assert match, f"no reference in {text!r}"
    return match.group(0)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def template_path(directory: Path) -> Path:
    return directory / "template.sqlite3"
