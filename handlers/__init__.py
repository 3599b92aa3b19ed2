"""Telegram handlers, thin: parse the update, call a service, send what a view rendered.

Every handler is registered here, in the order PTB tries them (DESIGN §7: one visible order).
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callback_data import (
    AlertPress,
    CancelPress,
    CaseListPress,
    CasePress,
    ConsentPress,
    EnrolmentPress,
    GroupRequestPress,
    HelpPress,
    InvitePress,
    LanguagePress,
    NewsPress,
    OpenPress,
    PosterPress,
    Press,
    PrivacyPress,
    ProviderPress,
    PurgePress,
    ReportPress,
    ServicePress,
    StaffPress,
    StartPress,
    VillagePickPress,
)
from bot.context import BotContext
from bot.domain.access import ANYONE, IN_GROUP, IN_PRIVATE
from handlers import (
    after_pin,
    alerts,
    at_hand,
    cases,
    discreet,
    errors,
    evidence,
    limits,
    membership,
    onboarding,
    poster,
    practice,
    privacy,
    private,
    relay,
    report,
    reporter_info,
    services,
    staff,
    stats,
)
from handlers.common import answer

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
MESSAGE = filters.UpdateType.MESSAGE
MEDIA = (filters.PHOTO | filters.VOICE | filters.VIDEO | filters.AUDIO | filters.Document.ALL
         | filters.VIDEO_NOTE)

OFFICER_COMMANDS = {"statistik": stats.statistics, "ekspor": stats.export,
                    "undang": onboarding.invite, "petugas": staff.officers, "grup": staff.groups,
                    "latihan": practice.practice, "hapus_latihan": practice.purge,
                    "poster": poster.poster, "layanan": services.directory_command}
GROUP_COMMANDS = {"daftar": onboarding.register_group, "gabung": onboarding.join_group}
CASE_COMMANDS = {"kasus": cases.case_command, "catat": cases.note_command,
                 "balas": cases.reply_command, "riwayat": cases.history_command,
                 "bukti": evidence.evidence_command}
REPORTER_COMMANDS = {
    "tambah": relay.add_command, "berhenti_kabar": relay.stop_news,
    "lanjut_kabar": relay.resume_news,
    "start": report.start, "lapor": report.report,
    "bantuan": reporter_info.help_command, "help": reporter_info.help_command,
    "status": reporter_info.status, "bahasa": reporter_info.language,
    "dataku": privacy.my_data, "ubah": privacy.correct, "tarik_persetujuan": privacy.withdraw,
    "hapus_chat": privacy.wipe_chat,
}
DEEP_CASE = r"^/kasus_[A-Za-z0-9_]+(@\w+)?(\s|$)"
DEEP_HISTORY = r"^/riwayat_[A-Za-z0-9_]+(@\w+)?(\s|$)"

# A plain private message (text, or a photo, voice note, video or file): the first that takes it.
on_private_message = private.first_that_answers(
    after_pin.typed_pin,  # 1. the PIN, while one is asked for (the message is deleted at once)
    relay.reply_to_relayed_message,  # 2. a reply to a relayed message, either way
    services.typed_provider,  # 2b. the provider's name an officer was asked to type
    cases.typed_note_or_reply,  # 3. the note or reply an officer started on a case card
    report.answer_to_draft,  # 4. an answer to the report being written
    at_hand.help_at_hand,  # 5. anything else: the emergency numbers, "Buat laporan", "Bantuan"
)

# Buttons: each kind of callback data (its prefix, version and fields are declared once, in
# bot/callback_data.py) and the one handler its presses go to.
BUTTONS: tuple[tuple[type[Press], Any], ...] = (
    (ReportPress, report.on_button),
    (CancelPress, report.on_button),
    (StartPress, report.on_button),
    (LanguagePress, reporter_info.on_language_button),
    (PrivacyPress, privacy.on_privacy_button),
    (NewsPress, relay.on_news_button),
    (OpenPress, discreet.on_open_button),
    (HelpPress, reporter_info.on_help_button),
    (AlertPress, alerts.on_alert_button),
    (CasePress, cases.on_case_button),
    (CaseListPress, cases.on_list_button),
    (GroupRequestPress, onboarding.on_request_decision),
    (EnrolmentPress, onboarding.on_enrolment_decision),
    (VillagePickPress, onboarding.on_village_pick),
    (InvitePress, onboarding.on_invite_button),
    (StaffPress, staff.on_staff_button),
    (PurgePress, practice.on_purge_button),
    (PosterPress, poster.on_poster_button),
    # Services and referrals on a case, a reporter's consent, the provider directory.
    (ServicePress, services.on_service_button),
    (ConsentPress, services.on_consent_button),
    (ProviderPress, services.on_provider_button),
)


def guarded(kind: type[Press], callback: Any) -> Any:
    """A kind of button's handler, run only for a press where the kind may be pressed, by someone
    it may be pressed by (``Press.WHERE``, ``Press.BY``). Any other press is answered without a
    word and changes nothing: data replayed in another chat, or by someone else, does nothing."""
    async def guard(update: Update, context: BotContext) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        chat = query.message.chat if query.message is not None else None
        where = None if chat is None else IN_PRIVATE if chat.type == ChatType.PRIVATE \
            else IN_GROUP if chat.type in (ChatType.GROUP, ChatType.SUPERGROUP) else None
        rt = context.runtime
        if where not in kind.WHERE or (kind.BY != ANYONE
                                       and kind.BY not in await rt.cases.pressers(user.id)):
            rt.metrics["press_refused"] += 1
            await answer(query)
            return
        await callback(update, context)

    guard.__name__ = getattr(callback, "__name__", "guard")
    guard.__doc__ = callback.__doc__
    return guard


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """Group 0, in the order PTB tries them: the first that matches handles the update."""
    return [
        # An edit is never a new command or answer: first, so that no command handler sees it.
        MessageHandler(filters.UpdateType.EDITED, report.on_edited),
        # Who is in a village group (enrolments end when someone leaves); groups that migrate.
        MessageHandler(GROUPS & filters.StatusUpdate.LEFT_CHAT_MEMBER, membership.on_member_left),
        MessageHandler(filters.StatusUpdate.MIGRATE, membership.on_migration),
        ChatMemberHandler(membership.on_chat_member, ChatMemberHandler.CHAT_MEMBER),
        # An invitation link opens as "/start inv_<token>": before the reporter's /start.
        CommandHandler("start", onboarding.start_from_invitation,
                       filters=PRIVATE & filters.Regex(r"^/start(@\w+)?\s+inv_")),
        # Staff commands answer in private only; group commands in groups only.
        *(CommandHandler(name, callback, filters=PRIVATE)
          for name, callback in OFFICER_COMMANDS.items()),
        CommandHandler(list(OFFICER_COMMANDS), onboarding.in_private_only, filters=GROUPS),
        # Limited per person and per group (a flood neither fills the group nor the officers').
        *(CommandHandler(name, limits.group_limited(callback), filters=GROUPS)
          for name, callback in GROUP_COMMANDS.items()),
        CommandHandler(list(GROUP_COMMANDS), onboarding.in_groups_only, filters=PRIVATE),
        # Case handling, with references one can tap (/kasus_PSR_26_K7Q3XM).
        *(CommandHandler(name, callback, filters=PRIVATE)
          for name, callback in CASE_COMMANDS.items()),
        MessageHandler(PRIVATE & filters.Regex(DEEP_CASE), cases.deep_case),
        MessageHandler(PRIVATE & filters.Regex(DEEP_HISTORY), cases.deep_history),
        CommandHandler(list(CASE_COMMANDS), onboarding.in_private_only, filters=GROUPS),
        MessageHandler(GROUPS & (filters.Regex(DEEP_CASE) | filters.Regex(DEEP_HISTORY)),
                       onboarding.in_private_only),
        # /batal ends a note or reply being typed, else cancels the report being written.
        CommandHandler(["batal", "cancel"], relay.cancel, filters=PRIVATE),
        *(CommandHandler(name, callback, filters=PRIVATE)
          for name, callback in REPORTER_COMMANDS.items()),
        # Each kind of button, where and by whom it may be pressed (refused silently otherwise).
        *(CallbackQueryHandler(guarded(kind, callback), pattern=kind.pattern())
          for kind, callback in BUTTONS),
        ChatMemberHandler(alerts.on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(PRIVATE & MESSAGE & ((filters.TEXT & ~filters.COMMAND) | MEDIA),
                       on_private_message),
        MessageHandler(PRIVATE & MESSAGE & filters.CONTACT, report.on_contact),
        MessageHandler(PRIVATE & MESSAGE & filters.LOCATION, report.on_location),
        # Anything else in a private chat, and any button we do not know: a kind word, never
        # silence. Last, so they only see what nothing above took.
        MessageHandler(PRIVATE, report.on_unsupported),
        CallbackQueryHandler(report.on_unsupported),
    ]


def schedule(application: Application) -> None:
    """Jobs of the handlers' own: held messages answered once their sender's minute clears."""
    queue = application.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    queue.run_repeating(limits.release_job, interval=limits.RELEASE_SECONDS, first=1,
                        name="release_held")


def register(application: Application) -> None:
    """Group -2 counts every update, -1 applies the flood limit, 0 handles it (``handlers``)."""
    application.add_handler(TypeHandler(Update, errors.count_update), group=-2)
    application.add_handler(TypeHandler(Update, limits.flood_gate), group=-1)
    application.add_handlers(handlers(), group=0)
    application.add_error_handler(errors.on_error)
