"""``/bukti REF`` (officers of the case's area, in private): the case's files, decrypted, in a zip
with a manifest of their hashes, sent as a protected document; recorded in the case's history."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatAction

from bot.context import BotContext
from bot.i18n import Translate
from bot.services.cases import CaseOutcome, Result
from bot.services.evidence import Packed
from handlers.cases import _translate, normalise_reference, person, problem_text, split_command
from handlers.common import aside, reply


async def evidence_command(update: Update, context: BotContext) -> None:
    _ = await _translate(update, context)
    given, _rest = split_command(update)
    if given is None:
        await reply(update, _("Write it like this: <code>/bukti PSR-26-K7Q3XM</code>"))
        return
    reference = normalise_reference(given)
    if reference is None:
        await reply(update, problem_text(Result(CaseOutcome.UNKNOWN, reference=given[:30]), _))
        return
    chat = update.effective_chat
    if chat is None:
        return
    rt = context.runtime
    user_id, name = person(update)

    async def pack_and_send() -> None:
        packed = await rt.evidence.package(user_id, name, reference, rt.cases.act)
        if not isinstance(packed, Packed):
            await reply(update, problem_text(packed, _))
            return
        try:
            if not packed.parts or (packed.files == 0 and packed.flagged == 0):
                await reply(update, _("Report {reference} has no files.").format(
                    reference=reference))
                return
            await chat.send_action(ChatAction.UPLOAD_DOCUMENT)
            for number, path in enumerate(packed.parts, start=1):
                with path.open("rb") as document:
                    await chat.send_document(
                        document=document, filename=path.name, protect_content=True,
                        caption=caption(packed, number, _))
        finally:
            packed.discard()

    aside(update, context, pack_and_send(), "bukti")


def caption(packed: Packed, part: int, _: Translate) -> str:
    text = "📦 " + _("Evidence of report {reference}: {count} file(s), with their SHA-256 in "
                    "MANIFEST.txt. This package is recorded in the case history; keep it "
                    "safe.").format(reference=packed.reference, count=packed.files)
    if len(packed.parts) > 1:
        text += "\n" + _("Part {part} of {parts}.").format(part=part, parts=len(packed.parts))
    if packed.mismatched:
        text += "\n⚠️ " + _("{count} file(s) no longer match the hash taken when they were "
                           "received: see MANIFEST.txt.").format(count=packed.mismatched)
    if packed.flagged:
        text += "\n" + _("{count} file(s) are not included (too big for the bot to download, "
                         "or not downloaded yet): see MANIFEST.txt.").format(
            count=packed.flagged)
    return text
