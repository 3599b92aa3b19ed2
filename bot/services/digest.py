"""The weekly digest: every Monday 08:00 WITA each active admin receives last week's
new cases, open cases by stage, overdue acknowledgements and police-report deadlines, and the
villages whose group went inactive.

``build_digest`` is a pure read of the database at a given moment; ``queue_weekly_digest`` writes
one outbox row per admin, at most once per week (a restart or a second worker finds the rows of
this week and does nothing), so a missed Monday is caught up by calling it again later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from html import escape
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import l10n
from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import services, workflow
from bot.i18n import translator
from bot.outbox import enqueue
from bot.services.onboarding import language_of_user
from bot.services.stats import Scope, counted
from models import Case, CaseEvent, CaseServiceRecord, OutboxMessage, Region, Responder
from models.region import VILLAGE
from models.responder import GROUP, OFFICER

KIND = "weekly_digest"
DIGEST_TIME = time(8, 0)  # local time (WITA), Mondays
DIGEST_WEEKDAY = 1  # PTB's JobQueue.run_daily counts from Sunday = 0, like cron
LIST_LIMIT = 10


@dataclass
class LateCase:
    reference: str
    place: str  # "village, kecamatan"
    deadline: datetime | None  # None: nobody could be alerted (unrouted)


@dataclass
class GoneGroup:
    village: str
    kecamatan: str
    reason: str | None
    since: datetime


@dataclass
class Digest:
    week_start: datetime  # local Monday 00:00 a week before ``week_end``
    week_end: datetime  # local Monday 00:00 of the current week
    now: datetime
    new_cases: int
    new_urgent: int
    new_by_kecamatan: list[tuple[str, int]]
    open_by_stage: list[tuple[str, int]]
    overdue_ack: list[LateCase]
    police_overdue: list[LateCase]
    police_due_soon: list[LateCase]
    groups_gone: list[GoneGroup]
    villages: int
    villages_with_group: int
    kecamatan_names: dict[str, str] = field(default_factory=dict)

    @property
    def open_cases(self) -> int:
        return sum(count for _stage, count in self.open_by_stage)


def week_of(now: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """The last complete week, Monday to Monday in local time."""
    local = now.astimezone(settings.tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)
    return monday - timedelta(days=7), monday


async def build_digest(session: AsyncSession, now: datetime, settings: Settings) -> Digest:
    week_start, week_end = week_of(now, settings)
    regions = {code: (name, parent) for code, name, parent in await session.execute(
        select(Region.code, Region.name, Region.parent_code))}

    def names(village_code: str) -> tuple[str, str]:
        village, parent = regions.get(village_code, (village_code, None))
        return village, regions.get(parent or "", (parent or "", None))[0]

    def place(village_code: str) -> str:
        return ", ".join(names(village_code))

    new = (await session.execute(counted(
        select(Case.kecamatan_code, Case.urgent)
        .where(Case.created_at >= week_start, Case.created_at < week_end), Scope()))).all()
    by_kecamatan = Counter(code for code, _urgent in new)
    is_open = (Case.closed_at.is_(None), Case.status.not_in(workflow.CLOSED))
    stages = {status: count for status, count in await session.execute(counted(
        select(Case.status, func.count()).where(*is_open), Scope()).group_by(Case.status))}
    open_by_stage = [(stage, stages.pop(stage)) for stage in workflow.STATUSES if stage in stages]
    open_by_stage += sorted(stages.items())
    late_ack = (await session.execute(counted(
        select(Case.reference, Case.village_code, Case.ack_deadline)
        .where(Case.acknowledged_at.is_(None), *is_open,
               or_(Case.ack_deadline < now, Case.unrouted.is_(True)))
        .order_by(Case.created_at), Scope()))).all()
    # UU TPKS: the deadline is met once the case has been referred to the police (now or before).
    police_rows = (await session.execute(counted(
        select(Case.id, Case.reference, Case.village_code, Case.police_deadline)
        .where(Case.police_deadline.is_not(None), *is_open,
               Case.police_deadline < now + timedelta(days=2),
               or_(Case.referral.is_(None), Case.referral != workflow.POLICE))
        .order_by(Case.police_deadline), Scope()))).all()
    referred_before = {case_id for case_id, detail in await session.execute(
        select(CaseEvent.case_id, CaseEvent.detail).where(
            CaseEvent.case_id.in_([row[0] for row in police_rows]),
            CaseEvent.kind == "status_changed"))
        if (detail or {}).get("referral") == workflow.POLICE}
    referred_before |= set(await session.scalars(select(CaseServiceRecord.case_id).where(
        CaseServiceRecord.case_id.in_([row[0] for row in police_rows]),
        CaseServiceRecord.kind == services.PENEGAKAN_HUKUM,
        CaseServiceRecord.status != services.CANCELLED)))  # a police referral as a service
    police = [(ref, village, deadline) for case_id, ref, village, deadline in police_rows
              if case_id not in referred_before]
    gone = list(await session.scalars(select(Responder).where(
        Responder.kind == GROUP, Responder.active.is_(False),
        Responder.changed_at >= week_start, Responder.changed_at < now)
        .order_by(Responder.changed_at)))
    active_groups = set(await session.scalars(select(Responder.region_code).where(
        Responder.kind == GROUP, Responder.active.is_(True))))
    villages = [code for code, _name in await session.execute(
        select(Region.code, Region.name).where(Region.level == VILLAGE))]
    return Digest(
        week_start=week_start, week_end=week_end, now=now, new_cases=len(new),
        new_urgent=sum(1 for _code, urgent in new if urgent),
        new_by_kecamatan=sorted(((regions.get(code, (code, None))[0], count)
                                 for code, count in by_kecamatan.items()),
                                key=lambda item: (-item[1], item[0])),
        open_by_stage=open_by_stage,
        overdue_ack=[LateCase(ref, place(village), deadline)
                     for ref, village, deadline in late_ack],
        police_overdue=[LateCase(ref, place(village), deadline)
                        for ref, village, deadline in police if deadline < now],
        police_due_soon=[LateCase(ref, place(village), deadline)
                         for ref, village, deadline in police if deadline >= now],
        groups_gone=[GoneGroup(*names(g.region_code), g.inactive_reason, g.changed_at)
                     for g in gone if g.region_code not in active_groups],
        villages=len(villages), villages_with_group=len(set(villages) & active_groups))


def render_digest(digest: Digest, settings: Settings, language: str) -> str:
    _ = translator(language)
    tz = settings.tz
    n = lambda value: l10n.number(value, language)  # noqa: E731 - a local shorthand
    last_day = digest.week_end - timedelta(days=1)
    first = l10n.short_day(digest.week_start, language)
    lines = ["🗓 <b>" + _("Weekly digest") + f"</b> · {first} – {l10n.day(last_day, language)}"]
    lines.append("")
    new = _("New cases last week: {count}").format(count="<b>" + n(digest.new_cases) + "</b>")
    if digest.new_urgent:
        new += " " + _("({count} urgent)").format(count=n(digest.new_urgent))
    lines.append(new)
    if digest.new_by_kecamatan:
        lines.append("  " + ", ".join(f"{escape(name)} {n(count)}"
                                      for name, count in digest.new_by_kecamatan))
    lines.append(_("Open cases: {count}").format(count="<b>" + n(digest.open_cases) + "</b>"))
    if digest.open_by_stage:
        lines.append("  " + ", ".join(
            f"{_(workflow.STAGE_NAMES[stage]) if stage in workflow.STAGE_NAMES else stage} "
            f"{n(count)}" for stage, count in digest.open_by_stage))

    def late(cases: list[LateCase], title: str, empty: str) -> None:
        lines.append("")
        if not cases:
            lines.append("✅ " + empty)
            return
        lines.append("⚠️ <b>" + title.format(count=n(len(cases))) + "</b>")
        for case in cases[:LIST_LIMIT]:
            when = (_("since {time}").format(time=_when(case.deadline, tz, language))
                    if case.deadline else _("nobody could be alerted"))
            lines.append(f"• <code>{escape(case.reference)}</code> · {escape(case.place)}"
                         f" · {when}")
        if len(cases) > LIST_LIMIT:
            lines.append("  " + _("and {count} more").format(count=n(len(cases) - LIST_LIMIT)))

    late(digest.overdue_ack, _("Not acknowledged in time: {count}"),
         _("Every case was acknowledged in time."))
    late(digest.police_overdue, _("Police report deadline passed: {count}"),
         _("No police report deadline has passed."))
    if digest.police_due_soon:
        lines.append("⏳ " + _("Police report due within two days: {cases}").format(
            cases=", ".join(f"{c.reference} ({_when(c.deadline, tz, language)})"
                            for c in digest.police_due_soon[:LIST_LIMIT] if c.deadline)))
    lines.append("")
    if digest.groups_gone:
        lines.append("📵 <b>" + _("Village groups that went inactive: {count}").format(
            count=n(len(digest.groups_gone))) + "</b>")
        lines += [f"• {escape(g.village)}, {escape(g.kecamatan)} · "
                  f"{_when(g.since, tz, language)}" for g in digest.groups_gone[:LIST_LIMIT]]
    else:
        lines.append("✅ " + _("No village group went inactive."))
    lines.append(_("Coverage: {groups} of {villages} villages have an active PAPTBM group "
                   "({share})").format(groups=n(digest.villages_with_group),
                                       villages=n(digest.villages),
                                       share=l10n.percent(digest.villages_with_group,
                                                          digest.villages, language)))
    lines.append("")
    lines.append("<i>" + _("/statistik for the year's figures.") + "</i>")
    return "\n".join(lines)


def _when(moment: datetime | None, tz: ZoneInfo, language: str) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(tz)
    return f"{l10n.short_day(local, language)} {local.strftime('%H:%M')}"


def digest_due(now: datetime, settings: Settings) -> bool:
    """Whether this week's digest time (Monday 08:00 local) has passed."""
    _week_start, monday = week_of(now, settings)
    return now >= monday.replace(hour=DIGEST_TIME.hour, minute=DIGEST_TIME.minute)


async def queue_weekly_digest(sessions: async_sessionmaker[AsyncSession], clock: Clock,
                              settings: Settings, vault: Vault) -> int:
    """Queue this week's digest for every active admin, once a week; return how many queued."""
    now = clock.now()
    _week_start, week_end = week_of(now, settings)
    async with sessions.begin() as session:
        # Locking the admins' rows first makes a second worker wait here, then find this week's
        # rows below and do nothing (PostgreSQL; SQLite runs one process).
        admins = list(await session.scalars(select(Responder).where(
            Responder.kind == OFFICER, Responder.is_admin.is_(True), Responder.active.is_(True))
            .order_by(Responder.id).with_for_update()))
        already = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND, OutboxMessage.created_at >= week_end))
        if already or not admins:
            return 0
        digest = await build_digest(session, now, settings)
        for person in admins:
            language = await language_of_user(session, vault, person.chat_id)
            enqueue(session, kind=KIND, method="sendMessage", now=now, responder_id=person.id,
                    params={"chat_id": person.chat_id, "parse_mode": "HTML",
                            "text": render_digest(digest, settings, language)})
        return len(admins)
