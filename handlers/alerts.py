"""The buttons under an alert (Terima / Detail / Butuh bantuan) and the bot's own membership in
groups. Every press is authorised again by ``bot.services.alerts`` at press time."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode

from bot import menus
from bot.callback_data import AlertPress
from bot.config import Settings
from bot.context import BotContext
from bot.domain.workflow import HELP_REASONS
from bot.i18n import Translate, translator
from bot.services.alerts import Presser, PressOutcome, PressResult
from bot.views.alerts import RESPONDER_LANGUAGE, TIER_NAMES, clock_time
from handlers.common import answer, parsed_as, replace_or_reply, through_hiccups

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
    if pressed.action == "help" and not pressed.value:
        await answer(query)
        if rt.answered.first_time(update.update_id):  # delivered again: asked already
            await ask_why(update, pressed.case_id, _)
        return
    if pressed.action == "nohelp":
        await answer(query)
        await replace_or_reply(update, _("No help was asked for."))
        return
    if pressed.action == "ack":
        result = await rt.alerts.acknowledge(pressed.case_id, presser)
    elif pressed.action == "detail":
        result = await rt.alerts.detail(pressed.case_id, presser, update.update_id)
    else:
        result = await rt.escalation.ask_next_tier(pressed.case_id, presser, update.update_id,
                                                   reason=pressed.value)
    # A refusal or "already taken" needs reading: a pop-up; the rest is a passing note.
    await answer(query, answer_text(pressed.action, result, rt.settings),
                 show_alert=result.outcome in (PressOutcome.REFUSED, PressOutcome.ALREADY,
                                               PressOutcome.MISSING))
    if pressed.action == "help" and result.outcome in (PressOutcome.CLIMBED,
                                                       PressOutcome.AT_TOP):
        # The question "why?" becomes the record of the answer, for everyone in the chat.
        why = _(HELP_REASONS[pressed.value])
        await replace_or_reply(update, "🆘 " + _("{name} asked for help ({reason}). {outcome}")
                               .format(name=escape(user.full_name), reason=why,
                                       outcome=answer_text(pressed.action, result, rt.settings)))


async def ask_why(update: Update, case_id: int, _: Translate) -> None:
    """"Butuh bantuan": the reasons, as a reply to the alert; the next tier's alert shows the one
    chosen."""
    message = update.callback_query.message if update.callback_query else None
    buttons = [InlineKeyboardButton(_(label), callback_data=AlertPress(case_id, "help",
                                                                       reason).pack())
               for reason, label in HELP_REASONS.items()]
    markup = InlineKeyboardMarkup([buttons[:2], buttons[2:],
                                   [InlineKeyboardButton("« " + _("Cancel"), callback_data=(
                                       AlertPress(case_id, "nohelp").pack()))]])
    chat = update.effective_chat
    if chat is None:
        return
    await through_hiccups(lambda: chat.send_message(
        "🆘 " + _("Why do you need help? The next tier will see the reason."),
        reply_markup=markup, parse_mode=ParseMode.HTML,
        reply_to_message_id=message.message_id if message is not None else None))


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
        return _("You have taken report {reference}.").format(reference=result.reference)
    if result.outcome == PressOutcome.ALREADY:
        when = clock_time(result.at, settings) if result.at else ""
        return _("Already taken by {name} at {time}.").format(name=result.by or "?", time=when)
    if action == "detail":
        return _("The details were queued for your private chat with the bot. If they do not "
                 "arrive, open the bot and press Start.")
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
        await menus.refresh_group(context.bot, rt.sessions, change.chat.id)  # members lose it
    elif status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR) and \
            change.old_chat_member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await rt.alerts.chat_joined(change.chat.id, change.chat.title or "")
