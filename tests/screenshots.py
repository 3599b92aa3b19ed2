"""The pictures in the guides (docs/PANDUAN-*.md), taken from the real bot: each scenario runs
through the test harness (the real Application, the Telegram double, a fresh SQLite database) and
each picture draws a chat as it stands at that moment in the transcript Telegram keeps
(``tests/telegram_chats.py``: both sides, edits applied), with ``tests/chat_image.py``.

    make screenshots            # or: python -m tests.screenshots [FOLDER]   (default docs/img)

Run it again whenever the bot's texts or buttons change; nothing in a picture is written by hand.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.callback_data import ReportPress
from bot.domain import form
from bot.l10n import month_name
from tests.case_work import (
    VILLAGE_GROUP_ID,
    case_command,
    presses_case,
    replies_to,
    village_member,
)
from tests.chat_image import Bubble, Screen, emoji_in_colour, save
from tests.group_chat import GroupChat
from tests.harness import Harness, Person, reference_in
from tests.responder_people import PASER, Group, register_officer
from tests.telegram_double import BOT_USER, ChatMessage

WITA = ZoneInfo("Asia/Makassar")
OUT = Path(__file__).resolve().parent.parent / "docs" / "img"

ADMIN_ID = 4_500_001
ACTIVIST_ID = 6_600_001  # Siti, of the PAPTBM group of Modang
REPORTER_ID = 5_550_002
STORY = "Ayah tirinya sering memukul anak itu dengan ikat pinggang."
REPLY = "Selamat siang. Kami dari PAPTBM. Kapan waktu yang aman untuk berbicara?"
ANSWER = "Besok pagi jam 9, waktu anak-anak di sekolah."


@dataclass
class Shot:
    name: str  # the file name, without .png
    screen: Screen


@dataclass
class Camera:
    """Takes pictures of chats as they stand now, in the harness's Telegram."""

    harness: Harness
    shots: list[Shot] = field(default_factory=list)

    def transcript(self, chat_id: int) -> list[ChatMessage]:
        return self.harness.telegram.chats.transcript(chat_id)

    def mark(self, chat_id: int) -> int:
        """Where the chat stands now: pictures may start here."""
        return len(self.transcript(chat_id))

    def calls(self) -> int:
        return len(self.harness.telegram.calls)

    def popup_since(self, calls: int) -> str:
        """The text of the last pop-up the bot showed since ``calls`` Bot API calls."""
        texts = [str(c.params.get("text") or "") for c in self.harness.telegram.calls[calls:]
                 if c.method == "answerCallbackQuery"]
        return next((t for t in reversed(texts) if t), "")

    def private(self, name: str, person: Person, *, since: int = 0, last: int | None = None,
                popup: str = "") -> Shot:
        """The person's private chat with the bot, on their phone."""
        messages = _slice(self.transcript(person.user_id), since, last)
        screen = Screen(
            title=self.harness.settings.telegram.bot_name, subtitle="bot",
            bubbles=tuple(_bubble(m, self.transcript(person.user_id), person.user_id,
                                  group=False, html=self.is_html(m)) for m in messages),
            day=_day(messages), keyboard=_reply_keyboard(self.transcript(person.user_id)),
            popup=popup)
        return self._keep(Shot(name, screen))

    def group(self, name: str, chat_id: int, title: str, viewer: int, *, since: int = 0,
              last: int | None = None, popup: str = "") -> Shot:
        """A group chat, on the phone of the member ``viewer``."""
        transcript = self.transcript(chat_id)
        messages = _slice(transcript, since, last)
        screen = Screen(title=title, subtitle="grup",
                        bubbles=tuple(_bubble(m, transcript, viewer, group=True,
                                              html=self.is_html(m)) for m in messages),
                        day=_day(messages), popup=popup)
        return self._keep(Shot(name, screen))

    def is_html(self, message: ChatMessage) -> bool:
        """Whether the message's text, as it stands, was sent as HTML: by its last edit of the
        text, else by the message itself."""
        params = message.params
        for call in reversed(self.harness.telegram.calls):
            if call.method in ("editMessageText", "editMessageCaption") and call.error is None \
                    and str(call.params.get("chat_id")) == str(message.chat_id) \
                    and str(call.params.get("message_id")) == str(message.message_id):
                params = call.params
                break
        return message.from_bot and str(params.get("parse_mode") or "").upper() == "HTML"

    def _keep(self, shot: Shot) -> Shot:
        assert shot.screen.bubbles, f"{shot.name}: nothing in the chat to show"
        self.shots.append(shot)
        return shot


def _slice(messages: list[ChatMessage], since: int, last: int | None) -> list[ChatMessage]:
    chosen = messages[since:]
    return chosen[-last:] if last else chosen


def _day(messages: list[ChatMessage]) -> str:
    if not messages:
        return ""
    when = datetime.fromtimestamp(messages[0].sent_at, WITA)
    return f"{when.day} {month_name(when.month, 'id')}"


MEDIA = {"sendPhoto": "🖼 Foto", "sendVideo": "🎬 Video", "sendVoice": "🎤 Pesan suara",
         "sendDocument": "📄 Dokumen", "sendAudio": "🎵 Audio", "sendVideoNote": "🎬 Video"}
OWN_MEDIA = {"photo": "🖼 Foto", "video": "🎬 Video", "voice": "🎤 Pesan suara",
             "document": "📄 Dokumen", "audio": "🎵 Audio", "video_note": "🎬 Video",
             "location": "📍 Lokasi", "contact": "📞 Kontak"}


def _bubble(message: ChatMessage, transcript: list[ChatMessage], viewer: int, *,
            group: bool, html: bool) -> Bubble:
    params = message.params
    if message.from_bot:
        sender_id, sender = int(BOT_USER["id"]), str(BOT_USER["first_name"])  # type: ignore[call-overload]
        media = MEDIA.get(message.method, "")
    else:
        author = params.get("from") or {}
        sender_id, sender = int(author.get("id", 0)), str(author.get("first_name", ""))
        media = next((label for key, label in OWN_MEDIA.items() if key in params), "")
    mine = sender_id == viewer
    markup = message.reply_markup or {}
    buttons = tuple(tuple(str(b["text"]) for b in row)
                    for row in markup.get("inline_keyboard", []))
    return Bubble(text=message.text, html=html, mine=mine,
                  sender=sender if group and not mine else "",
                  time=datetime.fromtimestamp(message.sent_at, WITA).strftime("%H.%M"),
                  edited=message.edits > 0, buttons=buttons, media=media,
                  quote=_quoted(message, transcript))


def _quoted(message: ChatMessage, transcript: list[ChatMessage]) -> tuple[str, str] | None:
    params = message.params
    replied: Any = params.get("reply_parameters") or params.get("reply_to_message")
    if isinstance(replied, str):
        import json

        replied = json.loads(replied)
    message_id = replied.get("message_id") if isinstance(replied, dict) else \
        params.get("reply_to_message_id")
    if message_id is None:
        return None
    for other in transcript:
        if other.message_id == int(message_id):
            name = str(BOT_USER["first_name"]) if other.from_bot else \
                str((other.params.get("from") or {}).get("first_name", ""))
            first = re.sub(r"<[^>]+>", "", other.text).strip().splitlines()
            return name, (first[0] if first else "")
    return None


def _reply_keyboard(transcript: list[ChatMessage]) -> tuple[tuple[str, ...], ...]:
    """The reply keyboard the bot left open at the bottom of the chat, if any."""
    keyboard: tuple[tuple[str, ...], ...] = ()
    for message in transcript:
        markup = message.reply_markup or message.params.get("reply_markup")
        if isinstance(markup, str):
            import json

            markup = json.loads(markup)
        if not isinstance(markup, dict):
            continue
        if "keyboard" in markup:
            keyboard = tuple(tuple(str(b["text"]) if isinstance(b, dict) else str(b)
                                   for b in row) for row in markup["keyboard"])
        elif markup.get("remove_keyboard"):
            keyboard = ()
    return keyboard


# --- the scenarios -------------------------------------------------------------------------------

async def village_group_joins(bot: Harness, camera: Camera) -> None:
    """An activist registers the village's PAPTBM group with /daftar; the admin approves it."""
    admin = await register_officer(bot, ADMIN_ID, PASER, "Rina DP2KBP3A", admin=True)
    await admin.sends("/start")
    admin_mark = camera.mark(admin.user_id)
    group = GroupChat(bot, -1001234567890, "PAPTBM Desa Modang")
    siti = group.activist(ACTIVIST_ID, "Siti")
    await siti.sends("/daftar Modang")
    await bot.deliver_outbox()
    camera.private("admin-menyetujui-grup", admin, since=admin_mark)
    bot.clock.advance(minutes=12)
    await admin.presses("Setujui")
    await bot.deliver_outbox()
    camera.group("grup-terdaftar", group.chat_id, group.title, siti.user_id)
    bot.clock.advance(minutes=3)
    mark = camera.mark(group.chat_id)
    await siti.sends("/gabung")
    await bot.deliver_outbox()
    camera.group("grup-gabung", group.chat_id, group.title, siti.user_id, since=mark)


async def a_case_is_handled(bot: Harness, camera: Camera) -> None:
    """A report from Modang: what the reporter sees, the alert in the village group, Terima,
    the details in private, the case card, and a reply that reaches the reporter."""
    siti = await village_member(bot, ACTIVIST_ID, "Siti")
    group = Group(bot, VILLAGE_GROUP_ID, "PAPTBM Desa Modang")
    await siti.sends("/start")
    reporter = Person(bot, user_id=REPORTER_ID, first_name="Wati", language_code="id")
    group_mark = camera.mark(group.chat_id)

    await reporter.sends("/lapor")
    camera.private("pelapor-mulai", reporter)
    await reporter.reaches(form.STORY)
    await reporter.sends(STORY)
    await reporter.sends_photo(caption="foto memar di lengan")
    draft = await reporter.draft()
    assert draft is not None
    # "Selesai" under the story (which the form may also show under the next question).
    await reporter.presses_data(ReportPress(draft.nonce, form.STORY, "done", "").pack())
    await reporter.reaches(form.REVIEW)
    camera.private("pelapor-periksa", reporter, last=1)
    await reporter.picks("", "submit")
    reference = reference_in(reporter.last_text())
    camera.private("pelapor-terkirim", reporter, last=1)

    await bot.deliver_outbox()
    camera.group("grup-peringatan", group.chat_id, group.title, siti.user_id, since=group_mark)

    bot.clock.advance(minutes=6)
    member = group.member(siti.user_id, siti.first_name)
    calls = camera.calls()
    await member.presses("Terima", group.alert_about(reference))
    popup = camera.popup_since(calls)
    await bot.deliver_outbox()
    camera.group("grup-diterima", group.chat_id, group.title, siti.user_id, since=group_mark,
                 popup=popup)

    bot.clock.advance(minutes=1)
    private_mark = camera.mark(siti.user_id)
    calls = camera.calls()
    await member.presses("Detail", group.alert_about(reference))
    popup = camera.popup_since(calls)
    await bot.deliver_outbox()
    camera.group("grup-detail-ditekan", group.chat_id, group.title, siti.user_id,
                 since=group_mark, popup=popup)
    camera.private("detail-pribadi", siti, since=private_mark)

    bot.clock.advance(minutes=4)
    mark = camera.mark(siti.user_id)
    await siti.sends(case_command(reference))
    camera.private("kartu-kasus", siti, since=mark)

    bot.clock.advance(minutes=2)
    mark = camera.mark(siti.user_id)
    await presses_case(siti, "reply")
    bot.clock.advance(minutes=1)
    await siti.sends(REPLY)
    await bot.deliver_outbox()
    camera.private("balas-pelapor", siti, since=mark)
    if "Buka" in " ".join(reporter.last_message().button_texts()):  # discreet: opened by a tap
        await reporter.presses("Buka")
    camera.private("pelapor-pesan-petugas", reporter, last=2)

    bot.clock.advance(minutes=9)
    mark = camera.mark(siti.user_id)
    await replies_to(reporter, reporter.last_message(), ANSWER)
    await bot.deliver_outbox()
    camera.private("jawaban-pelapor", siti, since=mark)


Scenario = Callable[[Harness, Camera], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {
    "village_group_joins": village_group_joins,
    "a_case_is_handled": a_case_is_handled,
}


async def take(bot: Harness, scenario: Scenario) -> list[Shot]:
    camera = Camera(bot)
    await scenario(bot, camera)
    return camera.shots


def render(shots: list[Shot], folder: Path) -> list[Path]:
    return [save(shot.screen, folder / f"{shot.name}.png") for shot in shots]


# --- make screenshots ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from bot.bootstrap import prepare_database
    from bot.clock import FakeClock
    from bot.config import load_settings
    from bot.crypto import Vault, generate_key

    folder = Path((argv if argv is not None else sys.argv[1:] or [str(OUT)])[0])
    for name in list(os.environ):  # a developer's own configuration never shows in a picture
        if name.startswith("PPA_BOT_"):
            del os.environ[name]
    os.environ["PPA_BOT_CONFIG"] = ""
    if not emoji_in_colour():
        print("note: no colour emoji font (Debian: apt-get install fonts-noto-color-emoji); "
              "emoji are drawn plain", file=sys.stderr)
    written: list[Path] = []
    for name, scenario in SCENARIOS.items():
        with tempfile.TemporaryDirectory(prefix="ppa-shots-") as tmp:
            url = f"sqlite+aiosqlite:///{tmp}/{name}.sqlite3"
            prepare_database(url)
            settings = load_settings(telegram={"token": "123456:SCREENSHOTS-not-a-real-token"},
                                     database={"url": url})
            bot = Harness(settings=settings, clock=FakeClock(), vault=Vault([generate_key()]))

            async def run(bot: Harness = bot, scenario: Scenario = scenario) -> list[Shot]:
                await bot.start()
                try:
                    return await take(bot, scenario)
                finally:
                    await bot.stop()

            written += render(asyncio.run(run()), folder)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
