"""Callback data: a small, versioned, validated schema. Anything else is refused as forged or stale.

Form: ``<kind><version>|field|field...`` within Telegram's 64 bytes, e.g.
``r1|9f2c61ab|vcat|choose|child``.
Every press is authorised again by the service that acts on it; this only checks the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import case_status as workflow
from bot import report_form as form

VERSION = "1"
_NONCE = re.compile(r"^[0-9a-f]{8}$")
_VALUE = re.compile(r"^[A-Za-z0-9_.+:\-]{0,32}$")
REPORT_STEPS = {*form.ORDER, form.REVIEW}
REPORT_ACTIONS = {"choose", "back", "skip", "done", "toggle", "edit", "page", "clear", "submit"}


class BadCallback(ValueError):
    """Callback data that is not ours, or not of this version."""


@dataclass(frozen=True)
class ReportPress:
    nonce: str
    step: str
    action: str
    value: str

    def pack(self) -> str:
        return "|".join(("r" + VERSION, self.nonce, self.step, self.action, self.value))


@dataclass(frozen=True)
class CancelPress:
    nonce: str
    confirm: bool

    def pack(self) -> str:
        return "|".join(("x" + VERSION, self.nonce, "y" if self.confirm else "n"))


@dataclass(frozen=True)
class LanguagePress:
    language: str

    def pack(self) -> str:
        return "|".join(("l" + VERSION, self.language))


@dataclass(frozen=True)
class StartPress:
    """The "start a report" button under the greeting."""

    def pack(self) -> str:
        return "s" + VERSION


@dataclass(frozen=True)
class PrivacyPress:
    """Confirmations for /tarik_persetujuan ("withdraw") and wiping the chat ("wipe")."""

    action: str

    def pack(self) -> str:
        return "|".join(("p" + VERSION, self.action))


PRIVACY_ACTIONS = {"withdraw", "wipe", "keep"}


@dataclass(frozen=True)
class AlertPress:
    """A button under an alert: ``ack`` (Terima), ``detail``, ``help`` (ask the next tier)."""

    case_id: int
    action: str

    def pack(self) -> str:
        return "|".join(("a" + VERSION, str(self.case_id), self.action))


ALERT_ACTIONS = {"ack", "detail", "help"}
_CASE_ID = re.compile(r"^[1-9][0-9]{0,15}$")


# ---- administration: group requests, village picker, invitations, staff, practice ----

_ID = re.compile(r"^[1-9][0-9]{0,15}$")
_REGION = re.compile(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$")


@dataclass(frozen=True)
class GroupRequestPress:
    """Setujui / Tolak under a group's registration request, in an admin's chat."""

    request_id: int
    approve: bool

    def pack(self) -> str:
        return "|".join(("g" + VERSION, str(self.request_id), "y" if self.approve else "n"))


@dataclass(frozen=True)
class VillagePickPress:
    """The village picker of ``/daftar`` in a group; only ``user_id`` (who sent it) may press.
    ``k``: villages of kecamatan ``code`` (page ``page``); ``v``: choose village ``code``;
    ``b``: back to the kecamatan list."""

    user_id: int
    action: str
    code: str
    page: int = 0

    def pack(self) -> str:
        return "|".join(("d" + VERSION, str(self.user_id), self.action, self.code,
                         str(self.page)))


@dataclass(frozen=True)
class InvitePress:
    """``/undang``: make a link for role ``o`` (officer) or ``a`` (admin) in a region."""

    role: str
    region_code: str

    def pack(self) -> str:
        return "|".join(("u" + VERSION, self.role, self.region_code))


@dataclass(frozen=True)
class StaffPress:
    """``/petugas`` (kind ``officer``, head ``o``) and ``/grup`` (kind ``group``, head ``q``)."""

    kind: str
    action: str
    responder_id: int = 0
    value: str = ""

    def pack(self) -> str:
        head = ("o" if self.kind == "officer" else "q") + VERSION
        return "|".join((head, self.action, str(self.responder_id), self.value))


@dataclass(frozen=True)
class PurgePress:
    """Confirmation of ``/hapus_latihan`` (delete every practice case)."""

    confirm: bool

    def pack(self) -> str:
        return "|".join(("h" + VERSION, "y" if self.confirm else "n"))


@dataclass(frozen=True)
class PosterPress:
    """``/poster``'s village picker (admins, private chat): ``k`` villages of kecamatan ``code``
    (page ``page``), ``v`` the poster of village ``code``, ``b`` back to the kecamatan list."""

    action: str
    code: str
    page: int = 0

    def pack(self) -> str:
        return "|".join(("t" + VERSION, self.action, self.code, str(self.page)))


STAFF_ACTIONS = {"list", "show", "revoke", "restore", "admin", "region", "move"}
PICK_ACTIONS = {"k", "v", "b"}
AdminPress = (GroupRequestPress | VillagePickPress | InvitePress | StaffPress | PurgePress
              | PosterPress)


def _parse_admin(head: str, fields: list[str]) -> AdminPress | None:
    if head == "g" + VERSION and len(fields) == 2 and _ID.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return GroupRequestPress(int(fields[0]), fields[1] == "y")
    if head == "d" + VERSION and len(fields) == 4 and _ID.match(fields[0]) \
            and fields[1] in PICK_ACTIONS and (fields[2] == "" or _REGION.match(fields[2])) \
            and fields[3].isdigit() and len(fields[3]) <= 3:
        return VillagePickPress(int(fields[0]), fields[1], fields[2], int(fields[3]))
    if head == "u" + VERSION and len(fields) == 2 and fields[0] in ("o", "a") \
            and _REGION.match(fields[1]):
        return InvitePress(fields[0], fields[1])
    if head in ("o" + VERSION, "q" + VERSION) and len(fields) == 3 \
            and fields[0] in STAFF_ACTIONS and (fields[1] == "0" or _ID.match(fields[1])) \
            and (_VALUE.match(fields[2])):
        kind = "officer" if head[0] == "o" else "group"
        return StaffPress(kind, fields[0], int(fields[1]), fields[2])
    if head == "h" + VERSION and len(fields) == 1 and fields[0] in ("y", "n"):
        return PurgePress(fields[0] == "y")
    if head == "t" + VERSION and len(fields) == 3 and fields[0] in PICK_ACTIONS \
            and (fields[1] == "" or _REGION.match(fields[1])) \
            and fields[2].isdigit() and len(fields[2]) <= 3:
        return PosterPress(fields[0], fields[1], int(fields[2]))
    return None


# ---- case handling: the case card, the case list, the reporter's status news ----

@dataclass(frozen=True)
class CasePress:
    """A button on a case card (``c1``). ``seen``: the status the card showed, so that a button
    left over from before the case moved on is recognised as stale. ``value``: the target status
    (``set``), referral target (``refer``), reason for closing (``close``), submenu (``menu``) or
    page (``history``)."""

    case_id: int
    action: str
    value: str = ""
    seen: str = ""

    def pack(self) -> str:
        return "|".join(("c" + VERSION, str(self.case_id), self.action, self.value, self.seen))


@dataclass(frozen=True)
class CaseListPress:
    """``/kasus`` filters and pages (``k1``): status filter, kecamatan (``*``: choose one)."""

    status: str = "open"
    kecamatan: str = ""
    page: int = 0

    def pack(self) -> str:
        return "|".join(("k" + VERSION, self.status, self.kecamatan, str(self.page)))


@dataclass(frozen=True)
class NewsPress:
    """Under a status message to the reporter: stop (``off``) or resume (``on``) status news."""

    wanted: bool

    def pack(self) -> str:
        return "|".join(("n" + VERSION, "on" if self.wanted else "off"))


CASE_VALUES = {
    "card": {""}, "detail": {""}, "note": {""}, "reply": {""}, "take": {""},
    "takeover": {""}, "help": {""}, "cancel": {""},
    "menu": {"", "refer", "close"},
    "set": set(workflow.STATUSES),
    "refer": set(workflow.REFERRAL_TARGETS),
    "close": set(workflow.CLOSE_REASONS),
}
CASE_ACTIONS = {*CASE_VALUES, "history"}
LIST_FILTERS = {"open", "mine", *workflow.STATUSES}
CasePresses = CasePress | CaseListPress | NewsPress


def _parse_case(head: str, fields: list[str]) -> CasePresses | None:
    if head == "c" + VERSION and len(fields) == 4 and _ID.match(fields[0]) \
            and fields[1] in CASE_ACTIONS and fields[3] in ("", *workflow.STATUSES):
        action, value = fields[1], fields[2]
        valid = (value.isdigit() and len(value) <= 3) if action == "history" \
            else value in CASE_VALUES[action]
        if valid:
            return CasePress(int(fields[0]), action, value, fields[3])
    if head == "k" + VERSION and len(fields) == 3 and fields[0] in LIST_FILTERS \
            and (fields[1] in ("", "*") or _REGION.match(fields[1])) \
            and fields[2].isdigit() and len(fields[2]) <= 3:
        return CaseListPress(fields[0], fields[1], int(fields[2]))
    if head == "n" + VERSION and len(fields) == 1 and fields[0] in ("on", "off"):
        return NewsPress(fields[0] == "on")
    return None


def parse(data: str | None) -> (ReportPress | CancelPress | LanguagePress | StartPress
                                 | PrivacyPress | AlertPress | AdminPress | CasePresses):
    if not data or len(data.encode()) > 64:
        raise BadCallback("empty or too long")
    head, *fields = data.split("|")
    if head == "r" + VERSION and len(fields) == 4:
        nonce, step, action, value = fields
        if (_NONCE.match(nonce) and step in REPORT_STEPS and action in REPORT_ACTIONS
                and _VALUE.match(value)):
            return ReportPress(nonce, step, action, value)
    elif head == "x" + VERSION and len(fields) == 2 and _NONCE.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return CancelPress(fields[0], fields[1] == "y")
    elif head == "l" + VERSION and len(fields) == 1 and fields[0] in ("id", "en"):
        return LanguagePress(fields[0])
    elif head == "s" + VERSION and not fields:
        return StartPress()
    elif head == "p" + VERSION and len(fields) == 1 and fields[0] in PRIVACY_ACTIONS:
        return PrivacyPress(fields[0])
    elif head == "a" + VERSION and len(fields) == 2 and _CASE_ID.match(fields[0]) \
            and fields[1] in ALERT_ACTIONS:
        return AlertPress(int(fields[0]), fields[1])
    elif (admin_press := _parse_admin(head, fields)) is not None:
        return admin_press
    elif (case_press := _parse_case(head, fields)) is not None:
        return case_press
    raise BadCallback("not a known callback")
