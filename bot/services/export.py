"""Export: the year's cases as two sheets, one row per case and one row per victim.

**Per case** (the sheet officers have used from the start): the reference, dates (WITA),
kecamatan and village with their Kemendagri codes, type of violence (joined, and one 1/0 column per
type for pivot tables), place, when it happened, the perpetrator's relation, the victim's
category, sex, age band and number, priority, status, acknowledgement, closing, referral, and how
the case came in. **Per victim**: exactly the columns of ``docs/SIMFONI.md`` ("Per-victim
columns", ``bot/domain/simfoni.VICTIM_COLUMNS``) in their order and with SIMFONI-PPA's labels,
whatever the language asked for: it is what an officer types into SIMFONI-PPA, and what
``ppa-bot cases import`` reads back. What neither ever holds: the narrative, the landmark,
evidence, the phone number, the contact time, or anything about the reporter (not even their
role). Secret columns are never even read.

Formats: ``xlsx`` is one workbook with the two sheets; ``csv`` is a zip holding two CSV files
(``kasus-….csv`` and ``korban-….csv``, UTF-8 with a byte order mark so that Excel reads them),
or, given a ``.csv`` name, the two files themselves (``kasus.csv`` and ``kasus-korban.csv``).
Text is always written as text: never as a formula or a link.

Large years stay cheap (DESIGN §8): cases are read a batch at a time (keyset on the report time,
each batch in a short read of its own) with their victims and perpetrators, and handed to a worker
process that turns them into rows and streams them to disk (``bot/services/export_sheets.py``):
memory does not grow with the year, and the seconds of formatting never hold the bot's event loop
(nor its interpreter lock) while others talk to it.

The export is recorded in the history: one ``CaseEvent`` of kind ``exported`` per exported case,
all sharing an ``export`` id in their detail. The design keeps every disclosure of a case in that
case's own history ("who, when, what"). They are written in bulk once the file is complete and
before it is handed over: one INSERT ... SELECT per thousand cases, each a short transaction of its
own so that the bot's writes never wait long for SQLite's lock. An export that fails while writing
the file records nothing; one interrupted while recording may have recorded part of its cases under
its id, and no file left the system.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from array import array
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import String, and_, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.services.export_sheets import (
    Batch,
    CaseRow,
    SheetSpec,
    VictimRow,
    add_batch,
    case_headers,
    finish_sheets,
    open_sheets,
)
from bot.services.stats import Scope, counted, year_bounds
from models import Case, CaseEvent, Perpetrator, Region, Victim, VictimPerpetrator

FORMATS = ("xlsx", "csv")
EXPORTED = "exported"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "application/zip"}
SUFFIXES = {"xlsx": ".xlsx", "csv": ".zip"}
BATCH = 200  # cases read and handed to the worker at a time
WORKER_NICENESS = 10
HISTORY_CHUNK = 1000  # history rows per INSERT ... SELECT transaction

# What is read from the database for an export; nothing secret is among it.
EXPORTED_COLUMNS = (Case.id, Case.reference, Case.created_at, Case.kecamatan_code,
                    Case.village_code, Case.violence_types, Case.place, Case.occurred,
                    Case.perpetrator, Case.victim_category, Case.victim_sex, Case.victim_age_band,
                    Case.victim_count, Case.priority, Case.status, Case.acknowledged_at,
                    Case.closed_at, Case.referral, Case.close_reason, Case.channel,
                    Case.incident_date, Case.incident_precision)
VICTIM_FIELDS = (Victim.id, Victim.case_id, Victim.number, Victim.sex, Victim.age,
                 Victim.age_band, Victim.violence, Victim.education, Victim.occupation,
                 Victim.marital_status, Victim.disability, Victim.services)


class ExportError(ValueError):
    """An export that cannot be made, phrased for the person asking."""


@dataclass
class Export:
    path: Path  # the file written (a temporary one unless the caller named it)
    filename: str  # the name to give it when handing it over
    media_type: str
    rows: int  # cases
    victims: int
    export_id: str
    temporary: bool = True

    @property
    def content(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        """Remove a temporary file once it was handed over."""
        if self.temporary:
            self.path.unlink(missing_ok=True)


class ExportService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings

    def headers(self, language: str) -> list[str]:
        return case_headers(language)

    def filename(self, year: int) -> str:
        """``kasus-paser-2026-20260302-0900``: the file's name without its suffix."""
        stamp = self.clock.now().astimezone(self.settings.tz).strftime("%Y%m%d-%H%M")
        kabupaten = self.settings.region.kabupaten_name.lower().replace(" ", "-")
        return f"kasus-{kabupaten}-{year}-{stamp}"

    async def export(self, year: int, fmt: str, *, actor: str, actor_name: str | None = None,
                     scope: Scope | None = None, language: str = "id",
                     out: Path | None = None) -> Export:
        """Write the file (to ``out``, else to a temporary file the caller discards), then
        record in each exported case's history that it was exported."""
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}: use xlsx or csv")
        scope = scope or Scope()
        now = self.clock.now()
        export_id = secrets.token_hex(4)
        base = self.filename(year)
        async with self.sessions() as session:
            names = {code: name for code, name in await session.execute(
                select(Region.code, Region.name))}
        exported = array("q")  # the ids of the cases in the file: 8 bytes each
        loop = asyncio.get_running_loop()
        temporary = out is None
        target = self._temporary(SUFFIXES[fmt]) if out is None else out
        try:
            # The worker's scratch files are large: made and removed off the event loop.
            work = await asyncio.to_thread(tempfile.mkdtemp, prefix="ppa-export-")
            try:
                spec = SheetSpec(fmt=fmt, language=language, year=year,
                                 created=now.astimezone(self.settings.tz).replace(tzinfo=None),
                                 timezone=self.settings.region.timezone,
                                 province=self.settings.region.province_name,
                                 kabupaten=self.settings.region.kabupaten_name, names=names,
                                 work=work, base=base)
                # The worker yields the processor to the bot when both want it (nice 10):
                # on a busy machine the people talking to the bot come first.
                pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"),
                                           initializer=os.nice, initargs=(WORKER_NICENESS,))
                try:
                    # The first task starts the worker process: not on the event loop.
                    started = await asyncio.to_thread(pool.submit, open_sheets, spec)
                    await asyncio.wrap_future(started)
                    # While the worker writes one batch, the next is read: at most two
                    # batches are in memory at once.
                    writing: asyncio.Future[None] | None = None
                    async for batch in self._batches(year, scope):
                        exported.extend(case.id for case in batch.cases)
                        if writing is not None:
                            await writing
                        writing = loop.run_in_executor(pool, add_batch, batch)
                    if writing is not None:
                        await writing
                    cases, victims = await loop.run_in_executor(pool, finish_sheets, str(target))
                finally:
                    await asyncio.to_thread(pool.shutdown)
            finally:
                await asyncio.to_thread(shutil.rmtree, work, ignore_errors=True)
            detail = {"export": export_id, "format": fmt, "year": year, "rows": cases,
                      "victims": victims}
            await self._record(exported, now, actor, actor_name, detail)
        except BaseException:
            if temporary:
                target.unlink(missing_ok=True)
            raise
        return Export(target, base + SUFFIXES[fmt], MEDIA_TYPES[fmt], cases, victims,
                      export_id, temporary)

    @staticmethod
    def _temporary(suffix: str) -> Path:
        handle, name = tempfile.mkstemp(prefix="ppa-export-", suffix=suffix)
        os.close(handle)
        return Path(name)

    async def _batches(self, year: int, scope: Scope) -> AsyncIterator[Batch]:
        """The year's counted cases in report order, ``BATCH`` at a time, each batch read in a
        short transaction of its own (no long-lived reader holds SQLite's WAL back)."""
        start, end = year_bounds(year, self.settings.tz)
        last: tuple[datetime, int] | None = None
        while True:
            query = counted(select(*EXPORTED_COLUMNS).where(
                Case.created_at >= start, Case.created_at < end), scope)
            if last is not None:
                query = query.where(or_(Case.created_at > last[0],
                                        and_(Case.created_at == last[0], Case.id > last[1])))
            async with self.sessions() as session:
                cases = [CaseRow._make(row) for row in await session.execute(
                    query.order_by(Case.created_at, Case.id).limit(BATCH))]
                if not cases:
                    return
                batch = Batch(cases)
                ids = [case.id for case in cases]
                for row in await session.execute(
                        select(*VICTIM_FIELDS).where(Victim.case_id.in_(ids))
                        .order_by(Victim.case_id, Victim.number)):
                    victim = VictimRow._make(row)
                    batch.victims.setdefault(victim.case_id, []).append(victim)
                for victim_id, number, sex, age, relation in await session.execute(
                        select(VictimPerpetrator.victim_id, Perpetrator.number, Perpetrator.sex,
                               Perpetrator.age, VictimPerpetrator.relation)
                        .join(Perpetrator, Perpetrator.id == VictimPerpetrator.perpetrator_id)
                        .where(Perpetrator.case_id.in_(ids))
                        .order_by(VictimPerpetrator.victim_id, Perpetrator.number)):
                    batch.perpetrators.setdefault(victim_id, []).append(
                        (number, sex, age, relation))
            yield batch
            last = (cases[-1].created_at, cases[-1].id)

    async def _record(self, case_ids: array[int], now: datetime, actor: str,
                      actor_name: str | None, detail: dict[str, Any]) -> None:
        """One ``exported`` history row per case: an INSERT ... SELECT per ``HISTORY_CHUNK``
        cases, each a short transaction of its own."""
        columns = (CaseEvent.case_id, CaseEvent.at, CaseEvent.actor, CaseEvent.actor_name,
                   CaseEvent.kind, CaseEvent.detail)
        values = (literal(now, CaseEvent.at.type), literal(actor, String()),
                  literal(actor_name, String()), literal(EXPORTED, String()),
                  literal(detail, CaseEvent.detail.type))
        for first in range(0, len(case_ids), HISTORY_CHUNK):
            chunk = list(case_ids[first:first + HISTORY_CHUNK])
            async with self.sessions.begin() as session:
                await session.execute(insert(CaseEvent).from_select(
                    columns, select(Case.id, *values).where(Case.id.in_(chunk))))
