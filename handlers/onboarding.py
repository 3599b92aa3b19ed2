"""Onboarding in chat: a village group asks to be registered (``/daftar``), an admin approves it
(Setujui / Tolak); a member asks to enrol (``/gabung``) and an officer of the area or an admin
approves it (Setujui / Tolak); an admin invites an officer by a one-time link (``/undang``), or a
village member (``/grup`` → the group), which registers them when opened (``/start inv_...``).

Group-facing texts are Indonesian (a village group reads Indonesian); private texts follow the
person's language. Every button is authorised again when pressed.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot import l10n, menus
from bot.callback_data import EnrolmentPress, GroupRequestPress, InvitePress, VillagePickPress
from bot.context import BotContext
from bot.i18n import Translate, translator
from bot.services import enrolment
from bot.services import onboarding as service
from bot.services.enrolment import DecisionOutcome, RequestStatus
from bot.services.onboarding import GroupRequestStatus, OnboardingError, Refusal
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply
from handlers.staff import admin_or_refuse, refresh_menu
from models.onboarding import ADMIN_ROLE, APPROVED, OFFICER_ROLE, REPLACED
from models.region import VILLAGE

log = logging.getLogger(__name__)

GROUP_LANGUAGE = "id"
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
VILLAGES_PER_PAGE = 10


# ---- /daftar in a group ----

def kecamatan_picker(context: BotContext, user_id: int,
                     _: Translate) -> InlineKeyboardMarkup:
    places = context.runtime.regions.kecamatan()
    buttons = [InlineKeyboardButton(p.name, callback_data=VillagePickPress(
        user_id, "k", p.code).pack()) for p in places]
    return InlineKeyboardMarkup([buttons[i:i + 2] for i in range(0, len(buttons), 2)])


def village_picker(context: BotContext, user_id: int, kecamatan: str, page: int,
                   _: Translate) -> InlineKeyboardMarkup:
    villages = context.runtime.regions.villages(kecamatan)
    pages = max(1, -(-len(villages) // VILLAGES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = villages[page * VILLAGES_PER_PAGE:(page + 1) * VILLAGES_PER_PAGE]
    buttons = [InlineKeyboardButton(p.name, callback_data=VillagePickPress(
        user_id, "v", p.code).pack()) for p in shown]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=VillagePickPress(
            user_id, "k", kecamatan, page - 1).pack()))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=VillagePickPress(
            user_id, "k", kecamatan, page + 1).pack()))
    nav.append(InlineKeyboardButton(_("« Kecamatan"), callback_data=VillagePickPress(
        user_id, "b", "").pack()))
    rows.append(nav)
    return InlineKeyboardMarkup(rows)


async def register_group(update: Update, context: BotContext) -> None:
    """/daftar [NAMA_DESA] in a group: pick the village (or name it), then ask the admins."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    _ = translator(GROUP_LANGUAGE)
    rt = context.runtime
    async with rt.sessions() as session:
        existing = await service.find_responder(session, chat.id)
        if existing is not None and existing.kind == "group" and existing.active:
            village = await service.region_name(session, existing.region_code)
            await reply(update, _("This group is already the PAPTBM group of {village}. Members "
                                  "enrol with /gabung.").format(village=escape(village)))
            return
    typed = " ".join(context.args or []).strip()
    if typed:
        found = rt.regions.search(typed, level=VILLAGE, limit=4)
        if len(found) == 1:
            await ask_admins(update, context, found[0].code)
            return
        if found:
            buttons = []
            for place in found:
                parent = rt.regions.get(place.parent_code)
                label = f"{place.name} ({parent.name})" if parent else place.name
                buttons.append([InlineKeyboardButton(label, callback_data=VillagePickPress(
                    user.id, "v", place.code).pack())])
            buttons.append([InlineKeyboardButton(_("None of these: show the list"),
                                                 callback_data=VillagePickPress(
                                                     user.id, "b", "").pack())])
            await reply(update, _("Which village do you mean?"), InlineKeyboardMarkup(buttons))
            return
        await reply(update, _("I could not find a village called “{name}”. Please choose its "
                              "kecamatan:").format(name=escape(typed[:60])),
                    kecamatan_picker(context, user.id, _))
        return
    await reply(update, _("Which village is this group for? Choose its kecamatan first (or send "
                          "/daftar followed by the village's name)."),
                kecamatan_picker(context, user.id, _))


async def ask_admins(update: Update, context: BotContext, village_code: str) -> None:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    _ = translator(GROUP_LANGUAGE)
    rt = context.runtime
    try:
        async with rt.sessions.begin() as session:
            outcome = await service.request_group(
                session, rt.vault, chat_id=chat.id, title=chat.title or "", now=rt.clock.now(),
                village_code=village_code, requester_id=user.id, requester_name=user.full_name)
            village = await service.region_name(session, village_code)
    except OnboardingError as exc:
        text = _("No district admin is registered yet, so nobody can approve this group. Please "
                 "contact DP2KBP3A.") if exc.reason == Refusal.NO_ADMIN \
            else _("That is not a village. Please choose again.")
        await replace_or_reply(update, text)
        return
    if outcome.status == GroupRequestStatus.REGISTERED:
        await replace_or_reply(update, _("This group is already the PAPTBM group of {village}. "
                                         "Members enrol with /gabung.").format(
            village=escape(village)))
        return
    if outcome.status == GroupRequestStatus.PENDING:
        await replace_or_reply(update, _("The request for {village} is already waiting for the "
                                         "district admins. This group will be told here when "
                                         "they decide.").format(village=escape(village)))
        return
    await replace_or_reply(update, "📨 " + _(
        "Thank you. The request to register this group as the PAPTBM group of {village} was "
        "sent to the district admins. This group will be told here when they decide.").format(
        village=escape(village)))


async def on_village_pick(update: Update, context: BotContext) -> None:
    query = update.callback_query
    user, chat = update.effective_user, update.effective_chat
    assert query is not None
    _ = translator(GROUP_LANGUAGE)
    in_group = user is not None and chat is not None and chat.type in GROUP_TYPES
    pressed = await pressed_as(query, VillagePickPress, _, usable=in_group)
    if pressed is None or user is None:
        return
    if pressed.user_id != user.id:
        await answer(query, _("Only the person who sent /daftar can choose. You can send /daftar "
                             "yourself."), show_alert=True)
        return
    if pressed.action == "v":
        await answer(query)
        await ask_admins(update, context, pressed.code)
        return
    await answer(query)
    if pressed.action == "k" and context.runtime.regions.get(pressed.code) is not None:
        await replace_or_reply(update, _("Which village?"), village_picker(
            context, user.id, pressed.code, pressed.page, _))
        return
    await replace_or_reply(update, _("Which village is this group for? Choose its kecamatan "
                                     "first."), kecamatan_picker(context, user.id, _))


async def on_request_decision(update: Update, context: BotContext) -> None:
    """Setujui / Tolak in an admin's chat."""
    query = update.callback_query
    assert query is not None
    _ = translator(await language_of(update, context))
    pressed = await pressed_as(query, GroupRequestPress, _)
    if pressed is None:
        return
    by = await admin_or_refuse(update, context, _)
    if by is None:
        return
    rt = context.runtime
    try:
        async with rt.sessions.begin() as session:
            current = await service.admin(session, by.chat_id)
            if current is None:
                raise OnboardingError(Refusal.NOT_ADMIN)
            decision = await service.decide_request(session, pressed.request_id, current,
                                                    pressed.approve, rt.clock.now())
    except OnboardingError as exc:
        texts = {"unknown_request": _("This request no longer exists."),
                 "not_a_group": _("This chat cannot be registered as a group.")}
        await answer(query, texts.get(exc.reason, _("Only district admins can do this.")),
                           show_alert=True)
        return
    request = decision.request
    await answer(query)
    title, village = escape(request.title), escape(decision.village)
    if request.status == REPLACED:
        text = _("This request was replaced: the group asked again, for another village. Please "
                 "decide on the newer request.")
    elif not decision.decided_now:
        word = _("approved") if request.status == "approved" else _("refused")
        text = _("The request of “{title}” for {village} was already {decision} by {name}.") \
            .format(title=title, village=village, decision=word,
                    name=escape(request.decided_by or "?"))
    elif request.status == "approved":
        text = "✅ " + _("Approved: “{title}” is now the PAPTBM group of {village}. The group has "
                        "been told how alerts work.").format(title=title, village=village)
    else:
        text = "✖️ " + _("Refused: “{title}” was not registered for {village}. The group has "
                        "been told.").format(title=title, village=village)
    await replace_or_reply(update, text)


# ---- /gabung in a group, and the officers' decision ----

async def join_group(update: Update, context: BotContext) -> None:
    """/gabung: ask the officers of the area to enrol this person; nothing opens before they
    approve."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    _ = translator(GROUP_LANGUAGE)
    rt = context.runtime
    async with rt.sessions.begin() as session:
        outcome = await enrolment.request_enrolment(
            session, rt.vault, chat_id=chat.id, title=chat.title or "", user_id=user.id,
            name=user.full_name, username=user.username, now=rt.clock.now())
    name, village = escape(enrolment.clean_name(user.first_name, 60)), escape(outcome.village)
    link = f"https://t.me/{context.bot.username}"
    status = outcome.status
    if status == RequestStatus.NOT_REGISTERED:
        await reply(update, _("This group is not registered yet. Send /daftar first; a district "
                              "admin approves it."))
        return
    if status == RequestStatus.NO_APPROVER:
        await reply(update, _("No officer or admin can approve members of this group yet. Please "
                              "contact DP2KBP3A."))
        return
    if status == RequestStatus.REFUSED_RECENTLY:
        await reply(update, _("{name}, your recent request was not approved. If you think this "
                              "is a mistake, please contact your kecamatan officer or "
                              "DP2KBP3A.").format(name=name))
        return
    if status == RequestStatus.ALREADY:
        text = _("{name}, you are already a member of the PAPTBM group of {village}.")
    elif status == RequestStatus.PENDING:
        text = _("{name}, your request to become a member of PAPTBM {village} is still waiting "
                 "for an officer's decision.")
    else:
        text = "📨 " + _("{name}, your request to become a member of PAPTBM {village} was sent to "
                        "the officers of the area. Until one of them approves it, you receive no "
                        "case details.")
    text = text.format(name=name, village=village)
    text += "\n" + _("Open {link} and press Start, so that the bot can send you case details in "
                     "private.").format(link=link)
    await reply(update, text)


async def on_enrolment_decision(update: Update, context: BotContext) -> None:
    """Setujui / Tolak under a request to enrol, in an officer's or admin's private chat."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    _ = translator(await language_of(update, context))
    private = query.message is not None and query.message.chat.type == ChatType.PRIVATE
    pressed = await pressed_as(query, EnrolmentPress, _, usable=private)
    if pressed is None or user is None:
        return
    rt = context.runtime
    async with rt.sessions.begin() as session:
        decision = await enrolment.decide(session, rt.vault, pressed.request_id, user.id,
                                          pressed.approve, rt.clock.now())
    request = decision.request
    if decision.outcome == DecisionOutcome.UNKNOWN or request is None:
        await answer(query, _("This request no longer exists."), show_alert=True)
        return
    if decision.outcome == DecisionOutcome.NOT_ALLOWED:
        await answer(query, _("Only the officers of this area and the district admins can "
                              "decide this."), show_alert=True)
        return
    await answer(query)
    name, village = escape(request.name), escape(decision.village)
    if request.status == enrolment.CANCELLED:
        text = _("The request of {name} for PAPTBM {village} is no longer open: they left the "
                 "group, were enrolled another way, or the group no longer receives alerts.")
    elif decision.outcome == DecisionOutcome.ALREADY_DECIDED:
        word = _("approved") if request.status == APPROVED else _("refused")
        text = _("The request of {name} for PAPTBM {village} was already {decision} by "
                 "{by}.").format(name=name, village=village, decision=word,
                                 by=escape(request.decided_by or "?"))
    elif request.status == APPROVED:
        await menus.refresh(context.bot, rt.sessions, request.user_id)  # their menu, at once
        text = "✅ " + _("Approved: {name} is now a member of PAPTBM {village} and can read the "
                        "details of its cases in private.")
    else:
        text = "✖️ " + _("Refused: {name} was not enrolled in PAPTBM {village}. They have been "
                        "told.")
    await replace_or_reply(update, text.format(name=name, village=village))


# ---- /undang and the invitation link ----

async def invite(update: Update, context: BotContext) -> None:
    """/undang: choose a role and a region; the bot answers with a one-time link."""
    _ = translator(await language_of(update, context))
    if await admin_or_refuse(update, context, _) is None:
        return
    async with context.runtime.sessions() as session:
        regions = await service.invitable_regions(session)
    rows = []
    for region in regions:
        if region.level == "kabupaten":
            rows.append([InlineKeyboardButton("⭐ " + _("Admin · Kabupaten {name}").format(
                name=region.name), callback_data=InvitePress("a", region.code).pack())])
            rows.append([InlineKeyboardButton(_("Officer · Kabupaten {name}").format(
                name=region.name), callback_data=InvitePress("o", region.code).pack())])
        else:
            rows.append([InlineKeyboardButton(_("Officer · Kecamatan {name}").format(
                name=region.name), callback_data=InvitePress("o", region.code).pack())])
    await reply(update, _("Whom do you want to invite? The link you get works once, for one "
                          "person."), InlineKeyboardMarkup(rows))


async def on_invite_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    language = await language_of(update, context)
    _ = translator(language)
    pressed = await pressed_as(query, InvitePress, _)
    if pressed is None:
        return
    by = await admin_or_refuse(update, context, _)
    if by is None:
        return
    rt = context.runtime
    role = ADMIN_ROLE if pressed.role == "a" else OFFICER_ROLE
    try:
        async with rt.sessions.begin() as session:
            current = await service.admin(session, by.chat_id)
            if current is None:
                raise OnboardingError(Refusal.NOT_ADMIN)
            token, invitation = await service.create_invitation(
                session, current, role, pressed.region_code, rt.clock.now(),
                rt.settings.onboarding.invite_expire_hours)
            region = await service.region_name(session, invitation.region_code)
    except OnboardingError:
        await answer(query, _("That invitation cannot be made."), show_alert=True)
        return
    await answer(query)
    link = f"https://t.me/{context.bot.username}?start={token}"
    expires = invitation.expires_at.astimezone(rt.settings.tz)
    await replace_or_reply(update, "\n".join([
        "🔗 " + _("Invitation for {role} of {region}:").format(
            role=service.role_name(role, language), region=escape(region)),
        f"<code>{link}</code>",
        "",
        _("Send it to that person privately, never in a group. It works once, until {day} "
          "{time} WITA; opening it registers them.").format(
            day=l10n.day(expires, language), time=expires.strftime("%H:%M")),
    ]))


async def start_from_invitation(update: Update, context: BotContext) -> None:
    """/start inv_...: the invited officer opened the link."""
    user = update.effective_user
    if user is None:
        return
    language = await language_of(update, context)
    _ = translator(language)
    rt = context.runtime
    payload = (context.args or [""])[0]
    try:
        async with rt.sessions.begin() as session:
            accepted = await service.accept_invitation(
                session, rt.vault, payload, user.id, user.full_name, rt.clock.now())
            invitation = accepted.invitation
            region = await service.region_name(session, invitation.region_code)
    except OnboardingError as exc:
        texts = {
            "invite_group_gone": _("This invitation is for a village group that no longer "
                                   "receives alerts. Ask the admin for a new one."),
            "invite_used": _("This invitation link was already used. Ask the admin for a new "
                             "one."),
            "invite_expired": _("This invitation link has expired. Ask the admin for a new one."),
            "already_admin": _("You are already an admin, so this link was not used: it can "
                               "still register the person it was made for."),
        }
        await reply(update, texts.get(exc.reason, _("This invitation link is not valid. Ask the "
                                                    "admin for a new one.")))
        return
    if accepted.group is not None:
        await menus.refresh(context.bot, rt.sessions, user.id)  # the activist's menu, at once
        await reply(update, "✅ " + _(
            "Welcome. You are now a member of PAPTBM {village}. When a report from {village} "
            "arrives in the village's group, press Details under it: the full report comes here, "
            "in private, as long as you are in that group. Never discuss a case's details in the "
            "group.").format(village=escape(region)))
        return
    officer = accepted.officer
    assert officer is not None
    await refresh_menu(context, officer)
    lines = ["✅ " + _("Welcome, {name}. You are registered as {role} for {region}.").format(
        name=escape(officer.name), role=service.role_name(invitation.role, language),
        region=escape(region)),
        _("You will receive alerts and case details for your area here. /statistik shows the "
          "figures.")]
    if officer.is_admin:
        lines.append(_("As an admin: /undang invites officers, /petugas and /grup manage them, "
                       "/ekspor exports the year's cases."))
    await reply(update, "\n".join(lines))


async def in_private_only(update: Update, context: BotContext) -> None:
    """An officer's command sent in a group: nothing is shown there."""
    _ = translator(GROUP_LANGUAGE)
    await reply(update, _("Please use this command in a private chat with me."))


async def in_groups_only(update: Update, context: BotContext) -> None:
    """/daftar or /gabung sent in a private chat."""
    _ = translator(await language_of(update, context))
    await reply(update, _("Send this command in your village's group chat, after adding me to "
                          "the group."))
