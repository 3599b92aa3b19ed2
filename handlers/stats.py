"""``/statistik [YEAR]`` (officers and admins, limited to their area) and ``/ekspor [YEAR]``
(admins: the year's cases as an xlsx document in the private chat)."""

from __future__ import annotations

import asyncio
from html import escape

from telegram import Update
from telegram.constants import ChatAction

from bot.context import BotContext
from bot.i18n import Translate, translator
from bot.services.export import ExportService
from bot.services.onboarding import scope_of
from bot.services.stats import StatsService, chart_png, render
from handlers.common import aside, language_of, reply
from handlers.staff import admin_or_refuse, current_staff, refuse

FIRST_YEAR = 2000


async def requested_year(update: Update, context: BotContext,
                         _: Translate, command: str) -> int | None:
    """The year given after the command, or this year; a polite word for anything else."""
    this_year = context.runtime.clock.now().astimezone(context.runtime.settings.tz).year
    args = context.args or []
    if not args:
        return this_year
    text = args[0].strip()
    if text.isdigit() and FIRST_YEAR <= int(text) <= this_year + 1:
        return int(text)
    await reply(update, _("Please give a year from {first} to {last}, for example /{command} "
                          "{example}.").format(first=FIRST_YEAR, last=this_year,
                                               command=command, example=this_year - 1))
    return None


async def statistics(update: Update, context: BotContext) -> None:
    """/statistik [YEAR]: a short text and a chart, for the officer's own area. Counted aside:
    nobody else's update waits for it."""
    language = await language_of(update, context)
    _ = translator(language)
    officer = await current_staff(update, context)
    if officer is None:
        await refuse(update, _, "not_staff")
        return
    year = await requested_year(update, context, _, "statistik")
    chat = update.effective_chat
    if year is None or chat is None:
        return
    rt = context.runtime
    await chat.send_action(ChatAction.UPLOAD_PHOTO)

    async def count_and_send() -> None:
        stats = await StatsService(rt.sessions, rt.clock, rt.settings).year(
            year, scope_of(officer))
        await reply(update, render(stats, language))
        png = await asyncio.to_thread(chart_png, stats, language)
        await chat.send_photo(
            photo=png, filename=f"statistik-{year}.png",
            caption=escape(_("Statistics {year}").format(year=year) + " · " + stats.scope_name))

    aside(update, context, count_and_send(), "statistik")


async def export(update: Update, context: BotContext) -> None:
    """/ekspor [YEAR]: admins get the year's cases as an xlsx document, here in private: a sheet
    per case and a sheet per victim. Made aside: nobody else's update waits for it."""
    language = await language_of(update, context)
    _ = translator(language)
    officer = await admin_or_refuse(update, context, _)
    if officer is None:
        return
    year = await requested_year(update, context, _, "ekspor")
    chat = update.effective_chat
    if year is None or chat is None:
        return
    rt = context.runtime
    # A large year takes a while to write: say so, then the document follows.
    await reply(update, _("Preparing the cases of {year}; the file will arrive here shortly.")
                .format(year=year))
    await chat.send_action(ChatAction.UPLOAD_DOCUMENT)

    async def make_and_send() -> None:
        result = await ExportService(rt.sessions, rt.clock, rt.settings).export(
            year, "xlsx", actor=f"officer:{officer.id}", actor_name=officer.name,
            language=language)
        try:
            with result.path.open("rb") as document:
                await chat.send_document(
                    document=document, filename=result.filename,
                    caption=_("{count} cases and {victims} victims of {year}: one sheet with a "
                              "row per case, one with a row per victim in the SIMFONI-PPA "
                              "columns. No story and no reporter identity. The export is "
                              "recorded in each case's history; keep the file safe.").format(
                        count=result.rows, victims=result.victims, year=year))
        finally:
            result.discard()

    aside(update, context, make_and_send(), "ekspor")
