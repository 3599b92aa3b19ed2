"""Onboarding and administration: the first admin, village groups that ask to be
registered, officers and village members invited by a one-time link, and the admin's changes to
officers and groups. Members' enrolment itself (requests, grants, ends) is
``bot/services/enrolment.py``. Telegram-free: notifications go through the outbox.

Every action that needs a right takes the acting ``Responder`` and checks it again here, so a
button pressed after its presser lost the right does nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from html import escape

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callback_data import GroupRequestPress
from bot.config import Settings
from bot.crypto import Vault
from bot.domain.tiers import tier_of
from bot.i18n import LANGUAGES, translator
from bot.outbox import enqueue
from bot.services import enrolment
from bot.services.reporters import find_reporter
from bot.services.responders import (
    REVOKED,
    ResponderError,
    active_officer,
    add_group,
    add_officer,
    find_responder,
)
from bot.services.stats import Scope
from models import GroupRequest, Invitation, Region, Responder
from models.onboarding import (
    ADMIN_ROLE,
    APPROVED,
    MEMBER_ROLE,
    OFFICER_ROLE,
    PENDING,
    REJECTED,
    REPLACED,
)
from models.region import KABUPATEN, KECAMATAN, VILLAGE
from models.responder import DESA, GROUP, KABUPATEN_TIER, OFFICER

INVITE_PREFIX = "inv_"
PAGE_SIZE = 8


class Refusal(StrEnum):
    """Why something an admin or activist asked for cannot be done."""

    ADMIN_NEEDS_KABUPATEN = "admin_needs_kabupaten"
    ALREADY_ADMIN = "already_admin"
    BAD_INVITATION = "bad_invitation"
    BAD_REGION = "bad_region"
    INVITE_EXPIRED = "invite_expired"
    INVITE_GROUP_GONE = "invite_group_gone"
    INVITE_UNKNOWN = "invite_unknown"
    INVITE_USED = "invite_used"
    LAST_ADMIN = "last_admin"
    NO_ADMIN = "no_admin"
    NOT_A_GROUP = "not_a_group"
    NOT_A_VILLAGE = "not_a_village"
    NOT_ADMIN = "not_admin"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_REQUEST = "unknown_request"
    UNKNOWN_RESPONDER = "unknown_responder"


class OnboardingError(ValueError):
    """Something an admin or activist asked for that cannot be done; ``reason`` names why."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


# ---- who someone is ---------------------------------------------------------------------------

async def admin(session: AsyncSession, user_id: int) -> Responder | None:
    officer = await active_officer(session, user_id)
    return officer if officer is not None and officer.is_admin else None


def scope_of(officer: Responder) -> Scope:
    """Admins and kabupaten officers see everything; others their own region."""
    if officer.is_admin or tier_of(officer.region_code) == KABUPATEN_TIER:
        return Scope()
    return Scope(officer.region_code)


async def language_of_user(session: AsyncSession, vault: Vault, user_id: int) -> str:
    """The language a person chose in the bot: an officer's is kept with the officer, a
    reporter's with the reporter (nobody else is stored)."""
    chosen = await session.scalar(select(Responder.language).where(
        Responder.chat_id == user_id, Responder.kind == OFFICER, Responder.language.is_not(None)))
    if chosen is None:
        person = await find_reporter(session, vault, user_id)
        chosen = person.language if person is not None else None
    return chosen if chosen in LANGUAGES else "id"


async def add_admin(session: AsyncSession, settings: Settings, user_id: int, name: str,
                    now: datetime) -> tuple[Responder, str]:
    """``ppa-bot admin add``: a kabupaten admin, bound to the whole kabupaten."""
    return await add_officer(session, user_id, settings.region.kabupaten_code, name, True, now)


# ---- village groups ---------------------------------------------------------------------------

class GroupRequestStatus(StrEnum):
    """What came of /daftar in a group."""

    CREATED = "created"  # a new request, the admins are asked
    PENDING = "pending"  # one was already waiting
    REGISTERED = "registered"  # the group already receives alerts


@dataclass
class GroupRequestOutcome:
    request: GroupRequest | None
    status: GroupRequestStatus
    responder: Responder | None = None


async def region_name(session: AsyncSession, code: str) -> str:
    region = await session.get(Region, code)
    return region.name if region is not None else code


async def _village(session: AsyncSession, code: str) -> Region:
    region = await session.get(Region, code)
    if region is None or region.level != VILLAGE:
        raise OnboardingError(Refusal.NOT_A_VILLAGE)
    return region


async def request_group(session: AsyncSession, vault: Vault, *, chat_id: int, title: str,
                        village_code: str, requester_id: int, requester_name: str,
                        now: datetime) -> GroupRequestOutcome:
    """``/daftar``: ask the admins to register this group for a village. One open request per
    group: asking again for the same village waits for the same decision (the admins are not
    asked twice); asking for another village replaces the open request, so a button under the
    old one can no longer approve a village nobody asked for."""
    village = await _village(session, village_code)
    registered = await find_responder(session, chat_id)
    if registered is not None and registered.kind == GROUP and registered.active:
        return GroupRequestOutcome(None, GroupRequestStatus.REGISTERED, registered)
    admins = await _admins(session)
    if not admins:
        raise OnboardingError(Refusal.NO_ADMIN)
    open_request = await session.scalar(select(GroupRequest).where(
        GroupRequest.chat_id == chat_id, GroupRequest.status == PENDING).with_for_update())
    if open_request is not None and open_request.village_code == village.code:
        return GroupRequestOutcome(open_request, GroupRequestStatus.PENDING)
    if open_request is not None:
        open_request.status = REPLACED
        open_request.decided_at = now
    request = GroupRequest(chat_id=chat_id, created_at=now, status=PENDING,
                           title=(title or "").strip()[:128] or "?", village_code=village.code,
                           requester_id=requester_id,
                           requester_name=(requester_name or "").strip()[:120] or "?")
    session.add(request)
    await session.flush()
    kecamatan = await region_name(session, village.parent_code or "")
    for person in admins:
        language = await language_of_user(session, vault, person.chat_id)
        _ = translator(language)
        text = "\n".join([
            "📝 <b>" + _("A group asks to be registered") + "</b>",
            _("Group: {title}").format(title=escape(request.title)),
            _("Village: {village}, Kecamatan {kecamatan}").format(
                village=escape(village.name), kecamatan=escape(kecamatan)),
            _("Asked by: {name} (Telegram id {id})").format(
                name=escape(request.requester_name), id=request.requester_id),
            "", _("Approve only a group you know belongs to this village's PAPTBM: it will "
                  "receive alerts about cases there.")])
        keyboard = {"inline_keyboard": [[
            {"text": "✅ " + _("Approve"),
             "callback_data": GroupRequestPress(request.id, True).pack()},
            {"text": "✖️ " + _("Refuse"),
             "callback_data": GroupRequestPress(request.id, False).pack()}]]}
        enqueue(session, kind="group_request", method="sendMessage", now=now,
                responder_id=person.id, params={"chat_id": person.chat_id, "text": text,
                                                "parse_mode": "HTML", "reply_markup": keyboard})
    return GroupRequestOutcome(request, GroupRequestStatus.CREATED)


@dataclass
class Decision:
    request: GroupRequest
    village: str
    decided_now: bool  # False: someone had already decided it
    responder: Responder | None = None


async def decide_request(session: AsyncSession, request_id: int, by: Responder, approve: bool,
                         now: datetime) -> Decision:
    """Setujui / Tolak, authorised again at press time: only an active admin decides, once."""
    if not by.active or not by.is_admin:
        raise OnboardingError(Refusal.NOT_ADMIN)
    request = await session.scalar(select(GroupRequest).where(GroupRequest.id == request_id)
                                   .with_for_update())
    if request is None:
        raise OnboardingError(Refusal.UNKNOWN_REQUEST)
    village = await region_name(session, request.village_code)
    if request.status != PENDING:
        return Decision(request, village, False)
    request.status = APPROVED if approve else REJECTED
    request.decided_at = now
    request.decided_by = by.name
    _ = translator("id")  # village groups read Indonesian
    if not approve:
        enqueue(session, kind="group_refused", method="sendMessage", now=now,
                bucket=str(request.chat_id), params={
                    "chat_id": request.chat_id, "parse_mode": "HTML",
                    "text": _("The district office did not approve registering this group "
                              "for {village}. If this is a mistake, please contact DP2KBP3A.")
                    .format(village=escape(village))})
        return Decision(request, village, True)
    try:
        responder, _what = await add_group(session, request.chat_id, request.village_code,
                                           f"PAPTBM {village}", now)
    except ResponderError as exc:
        raise OnboardingError(Refusal.NOT_A_GROUP) from exc
    enqueue(session, kind="group_welcome", method="sendMessage", now=now,
            bucket=str(request.chat_id), responder_id=responder.id,
            params={"chat_id": request.chat_id, "parse_mode": "HTML",
                    "text": group_welcome("id", village)})
    return Decision(request, village, True, responder)


def group_welcome(language: str, village: str) -> str:
    """What an approved group is told about how alerts work."""
    _ = translator(language)
    return "\n".join([
        "✅ <b>" + _("This group is now the PAPTBM group of {village}.").format(
            village=escape(village)) + "</b>",
        "",
        _("How alerts work:"),
        "• " + _("Each new report from {village} appears here at once, without the story, "
                 "names or anything about the reporter: only the reference, priority, type, "
                 "victim category, place and time.").format(village=escape(village)),
        "• " + _("Members the district enrolled, and the officers of the area, press "
                 "<b>Terima</b> to take the case: the first to press handles it, and everyone sees "
                 "who took it. A press by anyone else changes nothing."),
        "• " + _("Details are sent only in private chat, to members the district enrolled: send "
                 "/gabung here to ask (an officer of the area approves it), then open the bot and "
                 "press Start."),
        "• " + _("If nobody takes a case in time, it goes to the kecamatan and district "
                 "officers. Sexual violence and urgent cases also go to the district at once."),
        "• " + _("Never discuss a case's details in this group."),
    ])


# ---- officers by invitation -------------------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def invitable_regions(session: AsyncSession) -> list[Region]:
    """Where an officer can be invited to: the kabupaten, then each kecamatan."""
    return list(await session.scalars(select(Region).where(Region.level.in_((KABUPATEN,
                                                                            KECAMATAN)))
                                      .order_by(Region.level != KABUPATEN, Region.name)))


async def create_invitation(session: AsyncSession, by: Responder, role: str, region_code: str,
                            now: datetime, hours: float) -> tuple[str, Invitation]:
    """A one-time link for an officer (any kabupaten or kecamatan) or an admin (kabupaten).
    Returns the token, which is shown once and stored only as a hash."""
    if not by.active or not by.is_admin:
        raise OnboardingError(Refusal.NOT_ADMIN)
    region = await session.get(Region, region_code)
    if role not in (OFFICER_ROLE, ADMIN_ROLE) or region is None \
            or region.level not in (KABUPATEN, KECAMATAN) \
            or (role == ADMIN_ROLE and region.level != KABUPATEN):
        raise OnboardingError(Refusal.BAD_INVITATION)
    token = secrets.token_urlsafe(18)
    invitation = Invitation(token_hash=token_hash(token), role=role, region_code=region.code,
                            created_by=by.chat_id, created_at=now,
                            expires_at=now + timedelta(hours=hours))
    session.add(invitation)
    await session.flush()
    return INVITE_PREFIX + token, invitation


async def create_member_invitation(session: AsyncSession, by: Responder, group_id: int,
                                   now: datetime, hours: float) -> tuple[str, Invitation]:
    """A one-time link that enrols its person in this village group (admins only)."""
    if not by.active or not by.is_admin:
        raise OnboardingError(Refusal.NOT_ADMIN)
    group = await session.get(Responder, group_id)
    if group is None or group.kind != GROUP or not group.active \
            or tier_of(group.region_code) != DESA:
        raise OnboardingError(Refusal.BAD_INVITATION)
    token = secrets.token_urlsafe(18)
    invitation = Invitation(token_hash=token_hash(token), role=MEMBER_ROLE,
                            region_code=group.region_code, responder_id=group.id,
                            created_by=by.chat_id, created_at=now,
                            expires_at=now + timedelta(hours=hours))
    session.add(invitation)
    await session.flush()
    return INVITE_PREFIX + token, invitation


@dataclass
class Accepted:
    """Who opened an invitation: an officer (``officer``) or a village member (``group``)."""

    invitation: Invitation
    officer: Responder | None = None
    group: Responder | None = None


async def accept_invitation(session: AsyncSession, vault: Vault, payload: str, user_id: int,
                            name: str, now: datetime) -> Accepted:
    """Opening ``t.me/<bot>?start=inv_...``: registers the person, once, before it expires."""
    token = payload.removeprefix(INVITE_PREFIX)
    invitation = await session.scalar(select(Invitation).where(
        Invitation.token_hash == token_hash(token)).with_for_update())
    if invitation is None:
        raise OnboardingError(Refusal.INVITE_UNKNOWN)
    if invitation.used_at is not None:
        raise OnboardingError(Refusal.INVITE_USED)
    if invitation.expires_at <= now:
        raise OnboardingError(Refusal.INVITE_EXPIRED)
    inviter = await admin(session, invitation.created_by)
    if inviter is None:  # the admin who made the link is no longer one
        raise OnboardingError(Refusal.INVITE_UNKNOWN)
    if invitation.role == MEMBER_ROLE:
        return await _accept_membership(session, vault, invitation, inviter, user_id, name, now)
    existing = await active_officer(session, user_id)
    if existing is not None and existing.is_admin:  # the link stays unused for its person
        raise OnboardingError(Refusal.ALREADY_ADMIN)
    officer, _what = await add_officer(session, user_id, invitation.region_code,
                                       (name or "").strip() or f"Petugas {user_id}",
                                       invitation.role == ADMIN_ROLE, now)
    invitation.used_at = now
    invitation.used_by = user_id
    region = await region_name(session, invitation.region_code)
    language = await language_of_user(session, vault, inviter.chat_id)
    _ = translator(language)
    enqueue(session, kind="invite_used", method="sendMessage", now=now, responder_id=inviter.id,
            params={"chat_id": inviter.chat_id, "parse_mode": "HTML",
                    "text": "✅ " + _("{name} opened your invitation and is now registered as "
                                     "{role} for {region}.").format(
                        name=escape(officer.name), role=role_name(invitation.role, language),
                        region=escape(region))})
    return Accepted(invitation, officer=officer)


async def _accept_membership(session: AsyncSession, vault: Vault, invitation: Invitation,
                             inviter: Responder, user_id: int, name: str,
                             now: datetime) -> Accepted:
    group = await session.get(Responder, invitation.responder_id) \
        if invitation.responder_id is not None else None
    if group is None or not group.active or group.region_code != invitation.region_code:
        raise OnboardingError(Refusal.INVITE_GROUP_GONE)  # revoked or moved since: the link is void
    invitation.used_at = now
    invitation.used_by = user_id
    member = await enrolment.grant(session, vault, group, user_id, name,
                                   f"{enrolment.VIA_INVITATION}:{invitation.id}",
                                   f"officer:{inviter.id}", inviter.name, now, notify=False)
    village = await region_name(session, group.region_code)
    _ = translator(await language_of_user(session, vault, inviter.chat_id))
    enqueue(session, kind="invite_used", method="sendMessage", now=now, responder_id=inviter.id,
            params={"chat_id": inviter.chat_id, "parse_mode": "HTML",
                    "text": "✅ " + _("{name} opened your invitation and is now a member of "
                                     "PAPTBM {village}.").format(
                        name=escape(member.name), village=escape(village))})
    return Accepted(invitation, group=group)


def role_name(role: str, language: str) -> str:
    _ = translator(language)
    return _("admin") if role == ADMIN_ROLE else _("officer")


# ---- the admin's lists and changes ------------------------------------------------------------

@dataclass
class Page:
    items: list[Responder]
    page: int
    pages: int
    total: int
    region_names: dict[str, str]


async def responders_page(session: AsyncSession, kind: str, page: int,
                          within: str | None = None) -> Page:
    """Officers or groups, active first, a phone screen at a time; ``within``: only those bound
    to this region or below it (an officer's own area)."""
    condition = Responder.kind == kind
    if within is not None:
        condition = condition & ((Responder.region_code == within)
                                 | Responder.region_code.like(within + ".%"))
    total = int(await session.scalar(select(func.count()).select_from(Responder)
                                     .where(condition)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    items = list(await session.scalars(
        select(Responder).where(condition)
        .order_by(Responder.active.desc(), Responder.region_code, Responder.name, Responder.id)
        .offset(page * PAGE_SIZE).limit(PAGE_SIZE)))
    codes = {r.region_code for r in items}
    names = {code: name for code, name in await session.execute(
        select(Region.code, Region.name).where(Region.code.in_(codes)))}
    return Page(items, page, pages, total, names)


async def _admins(session: AsyncSession) -> list[Responder]:
    return list(await session.scalars(select(Responder).where(
        Responder.kind == OFFICER, Responder.is_admin.is_(True), Responder.active.is_(True))
        .order_by(Responder.id)))


async def _target(session: AsyncSession, by: Responder, responder_id: int,
                  kind: str) -> Responder:
    if not by.active or not by.is_admin:
        raise OnboardingError(Refusal.NOT_ADMIN)
    target = await session.get(Responder, responder_id)
    if target is None or target.kind != kind:
        raise OnboardingError(Refusal.UNKNOWN_RESPONDER)
    return target


async def _keep_an_admin(session: AsyncSession, target: Responder) -> None:
    others = [a for a in await _admins(session) if a.id != target.id]
    if target.is_admin and target.active and not others:
        raise OnboardingError(Refusal.LAST_ADMIN)


async def set_active(session: AsyncSession, vault: Vault, by: Responder, responder_id: int,
                     kind: str, active: bool, now: datetime) -> Responder:
    """Revoke (or restore) an officer or a group: it receives nothing while revoked, and a
    revoked group's members lose their enrolment (a restored group enrols them anew)."""
    target = await _target(session, by, responder_id, kind)
    if not active:
        await _keep_an_admin(session, target)
        if target.active:
            await enrolment.end_group(session, vault, target, now)
    target.active = active
    target.inactive_reason = None if active else REVOKED
    target.changed_at = now
    return target


async def set_admin(session: AsyncSession, by: Responder, responder_id: int, is_admin: bool,
                    now: datetime) -> Responder:
    target = await _target(session, by, responder_id, OFFICER)
    if not is_admin:
        await _keep_an_admin(session, target)
    elif tier_of(target.region_code) != KABUPATEN_TIER:
        raise OnboardingError(Refusal.ADMIN_NEEDS_KABUPATEN)
    target.is_admin = is_admin
    target.changed_at = now
    return target


async def set_region(session: AsyncSession, vault: Vault, by: Responder, responder_id: int,
                     kind: str, region_code: str, now: datetime) -> Responder:
    """Move an officer to another kecamatan (or the kabupaten), or a group to another village:
    its members were enrolled for the old village, so their enrolment ends."""
    target = await _target(session, by, responder_id, kind)
    region = await session.get(Region, region_code)
    allowed = (VILLAGE,) if kind == GROUP else (KABUPATEN, KECAMATAN)
    if region is None or region.level not in allowed:
        raise OnboardingError(Refusal.BAD_REGION)
    if target.is_admin and region.level != KABUPATEN:
        raise OnboardingError(Refusal.ADMIN_NEEDS_KABUPATEN)
    if kind == GROUP and target.region_code != region.code:
        await enrolment.end_group(session, vault, target, now)
    target.region_code = region.code
    if kind == GROUP:
        target.name = f"PAPTBM {region.name}"[:120]
    target.changed_at = now
    return target


