"""The handlers the district runs its network with, in the order they must be tried:
they go before the generic ``/start`` and the fallbacks in ``handlers.register``."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import onboarding, practice, staff, stats

PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS
OFFICER_COMMANDS = {"statistik": stats.statistics, "ekspor": stats.export,
                    "undang": onboarding.invite, "petugas": staff.officers, "grup": staff.groups,
                    "latihan": practice.practice, "hapus_latihan": practice.purge}
GROUP_COMMANDS = {"daftar": onboarding.register_group, "gabung": onboarding.join_group}


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    return [
        # An invitation link opens as "/start inv_<token>": before the reporter's /start.
        CommandHandler("start", onboarding.start_from_invitation,
                       filters=PRIVATE & filters.Regex(r"^/start(@\w+)?\s+inv_")),
        *(CommandHandler(name, callback, filters=PRIVATE)
          for name, callback in OFFICER_COMMANDS.items()),
        CommandHandler(list(OFFICER_COMMANDS), onboarding.in_private_only, filters=GROUPS),
        *(CommandHandler(name, callback, filters=GROUPS)
          for name, callback in GROUP_COMMANDS.items()),
        CommandHandler(list(GROUP_COMMANDS), onboarding.in_groups_only, filters=PRIVATE),
        CallbackQueryHandler(onboarding.on_request_decision, pattern=r"^g1\|"),
        CallbackQueryHandler(onboarding.on_village_pick, pattern=r"^d1\|"),
        CallbackQueryHandler(onboarding.on_invite_button, pattern=r"^u1\|"),
        CallbackQueryHandler(staff.on_staff_button, pattern=r"^[oq]1\|"),
        CallbackQueryHandler(practice.on_purge_button, pattern=r"^h1\|"),
    ]
