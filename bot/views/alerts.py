"""How alerts look: readable in five seconds on a phone, and redacted.

A group alert carries the reference, priority, types, victim category and age band, kecamatan and
village, and the time reported in WITA; never the story, names, media, landmark, phone or anything
that identifies the reporter. The full case goes only to an officer in scope, in private
(``detail``). Responders read Indonesian (``RESPONDER_LANGUAGE``); the reporter reads their own.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from html import escape
from typing import Any

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import AlertPress, BadCallback, parse
from bot.config import Settings
from bot.domain import form
from bot.domain.access import PHONE
from bot.domain.names import clean_name
from bot.domain.tiers import Gone, Taken, Why
from bot.domain.workflow import HELP_REASONS
from bot.i18n import N_, translator
from bot.regions import RegionDirectory
from bot.views.access import readers_text
from bot.views.report import option_label
from models import Case, Evidence, Responder
from models.case import HIGH, URGENT
from models.responder import DESA, GROUP, KABUPATEN_TIER, KECAMATAN_TIER

RESPONDER_LANGUAGE = "id"
TEXT_LIMIT = 4000  # Telegram takes 4096 characters in one message
CAPTION_LIMIT = 1000  # and 1024 in a caption

PRIORITIES = {
    URGENT: ("🔴", N_("URGENT: someone is in danger")),
    HIGH: ("🟠", N_("High priority")),
}
NORMAL_PRIORITY = ("🟢", N_("Normal priority"))
TIER_NAMES = {
    DESA: N_("the village PAPTBM group"),
    KECAMATAN_TIER: N_("the kecamatan officers"),
    KABUPATEN_TIER: N_("the kabupaten (UPTD PPA)"),
}
NOTES: dict[str, str] = {
    Why.ESCALATED: N_("⬆️ Passed up to you: nobody took it in time."),
    Why.HELP: N_("🆘 Passed up to you: the responders below asked for help."),
    Why.REROUTED: N_("↪️ Passed to you: the chat that had it can no longer be reached."),
}
GONE_REASONS: dict[str, str] = {
    Gone.REVOKED: N_("it was revoked by an admin"),
    Gone.NOT_FOUND: N_("Telegram says the chat does not exist"),
    Gone.NO_RIGHTS: N_("the bot is not allowed to send messages there"),
    Gone.NOT_STARTED: N_("the officer has not opened a private chat with the bot (press Start)"),
}
GONE_DEFAULT = N_("the bot was removed from the chat or blocked")
EVIDENCE_METHODS = {"photo": "sendPhoto", "video": "sendVideo", "voice": "sendVoice",
                    "audio": "sendAudio", "document": "sendDocument",
                    "video_note": "sendVideoNote"}


def local_time(moment: datetime, settings: Settings) -> str:
    """``2 Mar 2026 09.00 WITA``: the district's clock and its own words."""
    local = moment.astimezone(settings.tz)
    return f"{format_datetime(local, 'd MMM yyyy HH.mm', locale=RESPONDER_LANGUAGE)} " \
           f"{local.tzname()}"


def clock_time(moment: datetime, settings: Settings) -> str:
    local = moment.astimezone(settings.tz)
    return f"{local:%H.%M} {local.tzname()}"


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a long text at line breaks (or anywhere, if it must) into messages Telegram takes."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        parts.append(text)
    return parts


def _html(text: str, markup: InlineKeyboardMarkup | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"text": text, "parse_mode": "HTML",
                              "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return params


class AlertView:
    """``bot.services.alerts.AlertViews`` for Telegram."""

    def __init__(self, settings: Settings, regions: RegionDirectory,
                 language: str = RESPONDER_LANGUAGE) -> None:
        self.settings = settings
        self.regions = regions
        self.language = language
        self._ = translator(language)

    # ---- pieces --------------------------------------------------------------------------------
    def _place(self, case: Case) -> str:
        _ = self._
        village = self.regions.get(case.village_code)
        kecamatan = self.regions.get(case.kecamatan_code)
        if case.village_code == case.kecamatan_code:  # sent at once, before the village was asked
            return escape(village.name if village else case.village_code) + " (" + option_label(
                form.VILLAGE, form.UNKNOWN, {}, _) + ")"
        return _("{village}, Kec. {kecamatan}").format(
            village=escape(village.name if village else case.village_code),
            kecamatan=escape(kecamatan.name if kecamatan else case.kecamatan_code))

    def _types(self, case: Case) -> str:
        _ = self._
        return ", ".join(option_label(form.TYPES, t, {}, _) for t in case.violence_types) \
            or option_label(form.TYPES, form.UNKNOWN, {}, _)

    def _victim(self, case: Case) -> str:
        _ = self._
        answers = {form.VICTIM_CATEGORY: case.victim_category}
        return ", ".join(dict.fromkeys((  # "not known yet" once
            option_label(form.VICTIM_CATEGORY, case.victim_category, answers, _),
            option_label(form.VICTIM_AGE, case.victim_age_band, answers, _))))

    def _priority(self, case: Case) -> str:
        icon, label = PRIORITIES.get(case.priority, NORMAL_PRIORITY)
        return f"{icon} <b>{self._(label)}</b>"

    def _tpks(self, case: Case) -> list[str]:
        if form.SEXUAL not in case.violence_types:
            return []
        _ = self._
        lines = ["⚖️ " + _("UU TPKS: sexual violence may not be settled outside the justice "
                          "process (no family or customary settlement).")]
        if case.police_deadline is not None:
            lines.append(_("Report to the police by {deadline}.").format(
                deadline=local_time(case.police_deadline, self.settings)))
        return lines

    def _location(self, case: Case) -> list[str]:
        """A location the reporter shared, for the outreach visit (details in private only)."""
        if not case.location:
            return []
        lat, _sep, lon = case.location.partition(",")
        link = f"https://www.openstreetmap.org/?mlat={lat}&amp;mlon={lon}#map=17/{lat}/{lon}"
        return ["📍 " + self._("Location shared by the reporter: {place}").format(
            place=f'<a href="{link}">{escape(lat)}, {escape(lon)}</a>')]

    def _summary(self, case: Case) -> list[str]:
        _ = self._
        return [
            self._priority(case),
            _("Report <code>{reference}</code>").format(reference=case.reference),
            _("Type: {types}").format(types=self._types(case)),
            _("Victim: {victim}").format(victim=self._victim(case)),
            _("Where: {place}").format(place=self._place(case)),
            _("Reported: {time}").format(time=local_time(case.created_at, self.settings)),
        ]

    def _buttons(self, case: Case, taken: Taken | None) -> InlineKeyboardMarkup:
        _ = self._
        def button(label: str, action: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(label,
                                        callback_data=AlertPress(case.public_id, action).pack())

        detail = button(_("📋 Details"), "detail")
        if taken is not None:
            return InlineKeyboardMarkup([[detail]])
        return InlineKeyboardMarkup([
            [button(_("Accept ✅"), "ack"), detail],
            [button(_("🆘 Need help"), "help")],
        ])

    def help_reason_line(self, reason: str | None) -> str:
        return self._("Why: {reason}").format(reason=self._(HELP_REASONS[reason or "other"]))

    def taken_line(self, taken: Taken) -> str:
        return "✅ <b>" + self._("Taken by {name} at {time}").format(
            name=escape(taken.by), time=clock_time(taken.at, self.settings)) + "</b>"

    # ---- AlertViews ------------------------------------------------------------------------------
    def alert(self, case: Case, taken: Taken | None, note: str | None = None,
              help_reason: str | None = None) -> dict[str, Any]:
        lines = self._summary(case) + self._tpks(case)
        if taken is not None:
            lines.append(self.taken_line(taken))
        elif note in NOTES:
            lines.append(self._(NOTES[note]))
            if note == Why.HELP and help_reason in HELP_REASONS:
                lines.append(self.help_reason_line(help_reason))
        return _html("\n".join(lines), self._buttons(case, taken))

    def practice_alert(self, case: Case, language: str = RESPONDER_LANGUAGE) -> dict[str, Any]:
        """A practice case's alert (``/latihan``): the new case alert a village group would see,
        its texts and buttons, under a mark that says it is practice."""
        view = self if language == self.language else \
            AlertView(self.settings, self.regions, language)
        _ = view._
        params = view.alert(case, None)
        params["text"] = "\n".join([
            "🧪 <b>" + _("PRACTICE — not a real report") + "</b>",
            _("This is how a new case alert looks in a village group."),
            "",
            params["text"]])
        return params

    def is_open(self, params: dict[str, Any]) -> bool:
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                try:
                    pressed = parse(button.get("callback_data"))
                except BadCallback:
                    continue
                if isinstance(pressed, AlertPress) and pressed.action == "ack":
                    return True
        return False

    def reminder(self, case: Case, reason: str, *, tier: str | None = None,
                 by: str | None = None, help_reason: str | None = None) -> dict[str, Any]:
        _ = self._
        since = local_time(case.created_at, self.settings)
        where = _(TIER_NAMES.get(tier or "", TIER_NAMES[KABUPATEN_TIER]))
        if reason == Why.POLICE:
            deadline = case.police_deadline or case.created_at
            text = "⚖️ " + _("Report <code>{reference}</code>: the police must receive this sexual "
                            "violence report by {deadline} (UU TPKS). Please make sure it is "
                            "passed on.").format(reference=case.reference,
                                                 deadline=local_time(deadline, self.settings))
        elif reason == Why.HELP:
            text = "🆘 " + _("{name} asked for help: report <code>{reference}</code> was passed "
                            "to {tier}.").format(name=escape(by or "?"), reference=case.reference,
                                                 tier=where)
            if help_reason in HELP_REASONS:
                text += "\n" + self.help_reason_line(help_reason)
        elif reason == Why.REPEAT:
            text = "⏰ " + _("Reminder: nobody has taken report <code>{reference}</code> yet "
                            "(reported {since}). Please press Accept above.").format(
                reference=case.reference, since=since)
        else:
            text = "⏰ " + _("Nobody has taken report <code>{reference}</code> since {since}, so "
                            "it was passed to {tier}. You can still accept it above.").format(
                reference=case.reference, since=since, tier=where)
        return _html(text)

    def reporter_acknowledged(self, case: Case, language: str) -> dict[str, Any]:
        _ = translator(language)
        return _html("🤝 " + _("A protection officer is now looking at your report "
                              "<code>{reference}</code>. We will tell you here how it goes. "
                              "If someone is in danger, call 112.").format(
            reference=case.reference))

    def detail(self, case: Case, evidence: list[Evidence], *,
               phone: bool) -> list[tuple[str, dict[str, Any]]]:
        """The full report; ``phone``: whether this reader may see the reporter's phone number
        (``bot/domain/access.py``)."""
        _ = self._
        answers: dict[str, Any] = {form.VICTIM_CATEGORY: case.victim_category}

        def label(step: str, value: Any) -> str:
            return option_label(step, value, answers, _)

        victim = [label(form.VICTIM_CATEGORY, case.victim_category)]
        if case.victim_category == form.CHILD:
            victim.append(label(form.VICTIM_SEX, case.victim_sex))
        victim.append(str(case.victim_age) if case.victim_age is not None
                      else label(form.VICTIM_AGE, case.victim_age_band))
        if case.victim_count > 1:
            victim.append(_("{count} victims").format(count=case.victim_count))
        if case.contact_allowed:
            contact = _("may be contacted through this bot")
            if case.phone and phone:
                contact += "; " + _("phone {phone}").format(phone=escape(case.phone))
            elif case.phone:
                contact += "; " + _("a phone number, shown to {readers}").format(
                    readers=readers_text(PHONE, _))
            if case.contact_time:
                contact += "; " + label(form.SAFE_TIME, case.contact_time)
        else:
            contact = _("does not want to be contacted")
        lines = ["📋 <b>" + _("Report details") + "</b> · " + self._priority(case),
                 _("Report <code>{reference}</code>").format(reference=case.reference)]
        if case.acknowledged_at is not None:
            lines.append(self.taken_line(Taken(case.acknowledged_by or "", case.acknowledged_at)))
        lines += [
            _("Reported: {time}").format(time=local_time(case.created_at, self.settings)),
            _("Reporter: {role}").format(role=label(form.ROLE, case.reporter_role)),
            _("Victim: {victim}").format(victim=", ".join(victim)),
            _("Type: {types}").format(types=self._types(case)),
            _("Where: {place}").format(place=self._place(case)),
            _("Place: {place}").format(place=label(form.PLACE, case.place)),
            _("Landmark: {landmark}").format(landmark=escape(case.landmark or "–")),
            *self._location(case),
            _("When: {when}").format(when=label(form.WHEN, case.occurred)),
            _("Perpetrator: {relation}").format(relation=label(form.PERPETRATOR, case.perpetrator)),
            _("Contact: {contact}").format(contact=contact),
            *self._tpks(case),
            _("Evidence: {count} file(s), sent below.").format(count=len(evidence))
            if evidence else _("Evidence: none"),
            "",
            "<b>" + _("What happened") + "</b>",
            escape(case.narrative or "–"),
        ]
        messages = [("sendMessage", _html(part)) for part in chunks("\n".join(lines))]
        for item in evidence:
            method = EVIDENCE_METHODS.get(item.kind, "sendDocument")
            field = "document" if item.kind not in EVIDENCE_METHODS else item.kind
            params: dict[str, Any] = {field: item.file_id}
            caption = item.caption or ""
            if caption and method != "sendVideoNote":
                params["caption"] = caption[:CAPTION_LIMIT]
            messages.append((method, params))
            if len(caption) > CAPTION_LIMIT or (caption and method == "sendVideoNote"):
                messages += [("sendMessage", {"text": part}) for part in chunks(caption)]
        return messages

    def responder_gone(self, responder: Responder, reason: str,
                       rerouted: list[str]) -> dict[str, Any]:
        _ = self._
        region = self.regions.get(responder.region_code)
        lines = ["⚠️ " + _("The bot can no longer send alerts to {name} ({region}, chat "
                          "<code>{chat_id}</code>): {reason}. It is now inactive.").format(
            name=escape(responder.name), region=escape(region.name if region else
                                                       responder.region_code),
            chat_id=responder.chat_id, reason=_(GONE_REASONS.get(reason, GONE_DEFAULT)))]
        if rerouted:
            lines.append(_("Open reports passed to the next tier: {references}").format(
                references=", ".join(f"<code>{r}</code>" for r in rerouted)))
        if reason != Gone.REVOKED:
            command = "add-group" if responder.kind == GROUP else "add-officer"
            # A command to paste into a shell: ids and codes, and the name (chosen by the officer
            # on Telegram) cleaned and quoted, so that no name can become a command.
            extra = "" if responder.kind == GROUP else \
                " --name " + escape(shlex.quote(clean_name(responder.name, 60)))
            lines.append(_("When it can receive messages again, register it anew: "
                           "<code>ppa-bot responders {command} {chat_id} --region {region}{extra}"
                           "</code>").format(command=command, chat_id=responder.chat_id,
                                             region=responder.region_code, extra=extra))
        return _html("\n".join(lines))

    def group_joined(self, chat_id: int, title: str) -> dict[str, Any]:
        _ = self._
        return _html("ℹ️ " + _("The bot was added to the group “{title}” (chat <code>{chat_id}"
                               "</code>). It receives no reports until it is registered: "
                               "<code>ppa-bot responders add-group {chat_id} --region CODE</code>"
                               ).format(title=escape(title), chat_id=chat_id))
