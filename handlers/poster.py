"""``/poster`` (admins, private chat): a village's A4 poster with the bot's QR code, sent as a PDF.

``/poster`` asks for the kecamatan, then the village, with buttons; ``/poster NAME`` finds the
village by its name (typos and old spellings too). Every press is authorised again.
"""

from __future__ import annotations

import asyncio
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction

from bot.callback_data import PosterPress
from bot.context import BotContext
from bot.i18n import Translate, translator
from bot.poster import PosterPlace, bot_link, file_name, poster_pdf
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply
from handlers.staff import admin_or_refuse
from models.region import VILLAGE

VILLAGES_PER_PAGE = 10


def kecamatan_buttons(context: BotContext) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(p.name, callback_data=PosterPress("k", p.code).pack())
               for p in context.runtime.regions.kecamatan()]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def village_buttons(context: BotContext, kecamatan: str, page: int,
                    _: Translate) -> InlineKeyboardMarkup:
    villages = context.runtime.regions.villages(kecamatan)
    pages = max(1, -(-len(villages) // VILLAGES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = villages[page * VILLAGES_PER_PAGE:(page + 1) * VILLAGES_PER_PAGE]
    buttons = [InlineKeyboardButton(p.name, callback_data=PosterPress("v", p.code).pack())
               for p in shown]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=PosterPress(
            "k", kecamatan, page - 1).pack()))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=PosterPress(
            "k", kecamatan, page + 1).pack()))
    nav.append(InlineKeyboardButton(_("« Kecamatan"), callback_data=PosterPress("b", "").pack()))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


async def poster(update: Update, context: BotContext) -> None:
    """/poster [VILLAGE NAME]: the poster at once for a name that is found, else the picker."""
    _ = translator(await language_of(update, context))
    if await admin_or_refuse(update, context, _) is None:
        return
    rt = context.runtime
    typed = " ".join(context.args or []).strip()
    if typed:
        found = rt.regions.search(typed, level=VILLAGE, limit=4)
        if len(found) == 1:
            await send_poster(update, context, found[0].code, _)
            return
        if found:
            rows = []
            for place in found:
                parent = rt.regions.get(place.parent_code)
                label = f"{place.name} ({parent.name})" if parent else place.name
                rows.append([InlineKeyboardButton(label, callback_data=PosterPress(
                    "v", place.code).pack())])
            rows.append([InlineKeyboardButton(_("None of these: show the list"),
                                              callback_data=PosterPress("b", "").pack())])
            await reply(update, _("Which village do you mean?"), InlineKeyboardMarkup(rows))
            return
        await reply(update, _("I could not find a village called “{name}”. Please choose its "
                              "kecamatan:").format(name=escape(typed[:60])),
                    kecamatan_buttons(context))
        return
    await reply(update, _("A poster for which village? Choose its kecamatan (or send /poster "
                          "followed by the village's name)."), kecamatan_buttons(context))


async def on_poster_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    _ = translator(await language_of(update, context))
    chat = update.effective_chat
    pressed = await pressed_as(query, PosterPress, _,
                               usable=chat is not None and chat.type == "private")
    if pressed is None or await admin_or_refuse(update, context, _) is None:
        return
    await answer(query)
    regions = context.runtime.regions
    if pressed.action == "v" and regions.get(pressed.code) is not None:
        await send_poster(update, context, pressed.code, _)
        return
    if pressed.action == "k" and regions.get(pressed.code) is not None:
        await replace_or_reply(update, _("Which village?"),
                               village_buttons(context, pressed.code, pressed.page, _))
        return
    await replace_or_reply(update, _("A poster for which village? Choose its kecamatan."),
                           kecamatan_buttons(context))


async def send_poster(update: Update, context: BotContext, code: str,
                      _: Translate) -> None:
    chat = update.effective_chat
    rt = context.runtime
    village = rt.regions.get(code)
    if chat is None or village is None or village.level != VILLAGE:
        await replace_or_reply(update, _("That is not a village. Please choose again."),
                               kecamatan_buttons(context))
        return
    place = PosterPlace.of(rt.regions, village)
    username = context.bot.username
    if update.callback_query is not None:  # the picker gives way to what was chosen
        await replace_or_reply(update, _("The poster for {village} follows.").format(
            village=escape(place.village)))
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    # Always Indonesian: the poster hangs in the village, whatever the admin's language.
    pdf = await asyncio.to_thread(poster_pdf, rt.settings, username, place, "id")
    await chat.send_document(
        document=pdf, filename=file_name(place),
        caption=_("Poster for {village} (Kecamatan {kecamatan}): print it on A4 and hang it "
                  "where people pass. Its QR code opens {link}. It names no one.").format(
            village=place.village, kecamatan=place.kecamatan, link=bot_link(username)))
