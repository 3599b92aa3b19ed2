"""The flood gate never loses an answer (issue 14, DESIGN §6): presses of the question being
answered do not count, a message over the limit is held in the database and answered, in order,
when the minute clears, and the person is told to wait, never to send it again. Real floods are
still stopped."""

from __future__ import annotations

from sqlalchemy import func, select, text

from bot.domain import form
from handlers.limits import PRESS_FACTOR, release
from models import HeldUpdate
from tests.harness import Harness, Person


async def held_rows(bot: Harness) -> int:
    async with bot.runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(HeldUpdate)) or 0


def limit_of(bot: Harness) -> int:
    return bot.settings.security.max_messages_per_minute


async def fills_the_minute(bot: Harness, person: Person) -> None:
    """At the story, a minute's worth of messages (with /lapor): the next one is over the limit."""
    await person.reaches(form.STORY)
    for number in range(limit_of(bot) - 1):
        await person.sends(f"Bagian {number + 1}.")


async def test_a_fast_person_pressing_many_buttons_is_never_slowed(bot: Harness,
                                                                   reporter: Person) -> None:
    """A whole report and a long story, in one minute: more than the limit of updates, but
    most are presses of the question being answered."""
    await reporter.reaches(form.STORY)  # /lapor, then presses only
    for number in range(limit_of(bot) - 1):
        await reporter.sends(f"Bagian {number + 1} dari cerita.")
    await reporter.picks(form.YES)
    await reporter.picks("any")
    await reporter.picks("", "submit")

    assert "Thank you" in reporter.last_text()
    assert not any("very fast" in m.text for m in reporter.inbox())
    assert bot.runtime.metrics["flood_limited"] == 0
    assert len(bot.telegram.calls_to("answerCallbackQuery")) > 10  # many presses, none refused


async def test_a_message_over_the_limit_is_held_and_answered_when_the_minute_clears(
        bot: Harness, reporter_id: Person) -> None:
    await fills_the_minute(bot, reporter_id)
    draft = await reporter_id.draft()
    assert draft is not None
    saved = len(draft.answers["story_pending"]["texts"])
    before = len(reporter_id.inbox())

    await reporter_id.sends("Bagian terakhir yang penting.")
    await reporter_id.sends("Dan satu lagi.")

    told = reporter_id.inbox()[before:]
    assert len(told) == 1, [m.text for m in told]  # told once, to wait
    assert "sangat cepat" in told[0].text and "tunggu" in told[0].text
    assert "kirim" not in told[0].text.lower()  # never asked to send it again
    draft = await reporter_id.draft()
    assert draft is not None and len(draft.answers["story_pending"]["texts"]) == saved
    assert await held_rows(bot) == 2
    async with bot.runtime.sessions() as session:
        stored = " ".join(await session.scalars(text("SELECT payload FROM held_updates")))
    assert "penting" not in stored and str(reporter_id.user_id) not in stored  # encrypted

    bot.clock.advance(seconds=61)
    assert bot.app is not None
    assert await release(bot.app) == 2

    draft = await reporter_id.draft()
    assert draft is not None
    assert draft.answers["story_pending"]["texts"][-2:] == ["Bagian terakhir yang penting.",
                                                            "Dan satu lagi."]
    assert await held_rows(bot) == 0
    assert "Sudah tersimpan" in reporter_id.last_with_buttons().text


async def test_held_messages_come_before_a_newer_one(bot: Harness, reporter_id: Person) -> None:
    await fills_the_minute(bot, reporter_id)
    await reporter_id.sends("Tertahan satu.")
    await reporter_id.sends("Tertahan dua.")
    assert await held_rows(bot) == 2

    bot.clock.advance(seconds=61)
    await reporter_id.sends("Yang terbaru.")

    draft = await reporter_id.draft()
    assert draft is not None
    assert draft.answers["story_pending"]["texts"][-3:] == [
        "Tertahan satu.", "Tertahan dua.", "Yang terbaru."]
    assert await held_rows(bot) == 0


async def test_held_messages_survive_a_restart(bot: Harness, reporter_id: Person) -> None:
    await fills_the_minute(bot, reporter_id)
    await reporter_id.sends("Tertahan.")
    assert await held_rows(bot) == 1

    await bot.restart()
    bot.clock.advance(seconds=61)
    assert bot.app is not None
    assert await release(bot.app) == 1

    draft = await reporter_id.draft()
    assert draft is not None
    assert draft.answers["story_pending"]["texts"][-1] == "Tertahan."


async def test_a_held_message_waits_while_the_minute_is_still_full(bot: Harness,
                                                                   reporter_id: Person) -> None:
    await fills_the_minute(bot, reporter_id)
    await reporter_id.sends("Tertahan.")
    bot.clock.advance(seconds=20)  # the minute has not cleared
    assert bot.app is not None
    assert await release(bot.app) == 0
    assert await held_rows(bot) == 1


async def test_presses_of_the_current_question_do_not_count(bot: Harness,
                                                            reporter: Person) -> None:
    """Ticking and unticking many kinds of violence, then typing: the text is read at once."""
    await reporter.reaches(form.TYPES)
    for _time in range(limit_of(bot)):
        await reporter.picks("fisik", "toggle")
    await reporter.sends("dipukul")  # a typed answer after many presses

    assert bot.runtime.metrics["flood_limited"] == 0
    assert "✅ Physical" in reporter.last_with_buttons().button_texts()


async def test_a_real_flood_of_presses_is_still_stopped(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.TYPES)
    bot.clock.advance(seconds=61)  # the presses that led here are out of the window
    for _time in range(limit_of(bot) * PRESS_FACTOR):
        await reporter.picks("fisik", "toggle")
    answered = len(bot.telegram.calls_to("answerCallbackQuery"))

    await reporter.picks("fisik", "toggle")

    assert bot.runtime.metrics["flood_limited"] == 1
    assert len(bot.telegram.calls_to("answerCallbackQuery")) == answered + 1
    assert "very fast" in reporter.callback_answers()[-1]


async def test_a_real_flood_of_messages_is_held_only_up_to_a_minutes_worth(
        bot: Harness, reporter: Person) -> None:
    limit = limit_of(bot)
    for _time in range(limit * 4):
        await reporter.sends("spam")

    assert await held_rows(bot) == limit
    assert bot.runtime.metrics["flood_dropped"] == limit * 2
    assert sum("very fast" in m.text for m in reporter.inbox()) == 1
