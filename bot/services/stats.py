"""Statistics: the figures the district reports year over year, scope-limited.

Counted: every case reported in the year (in the district's time zone), except practice cases and
cases closed as a duplicate or as not a case; and, as SIMFONI-PPA counts, the victims of those
cases (one row each in ``victims``). Everything is counted by the database in a handful of
aggregate queries, whatever the size of the year: month boundaries are computed here in the
district's time zone and compared with the stored UTC times, so SQLite and PostgreSQL count alike.
``render`` writes the figures for the chat (HTML) and the command line (plain); ``chart_png``
draws them for a phone screen.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Text, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import l10n
from bot.clock import Clock
from bot.config import Settings
from bot.domain import form, simfoni
from bot.i18n import N_, translator
from models import Case, Region, Responder, Victim
from models.region import KECAMATAN, VILLAGE
from models.responder import GROUP

# Closing reasons (bot/domain/workflow.CLOSE_REASONS) that mean "this was never a case of its own":
# such cases are not counted.
NOT_COUNTED_CLOSE_REASONS = frozenset({"duplicate", "not_a_case"})
OTHER_VICTIMS = "other"  # adult men, and victims whose age is not known
VICTIM_LABELS = {form.WOMAN: N_("Women"), form.CHILD: N_("Children"),
                 OTHER_VICTIMS: N_("others or not known")}
SEX_LABELS = {"f": N_("female"), "m": N_("male"), None: N_("not known")}


@dataclass(frozen=True)
class Scope:
    """The part of the kabupaten someone may see: ``None`` for all of it, else a region code."""

    region_code: str | None = None

    @property
    def whole(self) -> bool:
        return self.region_code is None

    def covers(self, code: str) -> bool:
        return self.region_code is None or code == self.region_code \
            or code.startswith(self.region_code + ".")

    def case_filter(self) -> ColumnElement[bool] | None:
        if self.region_code is None:
            return None
        return or_(Case.village_code == self.region_code,
                   Case.village_code.startswith(self.region_code + "."))


def counted(query: Any, scope: Scope) -> Any:
    """Restrict a query on ``Case`` to the cases that count in figures, inside ``scope``."""
    query = query.where(Case.practice.is_(False),
                        or_(Case.close_reason.is_(None),
                            Case.close_reason.not_in(NOT_COUNTED_CLOSE_REASONS)))
    clause = scope.case_filter()
    return query if clause is None else query.where(clause)


@dataclass
class YearStats:
    year: int
    scope: Scope
    scope_name: str
    as_of: datetime  # the end of the period counted (now, or the end of a past year), UTC
    period_end_local: datetime  # the same moment in local time, for "1 Jan – 2 Mar"
    by_month: list[int]  # twelve counts, January first
    previous_by_month: list[int]
    by_kecamatan: list[tuple[str, str, int]]  # (code, name, count), every kecamatan in scope
    by_type: list[tuple[str, int]]  # every SIMFONI-PPA type, in form order
    by_victim: list[tuple[str, int]]  # victims: women, children (and others when there are)
    victims: int  # people: one per victim of the counted cases
    previous_same_period: int
    previous_total: int
    acknowledged: int
    median_ack: timedelta | None
    villages: int
    villages_with_group: int
    victims_by_month: list[int] = field(default_factory=lambda: [0] * 12)
    victims_by_kecamatan: dict[str, int] = field(default_factory=dict)
    victims_by_sex: list[tuple[str | None, int]] = field(default_factory=list)
    victims_by_age_band: list[tuple[str | None, int]] = field(default_factory=list)
    kecamatan_names: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_month)

    @property
    def complete_year(self) -> bool:
        return self.period_end_local.year > self.year


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def same_moment_a_year_before(moment: datetime) -> datetime:
    """The same local date and time one year earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:
        return moment.replace(year=moment.year - 1, day=28)


class StatsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings

    async def year(self, year: int, scope: Scope | None = None) -> YearStats:
        scope = scope or Scope()
        tz = self.settings.tz
        start, end = year_bounds(year, tz)
        now_local = self.clock.now().astimezone(tz)
        period_end = min(max(now_local, start), end)
        previous_period_end = same_moment_a_year_before(period_end)
        months = month_starts(year - 1, tz) + month_starts(year, tz)[1:]  # 25 boundaries
        async with self.sessions() as session:
            figures = await _case_figures(session, scope, months, previous_period_end)
            kecamatan = await _by_kecamatan(session, scope, start, end)
            types = await _by_type(session, scope, start, end)
            people = await _victim_figures(session, scope, months[12:])
            waits = await _acknowledgement(session, scope, start, end)
            regions = await self._regions(session, scope)
            villages, with_group = await self._coverage(session, scope)
        previous_by_month, by_month = figures[:12], figures[12:24]
        names = {code: name for code, (name, level) in regions.items() if level == KECAMATAN}
        scope_name = self._scope_name(scope, regions)
        by_kecamatan = sorted(((code, name, kecamatan.get(code, (0, 0))[0])
                               for code, name in names.items()),
                              key=lambda item: (-item[2], item[1]))
        categories = {form.WOMAN: 0, form.CHILD: 0, OTHER_VICTIMS: 0}
        sexes: dict[str | None, int] = {"f": 0, "m": 0, None: 0}
        bands: dict[str | None, int] = dict.fromkeys((*simfoni.AGE_BANDS.codes(), None), 0)
        for (is_child, sex, band), count in people.groups.items():
            category = form.CHILD if is_child else form.WOMAN if is_child is False \
                and sex == "f" else OTHER_VICTIMS
            categories[category] += count
            sexes[sex if sex in sexes else None] += count
            bands[band if band in bands else None] += count
        return YearStats(
            year=year, scope=scope, scope_name=scope_name,
            as_of=period_end.astimezone(UTC), period_end_local=period_end,
            by_month=by_month, previous_by_month=previous_by_month, by_kecamatan=by_kecamatan,
            by_type=[(value, types.get(value, 0))
                     for value in form.option_values(form.TYPES, {})],
            by_victim=[(key, count) for key, count in categories.items()
                       if count or key != OTHER_VICTIMS],
            victims=sum(people.by_month), previous_same_period=figures[24],
            previous_total=sum(previous_by_month), acknowledged=waits[0], median_ack=waits[1],
            villages=villages, villages_with_group=with_group, kecamatan_names=names,
            victims_by_month=people.by_month,
            victims_by_kecamatan={code: victims for code, (_n, victims) in kecamatan.items()},
            victims_by_sex=[(sex, count) for sex, count in sexes.items()
                            if count or sex is not None],
            victims_by_age_band=[(band, count) for band, count in bands.items() if count])

    async def _regions(self, session: AsyncSession, scope: Scope) -> dict[str, tuple[str, str]]:
        rows = await session.execute(select(Region.code, Region.name, Region.level))
        return {code: (name, level) for code, name, level in rows if scope.covers(code)
                or (scope.region_code or "").startswith(code + ".")}

    def _scope_name(self, scope: Scope, regions: dict[str, tuple[str, str]]) -> str:
        if scope.region_code is None:
            return "Kabupaten " + self.settings.region.kabupaten_name
        name, level = regions.get(scope.region_code, (scope.region_code, ""))
        if level == KECAMATAN:
            return "Kecamatan " + name
        if level == VILLAGE:
            return "Desa " + name
        return "Kabupaten " + name

    @staticmethod
    async def _coverage(session: AsyncSession, scope: Scope) -> tuple[int, int]:
        """Villages in scope, and how many of them have an active village group now."""
        villages = {code for code in await session.scalars(
            select(Region.code).where(Region.level == VILLAGE)) if scope.covers(code)}
        groups = set(await session.scalars(select(Responder.region_code).where(
            Responder.kind == GROUP, Responder.active.is_(True))))
        return len(villages), len(villages & groups)


# ---- counting in the database --------------------------------------------------------------

def month_starts(year: int, tz: ZoneInfo) -> list[datetime]:
    """The thirteen local month starts from 1 January ``year`` to 1 January ``year + 1``."""
    return [datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz) for month in range(13)]


def _between(column: Any, low: datetime, high: datetime) -> Any:
    return func.coalesce(func.sum(case((and_(column >= low, column < high), 1), else_=0)), 0)


async def _case_figures(session: AsyncSession, scope: Scope, months: list[datetime],
                        previous_period_end: datetime) -> list[int]:
    """Cases in each of the 24 months (last year's, then this year's), then last year's up to
    the same moment: one scan of the two years."""
    columns = [_between(Case.created_at, low, high)
               for low, high in pairwise(months)]
    columns.append(_between(Case.created_at, months[0], previous_period_end))
    row = (await session.execute(counted(select(*columns).where(
        Case.created_at >= months[0], Case.created_at < months[-1]), scope))).one()
    return [int(value) for value in row]


async def _by_kecamatan(session: AsyncSession, scope: Scope, start: datetime,
                        end: datetime) -> dict[str, tuple[int, int]]:
    """(cases, victims) of the year by kecamatan."""
    victims = select(func.count()).where(Victim.case_id == Case.id).scalar_subquery()
    rows = await session.execute(counted(
        select(Case.kecamatan_code, func.count(), func.coalesce(func.sum(victims), 0))
        .where(Case.created_at >= start, Case.created_at < end), scope)
        .group_by(Case.kecamatan_code))
    return {code: (int(cases), int(people)) for code, cases, people in rows}


async def _by_type(session: AsyncSession, scope: Scope, start: datetime,
                   end: datetime) -> dict[str, int]:
    """Cases of the year with each type of violence (a case can have several). The JSON list is
    matched as text: codes are plain words, written between quotes, on both databases."""
    codes = form.option_values(form.TYPES, {})
    text = cast(Case.violence_types, Text)
    columns = [func.coalesce(func.sum(case((text.like(f'%"{code}"%'), 1), else_=0)), 0)
               for code in codes]
    row = (await session.execute(counted(select(*columns).where(
        Case.created_at >= start, Case.created_at < end), scope))).one()
    return {code: int(count) for code, count in zip(codes, row, strict=True)}


@dataclass
class VictimFigures:
    by_month: list[int]
    groups: dict[tuple[bool | None, str | None, str | None], int]  # (is_child, sex, band)


async def _victim_figures(session: AsyncSession, scope: Scope,
                          months: list[datetime]) -> VictimFigures:
    """Victims of the year's counted cases: by month of the report, and by child or adult, sex
    and age group."""
    joined = select(Victim).join(Case, Case.id == Victim.case_id)
    in_year = (Case.created_at >= months[0], Case.created_at < months[-1])
    by_month = (await session.execute(counted(
        joined.with_only_columns(*(_between(Case.created_at, low, high)
                                   for low, high in pairwise(months)))
        .where(*in_year), scope))).one()
    groups = await session.execute(counted(
        joined.with_only_columns(Victim.is_child, Victim.sex, Victim.age_band, func.count())
        .where(*in_year), scope).group_by(Victim.is_child, Victim.sex, Victim.age_band))
    return VictimFigures([int(value) for value in by_month],
                         {(is_child, sex, band): int(count)
                          for is_child, sex, band, count in groups})


async def _acknowledgement(session: AsyncSession, scope: Scope, start: datetime,
                           end: datetime) -> tuple[int, timedelta | None]:
    """How many of the year's cases were acknowledged, and the median wait: the database sorts
    the waits and returns the middle one or two."""
    if session.get_bind().dialect.name == "sqlite":
        wait: Any = (func.julianday(Case.acknowledged_at) - func.julianday(Case.created_at)) \
            * 86400
    else:
        wait = func.extract("epoch", Case.acknowledged_at - Case.created_at)
    acknowledged = counted(select(wait).where(
        Case.created_at >= start, Case.created_at < end, Case.acknowledged_at.is_not(None)),
        scope)
    count = int(await session.scalar(
        acknowledged.with_only_columns(func.count()).order_by(None)) or 0)
    if not count:
        return 0, None
    middle = list(await session.scalars(
        acknowledged.order_by(wait).offset((count - 1) // 2).limit(2 - count % 2)))
    seconds = [max(0, round(float(value))) for value in middle]
    return count, timedelta(seconds=sum(seconds) / len(seconds))


# ---- rendering ------------------------------------------------------------------------------

def type_label(value: str, language: str) -> str:
    _ = translator(language)
    labels = dict(form.OPTIONS[form.TYPES])
    return _(labels[value]) if value in labels else value


def age_band_label(value: str | None, language: str) -> str:
    _ = translator(language)
    labels = dict(form.AGE_BANDS[form.CHILD] + form.AGE_BANDS[form.WOMAN])
    return _(labels[value]) if value in labels else _(SEX_LABELS[None])


def victim_label(value: str, language: str) -> str:
    _ = translator(language)
    return _(VICTIM_LABELS[value]) if value in VICTIM_LABELS else value


def render(stats: YearStats, language: str, *, html: bool = True) -> str:
    """The figures as a short text: HTML for the chat, plain for the command line."""
    _ = translator(language)
    n = lambda value: l10n.number(value, language)  # noqa: E731 - a local shorthand

    def bold(text: str) -> str:
        return f"<b>{text}</b>" if html else text

    def esc(text: str) -> str:
        return escape(text) if html else text

    start_local = datetime(stats.year, 1, 1)
    if stats.complete_year:
        period = str(stats.year)
    else:
        first = l10n.short_day(start_local, language)
        period = f"{first} – {l10n.day(stats.period_end_local, language)}"
    lines = [bold("📊 " + _("Statistics {year}").format(year=stats.year) + " · "
                  + esc(stats.scope_name)),
             _("Cases: {count} ({period})").format(count=bold(n(stats.total)), period=period)
             + " · " + _("victims: {count}").format(count=bold(n(stats.victims)))]
    previous = stats.year - 1
    if stats.complete_year:
        lines.append(_("Whole of {year}: {count} ({change})").format(
            year=previous, count=n(stats.previous_total),
            change=l10n.signed_change(stats.total, stats.previous_total, language)))
    else:
        lines.append(_("Same period of {year}: {count} ({change})").format(
            year=previous, count=n(stats.previous_same_period),
            change=l10n.signed_change(stats.total, stats.previous_same_period, language)))
        lines.append(_("Whole of {year}: {count}; this year has reached {share} of it").format(
            year=previous, count=n(stats.previous_total),
            share=l10n.percent(stats.total, stats.previous_total, language)))
    months = [f"{l10n.month_name(m + 1, language, short=True)} {n(count)}"
              for m, count in enumerate(stats.by_month) if count]
    lines.append("")
    lines.append(bold(_("By month")) + ": " + (" · ".join(months) or "–"))
    kecamatan = [f"{esc(name)} {n(count)}" for _code, name, count in stats.by_kecamatan if count]
    if len(stats.by_kecamatan) > 1:
        lines.append(bold(_("By kecamatan")) + ": " + (", ".join(kecamatan) or "–"))
    types = [f"{type_label(value, language)} {n(count)}" for value, count in stats.by_type if count]
    lines.append(bold(_("By type of violence")) + ": " + (", ".join(types) or "–"))
    if types:
        lines.append("<i>" + _("(a case can have several types)") + "</i>" if html
                     else _("(a case can have several types)"))
    victims = [f"{victim_label(value, language)} {n(count)}" for value, count in stats.by_victim]
    lines.append(bold(_("By victim")) + ": " + ", ".join(victims)
                 + " · " + _("{count} victims in all").format(count=n(stats.victims)))
    if stats.victims:
        sexes = [f"{_(SEX_LABELS[sex])} {n(count)}" for sex, count in stats.victims_by_sex]
        lines.append(bold(_("Victims by sex")) + ": " + ", ".join(sexes))
        bands = [f"{age_band_label(band, language)} {n(count)}"
                 for band, count in stats.victims_by_age_band]
        lines.append(bold(_("Victims by age group")) + ": " + ", ".join(bands))
    lines.append("")
    if stats.median_ack is None:
        lines.append(_("Median time to acknowledgement: – (no case acknowledged yet)"))
    else:
        lines.append(_("Median time to acknowledgement: {time} ({acknowledged} of {count} cases "
                       "acknowledged)").format(time=l10n.duration(stats.median_ack, language),
                                               acknowledged=n(stats.acknowledged),
                                               count=n(stats.total)))
    lines.append(_("Coverage: {groups} of {villages} villages have an active PAPTBM group "
                   "({share})").format(groups=n(stats.villages_with_group),
                                       villages=n(stats.villages),
                                       share=l10n.percent(stats.villages_with_group,
                                                          stats.villages, language)))
    return "\n".join(lines)


def chart_png(stats: YearStats, language: str) -> bytes:
    """Two bar charts for a phone screen: cases by month (with last year beside them) and by
    type of violence. Drawn with matplotlib's Agg canvas: no display, no global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _ = translator(language)
    figure = Figure(figsize=(6, 7.5), dpi=150, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, height_ratios=(1.1, 1))
    months = [l10n.month_name(m, language, short=True) for m in range(1, 13)]
    positions = list(range(12))
    width = 0.42
    top.bar([p - width / 2 for p in positions], stats.previous_by_month, width,
            color="#c7d3e0", label=str(stats.year - 1))
    bars = top.bar([p + width / 2 for p in positions], stats.by_month, width,
                   color="#1f5f99", label=str(stats.year))
    top.bar_label(bars, labels=[l10n.number(v, language) if v else "" for v in stats.by_month],
                  fontsize=9, padding=2)
    top.set_xticks(positions, months, fontsize=10)
    top.set_title(_("Cases by month") + f" · {stats.scope_name}", fontsize=13, loc="left")
    top.legend(fontsize=10, frameon=False)
    top.yaxis.get_major_locator().set_params(integer=True)
    top.spines[["top", "right"]].set_visible(False)
    labels = [type_label(value, language) for value, _count in stats.by_type][::-1]
    counts = [count for _value, count in stats.by_type][::-1]
    hbars = bottom.barh(labels, counts, color="#b5523b")
    bottom.bar_label(hbars, labels=[l10n.number(v, language) for v in counts], fontsize=10,
                     padding=3)
    bottom.set_title(_("By type of violence") + f" · {stats.year}", fontsize=13, loc="left")
    bottom.tick_params(axis="y", labelsize=11)
    bottom.xaxis.get_major_locator().set_params(integer=True)
    bottom.spines[["top", "right"]].set_visible(False)
    if not any(counts):
        bottom.set_xlim(0, 1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
