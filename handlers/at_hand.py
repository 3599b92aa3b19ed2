"""Help one message away (DESIGN §6): whatever someone writes or sends in private that no flow is
waiting for ("tolong sy skrg dipukul suami", a photo, a sticker) gets one short message with the
emergency numbers, the district's own first, and the buttons "Buat laporan" and "Bantuan". It is
the last answer of the private-message chain (``handlers/__init__.py``), so it is never silence
and never a dead end."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.views.help import at_hand
from handlers.common import reply, translate_for


async def help_at_hand(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    assert user is not None
    rt = context.runtime
    _ = await translate_for(update, context)
    await rt.phone.heard_from(user.id)
    reference = None
    own = await rt.relay.own_references(user.id)
    if own.references and not await rt.pins.has_pin(user.id):
        # A PIN keeps even the existence of a report from whoever holds the phone.
        reference = own.references[0]
    text, markup = at_hand(rt.settings, _, reference)
    await reply(update, text, markup)
    return True
