"""Services and referrals (DESIGN §5): the kinds of service a case receives, their statuses, how a
survivor's consent to a referral is obtained, and the legal rules that bind them:

- **no mediation for sexual violence** (UU TPKS Pasal 23): a "mediasi" service (or any other way
  of choosing mediation) for a case with sexual violence is refused, with the reason;
- **the police within 3 × 24 hours** (UU TPKS Pasal 41 ayat (3)) for sexual violence and for
  trafficking (TPPO); a police referral is a "penegakan hukum" service (or the case's referral
  to the police), and meets it.

Telegram-free and database-free; ``bot/services/referrals.py`` applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import form, simfoni
from bot.i18n import N_, Translate

# ---- kinds --------------------------------------------------------------------------------------
PENGADUAN = "pengaduan"
KESEHATAN = "kesehatan"
BANTUAN_HUKUM = "bantuan_hukum"
PENEGAKAN_HUKUM = "penegakan_hukum"  # the police: meets the UU TPKS deadline
REHABILITASI = "rehabilitasi_sosial"
REINTEGRASI = "reintegrasi_sosial"
PEMULANGAN = "pemulangan"
PSIKOLOGIS = "pendampingan_psikologis"
SHELTER = "penampungan_sementara"  # also shown on the card as a stage while it runs
MEDIATION = simfoni.MEDIATION

# What an officer chooses from, in this order (the nine of the service standard, then the rest
# of the SIMFONI-PPA list; mediation last, and never for sexual violence).
KINDS = (PENGADUAN, KESEHATAN, BANTUAN_HUKUM, PENEGAKAN_HUKUM, REHABILITASI, REINTEGRASI,
         PEMULANGAN, PSIKOLOGIS, SHELTER, "pendampingan_tokoh_agama", MEDIATION)
KIND_NAMES = {
    PENGADUAN: N_("Complaint intake"),
    KESEHATAN: N_("Health care"),
    BANTUAN_HUKUM: N_("Legal aid"),
    PENEGAKAN_HUKUM: N_("Law enforcement (police)"),
    REHABILITASI: N_("Social rehabilitation"),
    REINTEGRASI: N_("Social reintegration"),
    PEMULANGAN: N_("Return home"),
    PSIKOLOGIS: N_("Psychological support"),
    SHELTER: N_("Temporary shelter"),
    "pendampingan_tokoh_agama": N_("Support by a religious leader"),
    MEDIATION: N_("Mediation"),
}
assert set(KINDS) == set(simfoni.SERVICE_KINDS.codes())

# ---- statuses -----------------------------------------------------------------------------------
PLANNED = "direncanakan"
RUNNING = "berjalan"
DONE = "selesai"
CANCELLED = "dibatalkan"
STATUSES = (PLANNED, RUNNING, DONE, CANCELLED)
ENDED = (DONE, CANCELLED)
STATUS_NAMES = {PLANNED: N_("Planned"), RUNNING: N_("Running"), DONE: N_("Completed"),
                CANCELLED: N_("Cancelled")}
MOVES = {PLANNED: (RUNNING, CANCELLED), RUNNING: (DONE, CANCELLED), DONE: (), CANCELLED: ()}

# ---- consent ------------------------------------------------------------------------------------
ASKED = "asked"
YES = "yes"
NO = "no"
RELAY = "relay"  # asked through the bot, answered by the reporter
IN_PERSON = "langsung"
PHONE = "telepon"
GUARDIAN = "wali"
OFFICER_WAYS = (IN_PERSON, PHONE, GUARDIAN)
WAY_NAMES = {RELAY: N_("through the bot"), IN_PERSON: N_("in person"), PHONE: N_("by phone"),
             GUARDIAN: N_("through a guardian or companion")}

# ---- refusals -----------------------------------------------------------------------------------
NO_MEDIATION_TPKS = simfoni.MEDIATION_REFUSED_SEXUAL
UNKNOWN_KIND = "unknown_kind"
MOVE_NOT_ALLOWED = "move_not_allowed"
REFUSALS = {
    NO_MEDIATION_TPKS: N_("Mediation is not possible: this is a sexual violence case, and UU TPKS "
                          "(Pasal 23) does not allow it to be settled outside the justice "
                          "process."),
    UNKNOWN_KIND: N_("That is not a kind of service."),
    MOVE_NOT_ALLOWED: N_("A service that is {current} cannot become {target}."),
}


@dataclass(frozen=True)
class Refusal:
    reason: str
    current: str = ""
    target: str = ""

    def explain(self, _: Translate) -> str:
        return _(REFUSALS[self.reason]).format(
            current=_(STATUS_NAMES.get(self.current, self.current)).lower(),
            target=_(STATUS_NAMES.get(self.target, self.target)).lower())


def sexual_violence(types: Iterable[str] | None) -> bool:
    return form.SEXUAL in set(types or ())


def offered(types: Iterable[str] | None) -> tuple[str, ...]:
    """The kinds an officer is offered for this case: never mediation for sexual violence."""
    return tuple(k for k in KINDS if not (k == MEDIATION and sexual_violence(types)))


def check_new(kind: str, types: Iterable[str] | None) -> Refusal | None:
    """None when a service of this kind may be added to a case of these violence types."""
    if kind not in KINDS:
        return Refusal(UNKNOWN_KIND)
    if kind == MEDIATION and sexual_violence(types):
        return Refusal(NO_MEDIATION_TPKS)
    return None


def check_move(current: str, target: str) -> Refusal | None:
    if target not in MOVES.get(current, ()):
        return Refusal(MOVE_NOT_ALLOWED, current, target)
    return None


def kind_name(kind: str, _: Translate) -> str:
    return _(KIND_NAMES.get(kind, kind))


# ---- the police deadline (UU TPKS) --------------------------------------------------------------
POLICE_TYPES = frozenset({form.SEXUAL, form.TRAFFICKING})


def needs_police(types: Iterable[str] | None) -> bool:
    """Sexual violence and trafficking go to the police within 3 × 24 hours."""
    return bool(POLICE_TYPES & set(types or ()))


def police_deadline(created_at: datetime, types: Iterable[str] | None,
                    hours: float) -> datetime | None:
    return created_at + timedelta(hours=hours) if needs_police(types) else None


OVERDUE = "overdue"


def police_steps(hours_before: Iterable[float]) -> tuple[tuple[str, float], ...]:
    """The alarms of the police deadline, earliest first: ("24h", 24.0), ("6h", 6.0), then
    ("overdue", 0)."""
    before = sorted({float(h) for h in hours_before if h > 0}, reverse=True)
    return (*((f"{h:g}h", h) for h in before), (OVERDUE, 0.0))


def due_steps(deadline: datetime, now: datetime, hours_before: Iterable[float],
              done: Iterable[str]) -> list[str]:
    """The steps whose time has come and that were not raised yet. Of several due at once (the
    bot was down), only the latest is raised: an overdue case is not also "24 hours left"."""
    finished = set(done)
    due = [step for step, hours in police_steps(hours_before)
           if now >= deadline - timedelta(hours=hours)]
    if not due:
        return []
    latest = due[-1]
    return [] if latest in finished else [latest]
