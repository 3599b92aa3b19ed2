"""The reporter's rights (UU PDP): /dataku (what is stored and who read it), /ubah (ask for a
correction), /tarik_persetujuan (withdraw consent) and /hapus_chat (quick exit)."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.callback_data import PrivacyPress
from bot.context import BotContext
from bot.domain import access
from bot.domain.references import normalise_reference
from bot.domain.workflow import STATUS_WORDS
from bot.i18n import N_, Translate
from bot.services import relay as relay_service
from bot.services.pin import Gate
from bot.services.privacy import PrivacyService, StoredCase, answers_of
from bot.services.relay import RelayOutcome
from bot.views.alerts import chunks
from bot.views.cases import MEDIA_WORDS, escaped_parts
from bot.views.report import summary_lines
from handlers import pin
from handlers.common import answer, parsed_as, replace_or_reply, reply, translate_for

log = logging.getLogger(__name__)
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
STORY_PART = 3500  # characters of story per message (Telegram takes 4096)
VIEWINGS_SHOWN = 20  # the latest readings listed per report

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
# Who read the details, as the reporter is told: a role, never a name.
ROLE_WORDS = {
    access.VILLAGE_MEMBER: N_("a member of the village protection group (PAPTBM)"),
    access.KECAMATAN_OFFICER: N_("a kecamatan officer"),
    access.KABUPATEN_OFFICER: N_("a district officer (UPTD PPA / DP2KBP3A)"),
    access.ADMIN: N_("a district administrator"),
}


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
    return _("We store nothing about you: you have no report with us.")


def _when(moment: datetime, context: BotContext) -> str:
    local = moment.astimezone(context.runtime.settings.tz)
    return f"{local:%d-%m-%Y %H.%M} WITA"


def _case_messages(stored: StoredCase, context: BotContext,
                   _: Translate) -> list[str]:
    """One report as its reporter may see it: every answer, the story, who read it."""
    case = stored.case
    rt = context.runtime
    local = case.created_at.astimezone(rt.settings.tz)
    lines = ["📄 <b>" + _("Report {reference}").format(reference=f"<code>{case.reference}</code>")
             + "</b> · " + f"{local:%d-%m-%Y}",
             _("Status: {status}").format(
                 status="<b>" + _(STATUS_WORDS.get(case.status, STATUS_WORDS["baru"])) + "</b>"),
             *summary_lines(answers_of(case), _, rt.regions, with_story=False)]
    if stored.evidence:
        kinds = ", ".join(_(MEDIA_WORDS.get(kind, MEDIA_WORDS["document"]))
                          for kind in stored.evidence)
        lines.append(_("Files you sent: {files}").format(files=kinds))
    lines.append(_("Messages between you and the officers: {count}").format(
        count=stored.messages))
    if stored.viewings:
        lines.append("👁 " + _("Who read the details (roles, never names):"))
        shown = stored.viewings[-VIEWINGS_SHOWN:]
        if len(stored.viewings) > len(shown):
            lines.append("  " + _("… and {count} earlier time(s)").format(
                count=len(stored.viewings) - len(shown)))
        lines += [f"  • {_(ROLE_WORDS.get(v.role, ROLE_WORDS[access.ADMIN]))}, "
                  f"{_when(v.at, context)}" for v in shown]
    else:
        lines.append("👁 " + _("Nobody has read the details yet."))
    messages = chunks("\n".join(lines))
    if case.narrative:
        parts = escaped_parts(case.narrative, STORY_PART)
        messages.append("<b>" + _("Your story ({reference}):").format(reference=case.reference)
                        + "</b>\n<blockquote>" + parts[0] + "</blockquote>")
        messages += [f"<blockquote>{part}</blockquote>" for part in parts[1:]]
    return messages


async def my_data(update: Update, context: BotContext) -> None:
    """/dataku: everything stored about this account, the answers themselves, and who read
    them (after the PIN, if set)."""
    user = update.effective_user
    assert user is not None
    found = await pin.gate(update, context, {"do": "dataku"})
    if found is Gate.ASK:
        return
    _ = await translate_for(update, context)
    stored = None if found is Gate.PAUSED else await privacy(context).stored_data(user.id)
    if stored is None:
        await reply(update, nothing_stored(_))
        return
    rt = context.runtime
    head = ["<b>" + _("What we store about you") + "</b>",
            _("• Your Telegram account, encrypted and as a coded key, so that only you see your "
              "reports."),
            _("• Your language: {language}.").format(
                language=LANGUAGE_NAMES.get(stored.language, stored.language)),
            _("• News when the status changes: {state}.").format(
                state=_("on") if stored.status_updates else _("off"))]
    phone = await rt.phone.settings_of(user.id)
    head.append(_("• Discreet messages (silent, opened with “Open”): {state}.").format(
        state=_("on") if phone.discreet else _("off")))
    if await rt.pins.has_pin(user.id):
        head.append(_("• A PIN, kept only as a coded key that cannot be turned back into it."))
    if stored.draft_answers is not None:
        head.append(_("• An unfinished report:"))
        head += summary_lines(stored.draft_answers, _, rt.regions)
    if not stored.cases:
        head.append(_("• No report sent."))
    await reply(update, "\n".join(head))
    for case in stored.cases:
        for text in _case_messages(case, context, _):
            await reply(update, text)
    await reply(update, "\n".join([
        _("Officers of your area see your reports, never your Telegram account."),
        _("To correct something, send <code>/ubah REFERENCE what should change</code>: it goes "
          "to the officers handling the report."),
        _("/tarik_persetujuan deletes your story, landmark, phone number, files and messages, "
          "and everything still waiting to be sent to you. /hapus_chat deletes this "
          "conversation from your phone.")]))


async def correct(update: Update, context: BotContext) -> None:
    """/ubah REF text: ask the officers handling one's own report to correct it (after the PIN,
    if set: like /tambah, it speaks for the reporter)."""
    message = update.effective_message
    assert message is not None
    await correct_text(update, context, message.text or "")


async def correct_text(update: Update, context: BotContext, command: str) -> None:
    """``command``: the /ubah message as typed (also when it waited for the PIN)."""
    user = update.effective_user
    assert user is not None
    found = await pin.gate(update, context, {"do": "ubah", "text": command})
    if found is Gate.ASK:
        return
    _ = await translate_for(update, context)
    no_report = _("You have not sent any report yet. Send /lapor to make one.")
    if found is Gate.PAUSED:
        await reply(update, no_report)
        return
    rt = context.runtime
    parts = command.split(maxsplit=2)
    reference = normalise_reference(parts[1]) if len(parts) > 1 else None
    if reference is None:
        own = await rt.relay.own_references(user.id)
        if not own.references:
            await reply(update, no_report)
            return
        await reply(update, _("Write what should be corrected after the reference of your "
                              "report, like this: <code>/ubah {reference} the place is near the "
                              "market, not the mosque</code>").format(
            reference=own.references[0]))
        return
    result = await rt.relay.correction(user.id, update.update_id, reference,
                                       parts[2] if len(parts) > 2 else None)
    await reply(update, correction_text(result, _))


def correction_text(result: relay_service.FromReporter, _: Translate) -> str:
    if result.outcome == RelayOutcome.DELIVERED:
        return "✏️ " + _("Your correction for report <code>{reference}</code> was passed to the "
                        "officers handling it. They will check it and keep it with the "
                        "report.").format(reference=result.reference)
    if result.outcome == RelayOutcome.DUPLICATE:
        return _("Your correction was already passed on.")
    if result.outcome == RelayOutcome.EMPTY:
        return _("Write what should be corrected after the reference, like this: "
                 "<code>/ubah {reference} what should change</code>").format(
            reference=result.reference)
    if result.outcome == RelayOutcome.TOO_LONG:
        return _("That message is too long. Please send it in shorter parts.")
    return _("You have no report with that reference. /status shows your reports.")


async def withdraw(update: Update, context: BotContext) -> None:
    """/tarik_persetujuan: say exactly what is deleted and what stays, then ask."""
    _ = await translate_for(update, context)
    markup = InlineKeyboardMarkup([
        [InlineKeyboardButton(_("Yes, withdraw my consent"),
                              callback_data=PrivacyPress("withdraw").pack())],
        [InlineKeyboardButton(_("No, keep everything"), callback_data=PrivacyPress("keep").pack())],
    ])
    await reply(update, "\n".join([
        "<b>" + _("Withdraw consent") + "</b>",
        _("This deletes for good:"),
        _("• your story, the landmark, your phone number and the files you sent;"),
        _("• the messages between you and the officers, and every message still waiting to be "
          "sent to you;"),
        _("• your unfinished report and the record of your Telegram account."),
        _("What stays, with no link to you: each report's reference and status, the officers' "
          "own notes of their work, and the figures for the ministry's statistics (type of "
          "violence, the victim's sex and age, the village, the place, when, and the "
          "perpetrator's relation). Officers may go on protecting the victim but can no longer "
          "write to you, and the reports leave your /status."),
        _("Continue?")]), markup)


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
        done = await privacy(context).withdraw_consent(user.id)
        if done is None:
            await replace_or_reply(update, _("We store nothing about you: there was nothing to "
                                             "delete."))
            return
        erased = _("For {count} report(s) we deleted your story, the landmark, your phone "
                   "number, your files and the messages with the officers; nothing more will be "
                   "sent to you about them. Your unfinished report and the record of your account "
                   "are deleted too.").format(count=done.cases) if done.cases else _(
            "Your unfinished report and the record of your account are deleted; you had sent "
            "no report.")
        await replace_or_reply(update, "\n".join([
            _("Done. Your consent is withdrawn."),
            erased,
            _("We keep only each report's reference and status, the officers' own notes of "
              "their work, and the anonymous figures (type of violence, the victim's sex and "
              "age, the village, the place, when, the perpetrator's relation)."),
            _("If you write to us again, nothing is stored unless you make a new report.")]))
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
