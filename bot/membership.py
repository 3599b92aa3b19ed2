"""Asking Telegram whether someone is still in a group (``getChatMember``): the
``MembershipLookup`` the enrolment service uses (``bot/services/enrolment.py``).

Only a clear answer counts: "left", "kicked", a restricted user who is no longer a member, or
Telegram not knowing the user in that chat mean GONE (their enrolment ends); a 429, a 5xx, a
timeout or any other refusal is UNKNOWN, which never grants and never ends anything.
"""

from __future__ import annotations

import logging

from telegram import Bot, ChatMemberRestricted
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot.services.enrolment import InGroup

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0  # a person is waiting on the answer of their press
IN = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
NOT_IN = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
UNKNOWN_USER = ("user not found", "participant_id_invalid", "member not found",
                "user_not_participant")


class TelegramMembership:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, chat_id: int, user_id: int) -> InGroup:
        try:
            member = await self.bot.get_chat_member(chat_id, user_id,
                                                    read_timeout=TIMEOUT_SECONDS)
        except BadRequest as exc:
            if any(words in str(exc).lower() for words in UNKNOWN_USER):
                return InGroup.GONE
            log.info("membership not confirmed: %s", type(exc).__name__)
            return InGroup.UNKNOWN
        except TelegramError as exc:  # 429, 5xx, timeouts, 403 (the bot left the group) ...
            log.info("membership not confirmed: %s", type(exc).__name__)
            return InGroup.UNKNOWN
        if member.status in IN:
            return InGroup.MEMBER
        if isinstance(member, ChatMemberRestricted):
            return InGroup.MEMBER if member.is_member else InGroup.GONE
        if member.status in NOT_IN:
            return InGroup.GONE
        return InGroup.UNKNOWN
