"""Who someone is for one case (DESIGN §5, §6): the facts ``who_is`` needs, read from the database
at every command and every button press. The rule itself, and the table of what each role may do
and read, are ``bot/domain/access.py``. Telegram-free: whether an enrolled member is still in the
village's group is asked just before (``EnrolmentService.enrolled_now``, outside any transaction)
and given here as ``standing``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Vault
from bot.domain.access import (
    ADMIN,
    ADMINS,
    ANYONE,
    KABUPATEN_OFFICER,
    OFFICERS,
    PRIVATE_CHAT,
    RANK,
    STAFF,
    VILLAGE_MEMBER,
    CaseFacts,
    ChatFacts,
    PersonFacts,
    Standing,
    Who,
    who_is,
)
from bot.domain.access import officer_role as domain_officer_role
from bot.domain.tiers import covers
from bot.services.reporters import find_reporter
from bot.services.responders import active_officer
from models import Alert, Case, GroupMember, Region, Responder
from models.responder import GROUP


@dataclass(frozen=True)
class Actor:
    """Someone as one case sees them: who they are (``who``) and how the history names them."""

    who: Who
    user_id: int
    name: str  # shown to other officers (the case history, "taken by"); never to the reporter
    key: str  # the history's ``actor``: "officer:<id>", "member:<id>", "reporter", "tg#<hash>"
    village: str | None = None  # a village member's village: signs their replies
    officer: Responder | None = None

    @property
    def role(self) -> str:
        return self.who.role

    @property
    def in_scope(self) -> bool:
        return self.who.in_scope

    @property
    def staff(self) -> bool:
        return self.who.staff

    def may(self, action: str) -> bool:
        return self.who.may(action)

    def reads(self, item: str) -> bool:
        return self.who.reads(item)


def officer_role(officer: Responder) -> str:
    return domain_officer_role(officer.is_admin, officer.region_code)


async def memberships(session: AsyncSession, user_id: int) -> list[tuple[GroupMember, str]]:
    """The enrolments of this person in active village groups, with each group's village."""
    rows = await session.execute(
        select(GroupMember, Responder.region_code)
        .join(Responder, Responder.id == GroupMember.responder_id)
        .where(GroupMember.user_id == user_id, GroupMember.active.is_(True),
               Responder.kind == GROUP, Responder.active.is_(True))
        .order_by(GroupMember.id))
    return [(member, village) for member, village in rows]


async def _village_name(session: AsyncSession, code: str) -> str:
    region = await session.get(Region, code)
    return region.name if region is not None else code


def anonymous_key(vault: Vault, user_id: int) -> str:
    """A refused stranger in the history: the same person is recognisable, never identifiable."""
    return "tg#" + vault.hash_id(user_id)[:16]


async def chat_facts(session: AsyncSession, chat_id: int, in_group: bool,
                     case: Case) -> ChatFacts:
    """A private chat, or a group chat and whether it received this case's alert."""
    if not in_group:
        return PRIVATE_CHAT
    alerted = await session.scalar(select(Alert.id).where(
        Alert.case_id == case.id, Alert.chat_id == chat_id).limit(1))
    return ChatFacts(private=False, got_alert=alerted is not None)


async def actor_for(session: AsyncSession, vault: Vault, user_id: int, name: str,
                    case: Case, *, standing: Standing | None = None,
                    chat: ChatFacts = PRIVATE_CHAT) -> Actor:
    """Who this Telegram user is for this case, asked in ``chat``: the facts read from the
    database now, then ``who_is``. ``standing``: what ``EnrolmentService.enrolled_now`` said of
    this person and the case's village just before; None: not asked, an enrolment in the
    database counts (for deciding who receives a message, never for a press)."""
    officer = await active_officer(session, user_id)
    enrolled = await memberships(session, user_id)
    here = [member for member, village in enrolled if village == case.village_code]
    if standing is None:
        standing = Standing.ENROLLED if here else Standing.NOT_ENROLLED
    elif not here:
        standing = Standing.NOT_ENROLLED  # ended meanwhile
    reported = False
    if officer is None and not enrolled and case.reporter_id is not None:
        reporter = await find_reporter(session, vault, user_id)
        reported = reporter is not None and reporter.id == case.reporter_id
    facts = PersonFacts(
        officer_region=officer.region_code if officer is not None else None,
        admin=officer is not None and officer.is_admin, standing=standing,
        enrolled_elsewhere=bool(enrolled) and not here,
        handles=case.handler_user_id == user_id, reported=reported)
    who = who_is(facts, chat, CaseFacts(case.village_code, case.closed_at is None))
    if officer is not None and (officer.is_admin or covers(officer.region_code,
                                                           case.village_code)):
        village = officer.region_code if officer_role(officer) == VILLAGE_MEMBER else None
        return Actor(who, user_id, officer.name, f"officer:{officer.id}", village=village,
                     officer=officer)
    if here and who.in_scope:
        label = f"{here[0].name or name} (PAPTBM {await _village_name(session, case.village_code)})"
        return Actor(who, user_id, label[:120], f"member:{here[0].id}",
                     village=case.village_code)
    if officer is not None:
        return Actor(who, user_id, officer.name, f"officer:{officer.id}", officer=officer)
    if reported:
        return Actor(who, user_id, "", "reporter")
    return Actor(who, user_id, name[:120] if enrolled else "", anonymous_key(vault, user_id))


async def pressers_of(session: AsyncSession, user_id: int) -> frozenset[str]:
    """Who this person is before any case: anyone; staff (an active officer, or a member
    enrolled in an active village group); an officer; an admin. What a kind of button needs is
    declared with it (``bot/callback_data.py``) and checked before any handler runs."""
    found = {ANYONE}
    officer = await active_officer(session, user_id)
    if officer is not None:
        found |= {STAFF, OFFICERS}
        if officer.is_admin:
            found.add(ADMINS)
    elif await memberships(session, user_id):
        found.add(STAFF)
    return frozenset(found)


@dataclass(frozen=True)
class Area:
    """What one person may list: their highest staff role and the cases it covers."""

    role: str
    name: str
    everything: bool  # an admin: every case
    regions: tuple[str, ...]  # officers' regions (a case in any village they cover)
    villages: tuple[str, ...]  # villages whose group they are enrolled in: open cases only
    kecamatan_choice: bool  # whether a kecamatan filter makes sense (kabupaten, admins)

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        for code in self.regions:
            parts += [Case.village_code == code, Case.village_code.like(code + ".%")]
        if self.villages:
            parts.append(and_(Case.village_code.in_(self.villages), Case.closed_at.is_(None)))
        return or_(*parts) if parts else false()


async def area_of(session: AsyncSession, user_id: int,
                  villages: list[str] | None = None) -> Area | None:
    """None when this person is neither an officer nor an enrolled village group member.
    ``villages``: the villages their enrolments were just confirmed for (None: every enrolment
    in the database counts)."""
    officer = await active_officer(session, user_id)
    enrolled = [(member, village) for member, village in await memberships(session, user_id)
                if villages is None or village in villages]
    if officer is None and not enrolled:
        return None
    role = officer_role(officer) if officer is not None else VILLAGE_MEMBER
    name = officer.name if officer is not None else (enrolled[0][0].name or "")
    # An officer registered for a village sees that village's cases as its members do.
    regions = (officer.region_code,) if officer is not None and role != VILLAGE_MEMBER else ()
    village_codes = tuple(village for _member, village in enrolled)
    if officer is not None and role == VILLAGE_MEMBER:
        village_codes += (officer.region_code,)
    return Area(role=role, name=name, everything=role == ADMIN, regions=regions,
                villages=village_codes,
                kecamatan_choice=RANK[role] >= RANK[KABUPATEN_OFFICER])
