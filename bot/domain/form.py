"""The report form of DESIGN §3: its questions, their options, order and rules. Pure data and logic.

Answers are a dict keyed by step. A step whose answer is present (even ``None`` for "skipped") is
answered; the next question is always the first applicable, unanswered step after the current one,
which also makes editing from the review page return there by itself.

The form is written for a reporter with little schooling on a small phone: the victim's category
and sex are one question, the landmark and the phone number are asked only when the reporter
chooses "Tambah keterangan" on the review page, and typed answers are understood as people write
them ("kira2 8 thn", "delapan", "msh kecil", "gak", "om saya") by ``understand``, ``parse_age`` and
``parse_count``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.i18n import LANGUAGES, N_, translator

DANGER = "danger"
DANGER_GO = "danger_go"
CONSENT = "consent"
ROLE = "role"
VICTIM_CATEGORY = "vcat"  # one question: girl, boy or woman (stores the category and the sex)
VICTIM_SEX = "vsex"  # an answer, not a question: set with the category
VICTIM_AGE = "vage"
VICTIM_COUNT = "vcount"
TYPES = "types"
KECAMATAN = "kec"
VILLAGE = "vil"
PLACE = "place"
WHEN = "when"
PERPETRATOR = "perp"
STORY = "story"
CONTACT = "contact"
SAFE_TIME = "safetime"
LANDMARK = "landmark"  # asked only after "Tambah keterangan" (``EXTRA``)
PHONE = "phone"  # likewise, and only when the reporter may be contacted
REVIEW = "review"
EXTRA = "extra"  # the review's "Tambah keterangan": an answer (True), and an edit section
LOCATION = "location"  # a location the reporter shared: {"lat": …, "lon": …}; kept encrypted
# The officer intake mode (``/kasus_baru``): an officer records a case that came another way.
CHANNEL = "channel"  # how it came in (bot/domain/simfoni.OFFICER_CHANNELS); intake only
MODE = "mode"  # an answer, not a question: ``INTAKE`` for an officer's record
INTAKE = "intake"

ORDER = [DANGER, DANGER_GO, CONSENT, ROLE, VICTIM_CATEGORY, VICTIM_AGE, VICTIM_COUNT,
         TYPES, KECAMATAN, VILLAGE, PLACE, WHEN, PERPETRATOR, STORY, CONTACT, SAFE_TIME,
         LANDMARK, PHONE]
# An officer recording a case on someone's behalf: how it came in first; no consent, no
# reporter's role, no contact through the bot (there is no reporter in the bot); whether the
# victim is in danger marks it urgent; a contact number for the victim and a landmark are
# asked outright (both may be skipped).
INTAKE_ORDER = [CHANNEL, DANGER, VICTIM_CATEGORY, VICTIM_AGE, VICTIM_COUNT, TYPES, KECAMATAN,
                VILLAGE, PLACE, WHEN, PERPETRATOR, STORY, LANDMARK, PHONE]
STEPS = [*ORDER, CHANNEL]  # every question of either mode
# Every key a draft's answers may hold besides the steps (the pending parts of multi-part answers
# included).
ANSWER_KEYS = {*STEPS, VICTIM_SEX, EXTRA, LOCATION, MODE, "types_pending", "story_pending"}

YES, NO = "yes", "no"
CHILD, WOMAN = "child", "woman"
GIRL, BOY = "girl", "boy"
SEXUAL, TRAFFICKING = "seksual", "tppo"
SKIPPED = None
AGE_UNKNOWN = "unknown"  # the age question's "Belum tahu": stored as band None, age None
VICTIM_SELF = "victim"  # the role "Saya korbannya": the questions then speak to "Anda"

OPTIONS: dict[str, list[tuple[str, str]]] = {
    DANGER: [(YES, N_("Yes, someone is in danger")), (NO, N_("No"))],
    DANGER_GO: [("go", N_("Continue the report")), ("stop", N_("Stop for now"))],
    CONSENT: [("agree", N_("I agree, continue")), ("disagree", N_("I do not agree"))],
    ROLE: [
        (VICTIM_SELF, N_("I am the victim")),
        ("family", N_("Family of the victim")),
        ("witness", N_("Neighbour or witness")),
        ("activist", N_("PAPTBM activist")),
        ("other", N_("Other")),
    ],
    VICTIM_CATEGORY: [(GIRL, N_("Girl (under 18)")), (BOY, N_("Boy (under 18)")),
                      (WOMAN, N_("Adult woman (18 or older)"))],
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
        ("pacar_teman", N_("Partner / friend")),
        ("tetangga", N_("Neighbour")),
        ("guru", N_("Teacher")),
        ("majikan", N_("Employer")),
        ("rekan_kerja", N_("Co-worker")),
        ("lainnya", N_("Other")),
        ("tidak_tahu", N_("Unknown")),
    ],
    CONTACT: [(YES, N_("Yes, through this bot")), (NO, N_("No, do not contact me"))],
    CHANNEL: [
        ("datang_langsung", N_("Walk-in")),
        ("telepon", N_("Telephone")),
        ("rujukan_sapa129", N_("Referred by SAPA 129")),
        ("rujukan_lembaga_lain", N_("Referred by another agency")),
        ("penjangkauan", N_("Outreach")),
        ("surat", N_("Letter")),
    ],
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

# One plain example for every SIMFONI-PPA word the reporter meets, shown under the question.
EXAMPLES: dict[str, dict[str, str]] = {
    TYPES: {
        "fisik": N_("hit, kicked, hurt"),
        "psikis": N_("insulted, threatened, shouted at"),
        SEXUAL: N_("touched, forced into sex"),
        "eksploitasi": N_("forced to work, money taken"),
        TRAFFICKING: N_("taken away or sold to work"),
        "penelantaran": N_("not fed, not looked after"),
    },
    PLACE: {
        "rumah_tangga": N_("at home"),
        "tempat_kerja": N_("farm, shop, office"),
        "fasilitas_umum": N_("road, market, river"),
        "lembaga_pendidikan_kilat": N_("course, training, short pesantren"),
    },
    PERPETRATOR: {
        "orang_tua": N_("father, mother, also step-parents"),
        "keluarga": N_("uncle, brother, grandfather, cousin"),
    },
}

# How stored answers are named where the question's buttons say something else: the victim
# question's three choices are stored as a category and a sex.
STORED_LABELS: dict[str, list[tuple[str, str]]] = {
    VICTIM_CATEGORY: [(WOMAN, N_("A woman (18 or older)")), (CHILD, N_("A child (under 18)"))],
    VICTIM_SEX: [("f", N_("Girl")), ("m", N_("Boy"))],
}
VICTIMS: dict[str, tuple[str, str]] = {GIRL: (CHILD, "f"), BOY: (CHILD, "m"), WOMAN: (WOMAN, "f")}

AGE_BANDS: dict[str, list[tuple[str, str]]] = {
    CHILD: [("0-5", N_("0–5 years")), ("6-12", N_("6–12 years")), ("13-17", N_("13–17 years"))],
    WOMAN: [("18-24", N_("18–24 years")), ("25-44", N_("25–44 years")),
            ("45-59", N_("45–59 years")), ("60+", N_("60 or older"))],
}
AGE_UNKNOWN_LABEL = N_("Not sure")

# Steps that may be answered "skip" (stored as None).
OPTIONAL = {LANDMARK, PHONE}
# Steps where a shared location is taken (kept for the outreach visit).
TAKES_LOCATION = {KECAMATAN, VILLAGE, LANDMARK}
# Changing one answer makes these answers meaningless.
DEPENDENTS = {VICTIM_CATEGORY: [VICTIM_AGE], KECAMATAN: [VILLAGE],
              CONTACT: [PHONE, SAFE_TIME], DANGER: [DANGER_GO]}
# What each "edit" button on the review page asks again.
SECTIONS: dict[str, list[str]] = {
    ROLE: [ROLE],
    VICTIM_CATEGORY: [VICTIM_CATEGORY, VICTIM_SEX, VICTIM_AGE, VICTIM_COUNT],
    TYPES: [TYPES],
    KECAMATAN: [KECAMATAN, VILLAGE],
    PLACE: [PLACE],
    WHEN: [WHEN],
    PERPETRATOR: [PERPETRATOR],
    STORY: [STORY],
    CONTACT: [CONTACT, SAFE_TIME],
    EXTRA: [LANDMARK, PHONE],  # "Tambah keterangan"
}
# What an officer's review (``/kasus_baru``) asks again besides those: how the case came in.
INTAKE_ONLY_SECTIONS: dict[str, list[str]] = {CHANNEL: [CHANNEL]}
# The edit buttons of an officer's review page, in order.
INTAKE_SECTIONS = [CHANNEL, VICTIM_CATEGORY, TYPES, KECAMATAN, PLACE, WHEN, PERPETRATOR, STORY,
                   EXTRA]
MAX_VICTIMS = 99
MAX_LANDMARK_CHARS = 200
PHONE_DIGITS = (8, 15)
CHILD_AGES = (0, 17)
WOMAN_AGES = (18, 120)


class Invalid(StrEnum):
    """Why an answer was not taken; each has its words for the reporter
    (``bot/views/report.py``, ``REASONS``)."""

    USE_BUTTONS = "use_buttons"
    NOT_AN_OPTION = "not_an_option"
    NOT_A_NUMBER = "not_a_number"
    AGE_OUT_OF_RANGE = "age_out_of_range"
    NOT_A_COUNT = "not_a_count"
    NOT_A_PHONE = "not_a_phone"
    TOO_LONG = "too_long"
    TOO_LONG_LANDMARK = "too_long_landmark"
    STORY_FULL = "story_full"
    TOO_MANY_FILES = "too_many_files"
    FILE_TOO_BIG = "file_too_big"
    CHOOSE_AT_LEAST_ONE = "choose_at_least_one"
    PLACE_NOT_FOUND = "place_not_found"
    EMPTY = "empty"
    INCOMPLETE = "incomplete"
    UNSUPPORTED = "unsupported"
    EDITED = "edited"


@dataclass
class DraftView:
    """A draft as the reporter is shown it: the question it is at and the answers so far."""

    id: int
    nonce: str
    step: str
    answers: dict[str, Any]
    urgent: bool
    editing: bool
    practice: bool


class InvalidAnswer(ValueError):
    """An answer that does not fit its question; ``reason`` names a message for the reporter."""

    def __init__(self, reason: Invalid) -> None:
        super().__init__(reason)
        self.reason = reason


def is_intake(answers: dict[str, Any]) -> bool:
    """An officer's record of a case that came another way (``/kasus_baru``)."""
    return answers.get(MODE) == INTAKE


def order_of(answers: dict[str, Any]) -> list[str]:
    return INTAKE_ORDER if is_intake(answers) else ORDER


def intake_answers() -> dict[str, Any]:
    """The answers an officer's record starts with."""
    return {MODE: INTAKE}


def applicable(step: str, answers: dict[str, Any]) -> bool:
    if is_intake(answers):
        return step in INTAKE_ORDER
    if step == CHANNEL:
        return False
    if step == DANGER_GO:
        return answers.get(DANGER) == YES
    if step == SAFE_TIME:
        return answers.get(CONTACT) == YES
    if step == LANDMARK:
        return answers.get(EXTRA) is True
    if step == PHONE:
        return answers.get(EXTRA) is True and answers.get(CONTACT) == YES
    return True


def next_step(after: str | None, answers: dict[str, Any]) -> str:
    order = order_of(answers)
    start = 0 if after is None or after == REVIEW or after not in order \
        else order.index(after) + 1
    for step in order[start:]:
        if applicable(step, answers) and step not in answers:
            return step
    return REVIEW


def previous_step(current: str, answers: dict[str, Any]) -> str | None:
    order = order_of(answers)
    index = len(order) if current == REVIEW or current not in order else order.index(current)
    for step in reversed(order[:index]):
        if applicable(step, answers):
            return step
    return None


def speaks_to_victim(answers: dict[str, Any]) -> bool:
    """After "Saya korbannya" the questions speak to the reporter ("Anda"); never in an
    officer's record."""
    return answers.get(ROLE) == VICTIM_SELF and not is_intake(answers)


def option_values(step: str, answers: dict[str, Any]) -> list[str]:
    if step == VICTIM_AGE:
        return [v for v, _ in AGE_BANDS[answers.get(VICTIM_CATEGORY) or CHILD]] + [AGE_UNKNOWN]
    return [v for v, _ in OPTIONS.get(step, [])]


def victim_choice(answers: dict[str, Any]) -> str | None:
    """The victim question's choice (girl, boy, woman) that the stored answers stand for."""
    pair = (answers.get(VICTIM_CATEGORY), answers.get(VICTIM_SEX))
    for choice, stored in VICTIMS.items():
        if stored == pair:
            return choice
    return None


def answer(answers: dict[str, Any], step: str, value: Any) -> None:
    """Store ``value`` for ``step``; an answer that changed drops the answers that depended on it.
    The victim question stores the category and the sex."""
    if step == VICTIM_CATEGORY:
        category, sex = VICTIMS[value]
        if answers.get(VICTIM_CATEGORY, ...) != category:
            for dependent in DEPENDENTS[VICTIM_CATEGORY]:
                answers.pop(dependent, None)
        answers[VICTIM_CATEGORY] = category
        answers[VICTIM_SEX] = sex
        return
    if answers.get(step, ...) != value:
        for dependent in DEPENDENTS.get(step, []):
            answers.pop(dependent, None)
    answers[step] = value


def age_band(category: str, age: int) -> str:
    for value, _ in AGE_BANDS[category]:
        low, _, high = value.partition("-")
        if value.endswith("+") and age >= int(value[:-1]):
            return value
        if high and int(low) <= age <= int(high):
            return value
    raise InvalidAnswer(Invalid.AGE_OUT_OF_RANGE)


# ---- understanding what people type -------------------------------------------------------------

# Short and informal spellings, as people write them in chat, and the word each stands for.
SHORT_FORMS = {
    "sy": "saya", "sya": "saya", "aku": "saya", "aq": "saya", "gw": "saya", "gue": "saya",
    "tdk": "tidak", "tak": "tidak", "gak": "tidak", "ga": "tidak", "gk": "tidak", "g": "tidak",
    "nggak": "tidak", "ngga": "tidak", "ngak": "tidak", "enggak": "tidak", "engga": "tidak",
    "ndak": "tidak", "nda": "tidak", "kagak": "tidak", "tidk": "tidak", "tida": "tidak",
    "iya": "ya", "iy": "ya", "y": "ya", "yup": "ya", "yoi": "ya", "ok": "ya", "oke": "ya",
    "okey": "ya", "okay": "ya", "bener": "benar", "blm": "belum", "blum": "belum",
    "sdh": "sudah", "udh": "sudah", "udah": "sudah", "dah": "sudah", "msh": "masih",
    "masi": "masih", "thn": "tahun", "th": "tahun", "taun": "tahun", "thun": "tahun",
    "bln": "bulan", "mgg": "minggu", "mingu": "minggu", "hr": "hari", "skrg": "sekarang",
    "skrang": "sekarang", "skg": "sekarang", "org": "orang", "orng": "orang", "tmn": "teman",
    "temen": "teman", "kpn": "kapan", "aja": "saja", "aj": "saja", "sj": "saja", "yg": "yang",
    "tau": "tahu", "tw": "tahu", "tahu": "tahu", "kk": "kakak", "kak": "kakak", "abg": "abang",
    "adk": "adik", "ade": "adik", "bpk": "bapak", "bp": "bapak", "pak": "bapak", "bu": "ibu",
    "mak": "ibu", "mamak": "ibu", "mama": "ibu", "emak": "ibu", "umi": "ibu", "papa": "ayah",
    "abah": "ayah", "abi": "ayah", "bapa": "bapak", "cwk": "cewek", "cwe": "cewek",
    "cewe": "cewek", "cwo": "cowok", "cowo": "cowok", "lk": "laki", "lakilaki": "laki",
    "pr": "perempuan", "prempuan": "perempuan", "perampuan": "perempuan", "pmpn": "perempuan",
    "sktr": "sekitar", "skitar": "sekitar", "kurleb": "kira", "kirakira": "kira",
    "umr": "umur", "usia": "umur", "tetanga": "tetangga", "ttangga": "tetangga",
    "klg": "keluarga", "kluarga": "keluarga", "keluarg": "keluarga", "sodara": "saudara",
    "sdr": "saudara", "kmrn": "kemarin", "kemaren": "kemarin", "kmarin": "kemarin",
    "td": "tadi", "tdi": "tadi", "lg": "lagi", "bs": "bisa", "jgn": "jangan", "jng": "jangan",
    "sklh": "sekolah", "skolah": "sekolah", "sekola": "sekolah", "rmh": "rumah",
    "suamiku": "suami", "istriku": "istri", "pacarku": "pacar", "ayahku": "ayah",
    "ibuku": "ibu", "pamanku": "paman", "omku": "om", "bos": "majikan", "boss": "majikan",
    "ustad": "ustadz", "ustaz": "ustadz", "stp": "setiap", "tiap": "setiap", "trs": "terus",
    "sampe": "sampai", "smpai": "sampai", "ampe": "sampai", "dlu": "dulu", "dl": "dulu",
    "lbh": "lebih", "dr": "dari", "dri": "dari", "sma2": "sama", "berdua2": "berdua",
    "korbanya": "korban", "korbannya": "korban", "dgn": "dengan", "dg": "dengan",
    "don't": "dont", "not": "not", "yrs": "years", "yr": "years", "yo": "years",
}
_REPEATED = re.compile(r"([a-z])\1{2,}")  # "iyaaa", "tolooong"
_NOT_WORD = re.compile(r"[^\w+]+")


def words(text: str) -> list[str]:
    """``text`` as plain lower-case words, short forms written out ("sy msh kcl" → saya masih…).
    A doubled word written with a 2 ("kira2", "laki2") is the word once."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"([a-z])2\b", r"\1", text)  # kira2 → kira
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)  # 8thn → 8 thn
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text)  # umur8 → umur 8
    text = _REPEATED.sub(r"\1", text)
    found = []
    for word in _NOT_WORD.split(text):
        word = word.strip("_")
        if word:
            found.append(SHORT_FORMS.get(word, word))
    return found


# What people type for each choice, beside the buttons' own words in both languages. Phrases are
# written as ``words`` gives them back; the longest phrase found in the answer decides.
SAYINGS: dict[str, dict[str, tuple[str, ...]]] = {
    DANGER: {
        YES: ("ya", "ada", "bahaya", "tolong", "darurat", "sekarang", "yes", "help"),
        NO: ("tidak", "tidak ada", "aman", "sudah aman", "no", "none", "nobody"),
    },
    DANGER_GO: {
        "go": ("ya", "lanjut", "lanjutkan", "terus", "continue", "go on", "yes"),
        "stop": ("tidak", "berhenti", "stop", "nanti", "nanti saja", "no"),
    },
    CONSENT: {
        "agree": ("ya", "setuju", "boleh", "benar", "agree", "yes"),
        "disagree": ("tidak", "tidak setuju", "tidak mau", "tidak boleh", "no", "disagree"),
    },
    ROLE: {
        VICTIM_SELF: ("saya", "saya sendiri", "saya korban", "korban saya", "korban", "me",
                      "myself", "i am", "victim"),
        "family": ("keluarga", "ibu", "ayah", "bapak", "kakak", "adik", "nenek", "kakek",
                   "paman", "om", "bibi", "tante", "saudara", "suami", "istri", "anak saya",
                   "ibu korban", "ayah korban", "family", "mother", "father", "sister",
                   "brother", "parent"),
        "witness": ("tetangga", "saksi", "teman", "melihat", "lihat", "dengar", "guru",
                    "neighbour", "neighbor", "witness", "friend"),
        "activist": ("paptbm", "patbm", "kader", "aktivis", "relawan", "pendamping",
                     "activist"),
        "other": ("lain", "lainnya", "orang lain", "other"),
    },
    VICTIM_CATEGORY: {
        GIRL: ("anak perempuan", "anak cewek", "cewek", "putri", "gadis", "anak gadis",
               "perempuan kecil", "girl", "daughter", "saya anak perempuan"),
        BOY: ("anak laki", "anak cowok", "cowok", "putra", "laki", "anak lelaki", "boy", "son"),
        WOMAN: ("perempuan", "perempuan dewasa", "wanita", "ibu", "istri", "ibu rumah tangga",
                "woman", "wife", "mother", "adult"),
    },
    WHEN: {
        "today": ("hari ini", "tadi", "barusan", "baru saja", "tadi malam", "tadi pagi",
                  "today", "just now", "tonight"),
        "week": ("minggu ini", "kemarin", "kemarin malam", "beberapa hari", "seminggu",
                 "this week", "yesterday", "few days"),
        "month": ("bulan ini", "beberapa minggu", "sebulan", "this month", "few weeks"),
        "longer": ("lama", "sudah lama", "dulu", "tahun lalu", "bulan lalu", "long ago",
                   "longer", "last year"),
        "ongoing": ("masih", "masih terjadi", "sampai sekarang", "terus", "setiap hari",
                    "setiap malam", "sering", "still", "ongoing", "every day", "all the time"),
    },
    PLACE: {
        "rumah_tangga": ("rumah", "di rumah", "rumah tangga", "dalam rumah", "rumah saya",
                         "home", "house"),
        "tempat_kerja": ("kerja", "tempat kerja", "kantor", "kebun", "ladang", "sawah",
                         "pabrik", "toko", "perusahaan", "tambang", "work", "office", "farm"),
        "sekolah": ("sekolah", "sd", "smp", "sma", "smk", "kelas", "school"),
        "fasilitas_umum": ("jalan", "pasar", "umum", "tempat umum", "lapangan", "sungai",
                           "pantai", "terminal", "street", "road", "market", "public"),
        "lembaga_pendidikan_kilat": ("kursus", "les", "pelatihan", "pesantren kilat",
                                     "course", "training"),
        "lainnya": ("lain", "lainnya", "tempat lain", "other"),
    },
    PERPETRATOR: {
        "orang_tua": ("ayah", "bapak", "ibu", "orang tua", "ortu", "ayah tiri", "bapak tiri",
                      "ibu tiri", "father", "mother", "stepfather", "stepmother", "dad", "mum",
                      "mom"),
        "keluarga": ("paman", "om", "tante", "bibi", "kakak", "abang", "adik", "kakek", "nenek",
                     "sepupu", "ipar", "kakak ipar", "keponakan", "saudara", "keluarga",
                     "uncle", "aunt", "brother", "sister", "cousin", "grandfather",
                     "grandmother", "relative"),
        "suami_istri": ("suami", "istri", "bini", "laki saya", "mantan suami", "mantan istri",
                        "husband", "wife"),
        "pacar_teman": ("pacar", "teman", "kawan", "mantan pacar", "sahabat", "boyfriend",
                        "girlfriend", "friend", "partner"),
        "tetangga": ("tetangga", "neighbour", "neighbor"),
        "guru": ("guru", "ustadz", "ustadzah", "pengajar", "dosen", "pelatih", "teacher"),
        "majikan": ("majikan", "atasan", "juragan", "employer", "boss"),
        "rekan_kerja": ("rekan kerja", "teman kerja", "rekan", "coworker", "co worker",
                        "colleague"),
        "lainnya": ("lain", "lainnya", "orang lain", "other"),
        "tidak_tahu": ("tidak tahu", "belum tahu", "tidak kenal", "orang tidak dikenal",
                       "unknown", "dont know", "stranger"),
    },
    CONTACT: {
        YES: ("ya", "boleh", "bisa", "silakan", "yes", "ok"),
        NO: ("tidak", "jangan", "jangan hubungi", "tidak usah", "tidak boleh", "no", "dont"),
    },
    SAFE_TIME: {
        "any": ("kapan saja", "kapan pun", "bebas", "terserah", "any", "anytime", "any time"),
        "morning": ("pagi", "morning"),
        "afternoon": ("siang", "afternoon"),
        "evening": ("sore", "malam", "evening", "night"),
    },
    TYPES: {
        "fisik": ("pukul", "dipukul", "ditampar", "ditendang", "tendang", "luka", "dilukai",
                  "fisik", "hit", "beaten", "kicked"),
        "psikis": ("hina", "dihina", "diancam", "ancam", "dibentak", "dimarahi", "psikis",
                   "insulted", "threatened"),
        SEXUAL: ("diraba", "dicabuli", "diperkosa", "perkosa", "cabul", "seksual", "pelecehan",
                 "sexual", "raped"),
        "eksploitasi": ("dipaksa kerja", "eksploitasi", "exploitation"),
        TRAFFICKING: ("dijual", "tppo", "perdagangan orang", "trafficking"),
        "penelantaran": ("ditelantarkan", "telantar", "tidak diberi makan", "tidak diurus",
                         "penelantaran", "neglect", "neglected"),
    },
}


def _phrase_in(phrase: list[str], said: list[str]) -> bool:
    return bool(_spans(phrase, said))


def _spans(phrase: list[str], said: list[str]) -> list[tuple[int, int]]:
    size = len(phrase)
    return [(i, i + size) for i in range(len(said) - size + 1) if said[i:i + size] == phrase]


def _labels(step: str) -> list[tuple[str, str]]:
    """Each choice of ``step`` with every way its button is labelled (both languages)."""
    found = []
    for value, label in OPTIONS.get(step, []):
        found.append((value, value.replace("_", " ")))
        for language in LANGUAGES:
            found.append((value, re.sub(r"\(.*?\)", "", translator(language)(label))))
    return found


def matches(step: str, text: str) -> set[str]:
    """The choices of ``step`` that ``text`` names: the buttons' own words in either language and
    the ``SAYINGS``. A phrase inside a longer one found there does not count ("tidak ada" is
    not "ada", "anak perempuan" not "perempuan", "teman kerja" not "teman")."""
    said = words(text)
    values = {v for v, _ in OPTIONS.get(step, [])}
    phrases = [(value, words(label)) for value, label in _labels(step)]
    for value, sayings in SAYINGS.get(step, {}).items():
        phrases += [(value, words(saying)) for saying in sayings]
    found = [(value, span) for value, phrase in phrases if phrase and value in values
             for span in _spans(phrase, said)]
    return {value for value, (start, end) in found
            if not any(s <= start and end <= e and (s, e) != (start, end) for _, (s, e) in found)}


def understand(step: str, text: str) -> str:
    """The one choice of ``step`` that a typed answer names ("iyaa", "gak", "om saya", "kmrn");
    anything else (nothing, or two choices: "hari ini atau kemarin") asks for the buttons."""
    found = matches(step, text)
    if len(found) != 1:
        raise InvalidAnswer(Invalid.USE_BUTTONS)
    return found.pop()


# Numbers in words up to 99, in Indonesian and English ("delapan", "dua puluh lima", "eight").
_UNITS = {"nol": 0, "satu": 1, "se": 1, "dua": 2, "tiga": 3, "empat": 4, "lima": 5, "enam": 6,
          "tujuh": 7, "delapan": 8, "lapan": 8, "sembilan": 9}
_EN_NUMBERS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
               "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
               "eighteen": 18, "nineteen": 19}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
            "eighty": 80, "ninety": 90}


def _number_words(tokens: list[str]) -> list[int]:
    """The numbers in ``tokens`` (digits or words); a token that is neither ends a number."""
    numbers: list[int] = []
    total: int | None = None
    current = 0

    def close() -> None:
        nonlocal total, current
        if total is not None:
            numbers.append(total + current)
        total, current = None, 0

    for token in tokens:
        for part in re.sub(r"(puluh|belas|ratus)", r" \1 ", token).split():
            if part.isdigit():
                close()
                numbers.append(int(part))
            elif part in _UNITS:
                if total is not None and current:
                    close()
                total = total or 0
                current += _UNITS[part]
            elif part == "sepuluh":
                total, current = (total or 0) + 10, 0
            elif part == "sebelas":
                total, current = (total or 0) + 11, 0
            elif part == "belas" and total is not None:
                total, current = total + 10 + current, 0
            elif part == "puluh" and total is not None:
                total, current = total + 10 * (current or 1), 0
            elif part == "ratus" and total is not None:
                total, current = total + 100 * (current or 1), 0
            elif part in _EN_TENS:
                close()
                total = _EN_TENS[part]
            elif part in _EN_NUMBERS:
                if total is not None and (current or total % 10 or total >= 100):
                    close()
                total = total or 0
                current += _EN_NUMBERS[part]
            else:
                close()
    close()
    return numbers


# Words around an age or a count that carry no meaning ("kira2 8 tahun", "umur sekitar 8").
_AGE_FILLER = {"kira", "sekitar", "umur", "umurnya", "tahun", "tahunan", "an", "lebih",
               "kurang", "hampir", "baru", "mau", "sudah", "masih", "sih", "kayaknya",
               "mungkin", "kurang lebih", "ya", "dia", "korban", "anak", "saya", "nya",
               "about", "around", "age", "aged", "years", "year", "old", "maybe", "roughly",
               "approximately", "is", "she", "he", "i", "am", "atau", "sampai", "or", "to",
               "+", "ini", "kelas"}
# Ages in words: what a person says instead of a number, and the band it means.
_AGE_WORDS: dict[str, tuple[str, ...]] = {
    "0-5": ("bayi", "balita", "batita", "baby", "toddler"),
    "6-12": ("anak sd",),
    "13-17": ("remaja", "anak smp", "anak sma", "abg", "teenager", "teen"),
    "60+": ("lansia", "nenek", "manula", "elderly"),
}
_AGE_NOT_KNOWN = ("belum tahu", "tidak tahu", "tidak pasti", "lupa", "entah", "ragu",
                  "masih kecil", "kecil", "not sure", "dont know", "unknown", "no idea")


def parse_age(text: str, category: str) -> dict[str, Any]:
    """A typed age ("15", "8 thn", "kira2 8", "delapan", "sekitar 8 tahun", "belum tahu",
    "balita"): a child is 0–17, a woman 18–120. "Not known" is band None, age None."""
    said = words(text)
    if not said:
        raise InvalidAnswer(Invalid.NOT_A_NUMBER)
    for band, sayings in _AGE_WORDS.items():
        if any(_phrase_in(words(saying), said) for saying in sayings):
            if band not in [v for v, _ in AGE_BANDS[category]]:
                raise InvalidAnswer(Invalid.AGE_OUT_OF_RANGE)
            return {"band": band, "age": None}
    if any(_phrase_in(words(saying), said) for saying in _AGE_NOT_KNOWN) and \
            not _number_words(said):
        return {"band": None, "age": None}
    months = "bulan" in said or "months" in said or "month" in said
    rest = [w for w in said if w not in _AGE_FILLER and w not in ("bulan", "months", "month")]
    numbers = _number_words(rest)
    leftover = [w for w in rest if not _is_number_word(w)]
    if not numbers or len(numbers) > 2 or leftover:
        raise InvalidAnswer(Invalid.NOT_A_NUMBER)
    ages = [n // 12 if months else n for n in numbers]
    low, high = CHILD_AGES if category == CHILD else WOMAN_AGES
    if not all(low <= age <= high for age in ages):
        raise InvalidAnswer(Invalid.AGE_OUT_OF_RANGE)
    bands = {age_band(category, age) for age in ages}
    if len(bands) != 1:  # "12 atau 13": two bands, the person should choose
        raise InvalidAnswer(Invalid.NOT_A_NUMBER)
    return {"band": bands.pop(), "age": ages[0] if len(ages) == 1 else None}


def _is_number_word(word: str) -> bool:
    parts = re.sub(r"(puluh|belas|ratus)", r" \1 ", word).split()
    return all(p.isdigit() or p in _UNITS or p in _EN_NUMBERS or p in _EN_TENS
               or p in ("puluh", "belas", "ratus", "sepuluh", "sebelas") for p in parts)


_COUNT_FILLER = {"orang", "korban", "anak", "people", "persons", "person", "victims",
                 "victim", "ada", "sekitar", "kira", "jumlah", "total", "termasuk", "saya",
                 "dengan", "semua", "semuanya", "about", "around", "including", "me", "ya",
                 "nya", "kami", "mereka", "perempuan", "laki"}
_COUNT_WORDS = {"sendiri": 1, "seorang": 1, "sendirian": 1, "alone": 1, "berdua": 2,
                "bertiga": 3, "berempat": 4, "berlima": 5, "banyak": 4, "many": 4}


def parse_count(text: str) -> int:
    """A typed number of victims ("2", "2 orang", "dua", "berdua", "sendiri"), 1–99."""
    said = [w for w in words(text) if w not in _COUNT_FILLER]
    for word, count in _COUNT_WORDS.items():
        if said == [word]:
            return count
    numbers = _number_words(said)
    if len(numbers) != 1 or any(not _is_number_word(w) for w in said) \
            or not 1 <= numbers[0] <= MAX_VICTIMS:
        raise InvalidAnswer(Invalid.NOT_A_COUNT)
    return numbers[0]


_PHONE_PREFIX = re.compile(r"^\s*(?:no\.?|nomor|nomer|nmr|hp|wa|telp\.?|tel\.?|whatsapp|"
                           r"phone|number|:|\s)+", re.IGNORECASE)


def parse_phone(text: str) -> str:
    """A phone number as people type it ("0812-3456-7890", "+62 812 3456 7890", "hp 0812…")."""
    number = _PHONE_PREFIX.sub("", text).strip()
    digits = "".join(ch for ch in number if ch.isdigit())
    if not PHONE_DIGITS[0] <= len(digits) <= PHONE_DIGITS[1] or any(
        ch not in "0123456789+-() ." for ch in number
    ):
        raise InvalidAnswer(Invalid.NOT_A_PHONE)
    return ("+" if number.startswith("+") else "") + digits


def validate_choice(step: str, value: str, answers: dict[str, Any]) -> Any:
    """A button value for ``step``; age bands are stored with an empty exact age."""
    if value not in option_values(step, answers):
        raise InvalidAnswer(Invalid.NOT_AN_OPTION)
    if step == VICTIM_AGE:
        return {"band": None if value == AGE_UNKNOWN else value, "age": None}
    if step == VICTIM_COUNT:
        return int(value)
    return value


def implied_done(current: str, pressed: str | None, answers: dict[str, Any]) -> bool:
    """A press on the question after the story, while the story is open and holds something:
    the story is done (its "Selesai" is implied by the next answer)."""
    if current != STORY or pressed is None or pressed == STORY:
        return False
    story = answers.get("story_pending") or answers.get(STORY) or {}
    if not (story.get("texts") or story.get("media")):
        return False
    return pressed == following_question(answers)


def asked_steps(step: str, answers: dict[str, Any]) -> set[str]:
    """The steps whose buttons the question at ``step`` shows: its own, and at the story once it
    holds something, the next question's (answering that finishes the story)."""
    story = answers.get("story_pending") or answers.get(STORY) or {}
    if step == STORY and (story.get("texts") or story.get("media")):
        following = following_question(answers)
        if following != REVIEW:
            return {STORY, following}
    return {step}


def following_question(answers: dict[str, Any]) -> str:
    """The question that comes after the story once it is done."""
    return next_step(STORY, {**answers, STORY: answers.get("story_pending") or empty_story()})


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


def location_of(latitude: float, longitude: float) -> dict[str, float]:
    """A shared location as kept in the answers: rounded to about a metre."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidAnswer(Invalid.UNSUPPORTED)
    return {"lat": round(latitude, 5), "lon": round(longitude, 5)}
