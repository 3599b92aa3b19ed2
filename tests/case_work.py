"""People who handle a case, and a reporter who talks with them through the bot.

The report is made through the bot (every question answered as a reporter would); officers and
village groups are registered as the CLI and ``/gabung`` register them; buttons are pressed the way
Telegram delivers them. Cases written straight into the database (``seeded_case``) are for tests
that need many cases or one in a given state quickly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.callback_data import BadCallback, CasePress, parse
from bot.domain import form
from bot.domain.references import new_reference
from bot.services.reporters import touch_reporter
from models import Case, CaseEvent, OutboxMessage
from tests.case_factory import new_case
from tests.group_chat import GroupChat
from tests.harness import Harness, Person, new_update_id, reference_in
from tests.responder_people import register_group, register_officer
from tests.telegram_double import BOT_USER, ChatMessage

MODANG = "64.01.05.2006"  # the village a plain report comes from (Kecamatan Kuaro)
KUARO = "64.01.05"
TANAH_GROGOT = "64.01.04"
PASER = "64.01"
VILLAGE_GROUP_ID = -1001000000777
KABUPATEN_GROUP_ID = -1002000000888
STORY = "Ayah tirinya memukul Dewi dengan ikat pinggang."


async def report_from_modang(reporter: Person, *, contact: bool = True,
                             phone: str | None = None, safe_time: str = "any",
                             types: tuple[str, ...] = ("fisik",)) -> str:
    """A report made through the bot (Modang, Kuaro); returns its reference."""
    await reporter.reaches(form.TYPES)
    for value in types:
        await reporter.picks(value, "toggle")
    await reporter.picks("", "done")
    await reporter.reaches(form.STORY)
    await reporter.sends(STORY)
    await reporter.finishes_story()
    await reporter.reaches(form.CONTACT)
    if not contact:
        await reporter.picks(form.NO)
    else:
        await reporter.picks(form.YES)
        await reporter.reaches(form.SAFE_TIME)
        await reporter.picks(safe_time)
        if phone:  # "Tambah keterangan": the landmark (skipped), then the phone number
            await reporter.reaches(form.PHONE)
            await reporter.sends(phone)
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    return reference_in(reporter.last_text())


async def kecamatan_officer(bot: Harness, user_id: int = 7_700_001,
                            name: str = "Bu Rina Kuaro") -> Person:
    return await register_officer(bot, user_id, KUARO, name)


async def village_member(bot: Harness, user_id: int = 6_600_001,
                         first_name: str = "Sri") -> Person:
    """An activist of Modang's PAPTBM group, enrolled with /gabung in the group."""
    await register_group(bot, VILLAGE_GROUP_ID, MODANG, "PAPTBM Modang")
    group = GroupChat(bot, VILLAGE_GROUP_ID, "PAPTBM Modang")
    await group.activist(user_id, first_name).sends("/gabung")
    return Person(bot, user_id=user_id, first_name=first_name, language_code="id")


def case_command(reference: str) -> str:
    return "/kasus_" + reference.replace("-", "_")


async def press(person: Person, data: str, message: ChatMessage | None = None) -> None:
    """A button press with this callback data, on ``message`` (or on a card in their chat)."""
    message_id = message.message_id if message is not None else 1
    text = message.text if message is not None else "📂"
    await person.send_payload({"update_id": new_update_id(), "callback_query": {
        "id": str(new_update_id()), "from": person._user(), "chat_instance": "ci",
        "data": data,
        "message": {"message_id": message_id, "date": person.telegram.now,
                    "chat": {"id": person.user_id, "type": "private"},
                    "from": BOT_USER, "text": text}}})


def card_button(person: Person, action: str, value: str | None = None) -> tuple[ChatMessage, str]:
    """The case button with this action (and value) in the newest message that has one."""
    for message in reversed(person.inbox()):
        for button in message.buttons():
            try:
                pressed = parse(button.get("callback_data"))
            except BadCallback:
                continue
            if isinstance(pressed, CasePress) and pressed.action == action \
                    and (value is None or pressed.value == value):
                return message, button["callback_data"]
    raise AssertionError(f"no {action}:{value} button in {person.first_name}'s chat")


def has_card_button(person: Person, action: str, value: str | None = None) -> bool:
    try:
        card_button(person, action, value)
    except AssertionError:
        return False
    return True


async def presses_case(person: Person, action: str, value: str | None = None) -> None:
    message, data = card_button(person, action, value)
    await press(person, data, message)


async def replies_to(person: Person, message: ChatMessage, text: str | None = None,
                     **content: Any) -> None:
    """A reply (swipe left) to one of the bot's messages in this person's chat."""
    replied = {"message_id": message.message_id, "date": person.telegram.now,
               "chat": {"id": person.user_id, "type": "private"}, "from": BOT_USER,
               "text": message.text}
    extra: dict[str, Any] = {"text": text} if text is not None else {}
    await person.sends_content(reply_to_message=replied, **extra, **content)


def messages_with(person: Person, words: str) -> list[ChatMessage]:
    return [m for m in person.inbox() if words in m.text]


def popups(bot: Harness) -> list[str]:
    return [str(c.params.get("text", "")) for c in bot.telegram.calls_to("answerCallbackQuery")]


def heard(bot: Harness, person: Person) -> str:
    """Everything the bot said to this person: messages in their chat and button pop-ups."""
    return "\n".join([*(m.text for m in person.inbox()), *popups(bot)])


async def case_row(bot: Harness, reference: str) -> Case:
    async with bot.runtime.sessions() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        return case


async def events(bot: Harness, reference: str, kind: str | None = None) -> list[CaseEvent]:
    async with bot.runtime.sessions() as session:
        query = select(CaseEvent).join(Case, Case.id == CaseEvent.case_id).where(
            Case.reference == reference).order_by(CaseEvent.id)
        if kind is not None:
            query = query.where(CaseEvent.kind == kind)
        return list(await session.scalars(query))


async def pending_to(bot: Harness, kind: str) -> list[OutboxMessage]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.status == "pending")))


async def seeded_case(bot: Harness, *, reporter: Person | None = None, **fields: Any) -> Case:
    """A case written straight into the database (Modang unless told), linked to ``reporter``."""
    now = bot.clock.now()
    async with bot.runtime.sessions.begin() as session:
        reporter_id = None
        if reporter is not None:
            row = await touch_reporter(session, bot.vault, reporter.user_id, "en", now)
            reporter_id = row.id
        values: dict[str, Any] = {"reporter_id": reporter_id, "contact_time": "any",
                                  "reference": new_reference("PSR", 26)}
        values.update(fields)
        case = new_case(now, **values)
        session.add(case)
    return case
