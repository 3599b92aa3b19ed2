"""Officers and village groups, run from an admin's phone: ``/petugas`` and ``/grup`` list them a
page at a time; a tap shows one with buttons to revoke or restore it, make an officer admin (or
not), or move it to another region. Every press is authorised again (``bot.services.onboarding``).
"""

from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.callback_data import StaffPress
from bot.context import BotContext
from bot.i18n import Translate, translator
from bot.services import onboarding as service
from bot.services.onboarding import OnboardingError
from bot.services.responders import active_officer
from handlers.common import answer, language_of, pressed_as, replace_or_reply, reply
from models import Responder
from models.responder import GROUP, OFFICER

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
            "not_admin": _("Only district admins can do this.")}[reason]
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


def error_text(reason: str, _: Translate) -> str:
    return {
        "last_admin": _("There must always be at least one active admin. Make someone else admin "
                        "first."),
        "admin_needs_kabupaten": _("An admin works for the whole kabupaten: move them to the "
                                   "kabupaten first."),
        "unknown_responder": _("That officer or group no longer exists."),
        "bad_region": _("That region cannot be chosen here."),
        "not_admin": _("Only district admins can do this."),
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
    """/grup: the village groups, a page at a time."""
    _ = translator(await language_of(update, context))
    if await admin_or_refuse(update, context, _) is None:
        return
    text, markup = await listing(context, GROUP, 0, _)
    await reply(update, text, markup)


def _kind(kind: str) -> str:
    return "officer" if kind == OFFICER else "group"


def _status(responder: Responder, _: Translate) -> str:
    if not responder.active:
        return "⛔"
    return "⭐" if responder.is_admin else "✅"


async def listing(context: BotContext, kind: str, page: int,
                  _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    async with context.runtime.sessions() as session:
        found = await service.responders_page(session, kind, page)
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
               _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """One officer or group, with what an admin can do to it."""
    rt = context.runtime
    async with rt.sessions() as session:
        item = await session.get(Responder, responder_id)
        if item is None or item.kind != kind:
            raise OnboardingError("unknown_responder")
        region = await service.region_name(session, item.region_code)
        members = len(await service.members_of(session, item.id)) if kind == GROUP else 0
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


async def on_staff_button(update: Update, context: BotContext) -> None:
    """Every button of /petugas and /grup: re-authorised, then done and shown."""
    query = update.callback_query
    assert query is not None
    language = await language_of(update, context)
    _ = translator(language)
    pressed = await pressed_as(query, StaffPress, _)
    if pressed is None:
        return
    by = await admin_or_refuse(update, context, _)
    if by is None:
        return
    kind = OFFICER if pressed.kind == "officer" else GROUP
    try:
        if pressed.action == "list":
            page = int(pressed.value) if pressed.value.isdigit() else 0
            text, markup = await listing(context, kind, page, _)
        elif pressed.action == "region":
            text, markup = await region_picker(context, kind, pressed.responder_id,
                                               pressed.value, _)
        else:
            if pressed.action in ("revoke", "restore", "admin", "move"):
                changed = await change(context, by, kind, pressed)
                await refresh_menu(context, changed)
            text, markup = await card(context, kind, pressed.responder_id, _)
    except OnboardingError as exc:
        await answer(query, error_text(exc.reason, _), show_alert=True)
        return
    await answer(query)
    await replace_or_reply(update, text, markup)


async def change(context: BotContext, by: Responder, kind: str,
                 pressed: StaffPress) -> Responder:
    rt = context.runtime
    now = rt.clock.now()
    async with rt.sessions.begin() as session:
        current = await service.admin(session, by.chat_id)  # still an admin, in this transaction
        if current is None:
            raise OnboardingError("not_admin")
        by = current
        if pressed.action in ("revoke", "restore"):
            return await service.set_active(session, by, pressed.responder_id, kind,
                                            pressed.action == "restore", now)
        if pressed.action == "admin":
            return await service.set_admin(session, by, pressed.responder_id,
                                           pressed.value == "y", now)
        return await service.set_region(session, by, pressed.responder_id, kind, pressed.value,
                                        now)


async def refresh_menu(context: BotContext, responder: Responder) -> None:
    """Command menus follow a role at once (best effort): an officer's own; for a group, its
    enrolled members' (revoked, restored or moved with it)."""
    from bot import menus

    rt = context.runtime
    if responder.kind == OFFICER:
        await menus.refresh(context.bot, rt.sessions, responder.chat_id)
    else:
        await menus.refresh_group(context.bot, rt.sessions, responder.chat_id)
