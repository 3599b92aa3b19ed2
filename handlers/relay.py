"""The reporter's side of the anonymous relay, and the router for plain private messages.

``/tambah REF text`` adds a message to one's own report; a reply to the bot's message about a case
(an officer's message, a status message) does the same, with text or a file; ``/berhenti_kabar``
and ``/lanjut_kabar`` (and the button under a status message) stop and resume status news.

For a plain private message: ``reply_to_relayed_message`` passes a reply to a relayed message on
(after the PIN, if set); where it stands among the other answers is written in
``handlers/__init__.py``.
"""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import (
    filters,
)

from bot.callback_data import NewsPress
from bot.context import BotContext
from bot.domain.references import normalise_reference
from bot.i18n import Translate
from bot.services import relay as service
from bot.services.pin import Gate
from bot.services.relay import RelayOutcome
from handlers import cases, pin, report, reporter_info
from handlers.common import answer, parsed_as, reply, stale_button, translate_for

PRIVATE = filters.ChatType.PRIVATE
MEDIA = (filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO | filters.Document.ALL
         | filters.VIDEO_NOTE)


def outcome_text(result: service.FromReporter, _: Translate) -> str:
    if result.outcome == RelayOutcome.DELIVERED:
        return "✅ " + _("Your message was passed to the officers handling report "
                        "<code>{reference}</code>. They do not see your name or account. If "
                        "someone is in danger, call 112.").format(reference=result.reference)
    if result.outcome == RelayOutcome.DUPLICATE:
        return _("Your message was already passed on.")
    if result.outcome == RelayOutcome.EMPTY:
        return _("Write your message after the reference, like this: <code>/tambah {reference} "
                 "your message</code>").format(reference=result.reference)
    if result.outcome == RelayOutcome.TOO_LONG:
        return _("That message is too long. Please send it in shorter parts.")
    if result.outcome == RelayOutcome.TOO_LARGE:
        return _("That file is too large to keep with your report. Please send a smaller one.")
    if result.outcome == RelayOutcome.TOO_MANY:
        return _("Your report already holds as many files as it can.")
    return _("You have no report with that reference. /status shows your reports.")


async def add_command(update: Update, context: BotContext) -> None:
    """/tambah REF text: a message to the officers handling one's own report (after the PIN,
    if set)."""
    message = update.effective_message
    assert message is not None
    await add(update, context, message.text or "")


async def add(update: Update, context: BotContext, command: str) -> None:
    """``command``: the /tambah message as typed (also when it waited for the PIN)."""
    user = update.effective_user
    assert user is not None
    found = await pin.gate(update, context, {"do": "tambah", "text": command,
                                             "key": update.update_id})
    if found is Gate.ASK:
        return
    _ = await translate_for(update, context)
    if found is Gate.PAUSED:
        await reply(update, reporter_info.nothing_reported(_))
        return
    rt = context.runtime
    parts = command.split(maxsplit=2)
    reference = normalise_reference(parts[1]) if len(parts) > 1 else None
    if reference is None:
        own = await rt.relay.own_references(user.id)
        if not own.references:
            await reply(update, reporter_info.nothing_reported(_))
            return
        await reply(update, _("Write your message after the reference of your report, like "
                              "this: <code>/tambah {reference} your message</code>").format(
            reference=own.references[0]))
        return
    result = await rt.relay.from_reporter(user.id, update.update_id, reference=reference,
                                          text=parts[2] if len(parts) > 2 else None)
    await reply(update, outcome_text(result, _))


async def stop_news(update: Update, context: BotContext) -> None:
    await _set_news(update, context, False)


async def resume_news(update: Update, context: BotContext) -> None:
    await _set_news(update, context, True)


async def _set_news(update: Update, context: BotContext, wanted: bool) -> None:
    user = update.effective_user
    assert user is not None
    _ = await translate_for(update, context)
    await context.runtime.relay.set_status_news(user.id, wanted)
    if wanted:
        text = _("You will again be told here when the status of your reports changes. "
                 "/berhenti_kabar stops it.")
    else:
        text = _("You will no longer be told when the status of your reports changes. Officers' "
                 "messages still reach you. /lanjut_kabar turns status news back on; /status "
                 "shows it at any time.")
    query = update.callback_query
    if query is not None:
        await answer(query, text, show_alert=True)
    else:
        await reply(update, text)


async def on_news_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    pressed = parsed_as(query.data, NewsPress)
    if pressed is None:
        await stale_button(query, await translate_for(update, context))
        return
    await _set_news(update, context, pressed.wanted)


async def cancel(update: Update, context: BotContext) -> None:
    """/batal: ends a note or reply being typed; otherwise cancels the report being written."""
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    if await rt.cases.cancel_input(user.id):
        _ = await translate_for(update, context)
        await reply(update, _("Cancelled: nothing was saved or sent."))
        return
    await report.cancel(update, context)


def _media(message: Message) -> dict[str, Any] | None:
    return report.evidence_of(message)


def _from_the_bot(message: Message, bot_id: int) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None \
        and replied.from_user.id == bot_id


async def reply_to_relayed_message(update: Update, context: BotContext) -> bool:
    """A reply to the bot's message about a case: the reporter answering (text or a file), or an
    officer answering a reporter's message (text only)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if not _from_the_bot(message, context.bot.id):
        return False
    rt = context.runtime
    text = message.text
    replied = message.reply_to_message
    assert replied is not None
    case_id = await rt.relay.replied_case(user.id, replied.message_id)
    if case_id is not None:
        media = None if text is not None else _media(message)
        found = await pin.gate(update, context, {"do": "reply", "case": case_id, "text": text,
                                                 "media": media, "key": update.update_id})
        if found is Gate.PAUSED:
            return False  # as if it were a reply to nothing in particular
        if found is Gate.OPEN:
            await pass_reply(update, context, case_id, text, media, update.update_id)
        return True
    case_id = await rt.relay.handler_replied_case(user.id, replied.message_id)
    if case_id is None:
        return False
    if text is not None:
        await cases.reply_by_relay(update, context, case_id, text)
    else:
        _ = await translate_for(update, context)
        await reply(update, _("Only text can be passed on to the reporter. Please write it as a "
                              "message."))
    return True


async def pass_reply(update: Update, context: BotContext, case_id: int, text: str | None,
                     media: dict[str, Any] | None, key: int | None) -> None:
    """The reporter's reply (text or a file) to the officers of their case."""
    user = update.effective_user
    assert user is not None
    _ = await translate_for(update, context)
    result = await context.runtime.relay.from_reporter(user.id, key, case_id=case_id, text=text,
                                                       media=media)
    await reply(update, outcome_text(result, _))
