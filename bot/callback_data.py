"""Callback data: a small, versioned, validated schema. Anything else is refused as forged or stale.

Form: ``<kind><version>|field|field...`` within Telegram's 64 bytes, e.g.
``r1|9f2c61ab|vcat|choose|child``.
Each kind also declares where it may be pressed (``WHERE``: a private chat, a group chat) and by
whom (``BY``: anyone, staff, officers, admins; ``bot/domain/access.py``): the registry
(``handlers/__init__.py``) refuses any other press silently before a handler runs. Every press is
then authorised again, for its case or request, by the service that acts on it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar

from bot.domain import form, workflow
from bot.domain.access import ADMINS, ANYONE, IN_GROUP, IN_PRIVATE, OFFICERS, STAFF

VERSION = "1"
_NONCE = re.compile(r"^[0-9a-f]{8}$")
_VALUE = re.compile(r"^[A-Za-z0-9_.+:\-]{0,32}$")
REPORT_STEPS = {*form.ORDER, form.REVIEW}
REPORT_ACTIONS = {"choose", "back", "skip", "done", "toggle", "edit", "page", "clear", "submit",
                  "urgent", "keep"}  # the last two: danger, then "stop for now" (send now / keep)


class BadCallback(ValueError):
    """Callback data that is not ours, or not of this version."""


PRIVATE_ONLY = frozenset({IN_PRIVATE})
GROUP_ONLY = frozenset({IN_GROUP})


class Press:
    """A kind of button: ``HEADS`` declares its prefix(es), the dataclass its fields, ``pack``
    writes it and ``parse`` below reads it back. ``handlers/__init__.py`` maps each kind to the
    one handler its presses go to (``pattern``). ``WHERE`` and ``BY``: where it may be pressed and
    by whom; a kind that declares nothing may be pressed nowhere."""

    HEADS: ClassVar[tuple[str, ...]] = ()
    WHERE: ClassVar[frozenset[str]] = frozenset()
    BY: ClassVar[str] = ADMINS

    @classmethod
    def heads(cls) -> tuple[str, ...]:
        return tuple(head + VERSION for head in cls.HEADS)

    @classmethod
    def head(cls) -> str:
        return cls.HEADS[0] + VERSION

    @classmethod
    def pattern(cls) -> str:
        """What PTB's ``CallbackQueryHandler`` matches: this kind's prefix, then its fields."""
        fields = r"(\||$)" if not dataclasses.fields(cls) else r"\|"  # type: ignore[arg-type]
        return "^(" + "|".join(re.escape(head) for head in cls.heads()) + ")" + fields


@dataclass(frozen=True)
class ReportPress(Press):
    HEADS: ClassVar[tuple[str, ...]] = ("r",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE

    nonce: str
    step: str
    action: str
    value: str

    def pack(self) -> str:
        return "|".join((self.head(), self.nonce, self.step, self.action, self.value))


@dataclass(frozen=True)
class CancelPress(Press):
    HEADS: ClassVar[tuple[str, ...]] = ("x",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE

    nonce: str
    confirm: bool

    def pack(self) -> str:
        return "|".join((self.head(), self.nonce, "y" if self.confirm else "n"))


@dataclass(frozen=True)
class LanguagePress(Press):
    HEADS: ClassVar[tuple[str, ...]] = ("l",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE

    language: str

    def pack(self) -> str:
        return "|".join((self.head(), self.language))


@dataclass(frozen=True)
class StartPress(Press):
    """The "start a report" button under the greeting."""

    HEADS: ClassVar[tuple[str, ...]] = ("s",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE
    def pack(self) -> str:
        return self.head()


@dataclass(frozen=True)
class PrivacyPress(Press):
    """Confirmations for /tarik_persetujuan ("withdraw") and wiping the chat ("wipe")."""

    HEADS: ClassVar[tuple[str, ...]] = ("p",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE
    action: str

    def pack(self) -> str:
        return "|".join((self.head(), self.action))


PRIVACY_ACTIONS = {"withdraw", "wipe", "keep"}


@dataclass(frozen=True)
class AlertPress(Press):
    """A button under an alert: ``ack`` (Terima), ``detail``, ``help`` (ask the next tier: without
    a ``value`` it asks why; with one of ``workflow.HELP_REASONS`` it passes the case up),
    ``nohelp`` (the reasons were not needed after all). ``case``: the case's ``public_id``
    (random), never its row id, which would tell how many cases exist."""

    HEADS: ClassVar[tuple[str, ...]] = ("a",)
    WHERE: ClassVar[frozenset[str]] = frozenset({IN_PRIVATE, IN_GROUP})
    BY: ClassVar[str] = ANYONE  # who_is decides, for the case and the chat
    case: str
    action: str
    value: str = ""

    def pack(self) -> str:
        fields = (self.head(), self.case, self.action)
        return "|".join((*fields, self.value) if self.value else fields)


ALERT_ACTIONS = {"ack": {""}, "detail": {""}, "help": {"", *workflow.HELP_REASONS},
                 "nohelp": {""}}
_CASE_KEY = re.compile(r"^[A-Za-z0-9_\-]{8,16}$")  # ``Case.public_id``


# ---- administration: group requests, village picker, invitations, staff, practice ----

_ID = re.compile(r"^[1-9][0-9]{0,15}$")
_REGION = re.compile(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$")


@dataclass(frozen=True)
class GroupRequestPress(Press):
    """Setujui / Tolak under a group's registration request, in an admin's chat."""

    HEADS: ClassVar[tuple[str, ...]] = ("g",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ADMINS
    request_id: int
    approve: bool

    def pack(self) -> str:
        return "|".join((self.head(), str(self.request_id), "y" if self.approve else "n"))


@dataclass(frozen=True)
class EnrolmentPress(Press):
    """Setujui / Tolak under a person's request to enrol in a village group (``/gabung``), in the
    private chat of an officer or admin of the area."""

    HEADS: ClassVar[tuple[str, ...]] = ("e",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = OFFICERS  # of the area: ``enrolment.decide``
    request_id: int
    approve: bool

    def pack(self) -> str:
        return "|".join((self.head(), str(self.request_id), "y" if self.approve else "n"))


@dataclass(frozen=True)
class VillagePickPress(Press):
    """The village picker of ``/daftar`` in a group; only ``user_id`` (who sent it) may press.
    ``k``: villages of kecamatan ``code`` (page ``page``); ``v``: choose village ``code``;
    ``b``: back to the kecamatan list."""

    HEADS: ClassVar[tuple[str, ...]] = ("d",)
    WHERE: ClassVar[frozenset[str]] = GROUP_ONLY
    BY: ClassVar[str] = ANYONE  # the one who sent /daftar: the handler checks
    user_id: int
    action: str
    code: str
    page: int = 0

    def pack(self) -> str:
        return "|".join((self.head(), str(self.user_id), self.action, self.code,
                         str(self.page)))


@dataclass(frozen=True)
class InvitePress(Press):
    """``/undang``: make a link for role ``o`` (officer) or ``a`` (admin) in a region."""

    HEADS: ClassVar[tuple[str, ...]] = ("u",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ADMINS
    role: str
    region_code: str

    def pack(self) -> str:
        return "|".join((self.head(), self.role, self.region_code))


@dataclass(frozen=True)
class StaffPress(Press):
    """``/petugas`` (kind ``officer``, head ``o``) and ``/grup`` (kind ``group``, head ``q``).
    A group's members: ``members`` (page ``value``), ``member`` / ``unenrol`` (member id
    ``value``), ``mhistory`` (its enrolment history), ``minvite`` (a one-time link to enrol)."""

    HEADS: ClassVar[tuple[str, ...]] = ("o", "q")  # officers, groups
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = OFFICERS  # admins, or officers of the group's area
    kind: str
    action: str
    responder_id: int = 0
    value: str = ""

    def pack(self) -> str:
        head = self.HEADS[0 if self.kind == "officer" else 1] + VERSION
        return "|".join((head, self.action, str(self.responder_id), self.value))


@dataclass(frozen=True)
class PurgePress(Press):
    """Confirmation of ``/hapus_latihan`` (delete every practice case)."""

    HEADS: ClassVar[tuple[str, ...]] = ("h",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ADMINS
    confirm: bool

    def pack(self) -> str:
        return "|".join((self.head(), "y" if self.confirm else "n"))


@dataclass(frozen=True)
class PosterPress(Press):
    """``/poster``'s village picker (admins, private chat): ``k`` villages of kecamatan ``code``
    (page ``page``), ``v`` the poster of village ``code``, ``b`` back to the kecamatan list."""

    HEADS: ClassVar[tuple[str, ...]] = ("t",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ADMINS
    action: str
    code: str
    page: int = 0

    def pack(self) -> str:
        return "|".join((self.head(), self.action, self.code, str(self.page)))


STAFF_ACTIONS = {"list", "show", "revoke", "restore", "admin", "region", "move",
                 "members", "member", "unenrol", "mhistory", "minvite"}
PICK_ACTIONS = {"k", "v", "b"}
AdminPress = (GroupRequestPress | EnrolmentPress | VillagePickPress | InvitePress | StaffPress
              | PurgePress | PosterPress)


def _parse_admin(head: str, fields: list[str]) -> AdminPress | None:
    if head == GroupRequestPress.head() and len(fields) == 2 and _ID.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return GroupRequestPress(int(fields[0]), fields[1] == "y")
    if head == EnrolmentPress.head() and len(fields) == 2 and _ID.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return EnrolmentPress(int(fields[0]), fields[1] == "y")
    if head == VillagePickPress.head() and len(fields) == 4 and _ID.match(fields[0]) \
            and fields[1] in PICK_ACTIONS and (fields[2] == "" or _REGION.match(fields[2])) \
            and fields[3].isdigit() and len(fields[3]) <= 3:
        return VillagePickPress(int(fields[0]), fields[1], fields[2], int(fields[3]))
    if head == InvitePress.head() and len(fields) == 2 and fields[0] in ("o", "a") \
            and _REGION.match(fields[1]):
        return InvitePress(fields[0], fields[1])
    if head in StaffPress.heads() and len(fields) == 3 \
            and fields[0] in STAFF_ACTIONS and (fields[1] == "0" or _ID.match(fields[1])) \
            and (_VALUE.match(fields[2])):
        kind = "officer" if head == StaffPress.heads()[0] else "group"
        return StaffPress(kind, fields[0], int(fields[1]), fields[2])
    if head == PurgePress.head() and len(fields) == 1 and fields[0] in ("y", "n"):
        return PurgePress(fields[0] == "y")
    if head == PosterPress.head() and len(fields) == 3 and fields[0] in PICK_ACTIONS \
            and (fields[1] == "" or _REGION.match(fields[1])) \
            and fields[2].isdigit() and len(fields[2]) <= 3:
        return PosterPress(fields[0], fields[1], int(fields[2]))
    return None


# ---- case handling: the case card, the case list, the reporter's status news ----

@dataclass(frozen=True)
class CasePress(Press):
    """A button on a case card (``c1``). ``seen``: the status the card showed, so that a button
    left over from before the case moved on is recognised as stale. ``value``: the target status
    (``set``), referral target (``refer``), reason for closing (``close``), submenu (``menu``) or
    page (``history``). ``case``: the case's ``public_id``, never its row id."""

    HEADS: ClassVar[tuple[str, ...]] = ("c",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = STAFF  # who_is decides, for the case
    case: str
    action: str
    value: str = ""
    seen: str = ""

    def pack(self) -> str:
        return "|".join((self.head(), self.case, self.action, self.value, self.seen))


@dataclass(frozen=True)
class CaseListPress(Press):
    """``/kasus`` filters and pages (``k1``): status filter, kecamatan (``*``: choose one)."""

    HEADS: ClassVar[tuple[str, ...]] = ("k",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = STAFF
    status: str = "open"
    kecamatan: str = ""
    page: int = 0

    def pack(self) -> str:
        return "|".join((self.head(), self.status, self.kecamatan, str(self.page)))


@dataclass(frozen=True)
class NewsPress(Press):
    """Under a status message to the reporter: stop (``off``) or resume (``on``) status news."""

    HEADS: ClassVar[tuple[str, ...]] = ("n",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE  # a reporter: the service finds their reports
    wanted: bool

    def pack(self) -> str:
        return "|".join((self.head(), "on" if self.wanted else "off"))


CASE_VALUES = {
    "card": {""}, "detail": {""}, "note": {""}, "reply": {""}, "take": {""},
    "takeover": {""}, "help": {"", *workflow.HELP_REASONS}, "cancel": {""},
    "share": {str(number) for number in range(1, 1000)},  # a note's number on its case
    "menu": {"", "refer", "close"},
    "set": set(workflow.STATUSES),
    "refer": set(workflow.REFERRAL_TARGETS),
    "close": set(workflow.CLOSE_REASONS),
}
CASE_ACTIONS = {*CASE_VALUES, "history"}
LIST_FILTERS = {"open", "mine", *workflow.STATUSES}
CasePresses = CasePress | CaseListPress | NewsPress


def _parse_case(head: str, fields: list[str]) -> CasePresses | None:
    if head == CasePress.head() and len(fields) == 4 and _CASE_KEY.match(fields[0]) \
            and fields[1] in CASE_ACTIONS and fields[3] in ("", *workflow.STATUSES):
        action, value = fields[1], fields[2]
        valid = (value.isdigit() and len(value) <= 3) if action == "history" \
            else value in CASE_VALUES[action]
        if valid:
            return CasePress(fields[0], action, value, fields[3])
    if head == CaseListPress.head() and len(fields) == 3 and fields[0] in LIST_FILTERS \
            and (fields[1] in ("", "*") or _REGION.match(fields[1])) \
            and fields[2].isdigit() and len(fields[2]) <= 3:
        return CaseListPress(fields[0], fields[1], int(fields[2]))
    if head == NewsPress.head() and len(fields) == 1 and fields[0] in ("on", "off"):
        return NewsPress(fields[0] == "on")
    return None


# ---- services and referrals, the consent asked of a reporter, the provider directory ----

@dataclass(frozen=True)
class ServicePress(Press):
    """The services of a case (``sv1``), from the card's "Layanan": ``list``; ``kinds`` (what to
    add); ``add`` (``value`` a kind: its providers); ``prov`` (``value`` "kind:provider id", 0
    for none); ``type`` (``value`` a kind: the provider's name is typed); ``show``, ``move``
    (``value`` a status), ``follow``, ``ask`` (consent through the bot), ``consent`` (``value``
    y / n) and ``via`` (``value`` "y.langsung") for service ``number``."""

    HEADS: ClassVar[tuple[str, ...]] = ("sv",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = STAFF  # who_is decides, for the case
    case: str
    action: str
    value: str = ""
    number: int = 0

    def pack(self) -> str:
        return "|".join((self.head(), self.case, self.action, self.value, str(self.number)))


@dataclass(frozen=True)
class ConsentPress(Press):
    """"Setuju" / "Tidak" under the question to a reporter about a referral (``sc1``): the
    service checks that the presser is that case's reporter."""

    HEADS: ClassVar[tuple[str, ...]] = ("sc",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE
    service_id: int
    given: bool

    def pack(self) -> str:
        return "|".join((self.head(), str(self.service_id), "y" if self.given else "n"))


@dataclass(frozen=True)
class ProviderPress(Press):
    """``/layanan`` (admins): ``kinds``, ``list`` (``value`` a kind, page ``page``), ``show``,
    ``off``, ``on`` (provider ``provider_id``)."""

    HEADS: ClassVar[tuple[str, ...]] = ("pv",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ADMINS
    action: str
    value: str = ""
    provider_id: int = 0
    page: int = 0

    def pack(self) -> str:
        return "|".join((self.head(), self.action, self.value, str(self.provider_id),
                         str(self.page)))


SERVICE_ACTIONS = {"list", "kinds", "add", "prov", "type", "show", "move", "follow", "ask",
                   "consent", "via"}
PROVIDER_ACTIONS = {"kinds", "list", "show", "off", "on"}
ServicePresses = ServicePress | ConsentPress | ProviderPress


def _parse_service(head: str, fields: list[str]) -> ServicePresses | None:
    if head == ServicePress.head() and len(fields) == 4 and _CASE_KEY.match(fields[0]) \
            and fields[1] in SERVICE_ACTIONS and _VALUE.match(fields[2]) \
            and fields[3].isdigit() and len(fields[3]) <= 4:
        return ServicePress(fields[0], fields[1], fields[2], int(fields[3]))
    if head == ConsentPress.head() and len(fields) == 2 and _ID.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return ConsentPress(int(fields[0]), fields[1] == "y")
    if head == ProviderPress.head() and len(fields) == 4 and fields[0] in PROVIDER_ACTIONS \
            and _VALUE.match(fields[1]) and fields[2].isdigit() and len(fields[2]) <= 16 \
            and fields[3].isdigit() and len(fields[3]) <= 3:
        return ProviderPress(fields[0], fields[1], int(fields[2]), int(fields[3]))
    return None


# ---- the reporter's phone: discreet messages, help, privacy settings ----

@dataclass(frozen=True)
class OpenPress(Press):
    """Under a discreet message to a reporter: ``open`` shows its content (kept in the database,
    never in the button: ``sealed_id`` names it), ``hide`` covers it again."""

    HEADS: ClassVar[tuple[str, ...]] = ("m",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE  # the reporter whose message it is: the service checks
    sealed_id: int
    action: str

    def pack(self) -> str:
        return "|".join((self.head(), str(self.sealed_id), self.action))


OPEN_ACTIONS = {"open", "hide"}


@dataclass(frozen=True)
class HelpPress(Press):
    """Help and the reporter's privacy settings (``/bantuan``): ``help`` shows the help, ``privacy``
    the settings; ``discreet_on`` / ``discreet_off``; ``pin`` chooses or changes a PIN,
    ``pin_off`` removes it."""

    HEADS: ClassVar[tuple[str, ...]] = ("b",)
    WHERE: ClassVar[frozenset[str]] = PRIVATE_ONLY
    BY: ClassVar[str] = ANYONE
    action: str

    def pack(self) -> str:
        return "|".join((self.head(), self.action))


HELP_ACTIONS = {"help", "privacy", "discreet_on", "discreet_off", "pin", "pin_off"}
PhonePresses = OpenPress | HelpPress


def _parse_phone(head: str, fields: list[str]) -> PhonePresses | None:
    if head == OpenPress.head() and len(fields) == 2 and _ID.match(fields[0]) \
            and fields[1] in OPEN_ACTIONS:
        return OpenPress(int(fields[0]), fields[1])
    if head == HelpPress.head() and len(fields) == 1 and fields[0] in HELP_ACTIONS:
        return HelpPress(fields[0])
    return None


def parse(data: str | None) -> (ReportPress | CancelPress | LanguagePress | StartPress
                                 | PrivacyPress | AlertPress | AdminPress | CasePresses
                                 | PhonePresses | ServicePresses):
    if not data or len(data.encode()) > 64:
        raise BadCallback("empty or too long")
    head, *fields = data.split("|")
    if head == ReportPress.head() and len(fields) == 4:
        nonce, step, action, value = fields
        if (_NONCE.match(nonce) and step in REPORT_STEPS and action in REPORT_ACTIONS
                and _VALUE.match(value)):
            return ReportPress(nonce, step, action, value)
    elif head == CancelPress.head() and len(fields) == 2 and _NONCE.match(fields[0]) \
            and fields[1] in ("y", "n"):
        return CancelPress(fields[0], fields[1] == "y")
    elif head == LanguagePress.head() and len(fields) == 1 and fields[0] in ("id", "en"):
        return LanguagePress(fields[0])
    elif head == StartPress.head() and not fields:
        return StartPress()
    elif head == PrivacyPress.head() and len(fields) == 1 and fields[0] in PRIVACY_ACTIONS:
        return PrivacyPress(fields[0])
    elif head == AlertPress.head() and len(fields) in (2, 3) and _CASE_KEY.match(fields[0]) \
            and fields[1] in ALERT_ACTIONS and (fields[2:] or [""])[0] in ALERT_ACTIONS[fields[1]]:
        return AlertPress(fields[0], fields[1], (fields[2:] or [""])[0])
    elif (admin_press := _parse_admin(head, fields)) is not None:
        return admin_press
    elif (case_press := _parse_case(head, fields)) is not None:
        return case_press
    elif (phone_press := _parse_phone(head, fields)) is not None:
        return phone_press
    elif (service_press := _parse_service(head, fields)) is not None:
        return service_press
    raise BadCallback("not a known callback")
