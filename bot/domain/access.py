"""Who may do what, and who reads what (DESIGN §5, §6): one table and one function.

``who_is(person, chat, case)`` says who someone is for one case, from facts the services gather
at every command and every press (``bot/services/case_access.py``): their officer registration,
their enrolment in the village's group as Telegram confirms it now, whether they handle the case,
whether they reported it, and the chat they pressed in. ``ACCESS`` says what each role may do
and what of the case it reads. The buttons under an alert (Terima, Detail, Butuh bantuan) and the
case card's obey the same rule: Terima is TAKE, Detail is DETAILS, Butuh bantuan is HELP.

Roles, as the district names them:

- **admin**: district staff (DP2KBP3A), every case;
- **kabupaten officer**, **kecamatan officer**: an officer whose region covers the case;
- **handler**: the village member (below) who took the case;
- **village member**: a member of the village's PAPTBM group whom the district enrolled
  (``bot/services/enrolment.py``) and who is still in the group, or an officer registered for the
  village itself; their own village's cases, while open. A village member may not close a case:
  a case could be buried by a neighbour of the abuser, so only officers decide it is "not a case";
- **group member**: anyone else in a group chat that received the case's alert: they see the
  alert, and nothing more;
- **reporter**: the person whose report it is (they follow it with ``/status`` and the relay);
- **stranger**: anyone else, including staff of another area.

What one reads of a case (``READS``): the alert's summary; the full report (story, place,
landmark, victim, perpetrator, the files sent with it); the reporter's phone number; the
reporter's later messages and the replies to them; the officers' notes; the notes meant for the
village team (those an officer marked for it, and those village members write).

The texts that tell people who reads what (the consent notice, ``/bantuan``, the confirmations,
SECURITY.md) are written from this table (``bot/views/access.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.tiers import DESA, KABUPATEN_TIER, covers, tier_of

# ---- roles ---------------------------------------------------------------------------------------
ADMIN = "admin"
KABUPATEN_OFFICER = "kabupaten_officer"
KECAMATAN_OFFICER = "kecamatan_officer"
HANDLER = "handler"
VILLAGE_MEMBER = "village_member"
GROUP_MEMBER = "group_member"
REPORTER = "reporter"
STRANGER = "stranger"
ROLES = (ADMIN, KABUPATEN_OFFICER, KECAMATAN_OFFICER, HANDLER, VILLAGE_MEMBER, GROUP_MEMBER,
         REPORTER, STRANGER)
STAFF_ROLES = (HANDLER, VILLAGE_MEMBER, KECAMATAN_OFFICER, KABUPATEN_OFFICER, ADMIN)
OFFICER_ROLES = (KECAMATAN_OFFICER, KABUPATEN_OFFICER, ADMIN)

# ---- what one may do -----------------------------------------------------------------------------
LIST = "list"  # /kasus: the open cases of one's area
CARD = "card"  # /kasus REF: the case card
DETAILS = "details"  # the full report, evidence included ("Detail" under an alert, or the card's)
NOTE = "note"  # a note on the case
SHARE = "share"  # mark an officer's note for the village team
STATUS = "status"  # move the case along the workflow (and reopen it)
CLOSE = "close"  # close it as a duplicate, not a case, or unreachable
REPLY = "reply"  # a message to the reporter through the bot
TAKE = "take"  # take the case ("Terima" under an alert), or take it over
HELP = "help"  # ask the next tier now ("Butuh bantuan")
HISTORY = "history"  # /riwayat REF
ADD = "add"  # /tambah REF: the reporter adds a message to their report
EVIDENCE = "evidence"  # /bukti REF: the case's files, decrypted, in a zip with their hashes
SERVICES = "services"  # record services and referrals, their status and the survivor's consent
ACTIONS = (LIST, CARD, DETAILS, NOTE, SHARE, STATUS, CLOSE, REPLY, TAKE, HELP, HISTORY, ADD,
           EVIDENCE, SERVICES)

# ---- what one reads of a case --------------------------------------------------------------------
SUMMARY = "summary"  # the alert: reference, priority, type, victim category and age, village, time
REPORT = "report"  # the full report: story, place, landmark, victim, perpetrator, its files
PHONE = "phone"  # the phone number the reporter chose to share
MESSAGES = "messages"  # the reporter's later messages and files, and the replies they get
NOTES = "notes"  # every note, the officers' own included
TEAM_NOTES = "team_notes"  # the notes meant for the village team
READS = (SUMMARY, REPORT, PHONE, MESSAGES, NOTES, TEAM_NOTES)


@dataclass(frozen=True)
class Row:
    """One role: what it may do, what of a case it reads, and whether only while the case is
    open."""

    does: frozenset[str]
    reads: frozenset[str]
    open_cases_only: bool = False


_VILLAGE = frozenset({LIST, CARD, DETAILS, NOTE, TAKE, HELP, HISTORY})
_HANDLING = _VILLAGE | {STATUS, REPLY, SERVICES}
_OFFICER = _HANDLING | {CLOSE, SHARE, EVIDENCE}
_TEAM = frozenset({SUMMARY, REPORT, TEAM_NOTES})
ACCESS: dict[str, Row] = {
    ADMIN: Row(_OFFICER, frozenset(READS)),
    KABUPATEN_OFFICER: Row(_OFFICER, frozenset(READS)),
    KECAMATAN_OFFICER: Row(_OFFICER, frozenset(READS)),
    HANDLER: Row(_HANDLING, _TEAM | {PHONE, MESSAGES}, open_cases_only=True),
    VILLAGE_MEMBER: Row(_VILLAGE, _TEAM, open_cases_only=True),
    GROUP_MEMBER: Row(frozenset(), frozenset({SUMMARY})),
    REPORTER: Row(frozenset({ADD}), frozenset()),
    STRANGER: Row(frozenset(), frozenset()),
}

# A person's highest staff role decides what they may list (``Area``).
RANK = {VILLAGE_MEMBER: 1, HANDLER: 1, KECAMATAN_OFFICER: 2, KABUPATEN_OFFICER: 3, ADMIN: 4}


def allowed(role: str, action: str) -> bool:
    return action in ACCESS[role].does if role in ACCESS else False


def readers(item: str) -> tuple[str, ...]:
    """The roles that read this of a case, in the table's order."""
    return tuple(role for role in ROLES if item in ACCESS[role].reads)


def doers(action: str) -> tuple[str, ...]:
    return tuple(role for role in ROLES if action in ACCESS[role].does)


def officer_role(is_admin: bool, region_code: str) -> str:
    """The role of a registered officer, from the region they are bound to."""
    if is_admin:
        return ADMIN
    tier = tier_of(region_code)
    if tier == KABUPATEN_TIER:
        return KABUPATEN_OFFICER
    return VILLAGE_MEMBER if tier == DESA else KECAMATAN_OFFICER


# ---- the facts, and the one function -------------------------------------------------------------

class Standing(StrEnum):
    """Is this person enrolled for this village right now (Telegram asked)?"""

    ENROLLED = "enrolled"
    NOT_ENROLLED = "not_enrolled"
    UNCONFIRMED = "unconfirmed"  # enrolled, but Telegram could not confirm they are still in


@dataclass(frozen=True)
class PersonFacts:
    """What is known of one person, for one case."""

    officer_region: str | None = None  # an active officer's region (None: not an officer)
    admin: bool = False
    standing: Standing = Standing.NOT_ENROLLED  # for the case's village
    enrolled_elsewhere: bool = False  # enrolled in another village's group
    handles: bool = False  # they took the case
    reported: bool = False  # the case is their own report


@dataclass(frozen=True)
class ChatFacts:
    """Where they asked: a private chat, or a group chat (that did or did not receive the case's
    alert)."""

    private: bool
    got_alert: bool = False


PRIVATE_CHAT = ChatFacts(private=True)


@dataclass(frozen=True)
class CaseFacts:
    village: str
    open: bool


@dataclass(frozen=True)
class Who:
    role: str
    in_scope: bool  # the case is theirs to act on (staff: in their area)
    here: bool = True  # asked where the case may be acted on: a private chat or an alerted group
    confirmed: bool = True  # False: enrolled, but Telegram could not confirm they are still in
    case_open: bool = True

    @property
    def row(self) -> Row:
        return ACCESS[self.role]

    @property
    def staff(self) -> bool:
        return self.role in STAFF_ROLES

    def _open_enough(self) -> bool:
        return self.case_open or not self.row.open_cases_only

    def may(self, action: str) -> bool:
        return (self.in_scope and self.here and self.confirmed and action in self.row.does
                and self._open_enough())

    def reads(self, item: str) -> bool:
        return self.in_scope and self.confirmed and item in self.row.reads and self._open_enough()

    def may_once_confirmed(self, action: str) -> bool:
        """Whether Telegram's confirmation is all that is missing (then: "try again")."""
        return not self.confirmed and (
            Who(self.role, self.in_scope, self.here, True, self.case_open).may(action))

    @property
    def closed_to_them(self) -> bool:
        """A village role on a case that is closed: it is the officers' now."""
        return self.in_scope and not self._open_enough()


def who_is(person: PersonFacts, chat: ChatFacts, case: CaseFacts) -> Who:
    """Who this person is for this case, asked in this chat."""
    here = chat.private or chat.got_alert
    region = person.officer_region
    if region is not None and (person.admin or covers(region, case.village)):
        role = officer_role(person.admin, region)
        if role == VILLAGE_MEMBER and person.handles:
            role = HANDLER
        return Who(role, True, here, True, case.open)
    if person.standing != Standing.NOT_ENROLLED:
        return Who(HANDLER if person.handles else VILLAGE_MEMBER, True, here,
                   person.standing == Standing.ENROLLED, case.open)
    if region is not None:  # an officer of another area
        return Who(officer_role(False, region), False, here, True, case.open)
    if person.reported:
        return Who(REPORTER, True, here, True, case.open)
    if person.enrolled_elsewhere:
        return Who(VILLAGE_MEMBER, False, here, True, case.open)
    if chat.got_alert:
        return Who(GROUP_MEMBER, True, here, True, case.open)
    return Who(STRANGER, False, here, True, case.open)


# ---- where a button may be pressed, and by whom (checked before any handler runs) ---------------
IN_PRIVATE = "private"
IN_GROUP = "group"
ANYONE = "anyone"
STAFF = "staff"  # an active officer or admin, or a member enrolled in an active village group
OFFICERS = "officers"  # an active officer or admin
ADMINS = "admins"
PRESSERS = (ANYONE, STAFF, OFFICERS, ADMINS)  # each includes the ones after it
