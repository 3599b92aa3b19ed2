"""Practice mode: ``/latihan`` starts a practice report (marked at every step, routed only to the
training chat, never counted); ``/hapus_latihan`` lets an admin delete every practice case."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callback_data import PurgePress
from bot.context import BotContext
from bot.i18n import translator
from bot.services.practice import count_practice, purge_practice
from handlers import report
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply
from handlers.staff import admin_or_refuse


async def practice(update: Update, context: BotContext) -> None:
    """/latihan: a practice report, unless a real one is unfinished."""
    user = update.effective_user
    if user is None:
        return
    rt = context.runtime
    current = await rt.reports.current(user.id, user.language_code)
    _ = translator(current.language)
    if current.draft is not None and not current.draft.practice:
        await reply(update, _("You have an unfinished real report. Finish it, or cancel it with "
                              "/batal, before you start a practice report."))
        await report.send_question(update, context, current)
        return
    if current.draft is None:
        where = _("to the training group") if rt.settings.training.chat_id \
            else _("back to you, to show what a village group would see")
        await reply(update, "🧪 <b>" + _("Practice mode") + "</b>\n" + _(
            "This report is for practice only. It goes only {where}, never to a village group "
            "or an officer, and it is never counted in the figures.").format(where=where))
    await report.begin(update, context, practice=True)


async def purge(update: Update, context: BotContext) -> None:
    """/hapus_latihan: how many practice cases there are, and a confirmation."""
    _ = translator(await language_of(update, context))
    if await admin_or_refuse(update, context, _) is None:
        return
    async with context.runtime.sessions() as session:
        count = await count_practice(session)
    if not count:
        await reply(update, _("There are no practice reports to delete."))
        return
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(_("Yes, delete them"), callback_data=PurgePress(True).pack())],
        [InlineKeyboardButton(_("No, keep them"), callback_data=PurgePress(False).pack())]])
    await reply(update, _("Delete all {count} practice reports, with their history? Real reports "
                          "are not touched.").format(count=count), markup)


async def on_purge_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    _ = translator(await language_of(update, context))
    pressed = await pressed_as(query, PurgePress, _)
    if pressed is None:
        return
    if await admin_or_refuse(update, context, _) is None:
        return
    await answer(query)
    if not pressed.confirm:
        await replace_or_reply(update, _("Nothing was deleted."))
        return
    rt = context.runtime
    async with rt.sessions.begin() as session:
        removed = await purge_practice(session, rt.clock.now())
    await replace_or_reply(update, "🧹 " + _("{count} practice reports deleted.").format(
        count=removed))
