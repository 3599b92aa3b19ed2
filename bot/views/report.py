"""How each question of the report looks: its text and its buttons, in the reporter's language."""

from __future__ import annotations

from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton

from bot.callback_data import IntakePress, ReportPress
from bot.config import Settings
from bot.domain import form
from bot.domain.form import DraftView, Invalid
from bot.i18n import N_, Translate
from bot.regions import Place, RegionDirectory
from bot.views.access import consent_lines

MAX_ROWS = 6  # a keyboard of at most six rows fits a small phone's screen under the question
# Kecamatan and villages: five rows of two a page, then one row with ◀ 1/3 ▶ and « Back.
PLACES_PER_PAGE = 10
VILLAGES_PER_PAGE = PLACES_PER_PAGE

QUESTIONS = {
    form.DANGER: N_("Is anyone in danger right now?"),
    form.DANGER_GO: N_("Your report is marked <b>urgent</b>. If you can, please call one of the "
                    "numbers above now. Do you want to continue the report?"),
    # form.CONSENT: who reads what is written from the access table (``bot/views/access.py``);
    # then the reporter's rights, and the question.
    form.ROLE: N_("Who is making this report?"),
    form.VICTIM_CATEGORY: N_("Who is the victim? A child is under 18."),
    form.VICTIM_AGE: N_("How old is the victim? Choose, or type the age (for example 8, or "
                     "“not sure”)."),
    form.VICTIM_COUNT: N_("How many victims are there? Choose or type a number."),
    form.TYPES: N_("What was done to the victim? Choose all that fit, then press Done."),
    form.KECAMATAN: N_("Where did it happen? Choose the kecamatan, or type the name of the "
                    "village. You may also send a location (📎)."),
    form.VILLAGE: N_("In which village? Choose, or type its name."),
    form.PLACE: N_("Where did it happen?"),
    form.LANDMARK: N_("Is there a landmark that helps find the place (for example near the "
                   "mosque)? Type it, send a location (📎), or skip."),
    form.WHEN: N_("When did it happen?"),
    form.PERPETRATOR: N_("Who did it? What is that person to the victim?"),
    form.STORY: N_("What happened? Write in your own words. You may also send voice notes, "
                "photos, videos or documents."),
    form.CONTACT: N_("May an officer contact you through this bot?"),
    form.PHONE: N_("You may share a phone number for an officer to call. This is optional."),
    form.SAFE_TIME: N_("When is it safe to contact you?"),
}
# After "Saya korbannya" the questions speak to the reporter.
QUESTIONS_TO_VICTIM = {
    form.VICTIM_CATEGORY: N_("Which of these are you?"),
    form.VICTIM_AGE: N_("How old are you? Choose, or type your age (for example 15)."),
    form.VICTIM_COUNT: N_("How many people were hurt, you included? Choose or type a number."),
    form.TYPES: N_("What was done to you? Choose all that fit, then press Done."),
    form.PERPETRATOR: N_("Who did it? What is that person to you?"),
}

# An officer recording a case on someone's behalf (``/kasus_baru``): the questions speak of the
# victim ("Korban"), never to them; nothing about contact through the bot.
QUESTIONS_TO_OFFICER = {
    form.CHANNEL: N_("How did this case come in?"),
    form.DANGER: N_("Is the victim in danger right now?"),
    form.STORY: N_("What happened? Write what you were told. You may also send photos, voice "
                   "notes or documents."),
    form.LANDMARK: N_("A landmark or address that helps find the place? Type it, or skip."),
    form.PHONE: N_("A phone number to reach the victim or their companion, if agreed? Type it, "
                   "or skip. It is kept encrypted."),
}
INTAKE_TITLE = N_("🗂 New case, recorded by an officer")

# Said with the privacy notice: how messages arrive on this phone after the report.
DISCREET_NOTE = N_("Later my messages come silently: tap “Open” to read.")
CONSENT_RIGHTS = N_("See, correct or delete it: /dataku, /ubah, /tarik_persetujuan.")
CONSENT_QUESTION = N_("Agree?")

REASONS: dict[str, str] = {
    Invalid.USE_BUTTONS: N_("Please answer with the buttons below."),
    Invalid.NOT_AN_OPTION: N_("That is not one of the choices. Please use the buttons below."),
    Invalid.NOT_A_NUMBER: N_("Please type the age as a number, for example 15. If you do not "
                             "know it, press “Not sure”."),
    Invalid.AGE_OUT_OF_RANGE: N_("That age does not fit the victim chosen. Please check it."),
    Invalid.NOT_A_COUNT: N_("Please type a number of victims between 1 and 99."),
    Invalid.NOT_A_PHONE: N_("That does not look like a phone number. Type it like "
                            "0812-3456-7890, or skip."),
    Invalid.TOO_LONG: N_("That message is too long. Please send it in shorter parts; nothing "
                         "was saved."),
    Invalid.TOO_LONG_LANDMARK: N_("Please keep the landmark short (under 200 characters)."),
    Invalid.STORY_FULL: N_("The story is already very long. Press Done, or send a voice note "
                           "instead."),
    Invalid.TOO_MANY_FILES: N_("You have already sent the most files we can take. Press Done to "
                               "go on."),
    Invalid.FILE_TOO_BIG: N_("That file is too big for us to keep. Please send a smaller one."),
    Invalid.CHOOSE_AT_LEAST_ONE: N_("Please choose at least one kind of violence, then press "
                                    "Done."),
    Invalid.PLACE_NOT_FOUND: N_("I could not find that place. Please choose from the buttons, or "
                                "check the spelling."),
    Invalid.EMPTY: N_("That message was empty. Please type your answer."),
    Invalid.INCOMPLETE: N_("Some answers are missing. Please answer the question below."),
    Invalid.UNSUPPORTED: N_("I cannot use that here. Please answer the question below."),
    Invalid.EDITED: N_("Changes to earlier messages are not read. Please send a new message."),
}


def press(view: DraftView, action: str, value: str = "", step: str | None = None) -> str:
    kind = IntakePress if form.is_intake(view.answers) else ReportPress
    return kind(view.nonce, step or view.step, action, value).pack()


def _rows(buttons: list[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def _navigation(view: DraftView, _: Translate) -> list[InlineKeyboardButton]:
    if form.previous_step(view.step, view.answers) is None:
        return []
    return [InlineKeyboardButton(_("« Back"), callback_data=press(view, "back"))]


def option_label(step: str, value: Any, answers: dict[str, Any], _: Translate) -> str:
    if step == form.VICTIM_AGE and (value is None or value == form.AGE_UNKNOWN):
        return _(form.AGE_UNKNOWN_LABEL)  # "Not sure" (the same word as a report sent at once)
    if value == form.UNKNOWN:  # a report sent at once, before this was asked
        return _("not known yet")
    if step == form.VICTIM_AGE:
        options = form.AGE_BANDS.get(answers.get(form.VICTIM_CATEGORY) or form.CHILD, [])
    else:
        options = (form.OPTIONS.get(step, []) + form.RETIRED_OPTIONS.get(step, [])
                   + form.STORED_LABELS.get(step, []))
    for option, label in options:
        if option == value:
            return _(label)
    return "–" if value is None else str(value)


def question_text(step: str, answers: dict[str, Any], _: Translate) -> str:
    """The question, to the victim in person after "Saya korbannya", with a plain example for
    each SIMFONI-PPA word among its choices."""
    asked = QUESTIONS_TO_VICTIM.get(step) if form.speaks_to_victim(answers) else None
    if form.is_intake(answers):
        asked = QUESTIONS_TO_OFFICER.get(step)
    text = _(asked or QUESTIONS[step])
    examples = form.EXAMPLES.get(step, {})
    if examples:
        text += "\n" + "\n".join(
            f"• <b>{option_label(step, value, answers, _)}</b>: {_(example)}"
            for value, example in examples.items())
    return text


def _choices(view: DraftView, step: str, _: Translate) -> list[list[InlineKeyboardButton]]:
    """A question's choices: one column when they are few and long, else two columns."""
    values = form.option_values(step, view.answers)
    labels = [option_label(step, v, view.answers, _) for v in values]
    long = max((len(label) for label in labels), default=0) > 16
    width = 1 if long and len(values) <= 5 else 2
    return _rows([InlineKeyboardButton(label, callback_data=press(view, "choose", v, step))
                  for v, label in zip(values, labels, strict=True)], width)


def question(view: DraftView, _: Translate, regions: RegionDirectory, settings: Settings,
             page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The text and buttons for the draft's current step."""
    step = view.step
    if step == form.REVIEW:
        return review(view, _, regions)
    if step == form.CONSENT:  # who reads what, as the access table says
        text = "\n".join([*consent_lines(_, escape(settings.region.kabupaten_name)),
                          _(CONSENT_RIGHTS)])
        if settings.privacy.discreet:
            text += "\n" + _(DISCREET_NOTE)
        text += "\n" + _(CONSENT_QUESTION)
    else:
        text = question_text(step, view.answers, _)
    if view.practice:
        text = _("🧪 PRACTICE — not a real report") + "\n" + text
    if form.is_intake(view.answers):
        text = "<b>" + _(INTAKE_TITLE) + "</b>\n" + text
    buttons: list[list[InlineKeyboardButton]]
    if step == form.TYPES:
        chosen = set(view.answers.get("types_pending", []))
        toggles = [InlineKeyboardButton(("✅ " if v in chosen else "") + _(label),
                                        callback_data=press(view, "toggle", v))
                   for v, label in form.OPTIONS[step]]
        buttons = [*_rows(toggles, 2),
                   [InlineKeyboardButton(_("Done ✔"), callback_data=press(view, "done"))]]
    elif step in (form.KECAMATAN, form.VILLAGE):
        places = regions.kecamatan() if step == form.KECAMATAN \
            else regions.villages(view.answers.get(form.KECAMATAN) or "")
        buttons = _place_page(view, places, page)
    elif step == form.STORY:
        text, buttons = _story(view, text, _)
    else:
        buttons = _choices(view, step, _)
    if step in form.OPTIONAL:
        buttons.append([InlineKeyboardButton(_("Skip »"), callback_data=press(view, "skip"))])
    nav = _navigation(view, _)
    if nav and buttons and _is_pager(buttons[-1]):
        buttons[-1] += nav  # « Back beside ◀ ▶: the page keeps to six rows
    elif nav:
        buttons.append(nav)
    text += "\n\n<i>" + _("/batal to cancel") + "</i>"
    return text, InlineKeyboardMarkup(buttons)


def _story(view: DraftView, text: str,
           _: Translate) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The story question. Once something is saved, the next question's buttons come with it:
    pressing one of them finishes the story (no separate "Done")."""
    story = view.answers.get("story_pending") or view.answers.get(form.STORY)
    if not story or not (story["texts"] or story["media"]):
        return text, [[InlineKeyboardButton(_("Skip the story »"),
                                            callback_data=press(view, "done"))]]
    text += "\n\n✓ " + _("Saved so far: {texts} message(s), {files} file(s).").format(
        texts=len(story["texts"]), files=len(story["media"]))
    following = form.following_question(view.answers)
    if following != form.REVIEW and form.option_values(following, view.answers):
        text += "\n" + _("You may write more. If that is all, answer the next question:") \
            + "\n\n" + question_text(following, view.answers, _)
        buttons = _choices(view, following, _)
    else:
        buttons = [[InlineKeyboardButton(_("Done ✔"), callback_data=press(view, "done"))]]
    buttons.append([InlineKeyboardButton(_("Start the story again"),
                                         callback_data=press(view, "clear"))])
    return text, buttons


def _place_page(view: DraftView, places: list[Place],
                page: int) -> list[list[InlineKeyboardButton]]:
    """Kecamatan or villages in two columns; a long list in pages with ◀ ▶."""
    if len(places) <= PLACES_PER_PAGE:
        return _rows([InlineKeyboardButton(p.name, callback_data=press(view, "choose", p.code))
                      for p in places], 2)
    pages = -(-len(places) // PLACES_PER_PAGE)
    page = min(max(page, 0), pages - 1)
    shown = places[page * PLACES_PER_PAGE:(page + 1) * PLACES_PER_PAGE]
    rows = _rows([InlineKeyboardButton(p.name, callback_data=press(view, "choose", p.code))
                  for p in shown], 2)
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("◀", callback_data=press(view, "page", str(page - 1))))
    nav.append(InlineKeyboardButton(f"{page + 1}/{pages}",
                                    callback_data=press(view, "page", str(page))))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("▶", callback_data=press(view, "page", str(page + 1))))
    rows.append(nav)
    return rows


def _is_pager(row: list[InlineKeyboardButton]) -> bool:
    return any(str(button.callback_data or "").split("|")[3:4] == ["page"] for button in row)


def candidates(view: DraftView, codes: list[str], regions: RegionDirectory,
               _: Translate, *, near: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """"Did you mean …?" for a typed place name; the nearest villages for a shared location
    (``near``)."""
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
    text = _("Is it one of these villages near that location?") if near else _("Did you mean:")
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
    choice = form.victim_choice(answers)
    who = option_label(form.VICTIM_CATEGORY, choice, answers, _) if choice else ""
    victim = ", ".join(x for x in (who, age_text) if x)
    count = answers.get(form.VICTIM_COUNT)
    types = ", ".join(option_label(form.TYPES, t, answers, _)
                      for t in answers.get(form.TYPES) or [])
    village = regions.get(answers.get(form.VILLAGE))
    kecamatan = regions.get(answers.get(form.KECAMATAN))
    where = ", ".join(escape(p.name) for p in (village, kecamatan) if p)
    story = answers.get(form.STORY) or form.empty_story()
    contact = label(form.CONTACT)
    if answers.get(form.CONTACT) == form.YES and not form.is_intake(answers):
        phone = answers.get(form.PHONE)
        contact += "; " + (escape(phone) if phone else _("no phone number"))
        contact += "; " + label(form.SAFE_TIME)
    if form.is_intake(answers):
        came = _summary_line(_("Came in"), label(form.CHANNEL))
        phone = answers.get(form.PHONE)
        contact = escape(phone) if phone else _("no phone number")
    lines = [
        came if form.is_intake(answers) else _summary_line(_("Reporter"), label(form.ROLE)),
        _summary_line(_("Victim"), victim + (f" × {count}" if count and count > 1 else "")),
        _summary_line(_("Type"), types),
        _summary_line(_("Where"), where),
        _summary_line(_("Place"), label(form.PLACE)),
    ]
    landmark = [escape(answers[form.LANDMARK])] if answers.get(form.LANDMARK) else []
    if answers.get(form.LOCATION):
        landmark.append("📍 " + _("location shared"))
    if landmark:
        lines.append(_summary_line(_("Landmark"), "; ".join(landmark)))
    return [
        *lines,
        _summary_line(_("When"), label(form.WHEN)),
        _summary_line(_("Perpetrator"), label(form.PERPETRATOR)),
        _summary_line(_("Story"), _("{texts} message(s), {files} file(s)").format(
            texts=len(story["texts"]), files=len(story["media"]))),
        _summary_line(_("Contact"), contact),
    ]
    return lines if with_story else lines[:-2] + lines[-1:]


EDIT_LABELS = {
    form.ROLE: N_("Reporter"), form.VICTIM_CATEGORY: N_("Victim"), form.TYPES: N_("Type"),
    form.KECAMATAN: N_("Where"), form.PLACE: N_("Place"), form.WHEN: N_("When"),
    form.PERPETRATOR: N_("Perpetrator"), form.STORY: N_("Story"), form.CONTACT: N_("Contact"),
}


INTAKE_EDIT_LABELS = {
    form.CHANNEL: N_("Came in"), form.VICTIM_CATEGORY: N_("Victim"), form.TYPES: N_("Type"),
    form.KECAMATAN: N_("Where"), form.PLACE: N_("Place"), form.WHEN: N_("When"),
    form.PERPETRATOR: N_("Perpetrator"), form.STORY: N_("Story"),
    form.EXTRA: N_("Landmark, phone"),
}


def intake_review(view: DraftView, _: Translate,
                  regions: RegionDirectory) -> tuple[str, InlineKeyboardMarkup]:
    """An officer's record before it is saved: every answer, each editable, then Save."""
    lines = ["<b>" + _(INTAKE_TITLE) + "</b>", "<b>" + _("Please check the record") + "</b>"]
    if view.urgent:
        lines.append("⚠️ " + _("Marked urgent: the victim is in danger."))
    lines += summary_lines(view.answers, _, regions)
    lines.append("\n" + _("Saved, the case is routed like any report and you handle it."))
    edits = [InlineKeyboardButton("✏️ " + _(label), callback_data=press(view, "edit", section))
             for section, label in INTAKE_EDIT_LABELS.items()]
    buttons = [*_rows(edits, 3),
               [InlineKeyboardButton(_("Save the case ✔"), callback_data=press(view, "submit"))]]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


def review(view: DraftView, _: Translate,
           regions: RegionDirectory) -> tuple[str, InlineKeyboardMarkup]:
    if form.is_intake(view.answers):
        return intake_review(view, _, regions)
    lines = [("🧪 " + _("PRACTICE — not a real report")) if view.practice else "",
             "<b>" + _("Please check your report") + "</b>"]
    if view.urgent:
        lines.append("⚠️ " + _("Marked urgent: someone is in danger."))
    lines += summary_lines(view.answers, _, regions)
    lines.append("\n" + _("Press a button to change an answer, or Send."))
    if not view.answers.get(form.EXTRA):
        lines.append(_("To help the officer find the place or call you, press Add details."))
    edits = [InlineKeyboardButton("✏️ " + _(label), callback_data=press(view, "edit", section))
             for section, label in EDIT_LABELS.items()]
    buttons = [*_rows(edits, 3),
               [InlineKeyboardButton("➕ " + _("Add details"),
                                     callback_data=press(view, "edit", form.EXTRA))],
               [InlineKeyboardButton(_("Send ✉️"), callback_data=press(view, "submit"))]]
    return "\n".join(line for line in lines if line), InlineKeyboardMarkup(buttons)


def hotlines(settings: Settings, _: Translate) -> str:
    """The emergency numbers, the district's own first."""
    lines = ["🆘 <b>" + _("If someone is in danger, call now:") + "</b>"]
    ordered = sorted(settings.hotlines, key=lambda h: not h.district)
    lines += [f"• {escape(h.name)}: <b>{escape(h.number)}</b>" for h in ordered]
    return "\n".join(lines)


def send_now_offer(view: DraftView, settings: Settings,
                   _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """Danger, then "stop for now": nothing is sent unless they choose to send it now."""
    text = "\n".join([
        "<b>" + _("Nothing has been sent yet: nobody is alerted.") + "</b>",
        _("“Send now” alerts the officers of Kabupaten {kabupaten} at once, as urgent, with what "
          "you answered so far; they may write to you here. “Just keep it” keeps your answers "
          "for later and alerts nobody.").format(kabupaten=escape(settings.region.kabupaten_name)),
        "",
        hotlines(settings, _),
    ])
    markup = InlineKeyboardMarkup([[
        InlineKeyboardButton("🆘 " + _("Send now"), callback_data=press(view, "urgent")),
        InlineKeyboardButton(_("Just keep it"), callback_data=press(view, "keep")),
    ]])
    return text, markup


def share_phone_keyboard(_: Translate) -> list[list[KeyboardButton]]:
    return [[KeyboardButton(_("📞 Share my phone number"), request_contact=True)]]
