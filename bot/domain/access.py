"""Who may do what (DESIGN §5, §6): the rules, side by side, decided again at every press.

Two tables today, each checked by its service against the database at press time:

1. **A case** (``bot/services/case_access.py``): a table of roles × actions. Roles, as the
   district names them:
   - **village member**: an enrolled member (``/gabung``) of the PAPTBM group of the case's
     village, or an officer registered for that village; acts in private chat for that village's
     cases;
   - **kecamatan officer**, **kabupaten officer**: an officer whose region covers the case;
   - **admin**: district staff, every case;
   - **reporter**: the person whose report it is (they follow it through ``/status`` and the
     relay);
   - **stranger**: anyone else, including staff of another area.

   A village member may not close a case: at village level a case could be buried by a neighbour
   of the abuser, so only officers decide that it is "not a case" (anyone handling it may reopen
   it).

2. **The buttons under an alert** (Terima, Detail, Butuh bantuan; ``AlertService.authorise``): a
   registered officer or admin whose region covers the case, or any member of a group chat that
   was alerted about this very case.
"""

from __future__ import annotations

from bot.domain.tiers import DESA, KABUPATEN_TIER, tier_of

# ---- 1. a case: roles × actions -----------------------------------------------------------------
VILLAGE_MEMBER = "village_member"
KECAMATAN_OFFICER = "kecamatan_officer"
KABUPATEN_OFFICER = "kabupaten_officer"
ADMIN = "admin"
REPORTER = "reporter"
STRANGER = "stranger"
ROLES = (VILLAGE_MEMBER, KECAMATAN_OFFICER, KABUPATEN_OFFICER, ADMIN, REPORTER, STRANGER)
STAFF_ROLES = (VILLAGE_MEMBER, KECAMATAN_OFFICER, KABUPATEN_OFFICER, ADMIN)

LIST = "list"  # /kasus: the open cases of one's area
CARD = "card"  # /kasus REF: the case card
DETAILS = "details"  # the full report, evidence included
NOTE = "note"  # a private note
STATUS = "status"  # move the case along the workflow (and reopen it)
CLOSE = "close"  # close it as a duplicate, not a case, or unreachable
REPLY = "reply"  # a message to the reporter through the bot
TAKE = "take"  # take the case (or take it over)
HELP = "help"  # ask the next tier now
HISTORY = "history"  # /riwayat REF
ADD = "add"  # /tambah REF: the reporter adds a message to their report
ACTIONS = (LIST, CARD, DETAILS, NOTE, STATUS, CLOSE, REPLY, TAKE, HELP, HISTORY, ADD)

_HANDLING = frozenset({LIST, CARD, DETAILS, NOTE, STATUS, REPLY, TAKE, HELP, HISTORY})
ACCESS: dict[str, frozenset[str]] = {
    VILLAGE_MEMBER: _HANDLING,
    KECAMATAN_OFFICER: _HANDLING | {CLOSE},
    KABUPATEN_OFFICER: _HANDLING | {CLOSE},
    ADMIN: _HANDLING | {CLOSE},
    REPORTER: frozenset({ADD}),
    STRANGER: frozenset(),
}

# A person's highest staff role decides what they may list (``Area``).
RANK = {VILLAGE_MEMBER: 1, KECAMATAN_OFFICER: 2, KABUPATEN_OFFICER: 3, ADMIN: 4}


def allowed(role: str, action: str) -> bool:
    return action in ACCESS.get(role, frozenset())


def officer_role(is_admin: bool, region_code: str) -> str:
    """The role of a registered officer, from the region they are bound to."""
    if is_admin:
        return ADMIN
    tier = tier_of(region_code)
    if tier == KABUPATEN_TIER:
        return KABUPATEN_OFFICER
    return VILLAGE_MEMBER if tier == DESA else KECAMATAN_OFFICER


# ---- 2. the buttons under an alert ---------------------------------------------------------------
ALERT_OFFICER = "alert_officer"  # a registered officer or admin whose region covers the case
ALERTED_GROUP_MEMBER = "alerted_group_member"  # pressed in a group alerted about this case


def alert_presser(*, officer_in_scope: bool, in_alerted_group: bool) -> str | None:
    """Who may press an alert's buttons; None: nobody we know, the press changes nothing."""
    if officer_in_scope:
        return ALERT_OFFICER
    if in_alerted_group:
        return ALERTED_GROUP_MEMBER
    return None
