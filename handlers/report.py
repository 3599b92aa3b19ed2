"""The reporter's conversation: /start, /lapor, every answer, /batal, submit.

Handlers are thin: they turn an update into a ``bot.services.reports.Input``, let the service
commit it, and only then send the next question (see ``bot/views/report.py``).
"""

from __future__ import annotations

import logging
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from bot import menus
from bot.callback_data import BadCallback, CancelPress, ReportPress, StartPress, parse
from bot.context import BotContext
from bot.domain import form
from bot.i18n import N_, Translate, translator
from bot.regions import RegionDirectory
from bot.services.reports import Input, LimitReached, Outcome, ReportService, Submitted
from bot.views import help as help_views
from bot.views import report as view
from handlers import limits
from handlers.common import (
    answer,
    language_hint,
    replace_or_reply,
    reply,
    show_typing,
    translate_for,
)
from handlers.privacy import wipe_offer

log = logging.getLogger(__name__)


def start_button(_: Translate) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(_("📝 Make a report"),
                                                       callback_data=StartPress().pack())]])


def limit_reached(context: BotContext) -> None:
    """Every limit is recorded: a counter for the health figures and a log line without identity."""
    context.runtime.metrics["daily_limit_reached"] += 1
    log.info("daily report limit reached by one account")


async def start(update: Update, context: BotContext) -> None:
    """/start: two lines about the bot, then an offer to report or to resume a draft. Staff are
    greeted in their role, with their commands (and their menu is set again)."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    _ = await translate_for(update, context)
    current = await rt.reports.current(user.id)
    kabupaten = escape(rt.settings.region.kabupaten_name)
    if rt.settings.telegram.neutral_greeting:
        greeting = _("Welcome to {name}.").format(name=escape(rt.settings.telegram.bot_name))
    else:
        greeting = _("This is the reporting service for violence against women and children in "
                     "Kabupaten {kabupaten}.").format(kabupaten=kabupaten)
    greeting += "\n" + _("Everything you tell us is confidential.")
    async with rt.sessions() as session:
        role = await menus.role_of(session, user.id)
    if role.name in menus.STAFF:
        await menus.publish_role(context.bot, user.id, role.name)  # the menu of their role, now
        greeting = staff_greeting(role, rt.regions, _)
    if current.draft is not None:
        await reply(update, greeting + "\n\n" + _("You have an unfinished report. Let us "
                                                  "continue where you stopped."))
        await send_question(update, context, current)
        return
    await reply(update, greeting, start_button(_))


ROLE_LINES = {
    menus.ADMIN_ROLE: N_("You are an admin of ppa-bot for {region}."),
    menus.OFFICER_ROLE: N_("You are a protection officer for {region}."),
    menus.ACTIVIST_ROLE: N_("You are a PAPTBM activist of {region}."),
}


def staff_greeting(role: menus.Role, regions: RegionDirectory, _: Translate) -> str:
    """Who the bot knows them as, and their commands, one line each."""
    place = regions.get(role.region_code)
    lines = [_(ROLE_LINES[role.name]).format(region=escape(place.name if place else "–")),
             _("Your commands:"), *menus.command_lines(role.name, _)]
    return "\n".join(lines)


async def begin(update: Update, context: BotContext, *,
                practice: bool = False) -> None:
    """/lapor (or the start button): a new draft, or the unfinished one."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    try:
        message = update.effective_message
        outcome, resumed = await rt.reports.start(
            user.id, language_hint(update, context), update.update_id, practice=practice,
            message_id=message.message_id if message else None)
    except LimitReached as exc:
        limit_reached(context)
        _ = await translate_for(update, context)
        await reply(update, _("You have already sent {limit} reports today. If someone is in "
                              "danger, please call a number below.").format(limit=exc.limit)
                    + "\n\n" + view.hotlines(rt.settings, _))
        return
    if not rt.answered.first_time(update.update_id) and resumed:
        return  # delivered again: this process already answered it
    if update.callback_query is not None:
        await answer(update.callback_query)
    _ = translator(outcome.language)
    if resumed:
        await reply(update, _("You have an unfinished report. Let us continue where you stopped."))
    await send_question(update, context, outcome)


async def report(update: Update, context: BotContext) -> None:
    await begin(update, context)


async def send_question(update: Update, context: BotContext, outcome: Outcome,
                        *, edit: bool = False, page: int = 0) -> Message | None:
    if outcome.draft is None:
        return None
    rt = context.runtime
    _ = translator(outcome.language)
    if update.effective_user is not None:  # presses of this question's buttons do not count
        limits.expect(context, update.effective_user.id, outcome.draft)
    text, markup = view.question(outcome.draft, _, rt.regions, rt.settings, page=page)
    if outcome.draft.step == form.PHONE and not form.is_intake(outcome.draft.answers):
        # The phone step offers Telegram's "share contact" keyboard besides the inline buttons.
        await reply(update, _("Use the button below to share your number, or type it."),
                    ReplyKeyboardMarkup(view.share_phone_keyboard(_), one_time_keyboard=True,
                                        resize_keyboard=True))
        return await reply(update, text, markup)
    if edit:
        return await replace_or_reply(update, text, markup)
    return await reply(update, text, markup)


async def apply_input(update: Update, context: BotContext, given: Input, *,
                      service: ReportService | None = None) -> bool:
    """Hand one input to the service (which commits it), then show what comes next. False: there
    is no report in progress and a typed message was left for the next answer (help at hand).
    ``service``: the officer's intake (``handlers/intake.py``) instead of the reporter's report."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    outcome = await (service or rt.reports).apply(user.id, update.update_id, given,
                                                  language_hint(update, context))
    if not rt.answered.first_time(update.update_id) and outcome.duplicate:
        return True  # delivered again: this process already answered it
    step_before = outcome.step_before
    _ = translator(outcome.language)
    query = update.callback_query
    if outcome.draft is None and not outcome.discarded:
        if query is None:
            return False
        if service is not None:  # an officer's record: saved or cancelled meanwhile
            await answer(query, _("This record is no longer open. Send /kasus_baru to start "
                                  "one."), show_alert=True)
            return True
        await answer(query, _("This report is no longer open."))
        text, markup = help_views.at_hand(rt.settings, _)
        await reply(update, text, markup)
        return True
    if outcome.discarded:
        if query is not None:
            await answer(query)
        await replace_or_reply(update, _("Nothing has been stored. If you change your mind, "
                                         "send /lapor at any time.") + "\n\n"
                               + view.hotlines(rt.settings, _))
        return True
    assert outcome.draft is not None
    if outcome.stale:
        if query is not None:
            await answer(query, _("That button is from an earlier question."))
        await send_question(update, context, outcome)
        return True
    if query is not None:
        await answer(query)
    if outcome.error:
        await reply(update, "⚠️ " + _(view.REASONS[outcome.error]))
        await send_question(update, context, outcome)
        return True
    if outcome.location_kept:
        await reply(update, "📍 " + _("Thank you. The location is kept safe, only for the "
                                     "officer's visit."))
    if outcome.candidates:
        text, markup = view.candidates(outcome.draft, outcome.candidates, rt.regions, _,
                                       near=outcome.location_kept)
        await reply(update, text, markup)
        return True
    if outcome.location_kept and outcome.draft.step == step_before:
        await send_question(update, context, outcome)  # the village is still to be chosen
        return True
    if outcome.saved_item:
        await reply(update, "✓ " + _("Saved."))
        await send_question(update, context, outcome)
        return True
    if step_before == form.DANGER and outcome.draft.urgent and outcome.draft.step != form.DANGER \
            and not form.is_intake(outcome.draft.answers):
        # Someone is in danger: the numbers come first, whatever is asked next.
        await replace_or_reply(update, view.hotlines(rt.settings, _))
        await send_question(update, context, outcome)
        return True
    if outcome.stopped:
        # Danger, then "stop for now": send what there is at once, or keep it (nothing sent).
        text, markup = view.send_now_offer(outcome.draft, rt.settings, _)
        await replace_or_reply(update, text, markup)
        return True
    edit = query is not None
    if step_before == form.PHONE and outcome.draft.step != form.PHONE \
            and not form.is_intake(outcome.draft.answers):
        # Take the "share my number" keyboard away once the phone question is left.
        left_by = _("Let us continue.") if given.action == "back" else "✓ " + _("Saved.")
        await reply(update, left_by, ReplyKeyboardRemove())
        edit = False  # the next question goes below that line, not above it
    await send_question(update, context, outcome, edit=edit)
    return True


async def on_button(update: Update, context: BotContext) -> None:
    """Every report button: validated, then re-checked against the draft at press time."""
    query = update.callback_query
    assert query is not None
    if update.effective_chat is None or update.effective_chat.type != "private":
        await answer(query)  # a report is never answered where others can read it
        return
    try:
        pressed = parse(query.data)
    except BadCallback:  # forged or from an older version: a kind word and the question again
        await on_unsupported(update, context)
        return
    if isinstance(pressed, StartPress):
        await begin(update, context)
    elif isinstance(pressed, CancelPress):
        await on_cancel_button(update, context, pressed)
    elif isinstance(pressed, ReportPress):
        await on_report_button(update, context, pressed)
    else:  # language buttons have their own handler
        await answer(query)


async def on_report_button(update: Update, context: BotContext,
                           pressed: ReportPress) -> None:
    if pressed.action == "submit":
        await submit(update, context, pressed)
        return
    if pressed.action in ("urgent", "keep"):
        await after_stopping(update, context, pressed)
        return
    if pressed.action == "page":
        await show_page(update, context, pressed)
        return
    await apply_input(update, context, Input(nonce=pressed.nonce, step=pressed.step,
                                             action=pressed.action, value=pressed.value))


async def show_page(update: Update, context: BotContext, pressed: ReportPress, *,
                    service: ReportService | None = None) -> None:
    """Village pages change nothing in the draft: just show another page of the same question."""
    user = update.effective_user
    query = update.callback_query
    assert user is not None and query is not None
    current = await (service or context.runtime.reports).current(user.id)
    await answer(query)
    if current.draft is None or current.draft.nonce != pressed.nonce \
            or current.draft.step != pressed.step:
        await send_question(update, context, current)
        return
    page = int(pressed.value) if pressed.value.isdigit() else 0
    await send_question(update, context, current, edit=True, page=page)


async def submit(update: Update, context: BotContext, pressed: ReportPress) -> None:
    user = update.effective_user
    query = update.callback_query
    assert user is not None and query is not None
    rt = context.runtime
    await answer(query)
    await show_typing(update)
    try:
        result = await rt.reports.submit(user.id, pressed.nonce)
    except LimitReached as exc:
        limit_reached(context)
        _ = await translate_for(update, context)
        await reply(update, _("You have already sent {limit} reports today. Your report is kept; "
                              "you can send it tomorrow. If someone is in danger, call a number "
                              "below.").format(limit=exc.limit)
                    + "\n\n" + view.hotlines(rt.settings, _))
        return
    if isinstance(result, Outcome):
        _ = translator(result.language)
        if result.draft is None:
            await reply(update, _("There is no report in progress. Send /lapor to make a report, "
                                  "or /bantuan for help."))
            return
        await reply(update, "⚠️ " + _(view.REASONS[result.error or form.Invalid.INCOMPLETE]))
        await send_question(update, context, result)
        return
    if not rt.answered.first_time(update.update_id) and result.again:
        return  # delivered again: this process already answered it
    _ = translator(result.language)
    await replace_or_reply(update, submitted_text(result, _) + "\n\n" + safety_text(result, _),
                           after_submit_offer(result, _))


def safety_text(result: Submitted, _: Translate) -> str:
    text = _("For your safety you can delete this conversation from your phone now; your "
             "report stays safe with us.")
    if not result.practice:
        text += " " + _("A PIN keeps anyone else holding this phone from seeing or adding to "
                        "it.")
    return text


def after_submit_offer(result: Submitted, _: Translate) -> InlineKeyboardMarkup:
    """Wipe the conversation; choose a PIN (a real report only)."""
    rows = [list(row) for row in wipe_offer(_).inline_keyboard]
    if not result.practice:
        rows.append(help_views.pin_offer(_))
    return InlineKeyboardMarkup(rows)


async def after_stopping(update: Update, context: BotContext, pressed: ReportPress) -> None:
    """"Send now": an urgent case with what was answered, to the kabupaten at once. "Just keep
    it": nothing is sent, and the reporter is told so plainly."""
    user = update.effective_user
    query = update.callback_query
    assert user is not None and query is not None
    rt = context.runtime
    await answer(query)
    if pressed.action == "keep":
        current = await rt.reports.current(user.id)
        _ = translator(current.language)
        text = _("Kept. Nothing was sent and nobody was alerted. Send /lapor when you are ready "
                 "to continue.") if current.draft is not None else \
            _("There is no report in progress.")
        await replace_or_reply(update, text + "\n\n" + view.hotlines(rt.settings, _))
        return
    await show_typing(update)
    result = await rt.reports.send_now(user.id, update.update_id, pressed.nonce)
    if isinstance(result, Outcome):
        _ = translator(result.language)
        if result.draft is None:
            text, markup = help_views.at_hand(rt.settings, _)
            await reply(update, text, markup)
        else:
            await send_question(update, context, result)
        return
    _ = translator(result.language)
    lines = [submitted_text(result, _, sent_now=True), "", view.hotlines(rt.settings, _)]
    await replace_or_reply(update, "\n".join(lines), after_submit_offer(result, _))


def submitted_text(result: Submitted, _: Translate, *, sent_now: bool = False) -> str:
    lines = []
    if result.practice:
        lines.append("🧪 " + _("PRACTICE — not a real report"))
    if result.again:
        lines.append(_("This report was already sent."))
    else:
        lines.append("✅ " + _("Thank you. Your report has been sent."))
    lines.append(_("Your reference: <code>{reference}</code>").format(reference=result.reference))
    if result.practice:  # a practice report goes only to the training chat
        lines.append(_("This was practice: it went only to the training group (or back to you), "
                       "never to a village group or an officer, and it is not counted anywhere."))
        return "\n".join(lines)
    if sent_now:
        lines.append(_("It went as urgent to the officers of the kabupaten, now. They may write "
                       "to you here. You can add what happened with /tambah {reference} or by "
                       "replying to their message.").format(reference=result.reference))
        return "\n".join(lines)
    lines.append(_("What happens next: a protection officer for your area receives it now and "
                   "will take it up. You can follow it with /status. If someone is in danger, "
                   "call 112."))
    return "\n".join(lines)


async def cancel(update: Update, context: BotContext) -> None:
    """/batal: ask before throwing a draft away."""
    user = update.effective_user
    assert user is not None
    current = await context.runtime.reports.current(user.id, language_hint(update, context))
    _ = translator(current.language)
    if current.draft is None and await context.runtime.intake.may_record(user.id):
        intake = await context.runtime.intake.current(user.id)
        if intake.draft is not None:  # an officer's record (/kasus_baru)
            markup = InlineKeyboardMarkup([
                [InlineKeyboardButton(_("Yes, cancel it"),
                                      callback_data=CancelPress(intake.draft.nonce, True).pack())],
                [InlineKeyboardButton(_("No, continue"),
                                      callback_data=CancelPress(intake.draft.nonce,
                                                                False).pack())]])
            await reply(update, _("Cancel this new case? Its answers will be deleted."), markup)
            return
    if current.draft is None:
        await reply(update, _("There is no report in progress."), ReplyKeyboardRemove())
        return
    nonce = current.draft.nonce
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(_("Yes, delete my answers"),
                              callback_data=CancelPress(nonce, True).pack())],
        [InlineKeyboardButton(_("No, continue the report"),
                              callback_data=CancelPress(nonce, False).pack())],
    ])
    await reply(update, _("Cancel this report? Your answers will be deleted."), markup)


async def on_cancel_button(update: Update, context: BotContext,
                           pressed: CancelPress) -> None:
    user = update.effective_user
    query = update.callback_query
    assert user is not None and query is not None
    rt = context.runtime
    await answer(query)
    _ = await translate_for(update, context)
    if pressed.confirm and await rt.reports.cancel(user.id, pressed.nonce):
        await replace_or_reply(update, _("Your report has been cancelled and your answers "
                                         "deleted. Send /lapor to start again."))
        return
    if await rt.intake.may_record(user.id):  # an officer's record (/kasus_baru) has its own
        intake = await rt.intake.current(user.id)
        if intake.draft is not None and intake.draft.nonce == pressed.nonce:
            if pressed.confirm and await rt.intake.cancel(user.id, pressed.nonce):
                await replace_or_reply(update, _("The new case was cancelled; nothing was "
                                                 "saved."))
                return
            await replace_or_reply(update, _("Let us continue."))
            await send_question(update, context, intake)
            return
    current = await rt.reports.current(user.id)
    if current.draft is None:
        await replace_or_reply(update, _("There is no report in progress."))
        return
    await replace_or_reply(update, _("Let us continue."))
    await send_question(update, context, current)


async def answer_to_draft(update: Update, context: BotContext) -> bool:
    """Typed text or a file: an answer to the report being written. False when no report is in
    progress (the message is for the next answer of the chain)."""
    message = update.effective_message
    assert message is not None
    if message.text is not None:
        return await on_text(update, context)
    return await on_media(update, context)


async def on_text(update: Update, context: BotContext) -> bool:
    message = update.effective_message
    assert message is not None
    return await apply_input(update, context, Input(action="text", text=message.text or ""))


async def on_media(update: Update, context: BotContext) -> bool:
    """Evidence: kept as Telegram file ids with type, size and caption."""
    message = update.effective_message
    assert message is not None
    media = evidence_of(message)
    if media is None:
        await on_unsupported(update, context)
        return True
    return await apply_input(update, context, Input(action="media", media=media))


def evidence_of(message: Message) -> dict[str, object] | None:
    kinds = [("photo", message.photo[-1] if message.photo else None), ("voice", message.voice),
             ("video", message.video), ("document", message.document), ("audio", message.audio),
             ("video_note", message.video_note)]
    for kind, item in kinds:
        if item is not None:
            return {"kind": kind, "file_id": item.file_id, "file_unique_id": item.file_unique_id,
                    "size": item.file_size, "caption": message.caption}
    return None


async def on_contact(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.contact is not None
    if not await apply_input(update, context,
                             Input(action="contact", text=message.contact.phone_number)):
        _ = await translate_for(update, context)
        text, markup = help_views.at_hand(context.runtime.settings, _)
        await reply(update, text, markup)


async def on_location(update: Update, context: BotContext) -> None:
    """A shared location: kept for the outreach visit where the place is asked."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.location is not None and user is not None
    current = await context.runtime.reports.current(user.id, language_hint(update, context))
    if current.draft is None or current.draft.step not in form.TAKES_LOCATION:
        await on_unsupported(update, context)
        return
    await apply_input(update, context, Input(action="location", location=(
        message.location.latitude, message.location.longitude)))


async def on_edited(update: Update, context: BotContext) -> None:
    """An edited message is never read again, as a command or as an answer (editing ``/catat REF
    text`` must not add a second note): in a private chat the person is told so; in a group,
    nothing happens."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    current = await context.runtime.reports.current(user.id, user.language_code)
    if current.draft is not None:  # said, then the question asked again
        await on_unsupported(update, context)
        return
    _ = translator(current.language)
    await reply(update, "⚠️ " + _(view.REASONS[form.Invalid.EDITED]))


async def on_unsupported(update: Update, context: BotContext) -> None:
    """Stickers, locations, polls, edits, unknown commands...: a kind word, nothing changes."""
    user = update.effective_user
    if user is None or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":  # a button we do not know, in a group
        if update.callback_query is not None:
            await answer(update.callback_query)
        return
    current = await context.runtime.reports.current(user.id, language_hint(update, context))
    _ = translator(current.language)
    if update.callback_query is not None:
        await answer(update.callback_query, _("That button is no longer active."))
    reason = form.Invalid.EDITED if update.edited_message is not None \
        else form.Invalid.UNSUPPORTED
    if current.draft is None:  # never a dead end: the numbers, and a way on
        text, markup = help_views.at_hand(context.runtime.settings, _)
        await reply(update, text, markup)
        return
    await reply(update, "⚠️ " + _(view.REASONS[reason]))
    await send_question(update, context, current)
