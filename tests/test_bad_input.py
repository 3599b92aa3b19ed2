"""Bad input at every step (DESIGN §3): a sticker, a location, a 5,000-character text, HTML, a
command in the middle, an old or forged button... Each gets a short, kind re-prompt (never silence,
never a crash) and leaves the draft exactly as it was."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from bot.callback_data import ReportPress, parse
from bot.domain import form
from tests.harness import Harness, Person, new_update_id
from tests.telegram_double import ChatMessage

STEPS = [*form.ORDER, form.REVIEW]
FREE_TEXT = {form.LANDMARK, form.STORY}  # where any text is a fair answer


@dataclass
class Context:
    person: Person
    step: str
    old_button: tuple[ChatMessage, str]  # a button from a question already answered


Bad = Callable[[Context], Awaitable[None]]


async def forged(ctx: Context, action: str, value: str) -> None:
    draft = await ctx.person.draft()
    assert draft is not None
    await ctx.person.presses_data(ReportPress(draft.nonce, draft.step, action, value).pack())


BAD_INPUTS: dict[str, tuple[Bad, set[str]]] = {
    # name: (what the person does, steps where it is a fair answer and so left out here)
    "sticker": (lambda c: c.person.sends_sticker(), set()),
    "location": (lambda c: c.person.sends_location(), form.TAKES_LOCATION),
    "contact": (lambda c: c.person.sends_contact(), {form.PHONE}),
    "poll": (lambda c: c.person.sends_poll(), set()),
    "5,001 characters": (lambda c: c.person.sends("panjang " * 626), set()),
    "HTML": (lambda c: c.person.sends("<b>tebal</b> <script>x</script> & </i>"), FREE_TEXT),
    "Markdown": (lambda c: c.person.sends("*_[`](http://x)"), FREE_TEXT),
    "emoji": (lambda c: c.person.sends("😢🙏🏽"), FREE_TEXT),
    "/lapor": (lambda c: c.person.sends("/lapor"), set()),
    "/start": (lambda c: c.person.sends("/start"), set()),
    "/xyz": (lambda c: c.person.sends("/xyz"), set()),
    "an edited message": (lambda c: c.person.edits_message("koreksi"), set()),
    "an old button": (lambda c: c.person.presses_data(c.old_button[1], c.old_button[0]), set()),
    "a button of another shape": (lambda c: c.person.presses_data("hack|me"), set()),
    "a button of an unknown version": (lambda c: c.person.presses_data("r9|0000|x|y|z"), set()),
    "a forged choice": (lambda c: forged(c, "choose", "zzz"), set()),
    "a forged place": (lambda c: forged(c, "choose", "99.99.99"), set()),
    "a forged skip": (lambda c: forged(c, "skip", ""), {form.LANDMARK, form.PHONE}),
    "a forged edit": (lambda c: forged(c, "edit", "zzz"), set()),
    "a forged send": (lambda c: forged(c, "submit", ""), {form.REVIEW}),
    "a button from someone else's report": (
        lambda c: c.person.presses_data(ReportPress("0badc0de", c.step, "choose", "yes").pack()),
        set()),
}

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "tg-spoiler", "blockquote", "span", "tg-emoji"}


class TelegramHTML(HTMLParser):
    """Fails on what Telegram's HTML parse mode would refuse: unknown or unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS, f"<{tag}> is not allowed by Telegram"
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> does not close anything"
        self.open.pop()


def assert_valid_html(text: str) -> None:
    checker = TelegramHTML()
    checker.feed(text)
    checker.close()
    assert not checker.open, f"unclosed {checker.open} in {text!r}"
    assert not re.search(r"&(?!(lt|gt|amp|quot|#\d+);)", text), f"a bare & in {text!r}"


def visible(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


async def reaches_with_an_old_button(bot: Harness, person: Person, step: str) -> Context:
    await person.sends("/lapor")
    old = person.button_for("choose", form.NO)
    if step == form.DANGER:  # no earlier question: the old button is from an earlier draft
        await person.sends("/batal")
        await person.presses("Yes, delete")
        await person.sends("/lapor")
    await person.reaches(step)
    return Context(person, step, old)


def question_steps(message: ChatMessage) -> set[str]:
    steps = set()
    for button in message.buttons():
        pressed = parse(button["callback_data"])
        if isinstance(pressed, ReportPress):
            steps.add(pressed.step)
    return steps


def test_every_reason_an_answer_is_refused_has_its_words() -> None:
    from bot.views.report import REASONS

    assert set(REASONS) == set(form.Invalid)


@pytest.mark.parametrize("step", STEPS)
async def test_bad_input_gets_a_kind_reprompt_and_changes_nothing(
        bot: Harness, reporter: Person, step: str) -> None:
    ctx = await reaches_with_an_old_button(bot, reporter, step)
    for name, (bad, fair_at) in BAD_INPUTS.items():
        if step in fair_at:
            continue
        bot.clock.advance(minutes=1)  # one person, not a flood
        kept = await reporter.draft()
        calls_before = len(bot.telegram.calls)
        seen_before = len(reporter.inbox())

        await bad(ctx)

        where = f"{name} at {step}"
        assert await reporter.draft() == kept, f"{where} changed the draft"
        new = reporter.inbox()[seen_before:]
        assert new, f"{where} was met with silence"
        assert bot.telegram.calls[calls_before:], where
        assert len(visible(new[0].text)) <= 400, f"{where}: the re-prompt is not short"
        assert question_steps(reporter.last_with_buttons()) == {step}, \
            f"{where}: the question was not asked again"
        for message in new:
            assert_valid_html(message.text)
    assert bot.runtime.metrics["errors"] == 0


async def test_html_typed_by_the_reporter_is_escaped_where_it_is_echoed(reporter: Person) -> None:
    await reporter.reaches(form.LANDMARK)
    await reporter.sends("<b>dekat</b> masjid & *pasar* [_]")
    await reporter.reaches(form.REVIEW)

    review = reporter.last_with_buttons().text
    assert "&lt;b&gt;dekat&lt;/b&gt; masjid &amp; *pasar* [_]" in review
    assert "<b>dekat</b>" not in review
    assert_valid_html(review)


async def test_a_story_with_html_and_emoji_is_kept_exactly(bot: Harness, reporter: Person
                                                           ) -> None:
    story = "Dia bilang <i>jangan lapor</i> 😢 & pergi *cepat*"
    await reporter.reaches(form.STORY)
    await reporter.sends(story)
    await reporter.finishes_story()
    await reporter.reaches(form.REVIEW)
    await reporter.picks("", "submit")

    [case] = await bot.cases()
    assert case.narrative == story
    for message in reporter.inbox():
        assert_valid_html(message.text)


async def test_a_contact_is_a_fair_answer_at_the_phone_question(reporter: Person) -> None:
    await reporter.reaches(form.PHONE)
    await reporter.sends_contact("+62 812-3456-7890")

    draft = await reporter.draft()
    assert draft is not None and draft.answers[form.PHONE] == "+6281234567890"
    assert draft.step == form.REVIEW


async def test_anything_without_a_report_gets_a_pointer_to_lapor(reporter: Person) -> None:
    for bad in (reporter.sends_sticker, reporter.sends_location, reporter.sends_poll):
        before = len(reporter.inbox())
        await bad()
        assert "/lapor" in reporter.texts_since(before)
    await reporter.sends("halo")
    assert "/lapor" in reporter.last_text()
    assert await reporter.draft() is None


@pytest.mark.parametrize(("step", "typed", "reason"), [
    (form.VICTIM_AGE, "masih muda", "as a number"),
    (form.VICTIM_AGE, "45", "does not fit"),  # a child of 45
    (form.VICTIM_COUNT, "0", "between 1 and 99"),
    (form.VICTIM_COUNT, "100", "between 1 and 99"),
    (form.PHONE, "call me maybe", "phone number"),
    (form.PHONE, "0812", "phone number"),
    (form.LANDMARK, "x" * 201, "landmark short"),
    (form.KECAMATAN, "Jakarta", "could not find"),
    (form.VILLAGE, "Surabaya", "could not find"),
])
async def test_a_typed_answer_that_does_not_fit_says_why(reporter: Person, step: str,
                                                         typed: str, reason: str) -> None:
    kept = await reporter.reaches(step)
    before = len(reporter.inbox())

    await reporter.sends(typed)

    assert reason in reporter.texts_since(before)
    assert await reporter.draft() == kept


async def test_done_with_no_kind_of_violence_chosen(reporter: Person) -> None:
    kept = await reporter.reaches(form.TYPES)
    await reporter.picks("", "done")
    assert "at least one" in reporter.texts_since(-2)
    assert await reporter.draft() == kept


async def test_a_report_button_pressed_in_a_group_is_not_answered_there(
        bot: Harness, reporter: Person) -> None:
    kept = await reporter.reaches(form.REVIEW)
    _, send = reporter.button_for("submit")
    group = -100_555_000
    calls = len(bot.telegram.calls)

    await bot.feed({"update_id": new_update_id(), "callback_query": {
        "id": "cq-group", "from": {"id": reporter.user_id, "is_bot": False, "first_name": "Sari"},
        "chat_instance": "g", "data": send,
        "message": {"message_id": 9, "date": bot.telegram.now,
                    "chat": {"id": group, "type": "supergroup", "title": "Grup"},
                    "from": {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA"},
                    "text": "?"}}})

    assert bot.telegram.messages(group) == []
    assert [c.method for c in bot.telegram.calls[calls:]] == ["answerCallbackQuery"]
    assert await reporter.draft() == kept
    assert await bot.cases() == []


@pytest.mark.parametrize("step", [form.LANDMARK, form.PHONE, form.STORY])
async def test_where_the_answer_is_typed_a_wrong_kind_of_message_is_not_sent_to_the_buttons(
        reporter: Person, step: str) -> None:
    kept = await reporter.reaches(step)
    before = len(reporter.inbox())

    if step == form.STORY:
        await reporter.sends_contact()
    else:
        await reporter.sends_photo()

    said = reporter.texts_since(before)
    assert "cannot use that here" in said and "buttons" not in said
    assert await reporter.draft() == kept
