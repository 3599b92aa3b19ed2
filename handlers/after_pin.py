"""Digits typed while a PIN is asked for (the first answer of the private-message chain): the
message is deleted at once, then what waited for the PIN is done (``pending``), or a new PIN is
confirmed. After the third wrong try the answer is the one a person without any report gets."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.services.pin import PIN, Entered
from handlers import at_hand, discreet, pin, privacy, relay, reporter_info
from handlers.common import reply, translate_for


async def typed_pin(update: Update, context: BotContext) -> bool:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    if message.text is None or PIN.match(message.text) is None:
        return False  # cheap: only 4–6 digits can be a PIN
    result = await context.runtime.pins.entered(user.id, message.text)
    if result.outcome is Entered.NOT_WAITING:
        return False
    await pin.delete_typed(update, context)
    if result.outcome is Entered.STRAY:
        return False  # gone from the chat; otherwise answered like any message
    _ = await translate_for(update, context)
    if result.outcome is Entered.RIGHT:
        await done_after_pin(update, context, result.pending)
    elif result.outcome is Entered.WRONG:
        await reply(update, _("That PIN is not right. Please try again."))
    elif result.outcome is Entered.PAUSED:
        await as_if_nothing(update, context, result.pending)
    elif result.outcome is Entered.AGAIN:
        await reply(update, _("Please type the same PIN once more."))
    elif result.outcome is Entered.MISMATCH:
        await reply(update, _("The two entries were not the same. Please choose a PIN and type "
                              "it again."))
    elif result.outcome is Entered.TOO_EASY:
        await reply(update, _("That PIN is too easy to guess. Please choose another one."))
    else:  # SET
        await reply(update, "✅ " + _("Your PIN is set. From now on /status, /dataku, /tambah, "
                                     "opening a message and replying ask for it first. If you "
                                     "forget it, /lapor still works."))
    return True


async def done_after_pin(update: Update, context: BotContext, pending: dict[str, Any]) -> None:
    """The PIN was right: do what was asked before it."""
    wanted = pending.get("do")
    if wanted == "status":
        await reporter_info.status(update, context)
    elif wanted == "dataku":
        await privacy.my_data(update, context)
    elif wanted == "tambah":
        await relay.add(update, context, str(pending.get("text") or ""))
    elif wanted == "ubah":
        await privacy.correct_text(update, context, str(pending.get("text") or ""))
    elif wanted == "reply":
        await relay.pass_reply(update, context, int(pending["case"]), pending.get("text"),
                               pending.get("media"), pending.get("key"))
    elif wanted == "open":
        await discreet.open_message(update, context, int(pending["sealed"]),
                                    int(pending["message"]))
    elif wanted == "discreet_off":
        await reporter_info.privacy_screen(update, context, "discreet_off")
    elif wanted == "pin":
        await pin.start_setting(update, context)
    elif wanted == "pin_off":
        await pin.remove(update, context)
    else:
        _ = await translate_for(update, context)
        await reply(update, "✓ " + _("Thank you."))


async def as_if_nothing(update: Update, context: BotContext, pending: dict[str, Any]) -> None:
    """The third wrong try: the answer someone with no report at all would get."""
    _ = await translate_for(update, context)
    wanted = pending.get("do")
    if wanted in ("status", "tambah", "ubah"):
        await reply(update, reporter_info.nothing_reported(_))
    elif wanted == "dataku":
        await reply(update, privacy.nothing_stored(_))
    else:
        await at_hand.help_at_hand(update, context)
