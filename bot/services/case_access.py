"""Who someone is for one case (DESIGN §5, §6), read from the database at every command and
every button press; what each role may do is the table in ``bot/domain/access.py``.
Telegram-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Vault
from bot.domain.access import (
    ADMIN,
    KABUPATEN_OFFICER,
    RANK,
    REPORTER,
    STAFF_ROLES,
    STRANGER,
    VILLAGE_MEMBER,
    allowed,
)
from bot.domain.access import officer_role as domain_officer_role
from bot.domain.tiers import covers
from bot.services.reporters import find_reporter
from bot.services.responders import active_officer
from models import Case, GroupMember, Region, Responder
from models.responder import GROUP


@dataclass(frozen=True)
class Actor:
    """Someone as one case sees them."""

    role: str
    user_id: int
    name: str  # shown to other officers (the case history, "taken by"); never to the reporter
    key: str  # the history's ``actor``: "officer:<id>", "member:<id>", "reporter", "tg#<hash>"
    in_scope: bool  # the case is in their area (for staff); False: staff of another area
    village: str | None = None  # a village member's village: signs their replies
    officer: Responder | None = None

    @property
    def staff(self) -> bool:
        return self.role in STAFF_ROLES

    def may(self, action: str) -> bool:
        return self.in_scope and allowed(self.role, action)


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


async def actor_for(session: AsyncSession, vault: Vault, user_id: int, name: str,
                    case: Case) -> Actor:
    """Who this Telegram user is for this case, read from the database now."""
    officer = await active_officer(session, user_id)
    if officer is not None and (officer.is_admin or covers(officer.region_code,
                                                           case.village_code)):
        role = officer_role(officer)
        return Actor(role, user_id, officer.name, f"officer:{officer.id}", True,
                     village=officer.region_code if role == VILLAGE_MEMBER else None,
                     officer=officer)
    for member, village in await memberships(session, user_id):
        if village == case.village_code:
            label = f"{member.name or name} (PAPTBM {await _village_name(session, village)})"
            return Actor(VILLAGE_MEMBER, user_id, label[:120], f"member:{member.id}", True,
                         village=village)
    if officer is not None:
        return Actor(officer_role(officer), user_id, officer.name, f"officer:{officer.id}",
                     False, officer=officer)
    if case.reporter_id is not None:
        reporter = await find_reporter(session, vault, user_id)
        if reporter is not None and reporter.id == case.reporter_id:
            return Actor(REPORTER, user_id, "", "reporter", True)
    if await memberships(session, user_id):
        return Actor(VILLAGE_MEMBER, user_id, name[:120], anonymous_key(vault, user_id), False)
    return Actor(STRANGER, user_id, "", anonymous_key(vault, user_id), False)


@dataclass(frozen=True)
class Area:
    """What one person may list: their highest staff role and the cases it covers."""

    role: str
    name: str
    everything: bool  # an admin: every case
    regions: tuple[str, ...]  # officers' regions (a case in any village they cover)
    villages: tuple[str, ...]  # villages whose group they are enrolled in
    kecamatan_choice: bool  # whether a kecamatan filter makes sense (kabupaten, admins)

    def condition(self) -> ColumnElement[bool]:
        if self.everything:
            return true()
        parts: list[ColumnElement[bool]] = []
        for code in self.regions:
            parts += [Case.village_code == code, Case.village_code.like(code + ".%")]
        if self.villages:
            parts.append(Case.village_code.in_(self.villages))
        return or_(*parts) if parts else false()


async def area_of(session: AsyncSession, user_id: int) -> Area | None:
    """None when this person is neither an officer nor an enrolled village group member."""
    officer = await active_officer(session, user_id)
    enrolled = await memberships(session, user_id)
    if officer is None and not enrolled:
        return None
    role = officer_role(officer) if officer is not None else VILLAGE_MEMBER
    name = officer.name if officer is not None else (enrolled[0][0].name or "")
    regions = (officer.region_code,) if officer is not None else ()
    return Area(role=role, name=name, everything=role == ADMIN, regions=regions,
                villages=tuple(village for _member, village in enrolled),
                kecamatan_choice=RANK[role] >= RANK[KABUPATEN_OFFICER])
