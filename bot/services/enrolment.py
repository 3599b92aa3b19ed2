"""Enrolment (DESIGN §6): which members of a village's PAPTBM group may read that village's cases.

**Granted, never taken.** ``/gabung`` in an approved group only asks: the officers of the area
(kecamatan and kabupaten) and the admins get the request in private with **Setujui** / **Tolak**,
and a pending request opens nothing. An admin may instead send a one-time invitation for the group
(``bot/services/onboarding.py``), or the operator runs ``ppa-bot responders add-member``.

**Ends by itself.** Leaving the group (Telegram's ``left_chat_member`` service message or a
``chat_member`` update), a **Cabut** by an officer or admin, and a group that is revoked, removed
the bot or moved to another village end it. Telegram does not always say that someone left, so
every press that would open a case asks Telegram again (``getChatMember``, remembered for
``security.membership_check_seconds``): ``EnrolmentService.enrolled_now`` is the one question the
rest of the bot asks. A failed question (429, 5xx, timeout) never grants.

Every grant, refusal and end is a row of ``enrolment_events``: the group's enrolment history, read
by its admins and officers. Telegram-free: notifications go through the outbox; Telegram is asked
through a ``MembershipLookup`` given at start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callback_data import EnrolmentPress
from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain.access import Standing
from bot.domain.names import clean_name
from bot.domain.tiers import covers, tier_of
from bot.i18n import LANGUAGES, N_, translator
from bot.outbox import enqueue
from bot.services.reporters import find_reporter
from bot.services.responders import find_responder
from models import EnrolmentEvent, EnrolmentRequest, GroupMember, Region, Responder
from models.onboarding import APPROVED, PENDING, REJECTED
from models.responder import DESA, GROUP, OFFICER

log = logging.getLogger(__name__)

CANCELLED = "cancelled"  # a request whose person left the group, or whose group ended
PAGE_SIZE = 8
HISTORY_SIZE = 15
REASK_AFTER = timedelta(days=7)  # a refused person may ask again after this
CACHE_LIMIT = 10_000  # remembered answers of Telegram, at most (memory stays bounded)

# How an enrolment was granted (``GroupMember.granted_by`` starts with it).
VIA_REQUEST = "request"
VIA_INVITATION = "invitation"
VIA_CLI = "cli"

# History kinds.
REQUESTED = "requested"
GRANTED = "granted"
REFUSED = "refused"
ENDED = "ended"


class EndReason(StrEnum):
    LEFT = "left"  # left the group, or its admins removed them from it
    REMOVED = "removed"  # an officer or admin pressed Cabut (or the operator's CLI)
    GROUP_ENDED = "group_ended"  # the group was revoked, removed the bot, or moved village


class InGroup(StrEnum):
    """What Telegram says about one person in one group."""

    MEMBER = "member"
    GONE = "gone"  # left, removed, banned, or unknown to the group
    UNKNOWN = "unknown"  # no answer (429, 5xx, timeout, another refusal)


class MembershipLookup(Protocol):
    """Asks Telegram whether a user is in a group chat (``bot/membership.py``)."""

    async def __call__(self, chat_id: int, user_id: int) -> InGroup: ...


class RequestStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"  # already asked; still waiting
    ALREADY = "already"  # already enrolled
    NOT_REGISTERED = "not_registered"
    NO_APPROVER = "no_approver"
    REFUSED_RECENTLY = "refused_recently"


class DecisionOutcome(StrEnum):
    DECIDED = "decided"
    ALREADY_DECIDED = "already_decided"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN = "unknown"


class EnrolmentError(ValueError):
    """Something that cannot be done; ``reason`` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def clean_username(username: str | None) -> str | None:
    value = (username or "").strip().lstrip("@")
    return value[:40] if value and all(c.isalnum() or c == "_" for c in value) else None


# ---- who may decide ------------------------------------------------------------------------------

def may_manage(officer: Responder | None, village_code: str) -> bool:
    """Officers of the kecamatan or kabupaten covering the village, and the admins, approve,
    list and remove its members. An officer registered for the village itself does not: at that
    level it would be one neighbour enrolling another."""
    if officer is None or officer.kind != OFFICER or not officer.active:
        return False
    if officer.is_admin:
        return True
    return tier_of(officer.region_code) != DESA and covers(officer.region_code, village_code)


async def approvers(session: AsyncSession, village_code: str) -> list[Responder]:
    officers = await session.scalars(select(Responder).where(
        Responder.kind == OFFICER, Responder.active.is_(True)).order_by(Responder.id))
    return [o for o in officers if o.chat_id > 0 and may_manage(o, village_code)]


async def staff_member(session: AsyncSession, user_id: int) -> Responder | None:
    return await session.scalar(select(Responder).where(
        Responder.chat_id == user_id, Responder.kind == OFFICER, Responder.active.is_(True)))


async def _language(session: AsyncSession, vault: Vault, user_id: int) -> str:
    person = await find_reporter(session, vault, user_id)
    return person.language if person is not None and person.language in LANGUAGES else "id"


async def _region_name(session: AsyncSession, code: str) -> str:
    region = await session.get(Region, code)
    return region.name if region is not None else code


def _record(session: AsyncSession, group: Responder | int, kind: str, user_id: int, name: str,
            actor: str, actor_name: str | None, now: datetime, **detail: Any) -> None:
    session.add(EnrolmentEvent(
        responder_id=group if isinstance(group, int) else group.id, at=now, kind=kind,
        user_id=user_id, name=name[:120], actor=actor[:64],
        actor_name=actor_name[:120] if actor_name else None, detail=detail))


# ---- /gabung: a request --------------------------------------------------------------------------

@dataclass
class RequestOutcome:
    status: RequestStatus
    village: str = ""
    request: EnrolmentRequest | None = None


async def request_enrolment(session: AsyncSession, vault: Vault, *, chat_id: int, title: str,
                            user_id: int, name: str, username: str | None,
                            now: datetime) -> RequestOutcome:
    """``/gabung`` in a group: ask the officers of the area. Asking again while the request waits
    asks nobody twice; a person refused in the last ``REASK_AFTER`` is reminded of it."""
    group = await find_responder(session, chat_id)
    if group is None or group.kind != GROUP or not group.active:
        return RequestOutcome(RequestStatus.NOT_REGISTERED)
    village = await _region_name(session, group.region_code)
    member = await session.scalar(select(GroupMember).where(
        GroupMember.responder_id == group.id, GroupMember.user_id == user_id))
    if member is not None and member.active:
        return RequestOutcome(RequestStatus.ALREADY, village)
    latest = await session.scalar(
        select(EnrolmentRequest).where(EnrolmentRequest.responder_id == group.id,
                                       EnrolmentRequest.user_id == user_id)
        .order_by(EnrolmentRequest.id.desc()).limit(1))
    if latest is not None and latest.status == PENDING:
        return RequestOutcome(RequestStatus.PENDING, village, latest)
    if latest is not None and latest.status == REJECTED and latest.decided_at is not None \
            and now - latest.decided_at < REASK_AFTER:
        return RequestOutcome(RequestStatus.REFUSED_RECENTLY, village, latest)
    deciders = await approvers(session, group.region_code)
    if not deciders:
        return RequestOutcome(RequestStatus.NO_APPROVER, village)
    request = EnrolmentRequest(responder_id=group.id, user_id=user_id, name=clean_name(name),
                               username=clean_username(username),
                               group_title=clean_name(title, 128), status=PENDING,
                               created_at=now)
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError:  # the same person's other /gabung, handled at the same moment
        waiting = await session.scalar(select(EnrolmentRequest).where(
            EnrolmentRequest.responder_id == group.id, EnrolmentRequest.user_id == user_id,
            EnrolmentRequest.status == PENDING))
        return RequestOutcome(RequestStatus.PENDING, village, waiting)
    _record(session, group, REQUESTED, user_id, request.name, "telegram", None, now,
            request=request.id)
    region = await session.get(Region, group.region_code)
    kecamatan = await _region_name(session, region.parent_code or "") if region else ""
    for officer in deciders:
        _ = translator(await _language(session, vault, officer.chat_id))
        person = escape(request.name) + (f" (@{request.username})" if request.username else "")
        text = "\n".join([
            "🙋 <b>" + _("A request to enrol as a PAPTBM member") + "</b>",
            _("Person: {person} · Telegram id {id}").format(person=person, id=user_id),
            _("Group: {title}").format(title=escape(request.group_title)),
            _("Village: {village}, Kecamatan {kecamatan}").format(
                village=escape(village), kecamatan=escape(kecamatan)),
            "", _("Approve only someone you know to be a PAPTBM activist of this village: once "
                  "approved, they read the full reports of its cases in private.")])
        keyboard = {"inline_keyboard": [[
            {"text": "✅ " + _("Approve"),
             "callback_data": EnrolmentPress(request.id, True).pack()},
            {"text": "✖️ " + _("Refuse"),
             "callback_data": EnrolmentPress(request.id, False).pack()}]]}
        enqueue(session, kind="enrolment_request", method="sendMessage", now=now,
                responder_id=officer.id, params={"chat_id": officer.chat_id, "text": text,
                                                 "parse_mode": "HTML", "reply_markup": keyboard})
    return RequestOutcome(RequestStatus.CREATED, village, request)


# ---- Setujui / Tolak ----------------------------------------------------------------------------

@dataclass
class Decision:
    outcome: DecisionOutcome
    request: EnrolmentRequest | None = None
    village: str = ""


async def decide(session: AsyncSession, vault: Vault, request_id: int, approver_id: int,
                 approve: bool, now: datetime) -> Decision:
    """Setujui / Tolak, authorised again at press time. Two decisions at once: the conditional
    update lets exactly one of them through; the other is told who decided."""
    request = await session.get(EnrolmentRequest, request_id)
    if request is None:
        return Decision(DecisionOutcome.UNKNOWN)
    group = await session.get(Responder, request.responder_id)
    officer = await staff_member(session, approver_id)
    if group is None or not may_manage(officer, group.region_code):
        return Decision(DecisionOutcome.NOT_ALLOWED, request)
    assert officer is not None
    village = await _region_name(session, group.region_code)
    won: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(EnrolmentRequest)
        .where(EnrolmentRequest.id == request.id, EnrolmentRequest.status == PENDING)
        .values(status=APPROVED if approve else REJECTED, decided_at=now,
                decided_by=officer.name[:120])
        .execution_options(synchronize_session=False))
    await session.refresh(request)
    if won.rowcount != 1:
        return Decision(DecisionOutcome.ALREADY_DECIDED, request, village)
    actor = f"officer:{officer.id}"
    if not group.active:  # the group ended meanwhile: nothing to enrol in
        request.status = CANCELLED
        return Decision(DecisionOutcome.ALREADY_DECIDED, request, village)
    if approve:
        await grant(session, vault, group, request.user_id, request.name,
                    f"{VIA_REQUEST}:{request.id}", actor, officer.name, now)
    else:
        _record(session, group, REFUSED, request.user_id, request.name, actor, officer.name, now,
                request=request.id)
        _ = translator(await _language(session, vault, request.user_id))
        _notify(session, request.user_id, now, _(
            "Your request to become a member of PAPTBM {village} was not approved. If you think "
            "this is a mistake, please contact your kecamatan officer or DP2KBP3A.").format(
            village=escape(village)))
    return Decision(DecisionOutcome.DECIDED, request, village)


def _notify(session: AsyncSession, user_id: int, now: datetime, text: str) -> None:
    """A private word to the person concerned (nothing if they never opened the bot)."""
    enqueue(session, kind="enrolment", method="sendMessage", now=now,
            params={"chat_id": user_id, "text": text, "parse_mode": "HTML"})


# ---- granting and ending ------------------------------------------------------------------------

async def grant(session: AsyncSession, vault: Vault, group: Responder, user_id: int, name: str,
                how: str, actor: str, actor_name: str | None, now: datetime, *,
                notify: bool = True) -> GroupMember:
    """Enrol this person in this group (again, if an earlier enrolment ended); recorded."""
    member = await session.scalar(select(GroupMember).where(
        GroupMember.responder_id == group.id, GroupMember.user_id == user_id))
    if member is None:
        member = GroupMember(responder_id=group.id, user_id=user_id, name="", active=False,
                             created_at=now, changed_at=now)
        session.add(member)
    member.name = clean_name(name)
    member.active = True
    member.granted_by = how[:64]
    member.ended_reason = None
    member.changed_at = now
    await session.flush()
    # Whatever else this person asked of this group is answered now.
    await session.execute(
        update(EnrolmentRequest).where(EnrolmentRequest.responder_id == group.id,
                                       EnrolmentRequest.user_id == user_id,
                                       EnrolmentRequest.status == PENDING)
        .values(status=CANCELLED, decided_at=now).execution_options(synchronize_session=False))
    _record(session, group, GRANTED, user_id, member.name, actor, actor_name, now,
            via=how.split(":")[0])
    if notify:
        village = await _region_name(session, group.region_code)
        _ = translator(await _language(session, vault, user_id))
        _notify(session, user_id, now, "✅ " + _(
            "You are now a member of PAPTBM {village}. When a report from {village} arrives in "
            "the group, press Details under it: the full report comes here, in private. Never "
            "discuss a case's details in the group.").format(village=escape(village)))
    return member


END_WORDS = {
    EndReason.LEFT: N_("you are no longer in the group"),
    EndReason.REMOVED: N_("an officer withdrew it"),
    EndReason.GROUP_ENDED: N_("the group no longer receives this village's alerts"),
}


async def end(session: AsyncSession, vault: Vault, member: GroupMember, reason: EndReason,
              actor: str, actor_name: str | None, now: datetime, *,
              notify: bool = True) -> bool:
    """End one enrolment (recorded, and the person is told); False if it had already ended."""
    if not member.active:
        return False
    member.active = False
    member.ended_reason = reason.value
    member.changed_at = now
    _record(session, member.responder_id, ENDED, member.user_id, member.name, actor, actor_name,
            now, reason=reason.value)
    if notify:
        group = await session.get(Responder, member.responder_id)
        village = await _region_name(session, group.region_code) if group else "?"
        _ = translator(await _language(session, vault, member.user_id))
        _notify(session, member.user_id, now, _(
            "Your membership of PAPTBM {village} has ended: {reason}. You no longer receive the "
            "details of its cases.").format(village=escape(village), reason=_(END_WORDS[reason])))
    return True


async def member_left(session: AsyncSession, vault: Vault, chat_id: int, user_id: int,
                      now: datetime) -> bool:
    """Telegram says this person is no longer in this group: their enrolment (and any request
    still waiting) ends at once."""
    group = await find_responder(session, chat_id)
    if group is None or group.kind != GROUP:
        return False
    await _cancel_requests(session, group, now, user_id=user_id)
    member = await session.scalar(select(GroupMember).where(
        GroupMember.responder_id == group.id, GroupMember.user_id == user_id)
        .with_for_update())
    if member is None:
        return False
    return await end(session, vault, member, EndReason.LEFT, "telegram", None, now)


async def end_group(session: AsyncSession, vault: Vault, group: Responder, now: datetime) -> int:
    """The group was revoked, removed the bot or moved to another village: every enrolment in it
    ends, and requests still waiting are cancelled. Returns how many enrolments ended."""
    if group.kind != GROUP:
        return 0
    await _cancel_requests(session, group, now)
    members = list(await session.scalars(select(GroupMember).where(
        GroupMember.responder_id == group.id, GroupMember.active.is_(True))
        .order_by(GroupMember.id)))
    for member in members:
        await end(session, vault, member, EndReason.GROUP_ENDED, "system", None, now)
    if members:
        log.info("group %s: %d enrolment(s) ended with the group", group.id, len(members))
    return len(members)


async def _cancel_requests(session: AsyncSession, group: Responder, now: datetime, *,
                           user_id: int | None = None) -> None:
    query = update(EnrolmentRequest).where(EnrolmentRequest.responder_id == group.id,
                                           EnrolmentRequest.status == PENDING)
    if user_id is not None:
        query = query.where(EnrolmentRequest.user_id == user_id)
    await session.execute(query.values(status=CANCELLED, decided_at=now)
                          .execution_options(synchronize_session=False))


async def remove(session: AsyncSession, vault: Vault, by_user_id: int, member_id: int,
                 now: datetime) -> GroupMember:
    """**Cabut**: an officer of the area or an admin ends one member's enrolment."""
    member = await session.get(GroupMember, member_id)
    if member is None:
        raise EnrolmentError("unknown_member")
    group = await session.get(Responder, member.responder_id)
    officer = await staff_member(session, by_user_id)
    if group is None or not may_manage(officer, group.region_code):
        raise EnrolmentError("not_allowed")
    assert officer is not None
    await end(session, vault, member, EndReason.REMOVED, f"officer:{officer.id}", officer.name,
              now)
    return member


# ---- the operator's command line ----------------------------------------------------------------

async def add_member(session: AsyncSession, vault: Vault, chat_id: int, user_id: int, name: str,
                     now: datetime) -> tuple[GroupMember, Responder]:
    """``ppa-bot responders add-member GROUP_CHAT_ID USER_ID --name NAME``."""
    if user_id <= 0:
        raise EnrolmentError(f"{user_id} is not a Telegram user id: user ids are positive")
    if not clean_name(name).strip("?"):
        raise EnrolmentError("a member needs a name (--name), shown to officers")
    group = await find_responder(session, chat_id)
    if group is None or group.kind != GROUP:
        raise EnrolmentError(f"no group with chat id {chat_id}; see `ppa-bot responders list`")
    if not group.active:
        raise EnrolmentError(f"group {chat_id} is inactive ({group.inactive_reason}); register "
                             "it again first")
    if tier_of(group.region_code) != DESA:
        raise EnrolmentError(f"group {chat_id} is not a village group: members are enrolled in "
                             "a village's PAPTBM group")
    member = await grant(session, vault, group, user_id, name, VIA_CLI, "cli", None, now)
    return member, group


async def remove_member(session: AsyncSession, vault: Vault, chat_id: int, user_id: int,
                        now: datetime) -> GroupMember:
    """``ppa-bot responders remove-member GROUP_CHAT_ID USER_ID``."""
    group = await find_responder(session, chat_id)
    member = None if group is None else await session.scalar(select(GroupMember).where(
        GroupMember.responder_id == group.id, GroupMember.user_id == user_id))
    if member is None or not member.active:
        raise EnrolmentError(f"user {user_id} is not an enrolled member of group {chat_id}")
    await end(session, vault, member, EndReason.REMOVED, "cli", None, now)
    return member


# ---- reading ------------------------------------------------------------------------------------

@dataclass
class MemberPage:
    group: Responder
    village: str
    members: list[GroupMember]
    page: int
    pages: int
    total: int


async def members_page(session: AsyncSession, group_id: int, page: int) -> MemberPage:
    group = await session.get(Responder, group_id)
    if group is None or group.kind != GROUP:
        raise EnrolmentError("unknown_group")
    condition = (GroupMember.responder_id == group.id) & GroupMember.active.is_(True)
    total = int(await session.scalar(select(func.count()).select_from(GroupMember)
                                     .where(condition)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    members = list(await session.scalars(select(GroupMember).where(condition)
                                         .order_by(GroupMember.name, GroupMember.id)
                                         .offset(page * PAGE_SIZE).limit(PAGE_SIZE)))
    return MemberPage(group, await _region_name(session, group.region_code), members, page,
                      pages, total)


async def active_members(session: AsyncSession, group_id: int) -> list[GroupMember]:
    return list(await session.scalars(select(GroupMember).where(
        GroupMember.responder_id == group_id, GroupMember.active.is_(True))
        .order_by(GroupMember.name, GroupMember.id)))


async def history(session: AsyncSession, group_id: int,
                  limit: int = HISTORY_SIZE) -> list[EnrolmentEvent]:
    """The group's latest enrolment events, newest first."""
    return list(await session.scalars(select(EnrolmentEvent).where(
        EnrolmentEvent.responder_id == group_id)
        .order_by(EnrolmentEvent.at.desc(), EnrolmentEvent.id.desc()).limit(limit)))


async def enrolments(session: AsyncSession, user_id: int,
                     village_code: str | None = None) -> list[tuple[GroupMember, Responder]]:
    """This person's active enrolments in active village groups (of one village, if given)."""
    query = (select(GroupMember, Responder)
             .join(Responder, Responder.id == GroupMember.responder_id)
             .where(GroupMember.user_id == user_id, GroupMember.active.is_(True),
                    Responder.kind == GROUP, Responder.active.is_(True)))
    if village_code is not None:
        query = query.where(Responder.region_code == village_code)
    rows = await session.execute(query.order_by(GroupMember.id))
    return [(member, group) for member, group in rows]


# ---- the one question ---------------------------------------------------------------------------

@dataclass
class EnrolmentService:
    """Answers "is this user enrolled for this village right now", asking Telegram whether they
    are still in the group (``lookup``, set when the bot starts) unless it said so within
    ``security.membership_check_seconds``."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    settings: Settings
    vault: Vault
    lookup: MembershipLookup | None = None
    _confirmed: dict[tuple[int, int], datetime] = field(default_factory=dict)

    async def enrolled_now(self, user_id: int, village_code: str) -> Standing:
        async with self.sessions() as session:
            found = [(member.id, group.chat_id)
                     for member, group in await enrolments(session, user_id, village_code)]
        if not found:
            return Standing.NOT_ENROLLED
        unconfirmed = False
        for member_id, chat_id in found:
            answer = await self._in_group(chat_id, user_id)
            if answer == InGroup.MEMBER:
                return Standing.ENROLLED
            if answer == InGroup.GONE:
                await self._gone(member_id, chat_id, user_id)
            else:
                unconfirmed = True
        return Standing.UNCONFIRMED if unconfirmed else Standing.NOT_ENROLLED

    async def villages_now(self, user_id: int) -> tuple[list[str], bool]:
        """The villages this person is enrolled for right now, and whether Telegram failed to
        confirm one of them (for ``/kasus``)."""
        async with self.sessions() as session:
            villages = sorted({group.region_code
                               for _member, group in await enrolments(session, user_id)})
        confirmed: list[str] = []
        unconfirmed = False
        for village in villages:
            standing = await self.enrolled_now(user_id, village)
            if standing == Standing.ENROLLED:
                confirmed.append(village)
            elif standing == Standing.UNCONFIRMED:
                unconfirmed = True
        return confirmed, unconfirmed

    def forget(self, chat_id: int, user_id: int) -> None:
        """Telegram said this person left: nothing remembered of them counts any more."""
        self._confirmed.pop((chat_id, user_id), None)

    async def _in_group(self, chat_id: int, user_id: int) -> InGroup:
        now = self.clock.now()
        until = self._confirmed.get((chat_id, user_id))
        if until is not None and now < until:
            return InGroup.MEMBER
        if self.lookup is None:  # no bot to ask (a command-line run): nothing is granted
            return InGroup.UNKNOWN
        answer = await self.lookup(chat_id, user_id)
        if answer == InGroup.MEMBER:
            seconds = self.settings.security.membership_check_seconds
            if seconds > 0:
                if len(self._confirmed) >= CACHE_LIMIT:
                    self._sweep(now)
                self._confirmed[(chat_id, user_id)] = now + timedelta(seconds=seconds)
        else:
            self.forget(chat_id, user_id)
        return answer

    def _sweep(self, now: datetime) -> None:
        for key in [k for k, until in self._confirmed.items() if until <= now]:
            del self._confirmed[key]
        if len(self._confirmed) >= CACHE_LIMIT:
            self._confirmed.clear()

    async def _gone(self, member_id: int, chat_id: int, user_id: int) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            member = await session.get(GroupMember, member_id, with_for_update=True)
            if member is not None and member.active:
                await end(session, self.vault, member, EndReason.LEFT, "telegram", None, now)
                log.info("group %s: a member is no longer in the chat; enrolment ended", chat_id)
