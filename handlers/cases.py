"""Case handling in private chat (DESIGN §5): ``/kasus`` (the list, or one case's card),
``/catat REF text`` (a private note), ``/balas REF text`` (a message to the reporter),
``/riwayat REF`` (the history), the tappable ``/kasus_PSR_26_…`` and ``/riwayat_PSR_26_…``, and the
card's buttons. Thin: every call goes to ``bot/services/cases.py``, which authorises it again.
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    filters,
)

from bot.callback_data import CaseListPress, CasePress
from bot.context import BotContext
from bot.domain import workflow
from bot.domain.references import normalise_reference
from bot.i18n import Translate, translator
from bot.runtime import Runtime
from bot.services import cases as service
from bot.services.cases import MAX_TEXT, Card, CaseList, CaseOutcome, History, Result
from bot.views import cases as view
from bot.views.alerts import TIER_NAMES, local_time
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
COMMANDS = ("kasus", "catat", "balas", "riwayat")
DEEP_CASE = r"^/kasus_[A-Za-z0-9_]+(@\w+)?(\s|$)"
DEEP_HISTORY = r"^/riwayat_[A-Za-z0-9_]+(@\w+)?(\s|$)"
POPUP_LIMIT = 200  # Telegram's limit for a button's pop-up answer
DETAILS_MARK = "📋"  # how the details message begins (bot/views/alerts.py, AlertView.detail)


# ---- who is asking, and what went wrong ---------------------------------------------------------

def person(update: Update) -> tuple[int, str]:
    user = update.effective_user
    assert user is not None
    return user.id, user.full_name


async def _translate(update: Update, context: BotContext) -> Translate:
    return translator(await language_of(update, context))


def problem_text(result: Result, _: Translate) -> str:
    """What a person reads when the service did not do what they asked."""
    reference = escape(result.reference or "?")  # may be what the person typed
    outcome = result.outcome
    if outcome == CaseOutcome.NOT_STAFF:
        return _("This is for registered officers and enrolled PAPTBM members. To follow your own "
                 "report, send /status.")
    if outcome == CaseOutcome.UNKNOWN:
        if not result.reference:  # a button for a case that does not exist
            return _("That button is no longer active.")
        return _("No report has the reference {reference}. Send /kasus to see the cases of your "
                 "area.").format(reference=reference)
    if outcome == CaseOutcome.OUT_OF_SCOPE:
        if result.actor is not None and result.actor.in_scope:
            return _("Sorry, only kecamatan and district officers can close a case. Ask your "
                     "kecamatan officer.")
        return _("Report {reference} is outside your area, so you cannot open it. The attempt "
                 "is recorded.").format(reference=reference)
    if outcome == CaseOutcome.STALE and result.case is not None:
        return _("This button is out of date: report {reference} is now at {stage}. Here is the "
                 "current card.").format(reference=reference,
                                         stage=workflow.stage_name(result.case.status, _))
    if outcome == CaseOutcome.REFUSED and result.refusal is not None:
        return result.refusal.explain(_)
    if outcome == CaseOutcome.EMPTY:
        return _("There is nothing to save: write the text after the reference.")
    if outcome == CaseOutcome.TOO_LONG:
        return _("That is too long: at most {limit} characters. Please shorten it, or send it in "
                 "two parts.").format(limit=MAX_TEXT)
    if outcome == CaseOutcome.UNREACHABLE:
        return view.unreachable_text(result.reason, _)
    if outcome == CaseOutcome.CLOSED:
        return _("Report {reference} is closed: reopen it first.").format(reference=reference)
    if outcome == CaseOutcome.NEEDS_TAKE:
        return _("Take the case first (“Take the case” on the card).")
    if outcome == CaseOutcome.NO_INPUT:
        return _("That input has expired. Open the case again and press the button once more.")
    return _("That could not be done.")


async def tell(update: Update, text: str) -> None:
    """A pop-up for a button (a message when too long for one); a message for a command."""
    query = update.callback_query
    if query is None:
        await reply(update, text)
    elif len(text) <= POPUP_LIMIT:
        await answer(query, text, show_alert=True)
    else:
        await answer(query)
        await reply(update, text)


def command_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def split_command(update: Update) -> tuple[str | None, str]:
    """``/catat PSR-26-K7Q3XM some text`` → (the reference, the text with its line breaks)."""
    parts = command_text(update).split(maxsplit=2)
    reference = parts[1] if len(parts) > 1 else None
    return reference, parts[2] if len(parts) > 2 else ""


# ---- /kasus -------------------------------------------------------------------------------------

async def case_command(update: Update, context: BotContext) -> None:
    """/kasus: the open cases of one's area; /kasus REF: that case's card."""
    _ = await _translate(update, context)
    given, _rest = split_command(update)
    if given is None:
        await show_list(update, context, CaseListPress(), _)
        return
    await show_card_for(update, context, given, _)


def tapped_reference(update: Update, prefix: str) -> str:
    """The reference inside a tapped command such as ``/kasus_PSR_26_K7Q3XM@bot``."""
    return command_text(update).split()[0].split("@")[0].removeprefix(prefix)


async def deep_case(update: Update, context: BotContext) -> None:
    """A tapped ``/kasus_PSR_26_K7Q3XM``."""
    _ = await _translate(update, context)
    await show_card_for(update, context, tapped_reference(update, "/kasus_"), _)


async def show_card_for(update: Update, context: BotContext, given: str,
                        _: Translate) -> None:
    reference = normalise_reference(given)
    if reference is None:
        await reply(update, problem_text(Result(CaseOutcome.UNKNOWN, reference=given[:30]), _))
        return
    user_id, name = person(update)
    rt = context.runtime
    card = await rt.cases.card(user_id, name, reference=reference)
    if isinstance(card, Result):
        await reply(update, problem_text(card, _))
        return
    await reply(update, view.card_text(card, rt.settings, _), view.card_keyboard(card, _))


async def show_list(update: Update, context: BotContext, pressed: CaseListPress,
                    _: Translate) -> None:
    """The list (or the kecamatan picker); a refusal is said, and counted by the service."""
    rt = context.runtime
    user_id, _name = person(update)
    found = await rt.cases.list_cases(user_id, status=pressed.status,
                                      kecamatan="" if pressed.kecamatan == "*"
                                      else pressed.kecamatan, page=pressed.page)
    if isinstance(found, Result):
        await tell(update, problem_text(found, _))
        return
    if update.callback_query is not None:
        await answer(update.callback_query)
    if pressed.kecamatan == "*" and found.area.kecamatan_choice:
        text, markup = view.kecamatan_picker(pressed.status, rt.regions, _)
        await replace_or_reply(update, text, markup)
        return
    await render_list(update, found, rt.settings, _)


async def render_list(update: Update, found: CaseList, settings: Any, _: Translate) -> None:
    text, markup = view.list_text(found, settings, _), view.list_keyboard(found, _)
    if update.callback_query is not None:
        await replace_or_reply(update, text, markup)
    else:
        await reply(update, text, markup)


async def on_list_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    _ = await _translate(update, context)
    pressed = await pressed_as(query, CaseListPress, _)
    if pressed is None:
        return
    await show_list(update, context, pressed, _)


# ---- /catat, /balas -----------------------------------------------------------------------------

async def note_command(update: Update, context: BotContext) -> None:
    """/catat REF text: a private note on the case (never seen by the reporter)."""
    await _write(update, context, service.NOTE_KIND)


async def reply_command(update: Update, context: BotContext) -> None:
    """/balas REF text: a message to the reporter, signed "Petugas"."""
    await _write(update, context, service.REPLY_KIND)


async def _write(update: Update, context: BotContext, kind: str) -> None:
    _ = await _translate(update, context)
    given, text = split_command(update)
    command = "/catat" if kind == service.NOTE_KIND else "/balas"
    usage = _("Write it like this: <code>{command} PSR-26-K7Q3XM your text</code>").format(
        command=command)
    if given is None:
        await reply(update, usage)
        return
    reference = normalise_reference(given)
    if reference is None:
        await reply(update, problem_text(Result(CaseOutcome.UNKNOWN, reference=given[:30]), _))
        return
    rt = context.runtime
    user_id, name = person(update)
    if not text.strip():  # "/catat REF" alone: the next message is the note
        started = await rt.cases.begin_input(user_id, name, kind, reference=reference)
        if started.ok:
            await prompt_input(update, started, kind, rt.settings, _)
        else:
            await reply(update, problem_text(started, _))
        return
    if kind == service.NOTE_KIND:
        result = await rt.cases.add_note(user_id, name, text, update.update_id,
                                         reference=reference)
    else:
        result = await rt.cases.reply(user_id, name, text, update.update_id, reference=reference)
    await reply(update, written_text(kind, result, rt, _))


def written_text(kind: str, result: Result, rt: Runtime, _: Translate) -> str:
    if result.outcome == CaseOutcome.DUPLICATE:
        return _("Already done.")
    if not result.ok:
        return problem_text(result, _)
    if kind == service.NOTE_KIND:
        return "📝 " + _("Note saved on report {reference}. Only officers see it.").format(
            reference=result.reference)
    signed = view.signature(result.actor.village if result.actor else None, rt.regions, _)
    if result.due is not None:
        return "🕗 " + _("Your message to the reporter of {reference} waits for their safe time: "
                        "it goes out {time}, signed “{signature}”.").format(
            reference=result.reference, time=local_time(result.due, rt.settings),
            signature=signed)
    return "💬 " + _("Sent to the reporter of {reference}, signed “{signature}”.").format(
        reference=result.reference, signature=signed)


async def prompt_input(update: Update, started: Result, kind: str, settings: Any,
                       _: Translate) -> None:
    if kind == service.NOTE_KIND:
        text = "📝 " + _("Write your note on report {reference} now, in one message. Only "
                         "officers will see it. /batal cancels.").format(
            reference=started.reference)
        placeholder = _("Your note")
    else:
        text = "💬 " + _("Write your message to the reporter of {reference} now, in one "
                         "message. They see it signed “Officer”, never your name. /batal "
                         "cancels.").format(reference=started.reference)
        if started.due is not None:
            text += "\n" + _("It is outside the reporter's safe time: it will go out {time}."
                             ).format(time=local_time(started.due, settings))
        placeholder = _("Your message")
    await reply(update, text, ForceReply(input_field_placeholder=placeholder[:64]))


# ---- /riwayat -----------------------------------------------------------------------------------

async def history_command(update: Update, context: BotContext) -> None:
    _ = await _translate(update, context)
    given, _rest = split_command(update)
    if given is None:
        await reply(update, _("Write it like this: <code>/riwayat PSR-26-K7Q3XM</code>"))
        return
    await show_history_for(update, context, given, _)


async def deep_history(update: Update, context: BotContext) -> None:
    _ = await _translate(update, context)
    await show_history_for(update, context, tapped_reference(update, "/riwayat_"), _)


async def show_history_for(update: Update, context: BotContext, given: str,
                           _: Translate) -> None:
    reference = normalise_reference(given)
    if reference is None:
        await reply(update, problem_text(Result(CaseOutcome.UNKNOWN, reference=given[:30]), _))
        return
    rt = context.runtime
    user_id, name = person(update)
    found = await rt.cases.history(user_id, name, reference=reference)
    if isinstance(found, Result):
        await reply(update, problem_text(found, _))
        return
    await send_history(update, found, 0, rt.settings, _, edit=False)


async def send_history(update: Update, found: History, page: int, settings: Any, _: Translate,
                       *, edit: bool) -> None:
    pages = view.history_pages(found, settings, _)
    page = min(max(page, 0), len(pages) - 1)
    markup = view.history_keyboard(found.case, page, len(pages), _)
    if edit:
        await replace_or_reply(update, pages[page], markup)
    else:
        await reply(update, pages[page], markup)


# ---- the card's buttons -------------------------------------------------------------------------

async def on_case_button(update: Update, context: BotContext) -> None:
    """Every button of a case card, re-authorised by the service at press time."""
    query = update.callback_query
    assert query is not None
    _ = await _translate(update, context)
    private = query.message is not None and query.message.chat.type == "private"
    pressed = await pressed_as(query, CasePress, _, usable=private)
    if pressed is None or query.message is None:
        return
    rt = context.runtime
    user_id, name = person(update)
    action = pressed.action
    key = update.update_id
    if action in ("card", "menu"):
        card = await rt.cases.card(user_id, name, case_id=pressed.case_id)
        if isinstance(card, Result):
            await tell(update, problem_text(card, _))
            return
        await answer(query)
        if action == "menu":
            text, markup = view.status_menu(card, pressed.value, _)
            await in_place(update, text, markup)
        else:
            await show_card(update, card, rt.settings, _, edit=_is_card(query.message))
        return
    if action == "history":
        await _history_page(update, context, pressed, _)
        return
    if action in ("note", "reply"):
        kind = service.NOTE_KIND if action == "note" else service.REPLY_KIND
        started = await rt.cases.begin_input(user_id, name, kind, case_id=pressed.case_id)
        if not started.ok:
            await tell(update, problem_text(started, _))
            return
        await answer(query)
        await prompt_input(update, started, kind, rt.settings, _)
        return
    if action == "cancel":
        await rt.cases.cancel_input(user_id)
        await answer(query, _("Cancelled."))
        return
    if action == "detail":
        result = await rt.cases.details(user_id, name, pressed.case_id, key)
        await tell(update, _("The full report was queued for this chat.") if result.ok
                   or result.outcome == CaseOutcome.DUPLICATE else problem_text(result, _))
        return
    if action in ("take", "takeover"):
        result = await rt.cases.take(user_id, name, pressed.case_id, key,
                                     takeover=action == "takeover")
        await _after_take(update, context, pressed, result, _)
        return
    if action == "help" and not pressed.value:  # why? the next tier will see it
        card = await rt.cases.card(user_id, name, case_id=pressed.case_id)
        if isinstance(card, Result):
            await tell(update, problem_text(card, _))
            return
        if workflow.is_closed(card.case.status):
            await tell(update, problem_text(Result(CaseOutcome.CLOSED,
                                                   reference=card.case.reference), _))
            return
        await answer(query)
        text, markup = view.help_menu(card, _)
        await in_place(update, text, markup)
        return
    if action == "help":
        result = await rt.cases.ask_next_tier(user_id, name, pressed.case_id, key,
                                              reason=pressed.value)
        await tell(update, help_text(result, _))
        if result.ok or result.outcome in (CaseOutcome.AT_TOP, CaseOutcome.DUPLICATE):
            await refresh_card(update, context, pressed.case_id, _)
        return
    # set / refer / close: a move along the workflow
    target = {"refer": workflow.DIRUJUK, "close": workflow.DITUTUP}.get(action, pressed.value)
    result = await rt.cases.change_status(
        user_id, name, pressed.case_id, target, seen=pressed.seen or None, key=key,
        referral=pressed.value if action == "refer" else None,
        close_reason=pressed.value if action == "close" else None)
    if result.outcome == CaseOutcome.NEEDS_TAKE:
        result = await rt.cases.take(user_id, name, pressed.case_id, key)
        await _after_take(update, context, pressed, result, _)
        return
    if result.ok:
        assert result.case is not None
        note = _("Report {reference} is now at {stage}.").format(
            reference=result.reference, stage=workflow.stage_name(result.case.status, _))
        if result.told_reporter:
            note += " " + _("A message in plain words for the reporter was queued.")
        await tell(update, note)
    elif result.outcome != CaseOutcome.DUPLICATE:
        await tell(update, problem_text(result, _))
    if result.outcome in (CaseOutcome.OK, CaseOutcome.STALE, CaseOutcome.REFUSED,
                          CaseOutcome.DUPLICATE):
        await refresh_card(update, context, pressed.case_id, _)


async def _after_take(update: Update, context: BotContext, pressed: CasePress,
                      result: Result, _: Translate) -> None:
    if result.outcome == CaseOutcome.TAKEN_BY_OTHER:
        if update.callback_query is not None:
            await answer(update.callback_query)
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton("🙋 " + _("Yes, take it over"), callback_data=CasePress(
                pressed.case_id, "takeover").pack()),
            InlineKeyboardButton(_("No"), callback_data=CasePress(pressed.case_id,
                                                                  "card").pack())]])
        await in_place(update, _("Report {reference} is handled by {name}. Take it over? "
                                         "They will be told.").format(
            reference=result.reference, name=escape(result.by or "?")), markup)
        return
    if result.ok:
        await tell(update, _("You now handle report {reference}.").format(
            reference=result.reference))
    elif result.outcome == CaseOutcome.ALREADY_YOURS:
        await tell(update, _("You already handle this case."))
    elif result.outcome != CaseOutcome.DUPLICATE:
        await tell(update, problem_text(result, _))
        return
    await refresh_card(update, context, pressed.case_id, _)


def help_text(result: Result, _: Translate) -> str:
    if result.outcome == CaseOutcome.AT_TOP:
        return _("Everyone up to the kabupaten already has this report.")
    if result.ok or result.outcome == CaseOutcome.DUPLICATE:
        return _("Passed to {tier}.").format(
            tier=_(TIER_NAMES.get(result.tier or "", TIER_NAMES["kabupaten"])))
    return problem_text(result, _)


async def _history_page(update: Update, context: BotContext, pressed: CasePress,
                        _: Translate) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    rt = context.runtime
    user_id, name = person(update)
    in_history = _is_history(query.message)
    found = await rt.cases.history(user_id, name, case_id=pressed.case_id,
                                   record=not in_history)
    if isinstance(found, Result):
        await tell(update, problem_text(found, _))
        return
    await answer(query)
    await send_history(update, found, int(pressed.value or 0), rt.settings, _, edit=in_history)


async def in_place(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    """In place of the pressed message; but the details (whose buttons are the card's) stay, and
    what a press under them shows comes below."""
    query = update.callback_query
    message = query.message if query is not None else None
    if isinstance(message, Message) and (message.text or "").startswith(DETAILS_MARK):
        await reply(update, text, markup)
    else:
        await replace_or_reply(update, text, markup)


def _is_history(message: Any) -> bool:
    return isinstance(message, Message) and (message.text or "").startswith("🕘")


def _is_card(message: Any) -> bool:
    return isinstance(message, Message) and (message.text or "").startswith("📂")


async def show_card(update: Update, card: Card, settings: Any, _: Translate, *,
                    edit: bool) -> None:
    text, markup = view.card_text(card, settings, _), view.card_keyboard(card, _)
    if edit:
        await in_place(update, text, markup)
    else:
        await reply(update, text, markup)


async def refresh_card(update: Update, context: BotContext, case_id: int,
                       _: Translate) -> None:
    """The card as it is now, in place of the pressed message."""
    rt = context.runtime
    card = await rt.cases.card(*person(update), case_id=case_id)
    if isinstance(card, Result):
        return
    await show_card(update, card, rt.settings, _, edit=True)


# ---- the text typed after "Add note" / "Reply to reporter" --------------------------------------

async def typed_note_or_reply(update: Update, context: BotContext) -> bool:
    """The note or reply an officer started with a card's button ("Add note", "Reply to
    reporter"): their next private message is it (text only)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if await context.runtime.cases.pending_input(user.id) is None:
        return False
    if message.text is not None:
        await finish_input(update, context, message.text)
    else:
        _ = await _translate(update, context)
        await reply(update, _("Only text can be saved here. Write it as a message, or send "
                              "/batal."))
    return True


async def finish_input(update: Update, context: BotContext, text: str) -> None:
    rt = context.runtime
    _ = await _translate(update, context)
    user_id, name = person(update)
    kind, result = await rt.cases.finish_input(user_id, name, text, update.update_id)
    await reply(update, written_text(kind, result, rt, _))


async def reply_by_relay(update: Update, context: BotContext, case_id: int,
                         text: str) -> None:
    """An officer replied to a relayed reporter message: it goes back to the reporter."""
    rt = context.runtime
    _ = await _translate(update, context)
    user_id, name = person(update)
    result = await rt.cases.reply(user_id, name, text, update.update_id, case_id=case_id)
    await reply(update, written_text(service.REPLY_KIND, result, rt, _))
