"""Nothing is lost and nothing happens twice (DESIGN §3, §7): every answer is committed before the
next question is sent, a restart continues at the same question, a redelivered update or a second
press of Send changes nothing twice, and abandoned drafts expire with one gentle notice."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.request import RequestData

from bot import jobs
from bot.callback_data import ReportPress, parse
from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.db import create_engine, session_factory
from bot.domain import form
from bot.regions import RegionDirectory
from bot.services.reports import ReportService
from tests.harness import Harness, Person, reference_in
from tests.telegram_double import FakeTelegram

# --- restart -------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", [*form.ORDER, form.REVIEW])
async def test_a_restart_continues_at_the_same_question_with_every_answer(
        bot: Harness, reporter: Person, step: str) -> None:
    before = await reporter.reaches(step)

    await bot.restart()
    await reporter.sends("/start")

    assert await reporter.draft() == before
    assert "unfinished report" in reporter.texts_since(-3)
    question = reporter.last_with_buttons()
    assert {parse(b["callback_data"]).step for b in question.buttons()  # type: ignore[union-attr]
            } == {step}


async def test_buttons_sent_before_a_restart_still_work_after_it(bot: Harness, reporter: Person
                                                                ) -> None:
    await reporter.reaches(form.WHEN)
    await bot.restart()

    await reporter.presses("Still happening")  # on the message sent by the first process
    await reporter.reaches(form.REVIEW)
    await reporter.presses("Send")

    [case] = await bot.cases()
    assert case.occurred == "ongoing"
    assert case.village_code == "64.01.05.2006" and case.violence_types == ["fisik"]
    assert reference_in(reporter.last_text()) == case.reference


async def test_several_restarts_during_one_report(bot: Harness, reporter: Person) -> None:
    await reporter.sends("/lapor")
    while (draft := await reporter.draft()) is not None and draft.step != form.REVIEW:
        await reporter.answers_plainly(draft.step)
        await bot.restart()
    await reporter.presses("Send")
    assert len(await bot.cases()) == 1


# --- the same update twice -----------------------------------------------------------------------
# Telegram delivers an update again when it did not hear that the bot had it (a crash, a webhook
# answered late). The second delivery changes nothing, in the database or on the person's screen:
# no apology, no question asked twice, no error.

Screen = list[tuple[int, str, list[str]]]


def screen(person: Person) -> Screen:
    """The chat as the person sees it: each of the bot's messages, its text and its buttons."""
    return [(m.message_id, m.text, m.button_texts()) for m in person.inbox()]


async def redelivered(bot: Harness, person: Person) -> Screen:
    """Deliver the person's last update again; return what appeared on their screen since."""
    before = screen(person)
    errors = bot.runtime.metrics["errors"]
    await person.redelivers_last_update()
    await bot.deliver_outbox()
    after = screen(person)
    assert not any("Sorry" in text for _, text, _ in after), "the person was told of an error"
    assert bot.runtime.metrics["errors"] == errors, "the redelivered update raised an error"
    assert after[:len(before)] == before, "a message the person saw was changed"
    return after[len(before):]


@pytest.mark.parametrize("step", form.ORDER)
async def test_an_answer_delivered_twice_at_any_question_shows_nothing_new(
        bot: Harness, reporter: Person, step: str) -> None:
    await reporter.reaches(step)
    await reporter.answers_plainly(step)
    stored = await reporter.draft()

    assert await redelivered(bot, reporter) == []
    assert await reporter.draft() == stored


async def test_a_redelivered_story_message_is_stored_once(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends("Dia dipukul tadi malam.")

    assert await redelivered(bot, reporter) == []

    draft = await reporter.draft()
    assert draft is not None
    assert draft.answers["story_pending"]["texts"] == ["Dia dipukul tadi malam."]


async def test_a_redelivered_photo_is_stored_once(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends_photo(caption="bukti")

    assert await redelivered(bot, reporter) == []

    draft = await reporter.draft()
    assert draft is not None and len(draft.answers["story_pending"]["media"]) == 1


async def test_a_redelivered_toggle_is_not_toggled_back(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.TYPES)
    await reporter.picks("seksual", "toggle")

    assert await redelivered(bot, reporter) == []

    draft = await reporter.draft()
    assert draft is not None and draft.answers["types_pending"] == ["seksual"]
    assert "✅ Sexual" in reporter.last_with_buttons().button_texts()


async def test_a_redelivered_answer_does_not_skip_a_question(bot: Harness,
                                                             reporter: Person) -> None:
    await reporter.reaches(form.VICTIM_AGE)
    await reporter.sends("9")
    after_first = await reporter.draft()

    assert await redelivered(bot, reporter) == []

    assert await reporter.draft() == after_first
    assert after_first is not None and after_first.step == form.VICTIM_COUNT


async def test_a_redelivered_update_after_a_restart_changes_nothing(bot: Harness,
                                                                    reporter: Person) -> None:
    await reporter.reaches(form.STORY)
    await reporter.sends("Sekali saja.")
    question = screen(reporter)[-1]
    await bot.restart()  # as if the process died before Telegram heard we had the update

    # The new process cannot know whether the question after the answer went out before the
    # crash: it asks it once more rather than leave the person without it.
    assert [(text, buttons) for _, text, buttons in await redelivered(bot, reporter)] == [
        question[1:]]

    draft = await reporter.draft()
    assert draft is not None and draft.answers["story_pending"]["texts"] == ["Sekali saja."]


async def test_a_redelivered_lapor_makes_one_draft(bot: Harness, reporter: Person) -> None:
    await reporter.sends("/lapor")
    first = await reporter.draft()

    assert await redelivered(bot, reporter) == []

    assert await reporter.draft() == first


async def test_pressing_send_twice_makes_one_case(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.REVIEW)
    review, send = reporter.button_for("submit")

    await reporter.presses_data(send, review)
    first = reference_in(reporter.last_text())
    await reporter.presses_data(send, review)

    assert len(await bot.cases()) == 1
    again = reporter.last_text()
    assert reference_in(again) == first
    assert "already sent" in again


async def test_a_redelivered_send_makes_one_case(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")
    reference = reference_in(reporter.last_text())

    assert await redelivered(bot, reporter) == []

    [case] = await bot.cases()
    assert case.reference == reference == reference_in(reporter.last_text())


# --- expiry --------------------------------------------------------------------------------------

async def test_an_abandoned_draft_expires_with_one_gentle_notice(bot: Harness, reporter: Person
                                                                 ) -> None:
    await reporter.reaches(form.ROLE)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, minutes=1)

    assert await jobs.expire_drafts(bot.runtime) == 1
    await bot.deliver_outbox()
    assert await jobs.expire_drafts(bot.runtime) == 0  # the next sweep finds nothing
    await bot.deliver_outbox()

    assert await reporter.draft() is None
    # Discreet (the default): a neutral notice of its own, silent, that cannot be forwarded.
    notices = [m for m in reporter.inbox() if m.text == jobs.draft_expired_neutral("en")]
    assert len(notices) == 1
    assert "/lapor" in notices[0].text and notices[0].params["disable_notification"] is True


async def test_the_expiry_notice_is_in_the_reporters_language(bot: Harness, reporter_id: Person
                                                              ) -> None:
    await reporter_id.reaches(form.CONSENT)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours + 1)
    await jobs.expire_drafts(bot.runtime)
    await bot.deliver_outbox()
    assert reporter_id.last_text() == jobs.draft_expired_neutral("id")
    assert reporter_id.last_text() != jobs.draft_expired_neutral("en")


async def test_a_draft_just_under_the_limit_is_kept(bot: Harness, reporter: Person) -> None:
    kept = await reporter.reaches(form.ROLE)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours, seconds=-1)

    assert await jobs.expire_drafts(bot.runtime) == 0
    await bot.deliver_outbox()

    assert await reporter.draft() == kept
    assert "deleted" not in reporter.last_text()


async def test_every_answer_restarts_the_expiry_clock(bot: Harness, reporter: Person) -> None:
    await reporter.reaches(form.ROLE)
    bot.clock.advance(hours=bot.settings.drafts.expire_hours - 1)
    await reporter.picks("victim")
    bot.clock.advance(hours=2)  # three days after the start, two hours after the last answer

    assert await jobs.expire_drafts(bot.runtime) == 0
    draft = await reporter.draft()
    assert draft is not None and draft.step == form.VICTIM_CATEGORY


async def test_a_button_of_an_expired_draft_says_the_report_is_closed(bot: Harness,
                                                                      reporter: Person) -> None:
    await reporter.reaches(form.ROLE)
    question = reporter.last_with_buttons()
    bot.clock.advance(hours=bot.settings.drafts.expire_hours + 1)
    await jobs.expire_drafts(bot.runtime)

    _, data = reporter.button_data("I am the victim")
    await reporter.presses_data(data, question)

    assert "no longer open" in reporter.callback_answers()[-1]
    assert "📝 Make a report" in reporter.last_message().button_texts()  # never a dead end
    assert await reporter.draft() is None


# --- committed before the next question ----------------------------------------------------------

class WatchingTelegram(FakeTelegram):
    """The Telegram double, which at the moment a question goes out reads the draft from the
    database through its own engine: what a new process would find if this one died now."""

    def __init__(self, settings: Settings, clock: FakeClock, vault: Vault, user_id: int) -> None:
        super().__init__()
        self.engine = create_engine(settings.database.url)
        self.stored = ReportService(session_factory(self.engine), clock, vault, settings,
                                    RegionDirectory())
        self.user_id = user_id
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        api = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        asked = _asked_step(params)
        if api in ("sendMessage", "editMessageText") and asked is not None \
                and int(params.get("chat_id", 0)) == self.user_id:
            draft = (await self.stored.current(self.user_id)).draft
            self.seen.append((asked, draft.step if draft else None,
                              draft.answers if draft else {}))
        return await super().do_request(url, method, request_data, *args, **kwargs)


def _asked_step(params: dict[str, Any]) -> str | None:
    markup = params.get("reply_markup")
    if not isinstance(markup, dict):
        return None
    steps = set()
    for row in markup.get("inline_keyboard", []):
        for button in row:
            pressed = parse(button.get("callback_data"))
            if isinstance(pressed, ReportPress):
                steps.add(pressed.step)
    return steps.pop() if len(steps) == 1 else None


async def test_every_answer_is_committed_before_the_next_question_is_sent(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    user_id = 5_550_300
    telegram = WatchingTelegram(settings, clock, vault, user_id)
    bot = await Harness(settings=settings, clock=clock, vault=vault, telegram=telegram).start()
    try:
        person = Person(bot, user_id=user_id, language_code="en")
        await person.sends("/lapor")
        await person.presses("Yes, someone")
        await person.presses("Continue")
        await person.reaches(form.REVIEW)

        asked = [step for step, _, _ in telegram.seen]
        assert asked[:3] == [form.DANGER, form.DANGER_GO, form.CONSENT]
        assert form.STORY in asked and form.REVIEW in asked
        for step, stored_step, _ in telegram.seen:
            assert stored_step == step, f"{step} was asked while the database said {stored_step}"
        answered: set[str] = set()
        for step, _, answers in telegram.seen:  # no answer ever disappears on the way
            assert answered <= set(answers), f"lost {answered - set(answers)} before {step}"
            answered |= {s for s in answers if s in form.ORDER}
    finally:
        await bot.stop()
        await telegram.engine.dispose()
