"""The report form of DESIGN §3: its questions, their options, order and rules. Pure data and logic.

Answers are a dict keyed by step. A step whose answer is present (even ``None`` for "skipped") is
answered; the next question is always the first applicable, unanswered step after the current one,
which also makes editing from the review page return there by itself.
"""

from __future__ import annotations

import re
from typing import Any

from bot.i18n import N_

DANGER = "danger"
DANGER_GO = "danger_go"
CONSENT = "consent"
ROLE = "role"
VICTIM_CATEGORY = "vcat"
VICTIM_SEX = "vsex"
VICTIM_AGE = "vage"
VICTIM_COUNT = "vcount"
TYPES = "types"
KECAMATAN = "kec"
VILLAGE = "vil"
PLACE = "place"
LANDMARK = "landmark"
WHEN = "when"
PERPETRATOR = "perp"
STORY = "story"
CONTACT = "contact"
PHONE = "phone"
SAFE_TIME = "safetime"
REVIEW = "review"

ORDER = [DANGER, DANGER_GO, CONSENT, ROLE, VICTIM_CATEGORY, VICTIM_SEX, VICTIM_AGE, VICTIM_COUNT,
         TYPES, KECAMATAN, VILLAGE, PLACE, LANDMARK, WHEN, PERPETRATOR, STORY, CONTACT, PHONE,
         SAFE_TIME]

YES, NO = "yes", "no"
CHILD, WOMAN = "child", "woman"
SEXUAL, TRAFFICKING = "seksual", "tppo"
SKIPPED = None

OPTIONS: dict[str, list[tuple[str, str]]] = {
    DANGER: [(YES, N_("Yes, someone is in danger")), (NO, N_("No"))],
    DANGER_GO: [("go", N_("Continue the report")), ("stop", N_("Stop for now"))],
    CONSENT: [("agree", N_("I agree, continue")), ("disagree", N_("I do not agree"))],
    ROLE: [
        ("victim", N_("I am the victim")),
        ("family", N_("Family of the victim")),
        ("witness", N_("Neighbour or witness")),
        ("activist", N_("PAPTBM activist")),
        ("other", N_("Other")),
    ],
    VICTIM_CATEGORY: [(WOMAN, N_("A woman (18 or older)")), (CHILD, N_("A child (under 18)"))],
    VICTIM_SEX: [("f", N_("Girl")), ("m", N_("Boy"))],
    VICTIM_COUNT: [("1", "1"), ("2", "2"), ("3", "3"), ("4", N_("4 or more"))],
    TYPES: [
        ("fisik", N_("Physical")),
        ("psikis", N_("Psychological")),
        (SEXUAL, N_("Sexual")),
        ("eksploitasi", N_("Exploitation")),
        (TRAFFICKING, N_("Trafficking (TPPO)")),
        ("penelantaran", N_("Neglect")),
        ("lainnya", N_("Other")),
    ],
    PLACE: [
        ("rumah_tangga", N_("Household")),
        ("tempat_kerja", N_("Workplace")),
        ("sekolah", N_("School")),
        ("fasilitas_umum", N_("Public place")),
        ("lembaga_pendidikan_kilat", N_("Short-course education institution")),
        ("lainnya", N_("Other")),
    ],
    WHEN: [
        ("today", N_("Today")),
        ("week", N_("This week")),
        ("month", N_("This month")),
        ("longer", N_("Longer ago")),
        ("ongoing", N_("Still happening")),
    ],
    PERPETRATOR: [
        ("orang_tua", N_("Parent")),
        ("keluarga", N_("Family / relative")),
        ("suami_istri", N_("Husband / wife")),
        ("pacar_teman", N_("Boyfriend / girlfriend / friend")),
        ("tetangga", N_("Neighbour")),
        ("guru", N_("Teacher")),
        ("majikan", N_("Employer")),
        ("rekan_kerja", N_("Co-worker")),
        ("lainnya", N_("Other")),
        ("tidak_tahu", N_("Unknown")),
    ],
    CONTACT: [(YES, N_("Yes, through this bot")), (NO, N_("No, do not contact me"))],
    SAFE_TIME: [
        ("any", N_("Any time")),
        ("morning", N_("Morning (08–12)")),
        ("afternoon", N_("Afternoon (12–17)")),
        ("evening", N_("Evening (17–21)")),
    ],
}

# Answers the form no longer offers but that stored cases may hold, with the words they are shown
# with: "Lembaga Pendidikan" became SIMFONI-PPA's "Lembaga Pendidikan Kilat" (bot/domain/register).
RETIRED_OPTIONS: dict[str, list[tuple[str, str]]] = {
    PLACE: [("lembaga_pendidikan", N_("Educational institution (earlier choice)"))],
}

AGE_BANDS: dict[str, list[tuple[str, str]]] = {
    CHILD: [("0-5", N_("0–5 years")), ("6-12", N_("6–12 years")), ("13-17", N_("13–17 years"))],
    WOMAN: [("18-24", N_("18–24 years")), ("25-44", N_("25–44 years")),
            ("45-59", N_("45–59 years")), ("60+", N_("60 or older"))],
}

# Steps that may be answered "skip" (stored as None).
OPTIONAL = {LANDMARK, PHONE}
# Changing one answer makes these answers meaningless.
DEPENDENTS = {VICTIM_CATEGORY: [VICTIM_SEX, VICTIM_AGE], KECAMATAN: [VILLAGE],
              CONTACT: [PHONE, SAFE_TIME], DANGER: [DANGER_GO]}
# What each "edit" button on the review page asks again.
SECTIONS: dict[str, list[str]] = {
    ROLE: [ROLE],
    VICTIM_CATEGORY: [VICTIM_CATEGORY, VICTIM_SEX, VICTIM_AGE, VICTIM_COUNT],
    TYPES: [TYPES],
    KECAMATAN: [KECAMATAN, VILLAGE],
    PLACE: [PLACE],
    LANDMARK: [LANDMARK],
    WHEN: [WHEN],
    PERPETRATOR: [PERPETRATOR],
    STORY: [STORY],
    CONTACT: [CONTACT, PHONE, SAFE_TIME],
}
MAX_VICTIMS = 99
MAX_LANDMARK_CHARS = 200
PHONE_DIGITS = (8, 15)


class InvalidAnswer(ValueError):
    """An answer that does not fit its question; ``reason`` names a message for the reporter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def applicable(step: str, answers: dict[str, Any]) -> bool:
    if step == DANGER_GO:
        return answers.get(DANGER) == YES
    if step == VICTIM_SEX:
        return answers.get(VICTIM_CATEGORY) == CHILD
    if step in (PHONE, SAFE_TIME):
        return answers.get(CONTACT) == YES
    return True


def next_step(after: str | None, answers: dict[str, Any]) -> str:
    start = 0 if after is None or after == REVIEW else ORDER.index(after) + 1
    for step in ORDER[start:]:
        if applicable(step, answers) and step not in answers:
            return step
    return REVIEW


def previous_step(current: str, answers: dict[str, Any]) -> str | None:
    index = len(ORDER) if current == REVIEW else ORDER.index(current)
    for step in reversed(ORDER[:index]):
        if applicable(step, answers):
            return step
    return None


def option_values(step: str, answers: dict[str, Any]) -> list[str]:
    if step == VICTIM_AGE:
        return [v for v, _ in AGE_BANDS[answers.get(VICTIM_CATEGORY) or CHILD]]
    return [v for v, _ in OPTIONS.get(step, [])]


def age_band(category: str, age: int) -> str:
    for value, _ in AGE_BANDS[category]:
        low, _, high = value.partition("-")
        if value.endswith("+") and age >= int(value[:-1]):
            return value
        if high and int(low) <= age <= int(high):
            return value
    raise InvalidAnswer("age_out_of_range")


_AGE = re.compile(r"^(\d{1,3})\s*(tahun|thn|th|years?|yrs?|y\.?o\.?)?\.?$", re.IGNORECASE)
_COUNT = re.compile(r"^(\d{1,3})\s*(orang|org|korban|anak|people|persons?|victims?)?\.?$",
                    re.IGNORECASE)


def parse_age(text: str, category: str) -> dict[str, Any]:
    """A typed age ("15", "15 tahun"): a child is 0–17, a woman 18–120."""
    match = _AGE.match(text.strip())
    if match is None:
        raise InvalidAnswer("not_a_number")
    age = int(match.group(1))
    low, high = (0, 17) if category == CHILD else (18, 120)
    if not low <= age <= high:
        raise InvalidAnswer("age_out_of_range")
    return {"band": age_band(category, age), "age": age}


def parse_count(text: str) -> int:
    """A typed number of victims ("2", "2 orang"), 1–99."""
    match = _COUNT.match(text.strip())
    if match is None or not 1 <= int(match.group(1)) <= MAX_VICTIMS:
        raise InvalidAnswer("not_a_count")
    return int(match.group(1))


def parse_phone(text: str) -> str:
    digits = "".join(ch for ch in text if ch.isdigit())
    if not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1] or any(
        ch not in "0123456789+-() ." for ch in text.strip()
    ):
        raise InvalidAnswer("not_a_phone")
    return ("+" if text.strip().startswith("+") else "") + digits


def validate_choice(step: str, value: str, answers: dict[str, Any]) -> Any:
    """A button value for ``step``; age bands are stored with an empty exact age."""
    if value not in option_values(step, answers):
        raise InvalidAnswer("not_an_option")
    if step == VICTIM_AGE:
        return {"band": value, "age": None}
    if step == VICTIM_COUNT:
        return int(value)
    return value


def priority(answers: dict[str, Any], urgent: bool) -> str:
    """urgent when someone is in danger; high for sexual violence, trafficking or a child."""
    if urgent:
        return "urgent"
    types = set(answers.get(TYPES) or [])
    if types & {SEXUAL, TRAFFICKING} or answers.get(VICTIM_CATEGORY) == CHILD:
        return "high"
    return "normal"


def empty_story() -> dict[str, list[Any]]:
    return {"texts": [], "media": []}


# ---- danger, then "stop for now": "Send now" --------------------------------------------------
# A reporter in danger who stops after the first question may send at once what they answered
# so far: an urgent case, routed to the kabupaten. What they did not answer is "unknown"; a place
# not given is the whole kabupaten (or the kecamatan, when only that was chosen).

UNKNOWN = "unknown"


def answered_so_far(answers: dict[str, Any], kabupaten_code: str) -> dict[str, Any]:
    """The answers of an unfinished report, made whole for an urgent case sent at once."""
    whole = {step: value for step, value in answers.items() if value is not None}
    kecamatan = whole.get(KECAMATAN) or kabupaten_code
    whole.setdefault(KECAMATAN, kecamatan)
    whole.setdefault(VILLAGE, kecamatan)
    for step in (ROLE, VICTIM_CATEGORY, PLACE, WHEN, PERPETRATOR):
        whole.setdefault(step, UNKNOWN)
    whole.setdefault(VICTIM_SEX, "f" if whole[VICTIM_CATEGORY] == WOMAN else UNKNOWN)
    whole.setdefault(VICTIM_AGE, {"band": UNKNOWN, "age": None})
    whole.setdefault(VICTIM_COUNT, 1)
    whole.setdefault(TYPES, [])
    whole.setdefault(STORY, answers.get("story_pending") or empty_story())
    # They asked for help now: they may be written to here, at any time, unless they said no.
    whole.setdefault(CONTACT, YES)
    return whole
