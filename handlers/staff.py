"""Officers and village groups, run from an admin's phone: ``/petugas`` and ``/grup`` list them a
page at a time; a tap shows one with buttons to revoke or restore it, make an officer admin (or
not), or move it to another region. A group's members: officers of the area and admins list them,
remove one (**Cabut**) and read the group's enrolment history; admins also make a one-time link
that enrols one person. Every press is authorised again (``bot.services.onboarding``,
``bot.services.enrolment``).
"""

from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import l10n, menus
from bot.callback_data import StaffPress
from bot.config import Settings
from bot.context import BotContext
from bot.domain.tiers import tier_of
from bot.i18n import N_, Translate, translator
from bot.services import enrolment
from bot.services import onboarding as service
from bot.services.enrolment import EnrolmentError
from bot.services.onboarding import OnboardingError, Refusal
from bot.services.responders import active_officer
from bot.views.alerts import local_time
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply
from models import EnrolmentEvent, GroupMember, Responder
from models.responder import DESA, GROUP, OFFICER

log = logging.getLogger(__name__)

VILLAGES_PER_PAGE = 10

# ---- who is asking ------------------------------------------------------------------------------

async def current_staff(update: Update, context: BotContext) -> Responder | None:
    """The active officer or admin who sent this update, or None."""
    user = update.effective_user
    if user is None:
        return None
    async with context.runtime.sessions() as session:
        return await active_officer(session, user.id)


async def refuse(update: Update, _: Translate, reason: str) -> None:
    """A polite refusal: a pop-up for a button, a message for a command."""
    text = {"not_staff": _("This command is for registered officers. Ask a district admin for "
                           "an invitation link."),
            "not_admin": _("Only district admins can do this."),
            "not_manager": _("Only district admins and kecamatan officers can do this.")}[reason]
    if update.callback_query is not None:
        await answer(update.callback_query, text, show_alert=True)
        return
    await reply(update, text)


async def admin_or_refuse(update: Update, context: BotContext,
                          _: Translate) -> Responder | None:
    officer = await current_staff(update, context)
    if officer is None or not officer.is_admin:
        await refuse(update, _, "not_admin")
        return None
    return officer


def manages_groups(officer: Responder | None) -> bool:
    """Admins, and kecamatan and kabupaten officers (for the groups of their area)."""
    return officer is not None and (officer.is_admin or
                                    tier_of(officer.region_code) != DESA)


async def group_manager_or_refuse(update: Update, context: BotContext,
                                  _: Translate) -> Responder | None:
    officer = await current_staff(update, context)
    if not manages_groups(officer):
        await refuse(update, _, "not_admin" if officer is None or officer.is_admin
                     else "not_manager")
        return None
    return officer


def error_text(reason: str, _: Translate) -> str:
    return {
        "last_admin": _("There must always be at least one active admin. Make someone else admin "
                        "first."),
        "admin_needs_kabupaten": _("An admin works for the whole kabupaten: move them to the "
                                   "kabupaten first."),
        "unknown_responder": _("That officer or group no longer exists."),
        "bad_region": _("That region cannot be chosen here."),
        "not_admin": _("Only district admins can do this."),
        "not_allowed": _("Only the officers of this area and the district admins can do this."),
        "unknown_member": _("That member no longer exists."),
        "bad_invitation": _("That invitation cannot be made."),
    }.get(reason, _("That could not be done."))


# ---- /petugas and /grup --------------------------------------------------------------------------

async def officers(update: Update, context: BotContext) -> None:
    """/petugas: the officers, a page at a time."""
    _ = translator(await language_of(update, context))
    if await admin_or_refuse(update, context, _) is None:
        return
    text, markup = await listing(context, OFFICER, 0, _)
    await reply(update, text, markup)


async def groups(update: Update, context: BotContext) -> None:
    """/grup: the village groups, a page at a time (an officer: those of their area)."""
    _ = translator(await language_of(update, context))
    by = await group_manager_or_refuse(update, context, _)
    if by is None:
        return
    text, markup = await listing(context, GROUP, 0, _, viewer=by)
    await reply(update, text, markup)


def _within(viewer: Responder | None) -> str | None:
    """The region an officer's lists are limited to (None: everything)."""
    if viewer is None or viewer.is_admin or tier_of(viewer.region_code) == "kabupaten":
        return None
    return viewer.region_code


def _kind(kind: str) -> str:
    return "officer" if kind == OFFICER else "group"


def _status(responder: Responder, _: Translate) -> str:
    if not responder.active:
        return "⛔"
    return "⭐" if responder.is_admin else "✅"


async def listing(context: BotContext, kind: str, page: int,
                  _: Translate, viewer: Responder | None = None
                  ) -> tuple[str, InlineKeyboardMarkup]:
    async with context.runtime.sessions() as session:
        found = await service.responders_page(session, kind, page, _within(viewer))
    title = _("Officers") if kind == OFFICER else _("Village groups")
    lines = [f"<b>{title}</b> ({found.total})"]
    if not found.items:
        lines.append(_("None yet.") + " " + (
            _("Invite officers with /undang.") if kind == OFFICER
            else _("A village group registers itself by sending /daftar in the group.")))
    buttons = []
    for item in found.items:
        region = found.region_names.get(item.region_code, item.region_code)
        lines.append(f"{_status(item, _)} {escape(item.name)} · {escape(region)}")
        buttons.append([InlineKeyboardButton(
            f"{_status(item, _)} {item.name} · {region}"[:60],
            callback_data=StaffPress(_kind(kind), "show", item.id).pack())])
    lines.append("\n<i>" + _("✅ active · ⭐ admin · ⛔ revoked. Tap one to change it.") + "</i>")
    if found.pages > 1:
        nav = []
        if found.page > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=StaffPress(
                _kind(kind), "list", 0, str(found.page - 1)).pack()))
        nav.append(InlineKeyboardButton(f"{found.page + 1}/{found.pages}", callback_data=StaffPress(
            _kind(kind), "list", 0, str(found.page)).pack()))
        if found.page < found.pages - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=StaffPress(
                _kind(kind), "list", 0, str(found.page + 1)).pack()))
        buttons.append(nav)
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def card(context: BotContext, kind: str, responder_id: int,
               _: Translate, viewer: Responder | None = None) -> tuple[str, InlineKeyboardMarkup]:
    """One officer or group, with what the viewer (an admin, or an officer of the group's area)
    can do to it."""
    rt = context.runtime
    async with rt.sessions() as session:
        item = await session.get(Responder, responder_id)
        if item is None or item.kind != kind:
            raise OnboardingError(Refusal.UNKNOWN_RESPONDER)
        if kind == GROUP and not enrolment.may_manage(viewer, item.region_code):
            raise OnboardingError(Refusal.NOT_ALLOWED)
        region = await service.region_name(session, item.region_code)
        members = len(await enrolment.active_members(session, item.id)) if kind == GROUP else 0
    k = _kind(kind)
    lines = [f"<b>{escape(item.name)}</b>", _("Region: {region} ({code})").format(
        region=escape(region), code=item.region_code)]
    if kind == OFFICER:
        lines.append(_("Telegram id: {id}").format(id=item.chat_id))
        lines.append(_("Role: {role}").format(role=_("admin") if item.is_admin else _("officer")))
    else:
        lines.append(_("Chat id: {id}").format(id=item.chat_id))
        lines.append(_("Enrolled members: {count}").format(count=members))
    status = _("active") if item.active else _("revoked")
    if not item.active and item.inactive_reason and item.inactive_reason != "revoked":
        status += f" ({escape(item.inactive_reason)})"
    lines.append(_("Status: {status}").format(status=status))
    rows = []
    if kind == GROUP and tier_of(item.region_code) == DESA:
        rows.append([InlineKeyboardButton("👥 " + _("Members"), callback_data=StaffPress(
            k, "members", item.id, "0").pack()),
            InlineKeyboardButton("🕘 " + _("Members' history"), callback_data=StaffPress(
                k, "mhistory", item.id).pack())])
        if item.active and viewer is not None and viewer.is_admin:
            rows.append([InlineKeyboardButton("🔗 " + _("Invite a member"),
                                              callback_data=StaffPress(k, "minvite",
                                                                       item.id).pack())])
    if viewer is not None and not viewer.is_admin:  # an officer of the area: members only
        rows.append([InlineKeyboardButton(_("« Back to the list"),
                                          callback_data=StaffPress(k, "list", 0, "0").pack())])
        return "\n".join(lines), InlineKeyboardMarkup(rows)
    if item.active:
        rows.append([InlineKeyboardButton("⛔ " + _("Revoke"),
                                          callback_data=StaffPress(k, "revoke", item.id).pack())])
    else:
        rows.append([InlineKeyboardButton("✅ " + _("Restore"),
                                          callback_data=StaffPress(k, "restore", item.id).pack())])
    if kind == OFFICER:
        label = _("Remove admin right") if item.is_admin else _("Make admin")
        rows.append([InlineKeyboardButton("⭐ " + label, callback_data=StaffPress(
            k, "admin", item.id, "n" if item.is_admin else "y").pack())])
        rows.append([InlineKeyboardButton("📍 " + _("Change region"),
                                          callback_data=StaffPress(k, "region", item.id).pack())])
    else:
        rows.append([InlineKeyboardButton("📍 " + _("Move to another village"),
                                          callback_data=StaffPress(k, "region", item.id).pack())])
    rows.append([InlineKeyboardButton(_("« Back to the list"),
                                      callback_data=StaffPress(k, "list", 0, "0").pack())])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def region_picker(context: BotContext, kind: str, responder_id: int,
                        value: str, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """Where to move an officer (kabupaten or a kecamatan) or a group (a village, by kecamatan)."""
    rt = context.runtime
    k = _kind(kind)
    rows: list[list[InlineKeyboardButton]] = []
    if kind == OFFICER:
        async with rt.sessions() as session:
            regions = await service.invitable_regions(session)
        rows = [[InlineKeyboardButton(r.name if r.level != "kabupaten" else
                                      _("Kabupaten {name}").format(name=r.name),
                                      callback_data=StaffPress(k, "move", responder_id,
                                                               r.code).pack())]
                for r in regions]
        text = _("Move this officer to:")
    elif not value:
        places = rt.regions.kecamatan()
        rows = [[InlineKeyboardButton(p.name, callback_data=StaffPress(
            k, "region", responder_id, f"{p.code}:0").pack())] for p in places]
        text = _("Which kecamatan is the village in?")
    else:
        kecamatan, _sep, page_text = value.partition(":")
        villages = rt.regions.villages(kecamatan)
        pages = max(1, -(-len(villages) // VILLAGES_PER_PAGE))
        page = min(max(int(page_text) if page_text.isdigit() else 0, 0), pages - 1)
        shown = villages[page * VILLAGES_PER_PAGE:(page + 1) * VILLAGES_PER_PAGE]
        rows = [[InlineKeyboardButton(p.name, callback_data=StaffPress(
            k, "move", responder_id, p.code).pack()) for p in shown[i:i + 2]]
            for i in range(0, len(shown), 2)]
        if pages > 1:
            rows.append([InlineKeyboardButton(f"{n + 1}", callback_data=StaffPress(
                k, "region", responder_id, f"{kecamatan}:{n}").pack()) for n in range(pages)])
        text = _("Move this group to which village?")
    rows.append([InlineKeyboardButton(_("« Back"), callback_data=StaffPress(
        k, "show", responder_id).pack())])
    return text, InlineKeyboardMarkup(rows)


# What an officer of a group's area may press, besides admins (everything else: admins only).
GROUP_MANAGER_ACTIONS = {"list", "show", "members", "member", "unenrol", "mhistory"}


async def on_staff_button(update: Update, context: BotContext) -> None:
    """Every button of /petugas and /grup: re-authorised, then done and shown."""
    query = update.callback_query
    assert query is not None
    language = await language_of(update, context)
    _ = translator(language)
    private = query.message is not None and query.message.chat.type == "private"
    pressed = await pressed_as(query, StaffPress, _, usable=private)
    if pressed is None:
        return
    kind = OFFICER if pressed.kind == "officer" else GROUP
    if kind == GROUP and pressed.action in GROUP_MANAGER_ACTIONS:
        by = await group_manager_or_refuse(update, context, _)
    else:
        by = await admin_or_refuse(update, context, _)
    if by is None:
        return
    popup = None
    try:
        if pressed.action == "list":
            page = int(pressed.value) if pressed.value.isdigit() else 0
            text, markup = await listing(context, kind, page, _, viewer=by)
        elif pressed.action == "region":
            text, markup = await region_picker(context, kind, pressed.responder_id,
                                               pressed.value, _)
        elif kind == GROUP and pressed.action in ("members", "member", "unenrol", "mhistory",
                                                  "minvite"):
            text, markup, popup = await members_action(context, by, pressed, language, _)
        else:
            if pressed.action in ("revoke", "restore", "admin", "move"):
                changed = await change(context, by, kind, pressed)
                await refresh_menu(context, changed)
            text, markup = await card(context, kind, pressed.responder_id, _, viewer=by)
    except (OnboardingError, EnrolmentError) as exc:
        await answer(query, error_text(exc.reason, _), show_alert=True)
        return
    await answer(query, popup)
    await replace_or_reply(update, text, markup)


# ---- a village group's members -------------------------------------------------------------------

VIA_WORDS = {
    enrolment.VIA_REQUEST: N_("approved request (/gabung)"),
    enrolment.VIA_INVITATION: N_("invitation link"),
    enrolment.VIA_CLI: N_("added by the operator (command line)"),
}
EVENT_WORDS = {
    enrolment.REQUESTED: N_("{name} asked to enrol (/gabung)"),
    enrolment.GRANTED: N_("{name} enrolled ({how}) by {by}"),
    enrolment.REFUSED: N_("{name}: request refused by {by}"),
    enrolment.ENDED: N_("{name}: enrolment ended ({reason}) by {by}"),
}
END_REASONS = {
    enrolment.EndReason.LEFT.value: N_("left the group"),
    enrolment.EndReason.REMOVED.value: N_("withdrawn"),
    enrolment.EndReason.GROUP_ENDED.value: N_("the group no longer receives alerts, or moved "
                                              "village"),
}


def _via(granted_by: str | None, _: Translate) -> str:
    return _(VIA_WORDS.get((granted_by or "").split(":")[0], N_("unknown")))


def _actor(event: EnrolmentEvent, _: Translate) -> str:
    if event.actor_name:
        return escape(event.actor_name)
    return {"cli": _("the operator"), "telegram": _("Telegram")}.get(event.actor, _("the bot"))


async def members_action(context: BotContext, by: Responder, pressed: StaffPress,
                         language: str, _: Translate
                         ) -> tuple[str, InlineKeyboardMarkup, str | None]:
    """The members list, one member's card, Cabut, the enrolment history, an invitation."""
    rt = context.runtime
    group_id = pressed.responder_id
    popup = None
    if pressed.action == "minvite":
        return (*await member_invitation(context, by, group_id, language, _), None)
    if pressed.action == "unenrol" and pressed.value.isdigit():
        async with rt.sessions.begin() as session:  # authorised on the member's own group
            member = await enrolment.remove(session, rt.vault, by.chat_id, int(pressed.value),
                                            rt.clock.now())
        group_id = member.responder_id
        await menus.refresh(context.bot, rt.sessions, member.user_id)  # their menu, at once
        popup = _("Withdrawn: {name} no longer reads this village's cases.").format(
            name=member.name)[:200]
    async with rt.sessions() as session:
        group = await session.get(Responder, group_id)
        if group is None or group.kind != GROUP:
            raise OnboardingError(Refusal.UNKNOWN_RESPONDER)
        current = await active_officer(session, by.chat_id)  # still staff, of this area
        if not enrolment.may_manage(current, group.region_code):
            raise EnrolmentError("not_allowed")
        if pressed.action == "member" and pressed.value.isdigit():
            shown = await session.get(GroupMember, int(pressed.value))
            if shown is None or shown.responder_id != group.id or not shown.active:
                raise EnrolmentError("unknown_member")
            village = await service.region_name(session, group.region_code)
            return (*member_card(shown, village, rt.settings, _), None)
        if pressed.action == "mhistory":
            village = await service.region_name(session, group.region_code)
            events = await enrolment.history(session, group.id)
            return (*history_text(group, village, events, rt.settings, _), None)
        page = int(pressed.value) if pressed.value.isdigit() and pressed.action == "members" \
            else 0
        found = await enrolment.members_page(session, group.id, page)
    return (*members_text(found, rt.settings, _), popup)


def members_text(found: enrolment.MemberPage, settings: Settings,
                 _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    k = "group"
    lines = ["👥 <b>" + _("Members of PAPTBM {village}").format(village=escape(found.village))
             + f"</b> ({found.total})"]
    if not found.members:
        lines.append(_("No enrolled members yet. A member asks with /gabung in the group and an "
                       "officer of the area approves it; an admin can also send an invitation."))
    rows = []
    for member in found.members:
        lines.append(f"• {escape(member.name)}")
        rows.append([InlineKeyboardButton(member.name[:60], callback_data=StaffPress(
            k, "member", found.group.id, str(member.id)).pack())])
    lines.append("\n<i>" + _("Tap a member to see them or to withdraw their access.") + "</i>")
    nav = []
    if found.page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=StaffPress(
            k, "members", found.group.id, str(found.page - 1)).pack()))
    if found.page < found.pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=StaffPress(
            k, "members", found.group.id, str(found.page + 1)).pack()))
    if nav:
        rows.append(nav)
    rows.append([InlineKeyboardButton(_("« Back"), callback_data=StaffPress(
        k, "show", found.group.id).pack())])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def member_card(member: GroupMember, village: str, settings: Settings,
                _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{escape(member.name)}</b>",
             _("Member of PAPTBM {village}").format(village=escape(village)),
             _("Telegram id: {id}").format(id=member.user_id),
             _("Enrolled: {time}, by {how}").format(time=local_time(member.changed_at, settings),
                                                   how=_via(member.granted_by, _)),
             "", _("Withdrawing ends their access to this village's cases at once; they are "
                   "told, and it is recorded.")]
    rows = [[InlineKeyboardButton("⛔ " + _("Revoke"), callback_data=StaffPress(
        "group", "unenrol", member.responder_id, str(member.id)).pack())],
        [InlineKeyboardButton(_("« Back"), callback_data=StaffPress(
            "group", "members", member.responder_id, "0").pack())]]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def history_text(group: Responder, village: str, events: list[EnrolmentEvent],
                 settings: Settings, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    lines = ["🕘 <b>" + _("Members' history of PAPTBM {village}").format(
        village=escape(village)) + "</b>"]
    if not events:
        lines.append(_("Nothing yet."))
    for event in events:
        reason = str(event.detail.get("reason") or "")
        words = _(EVENT_WORDS.get(event.kind, N_("{name}: {kind}"))).format(
            name=escape(event.name), by=_actor(event, _), kind=escape(event.kind),
            how=_via(str(event.detail.get("via") or ""), _),
            reason=_(END_REASONS.get(reason, N_("unknown"))))
        lines.append(f"{local_time(event.at, settings)} · {words}")
    lines.append("\n<i>" + _("The latest {count}, newest first.").format(
        count=enrolment.HISTORY_SIZE) + "</i>")
    rows = [[InlineKeyboardButton(_("« Back"), callback_data=StaffPress(
        "group", "show", group.id).pack())]]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def member_invitation(context: BotContext, by: Responder, group_id: int,
                            language: str, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """An admin's one-time link that enrols one person in this village group."""
    rt = context.runtime
    async with rt.sessions.begin() as session:
        current = await service.admin(session, by.chat_id)
        if current is None:
            raise OnboardingError(Refusal.NOT_ADMIN)
        token, invitation = await service.create_member_invitation(
            session, current, group_id, rt.clock.now(), rt.settings.onboarding.invite_expire_hours)
        village = await service.region_name(session, invitation.region_code)
    link = f"https://t.me/{context.bot.username}?start={token}"
    expires = invitation.expires_at.astimezone(rt.settings.tz)
    text = "\n".join([
        "🔗 " + _("Invitation to become a member of PAPTBM {village}:").format(
            village=escape(village)),
        f"<code>{link}</code>", "",
        _("Send it privately to one person you know to be a PAPTBM activist of {village}, never "
          "in a group. It works once, until {day} {time} WITA. They also need to be in the "
          "village's Telegram group to receive details.").format(
            village=escape(village), day=l10n.day(expires, language),
            time=expires.strftime("%H:%M"))])
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(_("« Back"), callback_data=StaffPress(
        "group", "show", group_id).pack())]])
    return text, markup


async def change(context: BotContext, by: Responder, kind: str,
                 pressed: StaffPress) -> Responder:
    rt = context.runtime
    now = rt.clock.now()
    async with rt.sessions.begin() as session:
        current = await service.admin(session, by.chat_id)  # still an admin, in this transaction
        if current is None:
            raise OnboardingError(Refusal.NOT_ADMIN)
        by = current
        if pressed.action in ("revoke", "restore"):
            return await service.set_active(session, rt.vault, by, pressed.responder_id, kind,
                                            pressed.action == "restore", now)
        if pressed.action == "admin":
            return await service.set_admin(session, by, pressed.responder_id,
                                           pressed.value == "y", now)
        return await service.set_region(session, rt.vault, by, pressed.responder_id, kind,
                                        pressed.value, now)


async def refresh_menu(context: BotContext, responder: Responder) -> None:
    """Command menus follow a role at once (best effort): an officer's own; for a group, its
    enrolled members' (revoked, restored or moved with it)."""
    rt = context.runtime
    if responder.kind == OFFICER:
        await menus.refresh(context.bot, rt.sessions, responder.chat_id)
    else:
        await menus.refresh_group(context.bot, rt.sessions, responder.chat_id)
