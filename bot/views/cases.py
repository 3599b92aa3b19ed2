"""How case handling looks: the case card, the case list, the history, and the relay messages.

Readable on a phone: the card fits one screen, the common next step is one tap, references are
commands that can be tapped (``/kasus_PSR_26_K7Q3XM``). Officers read their own language (the
relay messages queued for them read Indonesian, as alerts do); the reporter reads theirs and never
an officer's name or account, nor a stage name: only the gentle public words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import CaseListPress, CasePress, NewsPress, RecordPress
from bot.config import Settings
from bot.domain import access, form, simfoni, workflow
from bot.domain.references import case_command
from bot.i18n import N_, Translate, translator
from bot.regions import RegionDirectory
from bot.services import relay as relay_service
from bot.services.case_access import Actor
from bot.services.cases import Card, CaseList, History, reads_event
from bot.views import record as record_view
from bot.views import services as services_view
from bot.views.access import only_for
from bot.views.alerts import (
    CAPTION_LIMIT,
    EVIDENCE_METHODS,
    NORMAL_PRIORITY,
    PRIORITIES,
    RESPONDER_LANGUAGE,
    TEXT_LIMIT,
    TIER_NAMES,
    clock_time,
    local_time,
)
from bot.views.report import option_label
from models import Case, CaseEvent

HISTORY_BUDGET = 3500  # characters of history on one page (Telegram takes 4096)

UNREACHABLE: dict[str, str] = {
    relay_service.NO_CONTACT: N_("The reporter asked not to be contacted: no message of any kind "
                                 "is sent to them."),
    relay_service.BLOCKED: N_("The reporter has blocked the bot: nothing can be sent to them "
                              "until they write to it again."),
    relay_service.WITHDRAWN: N_("The reporter withdrew their consent: the bot can no longer reach "
                                "them."),
    relay_service.UNLINKED: N_("The link to the reporter was removed after the case was closed: "
                               "the bot can no longer reach them."),
}
FILTER_LABELS = {"open": N_("Open"), "mine": N_("Mine")}
MEDIA_WORDS = {"photo": N_("a photo"), "voice": N_("a voice message"), "video": N_("a video"),
               "document": N_("a file"), "audio": N_("an audio file"),
               "video_note": N_("a video message")}


def html(text: str, markup: InlineKeyboardMarkup | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"text": text, "parse_mode": "HTML",
                              "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return params


def escaped_parts(text: str, limit: int) -> list[str]:
    """``text`` escaped for HTML, in pieces of at most ``limit`` characters, cut at line breaks
    where possible and never inside an escaped character."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines(keepends=True):
        for run in (line,) if len(escape(line, quote=False)) <= limit else tuple(line):
            piece = escape(run, quote=False)
            if current and size + len(piece) > limit:
                parts.append("".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece)
    if current:
        parts.append("".join(current))
    return [part.strip("\n") for part in parts if part.strip()] or [""]


def priority_line(case: Case, _: Translate) -> str:
    icon, label = PRIORITIES.get(case.priority, NORMAL_PRIORITY)
    return f"{icon} {_(label)}"


def types_text(case: Case, _: Translate) -> str:
    return ", ".join(option_label(form.TYPES, t, {}, _) for t in case.violence_types or []) \
        or option_label(form.TYPES, form.UNKNOWN, {}, _)


def victim_text(case: Case, _: Translate) -> str:
    answers = {form.VICTIM_CATEGORY: case.victim_category}
    return ", ".join(dict.fromkeys((  # "not known yet" once
        option_label(form.VICTIM_CATEGORY, case.victim_category, answers, _),
        option_label(form.VICTIM_AGE, case.victim_age_band, answers, _))))


def status_line(case: Case, _: Translate) -> str:
    text = _("Status: {stage}").format(stage="<b>" + workflow.stage_name(case.status, _) + "</b>")
    if case.status == workflow.DIRUJUK and case.referral:
        text += " · " + _("to {target}").format(
            target=_(workflow.REFERRAL_TARGETS.get(case.referral, case.referral)))
    if case.status == workflow.DITUTUP and case.close_reason:
        text += " · " + _(workflow.CLOSE_REASONS.get(case.close_reason, case.close_reason))
    return text


def contact_line(case: Case, unreachable: str | None, _: Translate) -> str:
    if unreachable is not None:
        return "🔕 " + _(UNREACHABLE[unreachable])
    when = option_label(form.SAFE_TIME, case.contact_time or "any", {}, _)
    return "💬 " + _("The reporter may be contacted through the bot; safe time: {when}.").format(
        when=when)


# ---- the case card ------------------------------------------------------------------------------

def card_text(card: Card, settings: Settings, _: Translate) -> str:
    case = card.case
    lines = ["📂 <b>" + _("Report {reference}").format(reference=case.reference) + "</b>",
             priority_line(case, _)]
    if case.practice:
        lines[0] += " · 🧪 " + _("PRACTICE")
    lines.append(status_line(case, _))
    if case.handler_name:
        lines.append("🙋 " + _("Handled by {name}").format(name=escape(case.handler_name)))
    elif case.acknowledged_by:
        lines.append("🙋 " + _("Handled by {name}").format(name=escape(case.acknowledged_by)))
    else:
        lines.append("⏳ " + _("Nobody has taken this case yet."))
    lines += [
        _("Type: {types}").format(types=types_text(case, _)),
        _("Victim: {victim}").format(victim=victim_text(case, _)),
        _("Where: {village}, Kec. {kecamatan}").format(village=escape(card.village),
                                                       kecamatan=escape(card.kecamatan))
        if case.village_code != case.kecamatan_code else  # sent at once: no village yet
        _("Where: {place}").format(place=escape(card.village) + " (" + option_label(
            form.VILLAGE, form.UNKNOWN, {}, _) + ")"),
        _("Reported: {time}").format(time=local_time(case.created_at, settings)),
        contact_or_channel(card, _),
    ]
    lines += record_lines(card, _)
    if form.SEXUAL in (case.violence_types or []):
        lines.append("⚖️ " + _("UU TPKS: no settlement outside the justice process."))
    if card.too_big:
        lines.append(_("📎 {count} file(s) too big for the bot to download: kept only in "
                       "Telegram.").format(count=card.too_big))
    lines += services_view.card_lines(card, settings, _)  # police deadline, shelter, services
    lines.append(_("📝 {notes} note(s) · 💬 {messages} message(s) · history: {command}").format(
        notes=card.notes, messages=card.messages,
        command=case_command(case.reference, "riwayat")))
    return "\n".join(lines)


def card_keyboard(card: Card, _: Translate) -> InlineKeyboardMarkup:
    case, actor = card.case, card.actor
    status = case.status

    def button(label: str, action: str, value: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CasePress(case.public_id, action, value,
                                                                   status).pack())

    rows: list[list[InlineKeyboardButton]] = []
    if status == workflow.BARU:
        if card.may(access.TAKE):
            rows.append([button("✅ " + _("Take the case"), "take")])
    elif workflow.is_closed(status):
        if card.may(access.STATUS):
            rows.append([button("🔓 " + _("Reopen"), "set", workflow.DITERIMA)])
    else:
        following = workflow.NEXT_STEP.get(status)
        row = []
        if following is not None and card.may(access.STATUS):
            row.append(button("➡️ " + workflow.stage_name(following, _), "set", following))
        if card.may(access.STATUS):
            row.append(button("🔀 " + _("Change status"), "menu"))
        if row:
            rows.append(row)
    row = []
    if card.may(access.NOTE):
        row.append(button("📝 " + _("Add note"), "note"))
    if card.may(access.REPLY) and card.unreachable is None:
        row.append(button("💬 " + _("Reply to reporter"), "reply"))
    if row:
        rows.append(row)
    row = []
    if card.may(access.DETAILS):
        row.append(button("📋 " + _("Details"), "detail"))
    if card.may(access.HISTORY):
        row.append(button("🕘 " + _("History"), "history", "0"))
    if row:
        rows.append(row)
    row = []
    if not workflow.is_closed(status):
        if case.acknowledged_at is not None and case.handler_user_id != actor.user_id \
                and card.may(access.TAKE):
            row.append(button("🙋 " + _("Take over"), "take"))
        if card.may(access.HELP):
            row.append(button("🆘 " + _("Ask the next tier"), "help"))
    if row:
        rows.append(row)
    rows += record_buttons(card, _)
    services_button = services_view.card_button(card, _)  # services and referrals
    if services_button is not None:
        rows.append([services_button])
    return InlineKeyboardMarkup(rows)


# ---- the card: how the case came in, and its SIMFONI-PPA record ("Lengkapi data") -------------

def contact_or_channel(card: Card, _: Translate) -> str:
    """A case an officer recorded (/kasus_baru) has no reporter in the bot: how it came in."""
    case = card.case
    if case.channel and case.channel != simfoni.BOT_CHANNEL and case.reporter_id is None \
            and case.import_batch is None:
        line = "🗂 " + _("Came in: {channel} (recorded by an officer; nobody to write to in the "
                        "bot).").format(channel=option_label(form.CHANNEL, case.channel, {}, _))
        if case.phone and card.actor.reads(access.PHONE):
            line += "\n📞 " + _("Contact for the victim: {phone}").format(phone=escape(case.phone))
        return line
    return contact_line(case, card.unreachable, _)


def record_lines(card: Card, _: Translate) -> list[str]:
    if card.record_mark is None:
        return []
    return ["🧾 " + record_view.mark(*card.record_mark, _)]


def record_buttons(card: Card, _: Translate) -> list[list[InlineKeyboardButton]]:
    if not card.may(access.RECORD):
        return []
    return [[InlineKeyboardButton("🧾 " + _("Complete data"), callback_data=RecordPress(
        card.case.public_id).pack())]]


def status_menu(card: Card, submenu: str, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """The moves this person may make from the case's status, and the referral and closing
    choices behind "Dirujuk" and "Ditutup"."""
    case = card.case
    status = case.status

    def button(label: str, action: str, value: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CasePress(case.public_id, action, value,
                                                                   status).pack())

    rows: list[list[InlineKeyboardButton]] = []
    if submenu == "refer":
        text = _("Report {reference}: referred to which service?").format(
            reference=case.reference)
        rows = [[button(_(label), "refer", target)]
                for target, label in workflow.REFERRAL_TARGETS.items()]
        back = button("« " + _("Back"), "menu")
    elif submenu == "close":
        text = _("Report {reference}: why is it closed? The reporter is told, gently, that it "
                 "is closed.").format(reference=case.reference)
        rows = [[button(_(label), "close", reason)]
                for reason, label in workflow.CLOSE_REASONS.items()]
        back = button("« " + _("Back"), "menu")
    else:
        text = _("Report {reference} is at {stage}. Move it to:").format(
            reference=case.reference, stage="<b>" + workflow.stage_name(status, _) + "</b>")
        for target in workflow.allowed_targets(status):
            label = workflow.stage_name(target, _)
            if target == workflow.DIRUJUK:
                rows.append([button(label + " …", "menu", "refer")])
            elif target == workflow.DITUTUP:
                if card.may(access.CLOSE):
                    rows.append([button(label + " …", "menu", "close")])
            elif workflow.is_reopen(status, target):
                rows.append([button("🔓 " + _("Reopen"), "set", target)])
            elif not (status == workflow.BARU and target == workflow.DITERIMA):
                rows.append([button(label, "set", target)])
        back = button("« " + _("Back to the case"), "card")
    rows.append([back])
    return text, InlineKeyboardMarkup(rows)


def help_menu(card: Card, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """"Minta bantuan": why? The next tier's alert says it."""
    case = card.case

    def button(label: str, action: str, value: str = "") -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CasePress(case.public_id, action, value,
                                                                   case.status).pack())

    text = "🆘 " + _("Report {reference}: why do you ask the next tier for help? They will see "
                    "the reason.").format(reference=case.reference)
    rows = [[button(_(label), "help", reason)] for reason, label in workflow.HELP_REASONS.items()]
    rows.append([button("« " + _("Back to the case"), "card")])
    return text, InlineKeyboardMarkup(rows)


# ---- the case list ------------------------------------------------------------------------------

def list_text(found: CaseList, settings: Settings, _: Translate) -> str:
    if found.status in FILTER_LABELS:
        title = _(FILTER_LABELS[found.status])
    else:
        title = workflow.stage_name(found.status, _)
    head = "📂 <b>" + _("Cases: {filter}").format(filter=title) + "</b>"
    if found.kecamatan:
        head += " · " + _("Kec. {name}").format(
            name=escape(found.place_names.get(found.kecamatan, found.kecamatan)))
    head += f" ({found.total})"
    lines = [head]
    if not found.cases:
        lines.append(_("No cases here."))
    for case in found.cases:
        icon = PRIORITIES.get(case.priority, NORMAL_PRIORITY)[0]
        local = case.created_at.astimezone(settings.tz)
        village = escape(found.place_names.get(case.village_code, case.village_code))
        lines.append(f"{icon} {case_command(case.reference)}\n    "
                     f"{workflow.stage_name(case.status, _)} · {village} · "
                     f"{format_datetime(local, 'd MMM HH.mm', locale=RESPONDER_LANGUAGE)}")
        if case.id in found.record_marks:  # "Lengkapi data": how complete the record is
            lines[-1] += " · 🧾 " + record_view.mark(*found.record_marks[case.id], _)
    if found.pages > 1:
        lines.append(_("Page {page} of {pages}").format(page=found.page + 1, pages=found.pages))
    lines.append("<i>" + _("Tap a reference to open the case.") + "</i>")
    return "\n".join(lines)


def list_keyboard(found: CaseList, _: Translate) -> InlineKeyboardMarkup:
    def press(status: str, kecamatan: str, page: int = 0) -> str:
        return CaseListPress(status, kecamatan, page).pack()

    filters = ["open", "mine", *workflow.STATUSES]
    buttons = []
    for value in filters:
        label = _(FILTER_LABELS[value]) if value in FILTER_LABELS \
            else workflow.stage_name(value, _)
        if value == found.status:
            label = "• " + label
        buttons.append(InlineKeyboardButton(label, callback_data=press(value, found.kecamatan)))
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    if found.area.kecamatan_choice:
        label = "📍 " + (_("All kecamatan") if found.kecamatan else _("Kecamatan…"))
        rows.append([InlineKeyboardButton(label, callback_data=press(
            found.status, "" if found.kecamatan else "*"))])
    if found.pages > 1:
        nav = []
        if found.page > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=press(
                found.status, found.kecamatan, found.page - 1)))
        nav.append(InlineKeyboardButton(f"{found.page + 1}/{found.pages}", callback_data=press(
            found.status, found.kecamatan, found.page)))
        if found.page < found.pages - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=press(
                found.status, found.kecamatan, found.page + 1)))
        rows.append(nav)
    return InlineKeyboardMarkup(rows)


def kecamatan_picker(status: str, regions: RegionDirectory,
                     _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    places = regions.kecamatan()
    rows = [[InlineKeyboardButton(p.name, callback_data=CaseListPress(status, p.code).pack())
             for p in places[i:i + 2]] for i in range(0, len(places), 2)]
    rows.append([InlineKeyboardButton(_("All kecamatan"),
                                      callback_data=CaseListPress(status, "").pack())])
    return _("Which kecamatan?"), InlineKeyboardMarkup(rows)


# ---- the history --------------------------------------------------------------------------------

def _actor(event: CaseEvent, _: Translate) -> str:
    if event.actor == "system":
        return _("System")
    if event.actor == "reporter":
        return _("Reporter")
    if event.actor_name:
        return escape(event.actor_name)
    return _("Someone without access")


def _tier(value: Any, _: Translate) -> str:
    return _(TIER_NAMES.get(str(value), TIER_NAMES["kabupaten"])) if value else "–"


def _stage(value: Any, _: Translate) -> str:
    return workflow.stage_name(str(value), _) if value else "–"


# An event's label in the history (HTML); the text it carries is shown below it.
EventLine = Callable[[CaseEvent, Translate, Settings], str]


def _status_changed(event: CaseEvent, _: Translate, settings: Settings) -> str:
    detail = event.detail or {}
    text = "🔀 " + _("{who}: {before} → {after}").format(
        who=_actor(event, _), before=_stage(detail.get("from"), _),
        after=_stage(detail.get("to"), _))
    if detail.get("referral"):
        text += " (" + _(workflow.REFERRAL_TARGETS.get(detail["referral"], "?")) + ")"
    if detail.get("reason"):
        text += " (" + _(workflow.CLOSE_REASONS.get(detail["reason"], "?")) + ")"
    if detail.get("reporter_told") == "yes":
        text += " · " + _("reporter told")
    return text


def _relay_out(event: CaseEvent, _: Translate, settings: Settings) -> str:
    detail = event.detail or {}
    text = "💬 " + _("{who} to the reporter:").format(who=_actor(event, _))
    if detail.get("due"):
        due = datetime.fromisoformat(str(detail["due"]))
        text += " " + _("(waits for the safe time, {time})").format(time=clock_time(due, settings))
    return text


def _relay_in(event: CaseEvent, _: Translate, settings: Settings) -> str:
    media = (event.detail or {}).get("media")
    text = "💬 " + _("Reporter:")
    if media:
        text += " [" + _(MEDIA_WORDS.get(str(media), MEDIA_WORDS["document"])) + "]"
    return text


def _correction(event: CaseEvent, _: Translate, settings: Settings) -> str:
    return "✏️ " + _("Reporter asked for a correction:")


def _violence_types(event: CaseEvent, _: Translate, settings: Settings) -> str:
    """"Lengkapi data" changed the case's forms of violence (the report's and the victims')."""
    forms = [str(t) for t in (event.detail or {}).get("to") or []]
    return "🧾 " + _("Forms of violence of the case: {forms}").format(
        forms=", ".join(option_label(form.TYPES, t, {}, _) for t in forms) or "–")


def _police_deadline_set(event: CaseEvent, _: Translate, settings: Settings) -> str:
    deadline = datetime.fromisoformat(str((event.detail or {}).get("deadline")))
    return "⚖️ " + _("Sexual violence or trafficking recorded by {who}: the police deadline "
                     "(UU TPKS) is {deadline}").format(who=_actor(event, _),
                                                      deadline=local_time(deadline, settings))


def _note(event: CaseEvent, _: Translate, settings: Settings) -> str:
    if (event.detail or {}).get("team"):
        return "📝 " + _("Note by {who}, for the village team too:").format(who=_actor(event, _))
    return "📝 " + _("Note by {who}, for officers:").format(who=_actor(event, _))


def _help_requested(event: CaseEvent, _: Translate, settings: Settings) -> str:
    detail = event.detail or {}
    text = "🆘 " + _("{who} asked the next tier for help").format(who=_actor(event, _))
    if detail.get("reason") in workflow.HELP_REASONS:
        text += " (" + _(workflow.HELP_REASONS[str(detail["reason"])]) + ")"
    return text


def _viewed(event: CaseEvent, _: Translate, settings: Settings) -> str:
    if (event.detail or {}).get("via") == "history":
        return "👁 " + _("{who} read the history").format(who=_actor(event, _))
    return "👁 " + _("{who} viewed the details").format(who=_actor(event, _))


def _simple(icon: str, message: str) -> EventLine:
    def line(event: CaseEvent, _: Translate, settings: Settings) -> str:
        detail = event.detail or {}
        return icon + " " + _(message).format(
            who=_actor(event, _), tier=_tier(detail.get("tier") or detail.get("to"), _),
            action=escape(str(detail.get("action", "?"))))
    return line


EVENT_LINES: dict[str, EventLine] = {
    "submitted": _simple("📨", N_("Report sent by the reporter")),
    "routed": _simple("📣", N_("Alert sent to {tier}")),
    "practice_routed": _simple("🧪", N_("Practice report sent to the training chat")),
    "unrouted": _simple("⚠️", N_("Nobody is registered to receive this report yet")),
    "escalated": _simple("⬆️", N_("Passed up to {tier}")),
    "rerouted": _simple("↪️", N_("Passed to {tier}: the chat that had it is gone")),
    "reminded": _simple("⏰", N_("Reminder sent: nobody had taken it")),
    "police_reminder": _simple("⚖️", N_("Reminder: the police deadline (UU TPKS) is near")),
    "acknowledged": _simple("✅", N_("Taken by {who}")),
    "taken": _simple("🙋", N_("Taken over by {who}")),
    "help_requested": _help_requested,
    "refused": _simple("⛔", N_("{who} was refused ({action})")),
    "status_changed": _status_changed,
    "note": _note,
    "relay_out": _relay_out,
    "relay_in": _relay_in,
    "correction": _correction,
    "relay_read": _simple("👀", N_("The reporter's message was read")),
    "viewed": _viewed,
    "note_shared": _simple("👥", N_("{who} shared a note with the village team")),
    "consent_withdrawn": _simple("🔒", N_("The reporter withdrew consent: the story, landmark, "
                                         "phone, files and messages were deleted")),
    "retention": _simple("🗄", N_("Retention period over: the story, landmark, phone, files and "
                                 "messages were deleted, and the link to the reporter")),
    "reporter_blocked": _simple("🔕", N_("The reporter blocked the bot; nothing more is sent to "
                                        "them")),
    "sent_at_once": _simple("🆘", N_("Sent at once by a reporter in danger, before the report "
                                    "was finished")),
    "exported": _simple("📤", N_("Included in an export by {who}")),
    "recorded": _simple("🗂", N_("Recorded by {who}, for a case that came another way")),
    "record_edited": lambda event, _, settings: _record_edited(event, _),
    "record_added": lambda event, _, settings: "🧾 " + _("{who} added {target}").format(
        who=_actor(event, _), target=record_view.target_name(
            str((event.detail or {}).get("target", "v1")), _)),
    "violence_types": _violence_types,
    "police_deadline_set": _police_deadline_set,
    **services_view.EVENT_LINES,  # services, consent, deadline alarms and follow-ups
}


def _record_edited(event: CaseEvent, _: Translate) -> str:
    """"Lengkapi data": who set which field, from what to what (both writes of two officers
    at once are here)."""
    detail = event.detail or {}
    target, name = str(detail.get("target", "c")), str(detail.get("field", "place"))
    try:
        label = record_view.field_name(name, _)
        before = record_view.shown(target, name, detail.get("from"), _)
        after = record_view.shown(target, name, detail.get("to"), _)
    except (KeyError, ValueError):
        return "🧾 " + _(OTHER_EVENT).format(who=_actor(event, _))
    return "🧾 " + _("{who}: {target}, {field}: {before} → {after}").format(
        who=_actor(event, _), target=record_view.target_name(target, _), field=label,
        before=escape(before), after=escape(after))
# A kind of event this version does not describe (one written by a newer version): said in plain
# words, never by its internal name.
OTHER_EVENT = N_("{who}: another change to the case")
CARRIES_TEXT = {"note", "relay_out", "relay_in", "correction"}


def event_entries(event: CaseEvent, settings: Settings, _: Translate,
                  reader: Actor | None = None) -> list[str]:
    """One event as history entries: its line, then the text it carries (in parts if long), if
    this reader reads it (``bot/domain/access.py``); else who does."""
    render = EVENT_LINES.get(event.kind)
    label = render(event, _, settings) if render \
        else "• " + _(OTHER_EVENT).format(who=_actor(event, _))
    local = event.at.astimezone(settings.tz)
    entries = [f"<code>{local:%H.%M}</code> {label}"]
    if reader is not None and not reads_event(reader, event):
        item = access.NOTES if event.kind == "note" else access.MESSAGES
        return [entries[0] + " <i>🔒 " + only_for(item, _) + "</i>"]
    if event.kind in CARRIES_TEXT and (event.secret or event.kind != "relay_in"):
        if event.secret is None and event.kind != "note":  # erased (withdrawal, retention)
            entries.append("<blockquote>" + _("(deleted)") + "</blockquote>")
        else:
            entries += [f"<blockquote>{part}</blockquote>"
                        for part in escaped_parts(event.secret or "–", HISTORY_BUDGET - 100)]
    return entries


def history_pages(history: History, settings: Settings, _: Translate) -> list[str]:
    """The timeline as pages that each fit one message: days as headings, times in WITA."""
    case = history.case
    head = "🕘 <b>" + _("History of {reference}").format(reference=case.reference) + "</b>"
    entries: list[str] = []
    day = None
    for event in history.events:
        local = event.at.astimezone(settings.tz)
        if local.date() != day:
            day = local.date()
            entries.append("<b>" + format_datetime(local, "EEEE, d MMMM yyyy",
                                                   locale=RESPONDER_LANGUAGE) + "</b>")
        entries += event_entries(event, settings, _, history.reader)
    pages: list[list[str]] = [[]]
    size = 0
    for entry in entries:
        if pages[-1] and size + len(entry) > HISTORY_BUDGET:
            pages.append([])
            size = 0
        pages[-1].append(entry)
        size += len(entry) + 1
    zone = case.created_at.astimezone(settings.tz).tzname() or ""
    total = len(pages)
    return [head + (f" · {number}/{total}" if total > 1 else "") + "\n" + "\n".join(page)
            + "\n\n<i>" + _("Times in {zone}.").format(zone=zone) + "</i>"
            for number, page in enumerate(pages, start=1)]


def history_keyboard(case: Case, page: int, pages: int, _: Translate) -> InlineKeyboardMarkup:
    def button(label: str, target: int) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=CasePress(case.public_id, "history",
                                                                   str(target)).pack())

    nav = []
    if page > 0:
        nav.append(button("◀", page - 1))
    if pages > 1:
        nav.append(button(f"{page + 1}/{pages}", page))
    if page < pages - 1:
        nav.append(button("▶", page + 1))
    rows = [nav] if nav else []
    rows.append([InlineKeyboardButton("📂 " + _("Open the case"), callback_data=CasePress(
        case.public_id, "card").pack())])
    return InlineKeyboardMarkup(rows)


# ---- relay messages (queued in the outbox) ------------------------------------------------------

class CaseView:
    """``bot.services.relay.RelayViews`` for Telegram."""

    def __init__(self, settings: Settings, regions: RegionDirectory) -> None:
        self.settings = settings
        self.regions = regions

    def signature(self, village: str | None, _: Translate) -> str:
        return signature(village, self.regions, _)

    def card_buttons(self, card: Card) -> dict[str, Any]:
        """The case card's buttons, under the details (which are written in the responders'
        language)."""
        return card_keyboard(card, translator(RESPONDER_LANGUAGE)).to_dict()

    def to_reporter(self, case: Case, language: str, text: str,
                    village: str | None) -> dict[str, Any]:
        _ = translator(language)
        body = "💬 <b>" + self.signature(village, _) + "</b> · " + _(
            "about your report <code>{reference}</code>:").format(reference=case.reference)
        body += "\n\n" + escape(text, quote=False) + "\n\n<i>" + _(
            "To answer, reply to this message (swipe it left), or send <code>/tambah "
            "{reference} your message</code>.").format(reference=case.reference) + "</i>"
        return html(body)

    def status_news(self, case: Case, language: str) -> dict[str, Any]:
        _ = translator(language)
        lines = ["ℹ️ " + _("News about your report <code>{reference}</code>: {words}.").format(
            reference=case.reference, words="<b>" + workflow.public_words(case.status, _)
            + "</b>")]
        if case.status == workflow.SELESAI:
            lines.append(_("Thank you for reporting. If you need help again, send /lapor."))
        elif case.status == workflow.DITUTUP:
            lines.append(_("If you still need help, reply to this message or send /lapor."))
        else:
            lines.append(_("You can reply to this message to tell the officers something."))
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            "🔕 " + _("No more status news"), callback_data=NewsPress(False).pack())]])
        return html("\n".join(lines), markup)

    def read_receipt(self, case: Case, language: str) -> dict[str, Any]:
        _ = translator(language)
        return html("👀 " + _("An officer has read your message about report "
                              "<code>{reference}</code>.").format(reference=case.reference))

    def from_reporter(self, case: Case, text: str | None, media: dict[str, Any] | None,
                      blocked: str | None, *,
                      correction: bool = False) -> list[tuple[str, dict[str, Any]]]:
        _ = translator(RESPONDER_LANGUAGE)
        if correction:
            head = ["✏️ <b>" + _("Correction request from the reporter") + "</b> · "
                    + case_command(case.reference),
                    _("The reporter asks to correct what they reported. Check the details and "
                      "keep the correction in a note.")]
        else:
            head = ["💬 <b>" + _("Message from the reporter") + "</b> · " + case_command(
                case.reference)]
        if case.phone:
            head.append(_("Reporter's phone (they chose to share it): {phone}").format(
                phone=escape(case.phone)))
        else:
            head.append(_("The reporter's identity stays hidden."))
        if blocked is not None:
            footer = "🔕 " + _(UNREACHABLE[blocked])
        else:
            footer = "<i>" + _("Reply to this message to answer; the reporter sees it signed "
                               "“Officer”, never your name.") + "</i>"
        buttons = []
        if blocked is None:
            buttons.append(InlineKeyboardButton("💬 " + _("Reply"), callback_data=CasePress(
                case.public_id, "reply").pack()))
        buttons.append(InlineKeyboardButton("📂 " + _("Open the case"), callback_data=CasePress(
            case.public_id, "card").pack()))
        markup = InlineKeyboardMarkup([buttons]).to_dict()
        top, bottom = "\n".join(head), footer
        if media is None:
            body = escaped_parts(text or "–", TEXT_LIMIT - len(top) - len(bottom) - 10)
            texts = [top + "\n\n" + body[0], *body[1:]]
            texts[-1] += "\n\n" + bottom
            messages = [("sendMessage", html(part)) for part in texts]
            messages[-1][1]["reply_markup"] = markup
            return messages
        kind = str(media.get("kind"))
        method = EVIDENCE_METHODS.get(kind, "sendDocument")
        field = kind if kind in EVIDENCE_METHODS else "document"
        params: dict[str, Any] = {field: media["file_id"], "reply_markup": markup}
        caption = top + "\n\n" + (escape(text, quote=False) + "\n\n" if text else "") + bottom
        if method != "sendVideoNote" and len(caption) <= CAPTION_LIMIT:
            return [(method, {**params, "caption": caption, "parse_mode": "HTML"})]
        texts = escaped_parts(text or "", TEXT_LIMIT - len(top) - 10) if text else [""]
        messages = [("sendMessage", html(top + ("\n\n" + texts[0] if texts[0] else "")))]
        messages += [("sendMessage", html(part)) for part in texts[1:]]
        return [*messages, (method, params)]

    def correction(self, case: Case, text: str,
                   blocked: str | None) -> list[tuple[str, dict[str, Any]]]:
        return self.from_reporter(case, text, None, blocked, correction=True)

    def taken_over(self, case: Case, by: str) -> dict[str, Any]:
        _ = translator(RESPONDER_LANGUAGE)
        return html("🙋 " + _("{name} took over report {command}.").format(
            name=escape(by), command=case_command(case.reference)))


def signature(village: str | None, regions: RegionDirectory, _: Translate) -> str:
    """How the reporter sees an officer's message signed: never a name."""
    if village is None:
        return _("Officer")
    place = regions.get(village)
    return _("PAPTBM officer of {village}").format(
        village=escape(place.name if place else village))


def unreachable_text(reason: str | None, _: Translate) -> str:
    return _(UNREACHABLE.get(reason or "", UNREACHABLE[relay_service.UNLINKED]))
