"""The reporter's other commands: /bantuan, /status and /bahasa."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callback_data import LanguagePress
from bot.context import BotContext
from bot.domain.workflow import STATUS_WORDS
from bot.i18n import translator
from bot.views import report as view
from handlers.common import (
    CHOSEN_LANGUAGE,
    answer,
    parsed_as,
    replace_or_reply,
    reply,
    translate_for,
)
from handlers.report import send_question


async def help_command(update: Update, context: BotContext) -> None:
    """/bantuan: what the bot does, its commands, and the hotlines."""
    rt = context.runtime
    _ = await translate_for(update, context)
    text = "\n".join([
        _("This bot takes confidential reports of violence against women and children in "
          "Kabupaten {kabupaten} and passes them to protection officers.").format(
              kabupaten=escape(rt.settings.region.kabupaten_name)),
        "",
        _("/lapor – make a report"),
        _("/status – see your reports"),
        _("/batal – cancel the report you are writing"),
        _("/bahasa – change language"),
        "",
        view.hotlines(rt.settings, _),
    ])
    await reply(update, text)


async def status(update: Update, context: BotContext) -> None:
    """/status: only the cases reported from this Telegram account."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    _ = await translate_for(update, context)
    cases = await rt.reports.my_cases(user.id)
    if not cases:
        await reply(update, _("You have not sent any report yet. Send /lapor to make one."))
        return
    lines = ["<b>" + _("Your reports") + "</b>"]
    for case in cases:
        local = case.created_at.astimezone(rt.settings.tz)
        lines.append(f"<code>{case.reference}</code> · {local:%d-%m-%Y} · "
                     + _(STATUS_WORDS.get(case.status, STATUS_WORDS["baru"])))
    await reply(update, "\n".join(lines))


async def language(update: Update, context: BotContext) -> None:
    """/bahasa: choose Indonesian or English."""
    _ = await translate_for(update, context)
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("🇮🇩 Bahasa Indonesia", callback_data=LanguagePress("id").pack()),
        InlineKeyboardButton("🇬🇧 English", callback_data=LanguagePress("en").pack()),
    ]])
    await reply(update, _("Choose your language:"), markup)


async def on_language_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = parsed_as(query.data, LanguagePress)
    if pressed is None:
        await answer(query)
        return
    rt = context.runtime
    chosen = pressed.language
    # Stored with a reporter record or an officer; otherwise in memory only, until a report.
    await rt.reports.set_language(user.id, chosen)
    if context.user_data is not None:
        context.user_data[CHOSEN_LANGUAGE] = chosen
    _ = translator(chosen)
    await answer(query)
    await replace_or_reply(update, _("Language set to English."))
    current = await rt.reports.current(user.id)
    if current.draft is not None:
        await send_question(update, context, current)
