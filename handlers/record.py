"""**Lengkapi data** on a case card: the SIMFONI-PPA record, one field per step, each answer
committed at once (``bot/services/register_edit.py``, ``bot/views/record.py``). Every press is
authorised again by the service through ``who_is``; a refused press changes nothing and is
recorded in the case's history; the officer is told, as for every button of the case card, that
the case is not theirs to fill (a button of this kind reaches nobody else: ``RecordPress.BY``)."""

from __future__ import annotations

from html import escape

from telegram import Update

from bot.callback_data import RecordPress
from bot.context import BotContext
from bot.domain import access
from bot.i18n import Translate
from bot.services.register_edit import CASE, SEVERAL, UNKNOWN, Edited, EditOutcome
from bot.views import record as view
from handlers.cases import _translate, in_scope_refusal, person, tell
from handlers.common import answer, pressed_as, replace_or_reply


async def on_record_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    _ = await _translate(update, context)
    pressed = await pressed_as(query, RecordPress, _)
    if pressed is None:
        return
    rt = context.runtime
    user_id, name = person(update)
    case_id = await rt.cases.resolve(pressed.case)
    if case_id is None:
        await answer(query)
        return
    edits = rt.register_edit
    target, field, value = pressed.target, pressed.field, pressed.value
    partial_date = target == CASE and field == "date" and value and len(value) < 10 \
        and value != "na"
    if field == "add" and value in ("v", "p"):
        result = await edits.add(user_id, name, case_id, value, update.update_id)
        if result.record is not None and result.outcome in (EditOutcome.OK,
                                                            EditOutcome.DUPLICATE):
            target, field, value = result.target, "sex", ""
    elif field and value:
        result = await edits.set_field(user_id, name, case_id, target, field, value,
                                       update.update_id)
    else:
        result = await edits.open(user_id, name, case_id)
    if result.outcome == EditOutcome.REFUSED:
        await tell(update, refusal_text(result, _))  # nothing changed; recorded on the case
        return
    if result.record is None:
        await answer(query)
        return
    if result.outcome == EditOutcome.FULL:
        await answer(query, _("This case already has the most people these buttons take."),
                     show_alert=True)
    elif result.outcome == EditOutcome.OK and field and value:
        await answer(query, "✓ " + _("Saved."))
    else:
        await answer(query)
    await show(update, context, result, target, field, value, bool(partial_date))


def refusal_text(result: Edited, _: Translate) -> str:
    if result.refused is not None and result.refused.in_scope:
        return in_scope_refusal(access.RECORD, _)
    return _("Report {reference} is outside your area, so you cannot open it. The attempt "
             "is recorded.").format(reference=escape(result.reference))


async def show(update: Update, context: BotContext, result: Edited, target: str, field: str,
               value: str, partial_date: bool) -> None:
    """What comes next: the date's next part, the target's next field, or the overview."""
    _ = await _translate(update, context)
    record = result.record
    assert record is not None
    today = context.runtime.clock.now().astimezone(context.runtime.settings.tz).date()
    if partial_date and result.outcome == EditOutcome.OK:  # the year, then the month, the day
        text, markup = view.question(record, target, field, _, today=today, value=value)
    elif field in SEVERAL and value and value != UNKNOWN and target:  # tick another, or go on
        text, markup = view.question(record, target, field, _, today=today)
    elif field and not value and target:
        text, markup = view.question(record, target, field, _, today=today)
    elif field and target and (following := view.next_field(record, target, field)):
        text, markup = view.question(record, target, following, _, today=today)
    else:
        text, markup = view.overview(record, _)
    await replace_or_reply(update, text, markup)
