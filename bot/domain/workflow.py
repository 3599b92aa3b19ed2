"""The case workflow (DESIGN §5): the UPTD PPA service stages of Permen PPPA 2/2022, the moves
allowed between them, where a case can be referred, why it can be closed, and the gentle public
words a reporter reads for each status (never the internal stage name).

Telegram-free and database-free: ``check`` decides whether a move is allowed and why not; the case
service (``bot/services/cases.py``) applies it.

    baru ─take─▶ diterima ─▶ penjangkauan ─▶ pengelolaan ⇄ pendampingan ─▶ dirujuk ─▶ selesai
                    │              │               │              │            │
                    └──────────────┴───────────────┴──────────────┴────────────┴──▶ ditutup
    selesai, ditutup ─reopen─▶ diterima
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, Translate

BARU = "baru"
DITERIMA = "diterima"
PENJANGKAUAN = "penjangkauan"
PENGELOLAAN = "pengelolaan"
PENDAMPINGAN = "pendampingan"
DIRUJUK = "dirujuk"
SELESAI = "selesai"
DITUTUP = "ditutup"

STATUSES = (BARU, DITERIMA, PENJANGKAUAN, PENGELOLAAN, PENDAMPINGAN, DIRUJUK, SELESAI, DITUTUP)
CLOSED = (SELESAI, DITUTUP)
OPEN = tuple(s for s in STATUSES if s not in CLOSED)

# Public words for each status: what a reporter reads, never the internal stage name.
STATUS_WORDS = {
    BARU: N_("received, waiting for an officer"),
    DITERIMA: N_("an officer is handling it"),
    PENJANGKAUAN: N_("an officer is reaching out"),
    PENGELOLAAN: N_("being handled"),
    PENDAMPINGAN: N_("support is being given"),
    DIRUJUK: N_("passed on to a partner service"),
    SELESAI: N_("completed"),
    DITUTUP: N_("closed"),
}

# What officers read: the stage names of the service standard.
STAGE_NAMES = {
    BARU: N_("New"),
    DITERIMA: N_("Accepted"),
    PENJANGKAUAN: N_("Outreach"),
    PENGELOLAAN: N_("Case management"),
    PENDAMPINGAN: N_("Accompaniment"),
    DIRUJUK: N_("Referred"),
    SELESAI: N_("Completed"),
    DITUTUP: N_("Closed"),
}

POLICE = "police"  # the word bot/services/escalation.py checks before a UU TPKS police reminder
REFERRAL_TARGETS = {
    POLICE: N_("Police"),
    "health": N_("Health service"),
    "legal_aid": N_("Legal aid"),
    "shelter": N_("Safe house (shelter)"),
    "uptd": N_("UPTD PPA"),
}
CLOSE_REASONS = {
    "duplicate": N_("Duplicate of another report"),
    "not_a_case": N_("Not a case of violence"),
    "unreachable": N_("Nobody can be reached"),
}
# Why someone asks the next tier for help ("Minta bantuan"): the next tier's alert says it.
HELP_REASONS = {
    "unreachable": N_("Cannot be reached"),
    "female_officer": N_("A female officer is needed"),
    "beyond_us": N_("Beyond what we can do"),
    "other": N_("Another reason"),
}

# The allowed moves. A new case is taken first (that is the acknowledgement, see
# ``bot/services/alerts.py``); pengelolaan and pendampingan are one stage under two names, so a
# case moves between them freely; a referred case can be referred again (to another service);
# reopening a closed case puts it back to "diterima".
TRANSITIONS: dict[str, tuple[str, ...]] = {
    BARU: (DITERIMA,),
    DITERIMA: (PENJANGKAUAN, PENGELOLAAN, PENDAMPINGAN, DIRUJUK, DITUTUP),
    PENJANGKAUAN: (PENGELOLAAN, PENDAMPINGAN, DIRUJUK, DITUTUP),
    PENGELOLAAN: (PENDAMPINGAN, DIRUJUK, SELESAI, DITUTUP),
    PENDAMPINGAN: (PENGELOLAAN, DIRUJUK, SELESAI, DITUTUP),
    DIRUJUK: (PENDAMPINGAN, DIRUJUK, SELESAI, DITUTUP),
    SELESAI: (DITERIMA,),
    DITUTUP: (DITERIMA,),
}
# The one-tap next step on a case card.
NEXT_STEP = {
    DITERIMA: PENJANGKAUAN,
    PENJANGKAUAN: PENGELOLAAN,
    PENGELOLAAN: PENDAMPINGAN,
    PENDAMPINGAN: SELESAI,
    DIRUJUK: SELESAI,
}

# Why a move is refused.
UNKNOWN = "unknown"
SAME = "same"
NOT_TAKEN = "not_taken"
IS_CLOSED = "is_closed"
NOT_ALLOWED = "not_allowed"
NEEDS_REFERRAL = "needs_referral"
NEEDS_REASON = "needs_reason"
TPKS_POLICE_FIRST = "tpks_police_first"

REFUSALS = {
    UNKNOWN: N_("That is not a status of this service."),
    SAME: N_("The case is already at {current}."),
    NOT_TAKEN: N_("Nobody has taken this case yet: take it first (“Take the case”)."),
    IS_CLOSED: N_("The case is {current}: reopen it first."),
    NOT_ALLOWED: N_("A case at {current} cannot move to {target}. Possible next: {allowed}."),
    NEEDS_REFERRAL: N_("Say where the case is referred: police, health service, legal aid, "
                       "shelter or UPTD PPA."),
    NEEDS_REASON: N_("Say why the case is closed: a duplicate, not a case, or nobody can be "
                     "reached."),
    TPKS_POLICE_FIRST: N_("This is a sexual violence case: UU TPKS does not allow it to be "
                          "settled outside the justice process. Refer it to the police before "
                          "marking it completed."),
}


@dataclass(frozen=True)
class Refusal:
    reason: str
    current: str
    target: str

    def explain(self, _: Translate) -> str:
        allowed = ", ".join(_(STAGE_NAMES[s]) for s in TRANSITIONS.get(self.current, ()))
        return _(REFUSALS[self.reason]).format(
            current=_(STAGE_NAMES.get(self.current, self.current)),
            target=_(STAGE_NAMES.get(self.target, self.target)), allowed=allowed or "–")


def is_closed(status: str) -> bool:
    return status in CLOSED


def is_reopen(current: str, target: str) -> bool:
    return current in CLOSED and target == DITERIMA


def check(current: str, target: str, *, referral: str | None = None,
          close_reason: str | None = None, sexual_violence: bool = False,
          police_referred: bool = False) -> Refusal | None:
    """None when ``current`` → ``target`` is allowed with these facts; else why not.

    ``referral`` is the service a move to "dirujuk" sends the case to; ``close_reason`` why a move
    to "ditutup" closes it; ``police_referred`` whether the case was ever referred to the police
    (UU TPKS: a sexual violence case is completed only after that)."""
    if target not in STATUSES or current not in STATUSES:
        return Refusal(UNKNOWN, current, target)
    if target == current and target != DIRUJUK:
        return Refusal(SAME, current, target)
    if target not in TRANSITIONS[current]:
        if current == BARU:
            return Refusal(NOT_TAKEN, current, target)
        if current in CLOSED:
            return Refusal(IS_CLOSED, current, target)
        return Refusal(NOT_ALLOWED, current, target)
    if target == DIRUJUK and referral not in REFERRAL_TARGETS:
        return Refusal(NEEDS_REFERRAL, current, target)
    if target == DITUTUP and close_reason not in CLOSE_REASONS:
        return Refusal(NEEDS_REASON, current, target)
    if target == SELESAI and sexual_violence and not (police_referred or referral == POLICE):
        return Refusal(TPKS_POLICE_FIRST, current, target)
    return None


def allowed_targets(current: str) -> tuple[str, ...]:
    return TRANSITIONS.get(current, ())


def stage_name(status: str, _: Translate) -> str:
    return _(STAGE_NAMES.get(status, status))


def public_words(status: str, _: Translate) -> str:
    return _(STATUS_WORDS.get(status, STATUS_WORDS[BARU]))
