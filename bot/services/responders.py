"""Responders: the village groups and officers who receive alerts, each bound to one region.

A responder's region decides its tier (a village → ``desa``, a kecamatan → ``kecamatan``, the
kabupaten → ``kabupaten``) and its scope: Kemendagri codes nest, so a responder covers every
village whose code starts with its own. Everything here reads the database on every call: a group
added or revoked by the CLI while the bot runs counts from the next alert on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.tiers import (
    DESA,
    KABUPATEN_TIER,
    KECAMATAN_TIER,
    TIERS,
    Gone,
    chain,
    covers,
    tier_of,
)
from models import Alert, Case, GroupMember, Region, Responder
from models.region import KABUPATEN, KECAMATAN, VILLAGE
from models.responder import GROUP, OFFICER

TIER_OF_LEVEL = {VILLAGE: DESA, KECAMATAN: KECAMATAN_TIER, KABUPATEN: KABUPATEN_TIER}
# Why a responder stopped receiving alerts (Responder.inactive_reason): ``Gone``.
REVOKED, REMOVED, NOT_FOUND = Gone.REVOKED, Gone.REMOVED, Gone.NOT_FOUND
NO_RIGHTS, NOT_STARTED = Gone.NO_RIGHTS, Gone.NOT_STARTED


class ResponderError(ValueError):
    """A registration that cannot be made, phrased for the person at the command line."""


def bucket_for(responder: Responder) -> str:
    """The outbox sender's rate-limit bucket: a group's own, or the shared one for private chats."""
    return str(responder.chat_id) if responder.kind == GROUP else "p"


async def responders_by_tier(session: AsyncSession,
                             village_code: str) -> dict[str, list[Responder]]:
    """Active responders covering a village, by tier (every tier present, maybe empty)."""
    found: dict[str, list[Responder]] = {tier: [] for tier in TIERS}
    rows = await session.scalars(
        select(Responder).where(Responder.active.is_(True),
                                Responder.region_code.in_(chain(village_code)))
        .order_by(Responder.id))
    for responder in rows:
        found[tier_of(responder.region_code)].append(responder)
    return found


async def find_responder(session: AsyncSession, chat_id: int) -> Responder | None:
    return await session.scalar(select(Responder).where(Responder.chat_id == chat_id))


async def active_officer(session: AsyncSession, user_id: int) -> Responder | None:
    """The active officer (or admin) with this Telegram user id."""
    return await session.scalar(select(Responder).where(
        Responder.chat_id == user_id, Responder.kind == OFFICER, Responder.active.is_(True)))


async def officer_in_scope(session: AsyncSession, user_id: int,
                           village_code: str) -> Responder | None:
    """The active officer (or admin) with this Telegram id whose region covers the village."""
    officer = await active_officer(session, user_id)
    if officer is None or not covers(officer.region_code, village_code):
        return None
    return officer


async def enrolled_member(session: AsyncSession, user_id: int,
                          village_code: str) -> GroupMember | None:
    """A member who enrolled (``/gabung``) in an active group covering the village."""
    return await session.scalar(
        select(GroupMember).join(Responder, Responder.id == GroupMember.responder_id)
        .where(GroupMember.user_id == user_id, GroupMember.active.is_(True),
               Responder.kind == GROUP, Responder.active.is_(True),
               Responder.region_code.in_(chain(village_code))).limit(1))


async def alerted_group(session: AsyncSession, chat_id: int, case_id: int) -> Responder | None:
    """The active group with this chat id, if it was alerted about this case (and only then)."""
    return await session.scalar(
        select(Responder).join(Alert, Alert.responder_id == Responder.id)
        .where(Responder.chat_id == chat_id, Responder.kind == GROUP,
               Responder.active.is_(True), Alert.case_id == case_id))


async def admins(session: AsyncSession) -> list[Responder]:
    return list(await session.scalars(select(Responder).where(
        Responder.kind == OFFICER, Responder.is_admin.is_(True), Responder.active.is_(True))
        .order_by(Responder.id)))


async def _region(session: AsyncSession, code: str) -> Region:
    region = await session.get(Region, code.strip())
    if region is None:
        raise ResponderError(f"unknown region code {code!r}: use a Kemendagri code from "
                             "`ppa-bot responders list` or the regions CSV, e.g. 64.01.05.2009")
    return region


async def add_group(session: AsyncSession, chat_id: int, region_code: str, title: str | None,
                    now: datetime) -> tuple[Responder, str]:
    """Register (or re-register) a group chat for a region; returns it and what happened."""
    if chat_id >= 0:
        raise ResponderError(f"{chat_id} is not a group chat id: group ids are negative, "
                             "e.g. -1001234567890")
    region = await _region(session, region_code)
    name = (title or "").strip() or f"PAPTBM {region.name}"
    return await _upsert(session, GROUP, chat_id, region, name[:120], False, now)


async def add_officer(session: AsyncSession, user_id: int, region_code: str, name: str,
                      is_admin: bool, now: datetime) -> tuple[Responder, str]:
    if user_id <= 0:
        raise ResponderError(f"{user_id} is not a Telegram user id: user ids are positive")
    if not name.strip():
        raise ResponderError("an officer needs a name (--name), shown when they take a case")
    region = await _region(session, region_code)
    return await _upsert(session, OFFICER, user_id, region, name.strip()[:120], is_admin, now)


async def _upsert(session: AsyncSession, kind: str, chat_id: int, region: Region, name: str,
                  is_admin: bool, now: datetime) -> tuple[Responder, str]:
    responder = await find_responder(session, chat_id)
    if responder is None:
        responder = Responder(kind=kind, chat_id=chat_id, region_code=region.code, name=name,
                              is_admin=is_admin, active=True, created_at=now, changed_at=now)
        session.add(responder)
        await session.flush()
        return responder, "added"
    what = "updated" if responder.active else "reactivated"
    responder.kind, responder.region_code, responder.name = kind, region.code, name
    responder.is_admin = is_admin
    responder.active, responder.inactive_reason, responder.changed_at = True, None, now
    return responder, what


# ---- the overview for `ppa-bot responders list` ------------------------------------------------

@dataclass
class KecamatanCoverage:
    code: str
    name: str
    villages: int
    with_group: list[str] = field(default_factory=list)  # village names with an active group
    responders: int = 0  # active responders bound to the kecamatan itself


@dataclass
class Overview:
    responders: list[Responder]
    region_names: dict[str, str]
    unrouted: list[Case]
    kecamatan: list[KecamatanCoverage]
    villages: int
    villages_with_group: int
    kabupaten_responders: int
    villages_unreachable: int  # no active responder at any tier


async def overview(session: AsyncSession) -> Overview:
    regions = list(await session.scalars(select(Region).order_by(Region.code)))
    names = {r.code: r.name for r in regions}
    responders = list(await session.scalars(
        select(Responder).order_by(Responder.active.desc(), Responder.region_code, Responder.id)))
    active = [r for r in responders if r.active]
    active_regions = {r.region_code for r in active}
    group_regions = {r.region_code for r in active if r.kind == GROUP}
    kecamatan = {r.code: KecamatanCoverage(r.code, r.name, 0) for r in regions
                 if r.level == KECAMATAN}
    villages = [r for r in regions if r.level == VILLAGE]
    unreachable = 0
    for village in villages:
        coverage = kecamatan.get(village.parent_code or "")
        if coverage is not None:
            coverage.villages += 1
            if village.code in group_regions:
                coverage.with_group.append(village.name)
        if not any(code in active_regions for code in chain(village.code)):
            unreachable += 1
    for coverage in kecamatan.values():
        coverage.responders = sum(1 for r in active if r.region_code == coverage.code)
    unrouted = list(await session.scalars(
        select(Case).where(Case.unrouted.is_(True), Case.acknowledged_at.is_(None),
                           Case.closed_at.is_(None)).order_by(Case.created_at)))
    return Overview(
        responders=responders, region_names=names, unrouted=unrouted,
        kecamatan=sorted(kecamatan.values(), key=lambda k: k.name), villages=len(villages),
        villages_with_group=sum(1 for v in villages if v.code in group_regions),
        kabupaten_responders=sum(1 for r in active if tier_of(r.region_code) == KABUPATEN_TIER),
        villages_unreachable=unreachable)


async def count_unrouted(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Case).where(
        Case.unrouted.is_(True), Case.acknowledged_at.is_(None), Case.closed_at.is_(None))) or 0)
