"""The case register's record of people and dates, as pure rules (no database, no bot).

A case holds several victims and several perpetrators, each with the SIMFONI-PPA fields of
``docs/SIMFONI.md``; who harmed whom is a link that carries the relation. This module says what
record a report through the bot gives (``people_from_report``: at least what the reporter told),
how the incident date is kept (a day, or only a month or a year), and what the old report form's
"Lembaga Pendidikan" becomes in SIMFONI-PPA terms (nothing, until an officer decides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.domain import form, simfoni

# ---- places ---------------------------------------------------------------------------------

# The report form offered "Lembaga Pendidikan" until it offered SIMFONI-PPA's six places. That
# value has no SIMFONI-PPA counterpart (docs/SIMFONI.md, "The case"): cases that hold it keep it,
# shown as it was chosen, and export it as not known (NA) until an officer picks the place.
LEGACY_PLACE = "lembaga_pendidikan"


def simfoni_place(code: str | None) -> str | None:
    """The SIMFONI-PPA place code of a stored place; None for not known and for the old value."""
    return code if code in simfoni.PLACES.codes() else None


# ---- the incident date ----------------------------------------------------------------------

DAY, MONTH, YEAR = "day", "month", "year"
PRECISIONS = (DAY, MONTH, YEAR)
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LOCAL_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")  # 14/02/2023, as Excel saves it
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class IncidentDate:
    """When it happened, as far as it is known: ``on`` is the day, or the first of the month or
    year when only that is known."""

    on: date
    precision: str = DAY

    def text(self) -> str:
        """``2023-02-14``, ``2023-02`` or ``2023``: how the register writes it."""
        if self.precision == YEAR:
            return f"{self.on.year:04d}"
        if self.precision == MONTH:
            return f"{self.on.year:04d}-{self.on.month:02d}"
        return self.on.isoformat()

    def latest(self) -> date:
        """The last day it may have been (to compare with the report date)."""
        if self.precision == YEAR:
            return date(self.on.year, 12, 31)
        if self.precision == MONTH:
            following = date(self.on.year + self.on.month // 12, self.on.month % 12 + 1, 1)
            return following - timedelta(days=1)
        return self.on


class NotADate(ValueError):
    """Text that is no date of the calendar (a wrong shape, or 30 February)."""


def parse_day(text: str) -> date:
    """A day as ``YYYY-MM-DD`` (the register's form) or ``DD/MM/YYYY`` (what a spreadsheet in
    Indonesian saves it as)."""
    text = text.strip()
    if match := _ISO_DAY.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _LOCAL_DAY.match(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise NotADate(text)
    try:
        return date(year, month, day)
    except ValueError:
        raise NotADate(text) from None


def parse_incident(text: str) -> IncidentDate:
    """A day (as ``parse_day``), a month ``YYYY-MM`` or a year ``YYYY``."""
    text = text.strip()
    try:
        if match := _MONTH.match(text):
            return IncidentDate(date(int(match.group(1)), int(match.group(2)), 1), MONTH)
        if match := _YEAR.match(text):
            return IncidentDate(date(int(match.group(1)), 1, 1), YEAR)
    except ValueError:
        raise NotADate(text) from None
    return IncidentDate(parse_day(text), DAY)


def incident_from_report(occurred: str | None, reported_on: date) -> IncidentDate | None:
    """What the report form's "when" says of the date: "today" is the day of the report; "this
    month" its month; "this week" its month when the whole week lies in it; the rest (longer ago,
    still happening) leaves the date to the officer."""
    if occurred == "today":
        return IncidentDate(reported_on, DAY)
    if occurred == "month" or (occurred == "week" and reported_on.day >= 7):
        return IncidentDate(reported_on.replace(day=1), MONTH)
    return None


# ---- people ---------------------------------------------------------------------------------

@dataclass
class VictimRecord:
    number: int
    sex: str | None = None
    age: int | None = None
    age_band: str | None = None
    is_child: bool | None = None
    violence: list[str] = field(default_factory=list)
    education: str | None = None
    occupation: str | None = None
    marital_status: str | None = None
    disability: str | None = None
    services: list[str] = field(default_factory=list)

    def columns(self) -> dict[str, Any]:
        return {"number": self.number, "sex": self.sex, "age": self.age,
                "age_band": self.age_band, "is_child": self.is_child,
                "violence": list(self.violence), "education": self.education,
                "occupation": self.occupation, "marital_status": self.marital_status,
                "disability": self.disability, "services": list(self.services)}


@dataclass
class PerpetratorRecord:
    number: int
    sex: str | None = None
    age: int | None = None

    def columns(self) -> dict[str, Any]:
        return {"number": self.number, "sex": self.sex, "age": self.age}


@dataclass
class People:
    """The people of a case; ``links`` are (victim number, perpetrator number, relation)."""

    victims: list[VictimRecord]
    perpetrators: list[PerpetratorRecord]
    links: list[tuple[int, int, str | None]]


UNKNOWN_RELATION = "tidak_tahu"  # the report form's "Unknown": stored as not known


def relation_code(answer: str | None) -> str | None:
    return answer if answer in simfoni.RELATIONS.codes() else None


def people_from_report(answers: dict[str, Any]) -> People:
    """The victims and perpetrator a report through the bot tells of.

    The form describes one victim (category, sex for a child, age or age band) and how many there
    are ("4 or more" counts 4): the first victim gets the description, the others what is known of
    all of them (a woman is female and an adult; a child is under 18). Every victim suffered the
    forms of violence reported. One perpetrator, of unknown sex and age, with the reported
    relation to each victim."""
    category = answers.get(form.VICTIM_CATEGORY)
    is_child = {form.CHILD: True, form.WOMAN: False}.get(category or "")
    sex = "f" if category == form.WOMAN else answers.get(form.VICTIM_SEX)
    if sex not in ("f", "m"):  # "unknown": a report sent at once, before it was asked
        sex = None
    age = answers.get(form.VICTIM_AGE) or {}
    count = max(1, int(answers.get(form.VICTIM_COUNT) or 1))
    violence = [code for code in simfoni.VIOLENCE_FORMS.codes()
                if code in set(answers.get(form.TYPES) or [])]
    victims = [VictimRecord(number=1, sex=sex, age=age.get("age"), age_band=age.get("band"),
                            is_child=is_child, violence=violence)]
    victims += [VictimRecord(number=n, sex="f" if category == form.WOMAN else None,
                             is_child=is_child, violence=list(violence))
                for n in range(2, count + 1)]
    relation = relation_code(answers.get(form.PERPETRATOR))
    return People(victims, [PerpetratorRecord(number=1)],
                  [(victim.number, 1, relation) for victim in victims])


def is_child_of(age: int | None, age_band: str | None) -> bool | None:
    if age is not None:
        return simfoni.is_child(age)
    if age_band is not None:
        return age_band in ("0-5", "6-12", "13-17")
    return None


def union_in_order(values: simfoni.CategorySet, lists: Iterable[Sequence[str]]) -> list[str]:
    found = {code for codes in lists for code in codes}
    return [code for code in values.codes() if code in found]
