"""How services, referrals, consent, the provider directory and the deadlines look: the case
card's block (police deadline, shelter, services), the services' menus, the question to the
reporter, the reminders and alarms, and the history lines of these events."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import CasePress, ConsentPress, ProviderPress, ServicePress
from bot.config import Settings
from bot.domain import access, workflow
from bot.domain import services as rules
from bot.domain.references import case_command
from bot.i18n import N_, Translate, translator
from bot.services.cases import Card
from bot.services.referrals import Services
from bot.views.alerts import RESPONDER_LANGUAGE, local_time
from models import Case, CaseEvent, CaseServiceRecord, Provider

STATUS_ICONS = {rules.PLANNED: "🗓", rules.RUNNING: "▶️", rules.DONE: "✅", rules.CANCELLED: "✖️"}
PAGE = 8


def _html(text: str, markup: InlineKeyboardMarkup | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"text": text, "parse_mode": "HTML",
                              "link_preview_options": {"is_disabled": True}}
    if markup is not None:
        params["reply_markup"] = markup.to_dict()
    return params


def consent_words(service: CaseServiceRecord, _: Translate) -> str:
    if service.consent == rules.ASKED:
        return _("consent asked through the bot, no answer yet")
    if service.consent in (rules.YES, rules.NO):
        way = _(rules.WAY_NAMES.get(service.consent_via or "", rules.WAY_NAMES[rules.IN_PERSON]))
        if service.consent == rules.YES:
            return _("the survivor agreed ({way})").format(way=way)
        return _("the survivor did not agree ({way})").format(way=way)
    return _("consent not recorded yet")


def service_line(service: CaseServiceRecord, _: Translate) -> str:
    provider = f" · {escape(service.provider_name)}" if service.provider_name else ""
    return (f"{STATUS_ICONS.get(service.status, '•')} {service.number}. "
            f"<b>{rules.kind_name(service.kind, _)}</b>{provider} · "
            f"{_(rules.STATUS_NAMES[service.status])}")


# ---- the case card's block ----------------------------------------------------------------------

def police_overdue(card: Card) -> bool:
    case = card.case
    return (case.police_deadline is not None and not card.police_referred
            and card.now is not None and card.now >= case.police_deadline
            and not workflow.is_closed(case.status))


def card_lines(card: Card, settings: Settings, _: Translate) -> list[str]:
    """What the card says of the police deadline, a shelter stay and the services."""
    case = card.case
    lines: list[str] = []
    if case.police_deadline is not None and not card.police_referred:
        deadline = local_time(case.police_deadline, settings)
        if police_overdue(card):
            lines.append("🚨 <b>" + _("OVERDUE: the police should have received this report by "
                                      "{deadline} (UU TPKS). Record the referral to the police "
                                      "under “Services”.").format(deadline=deadline) + "</b>")
        else:
            lines.append("⚖️ " + _("Report to the police by {deadline}.").format(
                deadline=deadline))
    live = [s for s in card.services if s.status not in rules.ENDED]
    for shelter in (s for s in live if s.kind == rules.SHELTER):
        lines.append("🏠 " + _("Stage: temporary shelter{provider}").format(
            provider=f" ({escape(shelter.provider_name)})" if shelter.provider_name else ""))
    if card.services:
        waiting = sum(1 for s in card.services if s.consent in (None, rules.ASKED)
                      and s.status not in rules.ENDED)
        text = "🧩 " + _("Services: {count}, {live} ongoing").format(
            count=len(card.services), live=len(live))
        if waiting:
            text += " · " + _("consent missing for {count}").format(count=waiting)
        lines.append(text)
    return lines


def card_button(card: Card, _: Translate) -> InlineKeyboardButton | None:
    if not card.may(access.CARD):
        return None
    return InlineKeyboardButton("🧩 " + _("Services"), callback_data=ServicePress(
        card.case.public_id, "list").pack())


# ---- the services' menus ------------------------------------------------------------------------

def _press(case: Case, action: str, value: str = "", number: int = 0) -> str:
    return ServicePress(case.public_id, action, value, number).pack()


def _back_to_card(case: Case, _: Translate) -> InlineKeyboardButton:
    return InlineKeyboardButton("« " + _("Back to the case"),
                                callback_data=CasePress(case.public_id, "card").pack())


def services_list(found: Services, _: Translate) -> dict[str, Any]:
    case = found.case
    lines = ["🧩 <b>" + _("Services for report {reference}").format(
        reference=case.reference) + "</b>"]
    if not found.services:
        lines.append(_("No service recorded yet."))
    for service in found.services:
        lines.append(service_line(service, _) + "\n    " + consent_words(service, _))
    rows = [[InlineKeyboardButton(f"{s.number}. {rules.kind_name(s.kind, _)}",
                                  callback_data=_press(case, "show", "", s.number))]
            for s in found.services]
    if found.may_change() and not workflow.is_closed(case.status):
        rows.append([InlineKeyboardButton("➕ " + _("Add a service"),
                                          callback_data=_press(case, "kinds"))])
    rows.append([_back_to_card(case, _)])
    return _html("\n".join(lines), InlineKeyboardMarkup(rows))


def kinds_menu(case: Case, _: Translate) -> dict[str, Any]:
    kinds = rules.offered(case.violence_types)
    buttons = [InlineKeyboardButton(rules.kind_name(k, _), callback_data=_press(case, "add", k))
               for k in kinds]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton("« " + _("Back"), callback_data=_press(case, "list"))])
    text = "➕ " + _("Report {reference}: which service?").format(reference=case.reference)
    if rules.sexual_violence(case.violence_types):
        text += "\n" + _("Mediation is not offered: UU TPKS (Pasal 23) does not allow it for "
                         "sexual violence.")
    return _html(text, InlineKeyboardMarkup(rows))


def providers_menu(found: Services, kind: str, settings: Settings,
                   _: Translate) -> dict[str, Any]:
    case = found.case
    rows = []
    for provider in found.providers[:PAGE]:
        label = provider.name + (f" ({provider.kecamatan})" if provider.kecamatan else "")
        rows.append([InlineKeyboardButton(label[:60], callback_data=_press(
            case, "prov", f"{kind}:{provider.id}"))])
    rows.append([InlineKeyboardButton("✏️ " + _("Type the provider's name"),
                                      callback_data=_press(case, "type", kind))])
    rows.append([InlineKeyboardButton(_("No provider yet"),
                                      callback_data=_press(case, "prov", f"{kind}:0"))])
    rows.append([InlineKeyboardButton("« " + _("Back"), callback_data=_press(case, "kinds"))])
    lines = [_("{kind}: which provider?").format(kind="<b>" + rules.kind_name(kind, _) + "</b>")]
    for provider in found.providers[:PAGE]:
        contact = settings.providers.contacts.get(provider.name)
        if contact:
            lines.append(f"☎️ {escape(provider.name)}: {escape(contact)}")
    return _html("\n".join(lines), InlineKeyboardMarkup(rows))


def type_prompt(case: Case, kind: str, _: Translate) -> str:
    return "✏️ " + _("Write the name of the provider of {kind} for report {reference}, in one "
                    "message. /batal cancels.").format(kind=rules.kind_name(kind, _),
                                                       reference=case.reference)


def service_detail(found: Services, service: CaseServiceRecord, settings: Settings,
                   _: Translate) -> dict[str, Any]:
    case = found.case
    lines = [service_line(service, _), consent_words(service, _)]
    if service.started_on:
        lines.append(_("Started: {date}").format(date=service.started_on.strftime("%d-%m-%Y")))
    if service.follow_up_at and service.status not in rules.ENDED:
        lines.append(_("Follow-up due: {time}").format(
            time=local_time(service.follow_up_at, settings)))
    if service.ended_on:
        lines.append(_("Ended: {date}").format(date=service.ended_on.strftime("%d-%m-%Y")))
    contact = settings.providers.contacts.get(service.provider_name or "")
    if contact:
        lines.append(f"☎️ {escape(contact)}")
    rows: list[list[InlineKeyboardButton]] = []
    if found.may_change():
        moves = [InlineKeyboardButton(
            STATUS_ICONS[t] + " " + _(rules.STATUS_NAMES[t]),
            callback_data=_press(case, "move", t, service.number))
            for t in rules.MOVES.get(service.status, ())]
        if moves:
            rows.append(moves)
        if service.status not in rules.ENDED:
            rows.append([InlineKeyboardButton("🔁 " + _("Follow-up done"),
                                              callback_data=_press(case, "follow", "",
                                                                   service.number))])
        if service.consent not in (rules.YES, rules.NO):
            if found.reachable:
                rows.append([InlineKeyboardButton("📨 " + _("Ask consent through the bot"),
                                                  callback_data=_press(case, "ask", "",
                                                                       service.number))])
            rows.append([
                InlineKeyboardButton("👍 " + _("Agreed"),
                                     callback_data=_press(case, "consent", "y", service.number)),
                InlineKeyboardButton("👎 " + _("Did not agree"),
                                     callback_data=_press(case, "consent", "n", service.number))])
        if not found.reachable:
            lines.append("🔕 " + _("The reporter cannot be asked through the bot: record the "
                                  "consent you obtained in person, by phone or through a "
                                  "guardian."))
    rows.append([InlineKeyboardButton("« " + _("Back"), callback_data=_press(case, "list"))])
    return _html("\n".join(lines), InlineKeyboardMarkup(rows))


def consent_via_menu(case: Case, service: CaseServiceRecord, given: bool,
                     _: Translate) -> dict[str, Any]:
    answer = "y" if given else "n"
    rows = [[InlineKeyboardButton(_(rules.WAY_NAMES[way]), callback_data=_press(
        case, "via", f"{answer}.{way}", service.number))] for way in rules.OFFICER_WAYS]
    rows.append([InlineKeyboardButton("« " + _("Back"), callback_data=_press(
        case, "show", "", service.number))])
    return _html(_("How was the survivor's answer obtained?"), InlineKeyboardMarkup(rows))


# ---- what the reporter and the holder read ------------------------------------------------------

class ServiceView:
    """``ConsentViews`` and ``DeadlineViews`` for Telegram."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def consent_question(self, case: Case, service: CaseServiceRecord,
                         language: str) -> dict[str, Any]:
        _ = translator(language)
        provider = f" ({escape(service.provider_name)})" if service.provider_name else ""
        text = _("About your report {reference}: an officer proposes this help for you: "
                 "{kind}{provider}. Do you agree to be referred there? You may say no.").format(
            reference=case.reference, kind="<b>" + rules.kind_name(service.kind, _) + "</b>",
            provider=provider)
        markup = InlineKeyboardMarkup([[
            InlineKeyboardButton("✅ " + _("Agree"),
                                 callback_data=ConsentPress(service.id, True).pack()),
            InlineKeyboardButton(_("No"), callback_data=ConsentPress(service.id, False).pack())]])
        return _html(text, markup)

    def consent_answered(self, case: Case, service: CaseServiceRecord) -> dict[str, Any]:
        _ = translator(RESPONDER_LANGUAGE)
        words = _("agreed") if service.consent == rules.YES else _("did not agree")
        return _html("🧩 " + _("Report {reference}: the reporter {answer} to {kind}.").format(
            reference=case.reference, answer=words, kind=rules.kind_name(service.kind, _))
            + "\n" + case_command(case.reference))

    def police_alarm(self, case: Case, step: str, holder: str | None) -> dict[str, Any]:
        _ = translator(RESPONDER_LANGUAGE)
        assert case.police_deadline is not None
        deadline = local_time(case.police_deadline, self.settings)
        if step == rules.OVERDUE:
            text = "🚨 <b>" + _("Police deadline passed: report {reference}").format(
                reference=case.reference) + "</b>\n" + _(
                "UU TPKS: this report of sexual violence or trafficking had to reach the police "
                "by {deadline}, and no police referral is recorded. Handled by: {holder}.").format(
                deadline=deadline, holder=escape(holder) if holder else _("nobody yet"))
        else:
            text = "⚖️ " + _("Report {reference}: the police must receive it by {deadline} "
                            "(UU TPKS, {hours} left). Record the referral under “Services”."
                            ).format(reference=case.reference, deadline=deadline,
                                     hours=step.replace("h", " " + _("hours")))
        return _html(text + "\n" + case_command(case.reference))

    def follow_up(self, case: Case, subject: str,
                  service: CaseServiceRecord | None) -> dict[str, Any]:
        _ = translator(RESPONDER_LANGUAGE)
        if service is not None:
            text = "🔁 " + _("Report {reference}: the follow-up of {kind} is due.").format(
                reference=case.reference, kind=rules.kind_name(service.kind, _))
        else:
            text = "🔁 " + _("Report {reference} has been at {stage} for a while: is there a "
                            "next step?").format(reference=case.reference,
                                                 stage=workflow.stage_name(subject, _))
        return _html(text + "\n" + case_command(case.reference))


# ---- /layanan: the provider directory (admins) --------------------------------------------------

def directory_kinds(_: Translate) -> dict[str, Any]:
    buttons = [InlineKeyboardButton(rules.kind_name(k, _), callback_data=ProviderPress(
        "list", k).pack()) for k in rules.KINDS]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    text = "📒 " + _("Provider directory: choose a kind of service. To add a provider, write "
                    "<code>/layanan tambah KIND | Name | Kecamatan</code>; to rename one, "
                    "<code>/layanan ubah ID | Name | Kecamatan</code>.")
    return _html(text, InlineKeyboardMarkup(rows))


def directory_list(kind: str, providers: list[Provider], page: int,
                   _: Translate) -> dict[str, Any]:
    pages = max(1, -(-len(providers) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = providers[page * PAGE:(page + 1) * PAGE]
    lines = ["📒 <b>" + rules.kind_name(kind, _) + "</b>"]
    if not providers:
        lines.append(_("No provider of this kind yet."))
    rows = []
    for provider in shown:
        mark = "" if provider.active else " · " + _("inactive")
        lines.append(f"#{provider.id} {escape(provider.name)}"
                     + (f" ({escape(provider.kecamatan)})" if provider.kecamatan else "") + mark)
        rows.append([InlineKeyboardButton(
            ("🚫 " + _("Deactivate") if provider.active else "♻️ " + _("Activate"))
            + f" #{provider.id}", callback_data=ProviderPress(
                "off" if provider.active else "on", kind, provider.id, page).pack())])
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=ProviderPress(
            "list", kind, 0, page - 1).pack()))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=ProviderPress(
            "list", kind, 0, page + 1).pack()))
    if nav:
        rows.append(nav)
    rows.append([InlineKeyboardButton("« " + _("Back"), callback_data=ProviderPress(
        "kinds").pack())])
    return _html("\n".join(lines), InlineKeyboardMarkup(rows))


# ---- history --------------------------------------------------------------------------------

EventLine = Callable[[CaseEvent, Translate, Settings], str]


def _who(event: CaseEvent, _: Translate) -> str:
    if event.actor == "reporter":
        return _("the reporter")
    if event.actor == "system":
        return _("the bot")
    return escape(event.actor_name or _("someone"))


def _service_line(icon: str, message: str) -> EventLine:
    def line(event: CaseEvent, _: Translate, settings: Settings) -> str:
        detail = event.detail or {}
        kind = rules.kind_name(str(detail.get("kind", "")), _)
        status = str(detail.get("to", ""))
        return icon + " " + _(message).format(
            who=_who(event, _), kind=kind, number=detail.get("number", "?"),
            status=_(rules.STATUS_NAMES.get(status, status)).lower(),
            provider=escape(str(detail.get("provider") or "–")),
            way=_(rules.WAY_NAMES.get(str(detail.get("via", "")), rules.WAY_NAMES[rules.RELAY])),
            step=str(detail.get("step", "")).replace("overdue", _("passed")),
            subject=_(workflow.STAGE_NAMES.get(str(detail.get("subject", "")), N_("Service"))))
    return line


def _consent(event: CaseEvent, _: Translate, settings: Settings) -> str:
    detail = event.detail or {}
    if detail.get("consent") == rules.YES:
        return _service_line("👍", N_("{who} recorded consent to {kind} ({way})"))(
            event, _, settings)
    return _service_line("👎", N_("{who} recorded no consent to {kind} ({way})"))(
        event, _, settings)


EVENT_LINES: dict[str, EventLine] = {
    "service_added": _service_line("🧩", N_("{who} added service {number}: {kind}, "
                                            "{provider}")),
    "service_status": _service_line("🧩", N_("{who}: service {number} ({kind}) is {status}")),
    "service_followed_up": _service_line("🔁", N_("{who} followed up service {number} "
                                                  "({kind})")),
    "service_refused": _service_line("⛔", N_("{who} was refused {kind}: UU TPKS")),
    "service_consent_asked": _service_line("📨", N_("{who} asked the reporter's consent to "
                                                    "{kind} through the bot")),
    "service_consent": _consent,
    "police_alarm": _service_line("⚖️", N_("Police deadline alarm ({step})")),
    "follow_up_reminder": _service_line("🔁", N_("Follow-up reminder: {subject}")),
}
