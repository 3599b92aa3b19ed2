"""How each question of the report looks: its text and its buttons, in the reporter's language."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton

from bot.callback_data import ReportPress
from bot.config import Settings
from bot.domain import form
from bot.i18n import N_, Translate
from bot.regions import RegionDirectory
from bot.services.reports import DraftView

VILLAGES_PER_PAGE = 10  # five rows of two: fits a small phone screen with the navigation row

QUESTIONS = {
    form.DANGER: N_("Is anyone in danger right now?"),
    form.DANGER_GO: N_("Your report is marked <b>urgent</b>. If you can, please call one of the "
                    "numbers above now. Do you want to continue the report?"),
    form.CONSENT: N_("<b>Privacy</b>\nWe store your answers, encrypted, so that protection "
                  "officers of Kabupaten {kabupaten} can help. Village groups see only the type of "
                  "case and the village, never your story or your name. /dataku shows what we "
                  "store and who read it; /ubah corrects it; /tarik_persetujuan deletes it (only "
                  "anonymous figures stay). Do you agree?"),
    form.ROLE: N_("Who is making this report?"),
    form.VICTIM_CATEGORY: N_("Who is the victim?"),
    form.VICTIM_SEX: N_("Is the child a girl or a boy?"),
    form.VICTIM_AGE: N_("How old is the victim? Choose a range or type the age."),
    form.VICTIM_COUNT: N_("How many victims are there? Choose or type a number."),
    form.TYPES: N_("What kind of violence? Choose all that apply, then press Done."),
    form.KECAMATAN: N_("In which kecamatan did it happen? Choose, or type the name of the "
                    "kecamatan or village."),
    form.VILLAGE: N_("In which village? Choose, or type its name."),
    form.PLACE: N_("Where did it happen?"),
    form.LANDMARK: N_("Is there a landmark that helps find the place (for example near the "
                   "mosque)? Type it, or skip."),
    form.WHEN: N_("When did it happen?"),
    form.PERPETRATOR: N_("What is the perpetrator's relation to the victim?"),
    form.STORY: N_("What happened? Write in your own words. You may also send voice notes, "
                "photos, videos or documents. Press Done when you have finished."),
    form.CONTACT: N_("May an officer contact you through this bot?"),
    form.PHONE: N_("You may share a phone number for an officer to call. This is optional."),
    form.SAFE_TIME: N_("When is it safe to contact you?"),
}

REASONS = {
    "use_buttons": N_("Please answer with the buttons below."),
    "not_an_option": N_("That is not one of the choices. Please use the buttons below."),
    "not_a_number": N_("Please type the age as a number, for example 15."),
    "age_out_of_range": N_("That age does not fit the victim chosen. Please check it."),
    "not_a_count": N_("Please type a number of victims between 1 and 99."),
    "not_a_phone": N_("That does not look like a phone number. Type it like 0812-3456-7890, "
                      "or skip."),
    "too_long": N_("That message is too long. Please send it in shorter parts; nothing was saved."),
    "too_long_landmark": N_("Please keep the landmark short (under 200 characters)."),
    "story_full": N_("The story is already very long. Press Done, or send a voice note instead."),
    "too_many_files": N_("You have already sent the most files we can take. Press Done to go on."),
    "file_too_big": N_("That file is too big for us to keep. Please send a smaller one."),
    "choose_at_least_one": N_("Please choose at least one kind of violence, then press Done."),
    "place_not_found": N_("I could not find that place. Please choose from the buttons, or check "
                       "the spelling."),
    "empty": N_("That message was empty. Please type your answer."),
    "incomplete": N_("Some answers are missing. Please answer the question below."),
    "unsupported": N_("I cannot use that here. Please answer the question below."),
    "edited": N_("Changes to earlier messages are not read. Please send a new message."),
}


def press(view: DraftView, action: str, value: str = "", step: str | None = None) -> str:
    return ReportPress(view.nonce, step or view.step, action, value).pack()


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def _navigation(view: DraftView, _: Translate) -> list[InlineKeyboardButton]:
    if form.previous_step(view.step, view.answers) is None:
        return []
    return [InlineKeyboardButton(_("« Back"), callback_data=press(view, "back"))]


def option_label(step: str, value: Any, answers: dict[str, Any], _: Translate) -> str:
    if step == form.VICTIM_AGE:
        options = form.AGE_BANDS.get(answers.get(form.VICTIM_CATEGORY) or form.CHILD, [])
    else:
        options = form.OPTIONS.get(step, [])
    for option, label in options:
        if option == value:
            return _(label)
    return str(value)


def question(view: DraftView, _: Translate, regions: RegionDirectory, settings: Settings,
             page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The text and buttons for the draft's current step."""
    step = view.step
    if step == form.REVIEW:
        return review(view, _, regions)
    text = _(QUESTIONS[step])
    if step == form.CONSENT:
        text = text.format(kabupaten=escape(settings.region.kabupaten_name))
    if view.practice:
        text = _("🧪 PRACTICE — not a real report") + "\n" + text
    buttons: list[list[InlineKeyboardButton]]
    if step == form.TYPES:
        chosen = set(view.answers.get("types_pending", []))
        toggles = [InlineKeyboardButton(("✅ " if v in chosen else "") + _(label),
                                        callback_data=press(view, "toggle", v))
                   for v, label in form.OPTIONS[step]]
        buttons = [*_rows(toggles, 2),
                   [InlineKeyboardButton(_("Done ✔"), callback_data=press(view, "done"))]]
    elif step == form.KECAMATAN:
        buttons = _rows([InlineKeyboardButton(p.name, callback_data=press(view, "choose", p.code))
                         for p in regions.kecamatan()], 2)
    elif step == form.VILLAGE:
        buttons = _village_page(view, regions, page, _)
    elif step == form.STORY:
        story = view.answers.get("story_pending") or view.answers.get(form.STORY)
        if story and (story["texts"] or story["media"]):
            text += "\n\n" + _("Saved so far: {texts} message(s), {files} file(s).").format(
                texts=len(story["texts"]), files=len(story["media"]))
        buttons = [[InlineKeyboardButton(_("Done ✔"), callback_data=press(view, "done"))]]
        if story and (story["texts"] or story["media"]):
            buttons.append([InlineKeyboardButton(_("Start the story again"),
                                                 callback_data=press(view, "clear"))])
    else:
        values = form.option_values(step, view.answers)
        labels = [option_label(step, v, view.answers, _) for v in values]
        width = 1 if max((len(label) for label in labels), default=0) > 16 else 2
        buttons = _rows([InlineKeyboardButton(label, callback_data=press(view, "choose", v))
                         for v, label in zip(values, labels, strict=True)], width)
    if step in form.OPTIONAL:
        buttons.append([InlineKeyboardButton(_("Skip »"), callback_data=press(view, "skip"))])
    nav = _navigation(view, _)
    if nav:
        buttons.append(nav)
    text += "\n\n<i>" + _("/batal to cancel") + "</i>"
    return text, InlineKeyboardMarkup(buttons)


def _village_page(view: DraftView, regions: RegionDirectory, page: int,
                  _: Translate) -> list[list[InlineKeyboardButton]]:
    villages = regions.villages(view.answers.get(form.KECAMATAN) or "")
    pages = max(1, -(-len(villages) // VILLAGES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = villages[page * VILLAGES_PER_PAGE:(page + 1) * VILLAGES_PER_PAGE]
    rows = _rows([InlineKeyboardButton(p.name, callback_data=press(view, "choose", p.code))
                  for p in shown], 2)
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=press(view, "page", str(page - 1))))
        nav.append(InlineKeyboardButton(f"{page + 1}/{pages}",
                                        callback_data=press(view, "page", str(page))))
        if page < pages - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=press(view, "page", str(page + 1))))
        rows.append(nav)
    return rows


def candidates(view: DraftView, codes: list[str], regions: RegionDirectory,
               _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """"Did you mean …?" for a typed place name."""
    buttons = []
    for code in codes:
        place = regions.get(code)
        if place is None:
            continue
        parent = regions.get(place.parent_code)
        label = place.name if place.level == "kecamatan" or parent is None \
            else f"{place.name} ({parent.name})"
        buttons.append([InlineKeyboardButton(label, callback_data=press(view, "choose", code))])
    buttons.append([InlineKeyboardButton(_("None of these: show the list"),
                                         callback_data=press(view, "page", "0"))])
    text = _("Did you mean:")
    if view.practice:  # practice is marked at every step
        text = _("🧪 PRACTICE — not a real report") + "\n" + text
    return text, InlineKeyboardMarkup(buttons)


def _summary_line(label: str, value: str) -> str:
    return f"<b>{label}:</b> {value}"


def summary_lines(answers: dict[str, Any], _: Translate, regions: RegionDirectory, *,
                  with_story: bool = True) -> list[str]:
    def label(step: str) -> str:
        return option_label(step, answers.get(step), answers, _)

    age = answers.get(form.VICTIM_AGE) or {}
    age_text = str(age.get("age")) if age.get("age") is not None \
        else option_label(form.VICTIM_AGE, age.get("band"), answers, _)
    sex = label(form.VICTIM_SEX) if answers.get(form.VICTIM_CATEGORY) == form.CHILD else ""
    victim = ", ".join(x for x in (label(form.VICTIM_CATEGORY), sex, age_text) if x)
    count = answers.get(form.VICTIM_COUNT)
    types = ", ".join(option_label(form.TYPES, t, answers, _)
                      for t in answers.get(form.TYPES) or [])
    village = regions.get(answers.get(form.VILLAGE))
    kecamatan = regions.get(answers.get(form.KECAMATAN))
    where = ", ".join(escape(p.name) for p in (village, kecamatan) if p)
    story = answers.get(form.STORY) or form.empty_story()
    contact = label(form.CONTACT)
    if answers.get(form.CONTACT) == form.YES:
        phone = answers.get(form.PHONE)
        contact += "; " + (escape(phone) if phone else _("no phone number"))
        contact += "; " + label(form.SAFE_TIME)
    lines = [
        _summary_line(_("Reporter"), label(form.ROLE)),
        _summary_line(_("Victim"), victim + (f" × {count}" if count and count > 1 else "")),
        _summary_line(_("Type"), types),
        _summary_line(_("Where"), where),
        _summary_line(_("Place"), label(form.PLACE)),
        _summary_line(_("Landmark"), escape(answers.get(form.LANDMARK) or "–")),
        _summary_line(_("When"), label(form.WHEN)),
        _summary_line(_("Perpetrator"), label(form.PERPETRATOR)),
        _summary_line(_("Story"), _("{texts} message(s), {files} file(s)").format(
            texts=len(story["texts"]), files=len(story["media"]))),
        _summary_line(_("Contact"), contact),
    ]
    return lines if with_story else lines[:-2] + lines[-1:]


EDIT_LABELS = {
    form.ROLE: N_("Reporter"), form.VICTIM_CATEGORY: N_("Victim"), form.TYPES: N_("Type"),
    form.KECAMATAN: N_("Where"), form.PLACE: N_("Place"), form.LANDMARK: N_("Landmark"),
    form.WHEN: N_("When"),
    form.PERPETRATOR: N_("Perpetrator"), form.STORY: N_("Story"), form.CONTACT: N_("Contact"),
}


def review(view: DraftView, _: Translate,
           regions: RegionDirectory) -> tuple[str, InlineKeyboardMarkup]:
    lines = [("🧪 " + _("PRACTICE — not a real report")) if view.practice else "",
             "<b>" + _("Please check your report") + "</b>"]
    if view.urgent:
        lines.append("⚠️ " + _("Marked urgent: someone is in danger."))
    lines += summary_lines(view.answers, _, regions)
    lines.append("\n" + _("Press a button to change an answer, or Send."))
    edits = [InlineKeyboardButton("✏️ " + _(label), callback_data=press(view, "edit", section))
             for section, label in EDIT_LABELS.items()]
    buttons = [*_rows(edits, 2),
               [InlineKeyboardButton(_("Send ✉️"), callback_data=press(view, "submit"))]]
    return "\n".join(line for line in lines if line), InlineKeyboardMarkup(buttons)


def hotlines(settings: Settings, _: Translate) -> str:
    lines = ["🆘 <b>" + _("If someone is in danger, call now:") + "</b>"]
    lines += [f"• {escape(h.name)}: <b>{escape(h.number)}</b>" for h in settings.hotlines]
    return "\n".join(lines)


def share_phone_keyboard(_: Translate) -> list[list[KeyboardButton]]:
    return [[KeyboardButton(_("📞 Share my phone number"), request_contact=True)]]
