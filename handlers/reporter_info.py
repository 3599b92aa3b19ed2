"""The reporter's other commands: /bantuan (with privacy on this phone), /status and /bahasa."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import menus
from bot.callback_data import HelpPress, LanguagePress
from bot.context import BotContext
from bot.domain.workflow import STATUS_WORDS
from bot.i18n import Translate, translator
from bot.services.pin import Gate
from bot.views import help as help_views
from bot.views import report as view
from handlers import pin
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
    """/bantuan: what the bot does, the commands of this person's role (one line each), the
    hotlines, and privacy on this phone."""
    rt = context.runtime
    user = update.effective_user
    _ = await translate_for(update, context)
    role = menus.REPORTER_ROLE
    if user is not None:
        async with rt.sessions() as session:
            role = (await menus.role_of(session, user.id)).name
    text = "\n".join([
        _("This bot takes confidential reports of violence against women and children in "
          "Kabupaten {kabupaten} and passes them to protection officers.").format(
              kabupaten=escape(rt.settings.region.kabupaten_name)),
        "",
        _("Your commands:") if role in menus.STAFF else _("What you can do here:"),
        *menus.command_lines(role, _),
        "",
        view.hotlines(rt.settings, _),
    ])
    await reply(update, text, help_views.help_markup(_))


def nothing_reported(_: Translate) -> str:
    """What /status says to an account with no report (and, after three wrong PINs, to
    whoever holds the phone)."""
    return _("You have not sent any report yet. Send /lapor to make one.")


async def status(update: Update, context: BotContext) -> None:
    """/status: only the cases reported from this Telegram account (after the PIN, if set)."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    found = await pin.gate(update, context, {"do": "status"})
    if found is Gate.ASK:
        return
    _ = await translate_for(update, context)
    cases = [] if found is Gate.PAUSED else await rt.reports.my_cases(user.id)
    if not cases:
        await reply(update, nothing_reported(_))
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


async def on_help_button(update: Update, context: BotContext) -> None:
    """"Bantuan" (under help at hand) and the privacy settings of /bantuan."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    pressed = parsed_as(query.data, HelpPress)
    await answer(query)
    if pressed is None or update.effective_chat is None \
            or update.effective_chat.type != "private":
        return
    if pressed.action == "help":
        await help_command(update, context)
    elif pressed.action == "pin":
        await pin.start_setting(update, context)
    elif pressed.action == "pin_off":
        await pin.remove(update, context)
    else:
        await privacy_screen(update, context, pressed.action)


async def privacy_screen(update: Update, context: BotContext, action: str) -> None:
    """/bantuan → privacy: shown (``privacy``), or discreet messages turned on or off. Turning
    them off asks for the PIN first: whoever holds the phone must not make the next message
    readable at a glance."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    if action == "discreet_off":
        found = await pin.gate(update, context, {"do": "discreet_off"})
        if found is Gate.ASK:
            return
        if found is Gate.OPEN:
            await rt.phone.set_discreet(user.id, False)
    elif action == "discreet_on":
        await rt.phone.set_discreet(user.id, True)
    _ = await translate_for(update, context)
    settings = await rt.phone.settings_of(user.id)
    text, markup = help_views.privacy_settings(
        _, settings.discreet, await rt.pins.has_pin(user.id), settings.known, settings.reported)
    if action == "privacy":
        await reply(update, text, markup)
    else:
        await replace_or_reply(update, text, markup)
