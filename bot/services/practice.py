"""Practice mode: ``/latihan`` reports for trainings of village activists.

A practice case is a case with ``practice`` set. It reaches nobody real: the router skips it
(``bot/services/routing.py``) and ``PracticeRouter`` sends a practice alert, marked as practice and
redacted like a real group alert, only to the training chat (``training.chat_id``) or, without one,
back to the trainee. Statistics and exports never count it (``bot.services.stats.counted``), and
``purge_practice`` removes practice cases in bulk (``ppa-bot practice purge``, ``/hapus_latihan``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import l10n
from bot.clock import Clock
from bot.config import Settings
from bot.domain import form
from bot.i18n import Translate, translator
from bot.outbox import PRIVATE_BUCKET, enqueue
from models import Case, CaseEvent, Region, Reporter

log = logging.getLogger(__name__)

PRIORITY_WORDS = {"urgent": "🔴", "high": "🟠", "normal": "🟢"}


def _label(step: str, value: str | None, _: Translate) -> str:
    options = form.AGE_BANDS.get(value or "", []) if step == form.VICTIM_AGE \
        else form.OPTIONS.get(step, [])
    for option, label in options:
        if option == value:
            return _(label)
    return value or ""


def practice_alert(case: Case, village: str, kecamatan: str, settings: Settings,
                   language: str) -> str:
    """What a village group would see, marked as practice: no story, no names, no reporter."""
    _ = translator(language)
    types = ", ".join(_label(form.TYPES, t, _) for t in case.violence_types or [])
    victim = _("child") if case.victim_category == form.CHILD else _("woman")
    ages = dict(form.AGE_BANDS.get(case.victim_category or "", []))
    age = _(ages[case.victim_age_band]) if case.victim_age_band in ages \
        else _(form.AGE_UNKNOWN_LABEL)
    when = case.created_at.astimezone(settings.tz)
    return "\n".join([
        "🧪 <b>" + _("PRACTICE — not a real report") + "</b>",
        _("This is how a new case alert looks in a village group."),
        "",
        f"{PRIORITY_WORDS.get(case.priority, '')} <b>{escape(case.reference)}</b>",
        _("Type: {types}").format(types=escape(types)),
        _("Victim: {victim}, {age}").format(victim=victim, age=escape(age)),
        _("Place: {village}, Kecamatan {kecamatan}").format(village=escape(village),
                                                            kecamatan=escape(kecamatan)),
        _("Reported: {day} {time} WITA").format(day=l10n.short_day(when, language),
                                                time=when.strftime("%H:%M")),
    ])


class PracticeRouter:
    """Subscribed to ``ReportService.on_case_created``: practice cases only (real ones pass by)."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def on_case_created(self, session: AsyncSession, case: Case) -> None:
        if not case.practice:
            return
        now = self.clock.now()
        names = {code: name for code, name in await session.execute(
            select(Region.code, Region.name).where(
                Region.code.in_((case.village_code, case.kecamatan_code))))}
        village, kecamatan = names.get(case.village_code, ""), names.get(case.kecamatan_code, "")
        training = self.settings.training.chat_id
        if training:
            enqueue(session, kind="practice_alert", method="sendMessage", now=now,
                    case_id=case.id, bucket=str(training) if training < 0 else PRIVATE_BUCKET,
                    params={"chat_id": training, "parse_mode": "HTML",
                            "text": practice_alert(case, village, kecamatan, self.settings, "id")})
            to = "training_chat"
        else:
            reporter = await session.get(Reporter, case.reporter_id) if case.reporter_id else None
            if reporter is None:
                return
            enqueue(session, kind="practice_alert", method="sendMessage", now=now,
                    case_id=case.id, params={
                        "chat_id": int(reporter.chat_id), "parse_mode": "HTML",
                        "text": practice_alert(case, village, kecamatan, self.settings,
                                               case.language)})
            to = "trainee"
        session.add(CaseEvent(case_id=case.id, at=now, actor="system", kind="practice_routed",
                              detail={"to": to}))


async def count_practice(session: AsyncSession) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(Case).where(Case.practice.is_(True))) or 0)


async def purge_practice(session: AsyncSession, now: datetime, *,
                         older_than_days: float = 0) -> int:
    """Delete practice cases (with their evidence, alerts, history and queued messages, by the
    database's cascades); return how many."""
    query = select(Case.id).where(Case.practice.is_(True))
    if older_than_days > 0:
        query = query.where(Case.created_at <= now - timedelta(days=older_than_days))
    ids = list(await session.scalars(query))
    if ids:
        await session.execute(delete(Case).where(Case.id.in_(ids)))
        log.info("removed %d practice cases", len(ids))
    return len(ids)
