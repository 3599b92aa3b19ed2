"""``/kasus_baru``: an officer records a case that came another way (walk-in, telephone, SAPA 129,
another agency, outreach, a letter), through the report form's officer mode.

Thin, and the report conversation's own handlers do the work (``handlers/report.py``: every
answer, the story's files, the village pages) with the intake service
(``bot/services/intake.py``) in place of the reporter's.
"""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.callback_data import BadCallback, IntakePress, parse
from bot.context import BotContext
from bot.domain import form
from bot.domain.references import case_command
from bot.i18n import N_, Translate, translator
from bot.services.intake import IntakeRefusal, Recorded, Refused
from bot.services.reports import Input, Outcome
from bot.views import report as view
from handlers import report
from handlers.common import (
    answer,
    language_hint,
    replace_or_reply,
    reply,
    show_typing,
    translate_for,
)

REFUSALS = {
    IntakeRefusal.NOT_OFFICER: N_("Only officers and admins record a new case. To report "
                                  "violence yourself, send /lapor."),
    IntakeRefusal.OUT_OF_AREA: N_("That village is outside your area. Change the place "
                                  "(“Where”), or ask an officer of that area to record it."),
}


async def new_case(update: Update, context: BotContext) -> None:
    """/kasus_baru: a new record, or the unfinished one."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    try:
        outcome, resumed = await rt.intake.start(user.id, language_hint(update, context),
                                                 update.update_id)
    except PermissionError:  # the access table (``access.INTAKE``): changes nothing
        _ = await translate_for(update, context)
        await reply(update, _(REFUSALS[IntakeRefusal.NOT_OFFICER]))
        return
    if not rt.answered.first_time(update.update_id) and resumed:
        return  # delivered again: this process already answered it
    _ = translator(outcome.language)
    if resumed:
        await reply(update, _("You have an unfinished new case. Let us continue where you "
                              "stopped."))
    await report.send_question(update, context, outcome)


async def on_button(update: Update, context: BotContext) -> None:
    """Every button of an officer's record; the service checks the draft and the access table
    again."""
    query = update.callback_query
    assert query is not None
    try:
        pressed = parse(query.data)
    except BadCallback:
        await answer(query)
        return
    if not isinstance(pressed, IntakePress):
        await answer(query)
        return
    rt = context.runtime
    if pressed.action == "submit":
        await record(update, context, pressed)
    elif pressed.action == "page":
        await report.show_page(update, context, pressed, service=rt.intake)
    elif pressed.action in ("urgent", "keep"):  # the reporter's "send now": not in this mode
        await answer(query)
    else:
        await report.apply_input(update, context, Input(
            nonce=pressed.nonce, step=pressed.step, action=pressed.action, value=pressed.value),
            service=rt.intake)


async def record(update: Update, context: BotContext, pressed: IntakePress) -> None:
    user = update.effective_user
    query = update.callback_query
    assert user is not None and query is not None
    rt = context.runtime
    await answer(query)
    await show_typing(update)
    result = await rt.intake.record(user.id, pressed.nonce)
    if isinstance(result, Refused):
        _ = translator(result.language)
        await reply(update, "⚠️ " + _(REFUSALS[result.reason]))
        if result.outcome is not None:
            await report.send_question(update, context, result.outcome)
        return
    if isinstance(result, Outcome):
        _ = translator(result.language)
        if result.draft is None:
            await reply(update, _("There is no new case in progress. Send /kasus_baru to start "
                                  "one."))
            return
        await reply(update, "⚠️ " + _(view.REASONS[result.error or form.Invalid.INCOMPLETE]))
        await report.send_question(update, context, result)
        return
    if not rt.answered.first_time(update.update_id) and result.again:
        return
    _ = translator(result.language)
    await replace_or_reply(update, recorded_text(result, _))


def recorded_text(result: Recorded, _: Translate) -> str:
    lines = []
    if result.again:
        lines.append(_("This case was already saved."))
    else:
        lines.append("✅ " + _("Case saved: <code>{reference}</code>.").format(
            reference=result.reference))
    came = view.option_label(form.CHANNEL, result.channel, {}, _)
    lines.append(_("Came in: {channel}. You handle it; the responders of its area were "
                   "informed.").format(channel=escape(came)))
    lines.append(_("Open it: {command}. Complete the SIMFONI data there (“Complete data”).")
                 .format(command=case_command(result.reference)))
    return "\n".join(lines)


async def answer_to_intake(update: Update, context: BotContext) -> bool:
    """Typed text or a file: an answer to the officer's record being written. False when no
    record is in progress."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if not await context.runtime.intake.answers_now(user.id):
        return False
    if message.text is not None:
        given = Input(action="text", text=message.text)
    else:
        media = report.evidence_of(message)
        if media is None:
            return False
        given = Input(action="media", media=media)
    return await report.apply_input(update, context, given, service=context.runtime.intake)
