"""The reporter's privacy commands: /dataku, /tarik_persetujuan and /hapus_chat (quick exit)."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.callback_data import PrivacyPress
from bot.context import BotContext
from bot.domain.workflow import STATUS_WORDS
from bot.i18n import Translate
from bot.services.pin import Gate
from bot.services.privacy import PrivacyService
from handlers import pin
from handlers.common import answer, parsed_as, replace_or_reply, reply, translate_for

log = logging.getLogger(__name__)
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids


def privacy(context: BotContext) -> PrivacyService:
    return context.runtime.privacy


def wipe_offer(_: Translate) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(_("🧹 Delete this conversation from my phone"),
                              callback_data=PrivacyPress("wipe").pack())],
    ])


def nothing_stored(_: Translate) -> str:
    """What /dataku says to an account with nothing stored (and, after three wrong PINs, to
    whoever holds the phone)."""
    return _("We store nothing about you.")


async def my_data(update: Update, context: BotContext) -> None:
    """/dataku: what is stored about this account, in plain words (after the PIN, if set)."""
    user = update.effective_user
    assert user is not None
    found = await pin.gate(update, context, {"do": "dataku"})
    if found is Gate.ASK:
        return
    _ = await translate_for(update, context)
    stored = None if found is Gate.PAUSED else await privacy(context).stored_data(user.id)
    tz = context.runtime.settings.tz
    if stored is None:
        await reply(update, nothing_stored(_))
        return
    lines = ["<b>" + _("What we store about you") + "</b>",
             _("• Your Telegram account, encrypted, so that only you see your reports."),
             _("• Your language: {language}.").format(language=stored.language)]
    if stored.draft_answers is not None:
        lines.append(_("• An unfinished report with {count} answer(s).").format(
            count=stored.draft_answers))
    for case in stored.cases:
        line = _("• Report {reference} of {date}: {status}.").format(
            reference=f"<code>{case.reference}</code>",
            date=f"{case.created_at.astimezone(tz):%d-%m-%Y}",
            status=_(STATUS_WORDS.get(case.status, STATUS_WORDS["baru"])))
        if case.has_phone:
            line += " " + _("It includes the phone number you gave, encrypted.")
        lines.append(line)
    lines += ["", _("Officers of your area see the reports, never your Telegram account."),
              _("/tarik_persetujuan removes the link between you and your reports and deletes "
                "your unfinished report. /hapus_chat deletes this conversation from your phone.")]
    await reply(update, "\n".join(lines))


async def withdraw(update: Update, context: BotContext) -> None:
    """/tarik_persetujuan: explain, then ask."""
    _ = await translate_for(update, context)
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(_("Yes, withdraw my consent"),
                              callback_data=PrivacyPress("withdraw").pack())],
        [InlineKeyboardButton(_("No, keep everything"), callback_data=PrivacyPress("keep").pack())],
    ])
    await reply(update, _("Withdrawing consent deletes your unfinished report and removes the "
                          "link between your account and your reports. Officers keep the reports "
                          "so they can still protect the victim, but they can no longer send you "
                          "messages and you will not see the reports in /status. Continue?"),
                markup)


async def wipe_chat(update: Update, context: BotContext) -> None:
    """/hapus_chat: tell what will happen, then ask."""
    _ = await translate_for(update, context)
    await reply(update, _("I will delete the messages of our conversation from this chat, yours "
                          "and mine, as far as Telegram allows (up to 48 hours back). Your report "
                          "stays safe with us; /status still shows it."), wipe_offer(_))


async def on_privacy_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = parsed_as(query.data, PrivacyPress)
    _ = await translate_for(update, context)
    await answer(query)
    if pressed is None or pressed.action == "keep":
        await replace_or_reply(update, _("Nothing was changed."))
        return
    if pressed.action == "withdraw":
        unlinked = await privacy(context).withdraw_consent(user.id)
        await replace_or_reply(update, _("Done. Your consent is withdrawn: {count} report(s) are "
                                         "no longer linked to you, and nothing else is stored "
                                         "about you.").format(count=unlinked or 0))
        return
    await wipe(update, context)


async def wipe(update: Update, context: BotContext) -> None:
    """Delete the conversation's messages in batches; ones Telegram refuses are simply skipped."""
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    assert user is not None and chat is not None and message is not None
    ids = await privacy(context).wipe_range(user.id, message.message_id + 1)
    for start in range(0, len(ids), DELETE_BATCH):
        try:
            await context.bot.delete_messages(chat.id, ids[start:start + DELETE_BATCH])
        except TelegramError as exc:  # too old, already gone: nothing to tell the reporter
            log.info("some messages could not be deleted: %s", type(exc).__name__)
