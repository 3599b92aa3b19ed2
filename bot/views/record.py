"""How **Lengkapi data** looks: the SIMFONI-PPA record of a case, and one question per field.

Values are shown with their SIMFONI-PPA labels (the words of the register the district fills);
field names and buttons are gettext texts.
"""

from __future__ import annotations

import calendar
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callback_data import CasePress, RecordPress
from bot.domain import simfoni
from bot.i18n import N_, Translate
from bot.services.register_edit import (
    CASE,
    PERPETRATOR_FIELDS,
    RELATION,
    SEVERAL,
    UNKNOWN,
    VICTIM_FIELDS,
    Record,
    chosen,
    completeness,
    fields_of,
    value_of,
)

FIELD_NAMES = {
    "sex": N_("Sex"), "age": N_("Age group"), "vio": N_("Forms of violence suffered"),
    "dis": N_("Disability"), "edu": N_("Education"),
    "occ": N_("Occupation"), "mar": N_("Marital status"), "date": N_("Incident date"),
    "place": N_("Place of the incident"),
}
YEARS_BACK = 6  # the incident date's year buttons: this year and the five before


def mark(filled: int, total: int, _: Translate) -> str:
    """The completeness mark, on the card and in /kasus."""
    return _("SIMFONI data: {filled}/{total}").format(filled=filled, total=total)


def field_name(name: str, _: Translate) -> str:
    if name.startswith(RELATION):
        return _("Relation to victim {number}").format(number=name[len(RELATION):])
    return _(FIELD_NAMES[name])


def target_name(target: str, _: Translate) -> str:
    if target == CASE:
        return _("The case")
    if target.startswith("v"):
        return _("Victim {number}").format(number=target[1:])
    return _("Perpetrator {number}").format(number=target[1:])


def shown(target: str, name: str, value: str | None, _: Translate) -> str:
    if value is None:
        return "–"
    if target == CASE and name == "date":
        return value
    values = values_for(target, name)
    if values is not None and name in SEVERAL:
        return ", ".join(values.label(code) for code in chosen(value))
    return values.label(value) if values is not None else value


def values_for(target: str, name: str) -> simfoni.CategorySet | None:
    if target == CASE:
        return simfoni.PLACES if name == "place" else None
    if target.startswith("v"):
        return VICTIM_FIELDS[name]
    return simfoni.RELATIONS if name.startswith(RELATION) else PERPETRATOR_FIELDS[name]


def _press(record: Record, target: str = "", name: str = "", value: str = "") -> str:
    return RecordPress(record.case.public_id, target, name, value).pack()


def overview(record: Record, _: Translate) -> tuple[str, InlineKeyboardMarkup]:
    """The record: every field with its value, a button per person and for the case."""
    filled, total = completeness(record)
    lines = ["🧾 <b>" + _("Complete data · {reference}").format(
        reference=record.case.reference) + "</b>", mark(filled, total, _)]
    targets = [CASE, *(f"v{v.number}" for v in record.victims),
               *(f"p{p.number}" for p in record.perpetrators)]
    for target in targets:
        lines.append("<b>" + target_name(target, _) + "</b>")
        for name in fields_of(record, target):
            lines.append(f"  {field_name(name, _)}: "
                         f"{shown(target, name, value_of(record, target, name), _)}")
    lines.append("<i>" + _("Choose what to fill; each answer is saved at once.") + "</i>")
    buttons = [InlineKeyboardButton(target_name(t, _), callback_data=_press(
        record, t, fields_of(record, t)[0])) for t in targets]
    rows = [buttons[i:i + 3] for i in range(0, len(buttons), 3)]
    rows.append([InlineKeyboardButton("➕ " + _("Victim"), callback_data=_press(
        record, "", "add", "v")), InlineKeyboardButton("➕ " + _("Perpetrator"),
                                                        callback_data=_press(record, "", "add",
                                                                             "p"))])
    rows.append([InlineKeyboardButton("« " + _("Back to the case"), callback_data=CasePress(
        record.case.public_id, "card").pack())])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def question(record: Record, target: str, name: str, _: Translate, *,
             today: date, value: str = "") -> tuple[str, InlineKeyboardMarkup]:
    """One field: its choices, "Not known", and the way on."""
    now = value_of(record, target, name)
    head = "🧾 " + record.case.reference + " · <b>" + target_name(target, _) + "</b>"
    text = "\n".join([head, field_name(name, _) + "?",
                      _("Now: {value}").format(value=shown(target, name, now, _))])
    if target == CASE and name == "date":
        choices = _date_choices(value, today, _)
    else:
        values = values_for(target, name)
        assert values is not None
        ticked = chosen(now) if name in SEVERAL else []
        choices = [(("✓ " if item.code in ticked else "") + item.simfoni, item.code)
                   for item in values.items]
    if name in SEVERAL:
        text += "\n<i>" + _("Tick every form this victim suffered; press again to untick.") \
            + "</i>"
    buttons = [InlineKeyboardButton(label, callback_data=_press(record, target, name, code))
               for label, code in choices]
    width = 3 if len(buttons) > 8 else 2
    rows = [buttons[i:i + width] for i in range(0, len(buttons), width)]
    if not value:
        rows.append([InlineKeyboardButton(_("Not known"), callback_data=_press(
            record, target, name, UNKNOWN))])
    following = next_field(record, target, name)
    onwards = _("Next »") if name in SEVERAL else _("Skip »")
    rows.append([InlineKeyboardButton(onwards, callback_data=_press(
        record, target, following) if following else _press(record)),
        InlineKeyboardButton("🧾 " + _("All data"), callback_data=_press(record))])
    return text, InlineKeyboardMarkup(rows)


def _date_choices(value: str, today: date, _: Translate) -> list[tuple[str, str]]:
    """Year, then month, then day; each is saved as chosen (only the year, or the month, is a
    date SIMFONI-PPA takes too)."""
    if not value:
        return [(str(year), str(year)) for year in range(today.year, today.year - YEARS_BACK, -1)]
    if len(value) == 4:
        year = int(value)
        return [(f"{month:02d}", f"{year}-{month:02d}") for month in range(1, 13)
                if date(year, month, 1) <= today]
    year, month = (int(part) for part in value.split("-")[:2])
    days = calendar.monthrange(year, month)[1]
    return [(str(day), f"{year}-{month:02d}-{day:02d}") for day in range(1, days + 1)
            if date(year, month, day) <= today]


def next_field(record: Record, target: str, name: str) -> str | None:
    names = fields_of(record, target)
    index = names.index(name) if name in names else len(names)
    return names[index + 1] if index + 1 < len(names) else None
