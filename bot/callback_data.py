"""Callback data: a small, versioned, validated schema. Anything else is refused as forged or stale.

Form: ``<kind><version>|field|field...`` within Telegram's 64 bytes, e.g. ``r1|9f2c61ab|vcat|choose|child``.
Every press is authorised again by the service that acts on it; this only checks the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """A button under a group or officer alert: ``ack`` (Terima), ``detail``, ``help`` (next tier)."""

    case_id: int
    action: str

    def pack(self) -> str:
        return "|".join(("a" + VERSION, str(self.case_id), self.action))


ALERT_ACTIONS = {"ack", "detail", "help"}
_CASE_ID = re.compile(r"^[1-9][0-9]{0,15}$")


def parse(data: str | None) -> (ReportPress | CancelPress | LanguagePress | StartPress
                                 | PrivacyPress | AlertPress):
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
    raise BadCallback("not a known callback")
