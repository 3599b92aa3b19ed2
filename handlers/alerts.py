"""The buttons under an alert (Terima / Detail / Butuh bantuan) and the bot's own membership in
groups. Every press is authorised again by ``bot.services.alerts`` at press time."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType

from bot.callback_data import AlertPress
from bot.config import Settings
from bot.context import BotContext
from bot.i18n import translator
from bot.services.alerts import Presser, PressOutcome, PressResult
from bot.views.alerts import RESPONDER_LANGUAGE, TIER_NAMES, clock_time
from handlers.common import answer, parsed_as

GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)


async def on_alert_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    _ = translator(RESPONDER_LANGUAGE)
    pressed = parsed_as(query.data, AlertPress)
    chat = query.message.chat if query.message is not None else None
    if pressed is None or user is None or chat is None:
        await answer(query, _("That button is no longer active."))
        return
    presser = Presser(user_id=user.id, name=user.full_name, chat_id=chat.id,
                      in_group=chat.type in GROUP_TYPES)
    rt = context.runtime
    if pressed.action == "ack":
        result = await rt.alerts.acknowledge(pressed.case_id, presser)
    elif pressed.action == "detail":
        result = await rt.alerts.detail(pressed.case_id, presser, update.update_id)
    else:
        result = await rt.escalation.ask_next_tier(pressed.case_id, presser, update.update_id)
    # A refusal or "already taken" needs reading: a pop-up; the rest is a passing note.
    await answer(query, answer_text(pressed.action, result, rt.settings),
                 show_alert=result.outcome in (PressOutcome.REFUSED, PressOutcome.ALREADY,
                                               PressOutcome.MISSING))


def answer_text(action: str, result: PressResult, settings: Settings) -> str:
    """What the presser reads in the pop-up (a callback answer: at most 200 characters)."""
    _ = translator(RESPONDER_LANGUAGE)
    if result.outcome == PressOutcome.MISSING:
        return _("This report no longer exists.")
    if result.outcome == PressOutcome.REFUSED:
        if action == "detail":
            return _("Sorry, details are sent in private only to registered officers and "
                     "enrolled group members of this area.")
        return _("Sorry, only the responders this report was sent to can do that.")
    if result.outcome == PressOutcome.TAKEN:
        return _("Thank you. You have taken report {reference}; the reporter has been told "
                 "that someone is looking at it.").format(reference=result.reference)
    if result.outcome == PressOutcome.ALREADY:
        when = clock_time(result.at, settings) if result.at else ""
        return _("Already taken by {name} at {time}.").format(name=result.by or "?", time=when)
    if action == "detail":
        return _("The details are on their way to your private chat with the bot. If nothing "
                 "arrives, open the bot and press Start, then try again.")
    if result.outcome == PressOutcome.AT_TOP:
        return _("Everyone up to the kabupaten already has this report.")
    return _("Passed to {tier}.").format(tier=_(TIER_NAMES.get(result.tier or "", "?")))


async def on_membership(update: Update, context: BotContext) -> None:
    """Telegram tells us when the bot joins or leaves a group: a removed group stops receiving
    alerts at once (its open cases move up); a new one is announced to the admins."""
    change = update.my_chat_member
    if change is None or change.chat.type not in GROUP_TYPES:
        return
    rt = context.runtime
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await rt.escalation.chat_left(change.chat.id)
    elif status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR) and \
            change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await rt.alerts.chat_joined(change.chat.id, change.chat.title or "")
