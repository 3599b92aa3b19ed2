"""Telegram handlers, thin: parse the update, call a service, render the reply."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    alerts,
    cases,
    district,
    errors,
    limits,
    poster,
    privacy,
    relay,
    report,
    reporter_info,
)

PRIVATE = filters.ChatType.PRIVATE


def register(application: Application) -> None:
    """Wire every handler. Group -2 counts every update, -1 applies the flood limit, 0 handles it
    (fallbacks last)."""
    application.add_handlers([
        *district.handlers(),  # onboarding, statistics, export, practice (before /start)
        *poster.handlers(),  # /poster (admins): a village's poster with the bot's QR code
        # Case handling and the relay (before /batal and the report's text and media: a reply
        # to a relayed message, or a note being typed, is not an answer to the report form).
        *cases.handlers(),
        *relay.handlers(),
        CommandHandler("start", report.start, filters=PRIVATE),
        CommandHandler("lapor", report.report, filters=PRIVATE),
        CommandHandler("batal", report.cancel, filters=PRIVATE),
        CommandHandler("bantuan", reporter_info.help_command, filters=PRIVATE),
        CommandHandler("help", reporter_info.help_command, filters=PRIVATE),
        CommandHandler("status", reporter_info.status, filters=PRIVATE),
        CommandHandler("bahasa", reporter_info.language, filters=PRIVATE),
        CommandHandler("dataku", privacy.my_data, filters=PRIVATE),
        CommandHandler("tarik_persetujuan", privacy.withdraw, filters=PRIVATE),
        CommandHandler("hapus_chat", privacy.wipe_chat, filters=PRIVATE),
        CallbackQueryHandler(privacy.on_privacy_button, pattern=r"^p1\|"),
        CallbackQueryHandler(reporter_info.on_language_button, pattern=r"^l1\|"),
        CallbackQueryHandler(alerts.on_alert_button, pattern=r"^a1\|"),
        ChatMemberHandler(alerts.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        CallbackQueryHandler(report.on_button, pattern=r"^[rxs]1(\||$)"),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND,
                       report.on_text),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & filters.CONTACT, report.on_contact),
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE
                       & (filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO
                          | filters.Document.ALL | filters.VIDEO_NOTE), report.on_media),
        # Anything else in a private chat, and any button we do not know: a kind word, never
        # silence. Last in the group, so they only see what nothing above took.
        MessageHandler(PRIVATE, report.on_unsupported),
        CallbackQueryHandler(report.on_unsupported),
    ], group=0)
    application.add_handler(TypeHandler(Update, errors.count_update), group=-2)
    application.add_handler(TypeHandler(Update, limits.flood_gate), group=-1)
    application.add_error_handler(errors.on_error)
