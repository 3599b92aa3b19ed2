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
(``kasus-….csv`` and ``korban-….csv``, UTF-8 with a byte order mark so that Excel reads them).
Text is always written as text: never as a formula or a link.

Large years stay cheap (DESIGN §8): cases are read a batch at a time (keyset on the report time,
each batch in a short read of its own) with their victims and perpetrators, and handed to a worker
process that turns them into rows and writes them to disk (XlsxWriter's constant-memory mode, or
CSV files): memory does not grow with the year, and the seconds of formatting never hold the bot's
event loop (nor its interpreter lock) while others talk to it.

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
import csv
import os
import secrets
import shutil
import tempfile
import zipfile
from array import array
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import case_status as workflow
from bot import report_form as form
from bot.clock import Clock
from bot.config import Settings
from bot.domain import simfoni
from bot.domain.register import IncidentDate, simfoni_place
from bot.i18n import N_, Translate, translator
from bot.services.stats import Scope, counted, year_bounds
from models import Case, CaseEvent, Perpetrator, Region, Victim, VictimPerpetrator

FORMATS = ("xlsx", "csv")
EXPORTED = "exported"
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "application/zip"}
SUFFIXES = {"xlsx": ".xlsx", "csv": ".zip"}
BATCH = 500  # cases read and handed to the worker at a time
HISTORY_CHUNK = 1000  # history rows per INSERT ... SELECT transaction

VICTIM_CATEGORY = {form.WOMAN: N_("Woman (18 or older)"), form.CHILD: N_("Child (under 18)")}
VICTIM_SEX = {"f": N_("Female"), "m": N_("Male")}
PRIORITY = {"urgent": N_("Urgent"), "high": N_("High"), "normal": N_("Normal")}

# (key, header) in column order; the per-type columns follow "types".
COLUMNS = [
    ("reference", N_("Reference")),
    ("reported", N_("Reported (WITA)")),
    ("kecamatan_code", N_("Kecamatan code")),
    ("kecamatan", N_("Kecamatan")),
    ("village_code", N_("Village code")),
    ("village", N_("Village")),
    ("types", N_("Type of violence")),
    ("place", N_("Place of incident")),
    ("occurred", N_("When it happened")),
    ("perpetrator", N_("Perpetrator's relation to the victim")),
    ("victim_category", N_("Victim category")),
    ("victim_sex", N_("Victim's sex")),
    ("victim_age_band", N_("Victim's age band")),
    ("victim_count", N_("Number of victims")),
    ("priority", N_("Priority")),
    ("status", N_("Status")),
    ("acknowledged", N_("Acknowledged (WITA)")),
    ("closed", N_("Closed (WITA)")),
    ("referral", N_("Referral")),
    ("close_reason", N_("Reason for closing")),
    ("channel", N_("How it came in")),
]
DATE_COLUMNS = {"reported", "acknowledged", "closed"}
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


class CaseRow(NamedTuple):
    """A row of ``EXPORTED_COLUMNS`` as a plain tuple: it travels to the worker process."""

    id: int
    reference: str
    created_at: datetime
    kecamatan_code: str
    village_code: str
    violence_types: list[str]
    place: str | None
    occurred: str | None
    perpetrator: str | None
    victim_category: str | None
    victim_sex: str | None
    victim_age_band: str | None
    victim_count: int
    priority: str
    status: str
    acknowledged_at: datetime | None
    closed_at: datetime | None
    referral: str | None
    close_reason: str | None
    channel: str | None
    incident_date: date | None
    incident_precision: str | None


class VictimRow(NamedTuple):
    """A row of ``VICTIM_FIELDS``."""

    id: int
    case_id: int
    number: int
    sex: str | None
    age: int | None
    age_band: str | None
    violence: list[str]
    education: str | None
    occupation: str | None
    marital_status: str | None
    disability: str | None
    services: list[str]
NA = simfoni.UNKNOWN_LABEL


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


@dataclass
class Batch:
    """Cases read together, with their victims and the perpetrators of each victim."""

    cases: Sequence[Any]
    victims: dict[int, list[Any]] = field(default_factory=dict)  # case id -> rows, by number
    perpetrators: dict[int, list[Any]] = field(default_factory=dict)  # victim id -> (n, sex,
    # age, relation), by number


def _label(options: list[tuple[str, str]], value: str | None, _: Translate) -> str:
    for option, label in options:
        if option == value:
            return _(label)
    return value or ""


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is written as text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _na(value: Any) -> Any:
    return NA if value is None else value


def _joined(values: simfoni.CategorySet, codes: Sequence[str | None]) -> str:
    return simfoni.MULTI_SEPARATOR.join(values.label(code) for code in codes)


@dataclass(frozen=True)
class SheetSpec:
    """Everything the worker process needs to write the file (it sees no database)."""

    fmt: str
    language: str
    year: int
    created: datetime  # naive, local: the workbook's creation time
    timezone: str
    province: str
    kabupaten: str
    names: dict[str, str]  # region code -> name
    work: str  # a folder of its own, removed after
    base: str  # the file's name without suffix


class RowMaker:
    """Turns what the database returned into the two sheets' rows (in the worker process)."""

    def __init__(self, spec: SheetSpec) -> None:
        self.spec = spec
        self.names = spec.names
        self._ = translator(spec.language)
        self.tz = ZoneInfo(spec.timezone)
        self.place_options = form.OPTIONS[form.PLACE] + form.RETIRED_OPTIONS[form.PLACE]

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.tz).replace(tzinfo=None, microsecond=0) if moment else None

    def case_row(self, case: Any) -> list[Any]:
        """One case (a row of ``EXPORTED_COLUMNS``) as spreadsheet values."""
        _ = self._
        types = list(case.violence_types or [])
        ages = form.AGE_BANDS.get(case.victim_category or "", [])
        values: dict[str, Any] = {
            "reference": case.reference,
            "reported": self.local(case.created_at),
            "kecamatan_code": case.kecamatan_code,
            "kecamatan": self.names.get(case.kecamatan_code, ""),
            "village_code": case.village_code,
            "village": self.names.get(case.village_code, ""),
            "types": "; ".join(_label(form.OPTIONS[form.TYPES], t, _) for t in types),
            "place": _label(self.place_options, case.place, _),
            "occurred": _label(form.OPTIONS[form.WHEN], case.occurred, _),
            "perpetrator": _label(form.OPTIONS[form.PERPETRATOR], case.perpetrator, _),
            "victim_category": _(VICTIM_CATEGORY[case.victim_category])
            if case.victim_category in VICTIM_CATEGORY else case.victim_category,
            "victim_sex": _(VICTIM_SEX[case.victim_sex]) if case.victim_sex in VICTIM_SEX
            else case.victim_sex,
            "victim_age_band": _label(ages, case.victim_age_band, _),
            "victim_count": case.victim_count,
            "priority": _(PRIORITY[case.priority]) if case.priority in PRIORITY else case.priority,
            "status": _(workflow.STAGE_NAMES[case.status])
            if case.status in workflow.STAGE_NAMES else case.status,
            "acknowledged": self.local(case.acknowledged_at),
            "closed": self.local(case.closed_at),
            "referral": _(workflow.REFERRAL_TARGETS[case.referral])
            if case.referral in workflow.REFERRAL_TARGETS else case.referral or "",
            "close_reason": _(workflow.CLOSE_REASONS[case.close_reason])
            if case.close_reason in workflow.CLOSE_REASONS else case.close_reason or "",
            "channel": simfoni.INTAKE_CHANNELS.label(case.channel),
        }
        row: list[Any] = []
        for key, _header in COLUMNS:
            row.append(_safe(values[key]))
            if key == "types":
                row += [1 if value in types else 0 for value, _label_ in form.OPTIONS[form.TYPES]]
        return row

    def victim_rows(self, case: Any, victims: list[Any],
                    perpetrators: dict[int, list[Any]]) -> list[list[Any]]:
        """The case's victims in the per-victim columns, in ``VICTIM_COLUMNS`` order."""
        incident = IncidentDate(case.incident_date, case.incident_precision or "day").text() \
            if case.incident_date is not None else NA
        reported = self.local(case.created_at)
        common = {
            "reference": case.reference,
            "incident_date": incident,
            "report_date": reported.date().isoformat() if reported else NA,
            "place": simfoni.PLACES.label(simfoni_place(case.place)),
            "province": self.spec.province,
            "kabupaten": "Kabupaten " + self.spec.kabupaten,
            "kecamatan": self.names.get(case.kecamatan_code, NA),
            "village": self.names.get(case.village_code, NA),
            "village_code": case.village_code,
            "channel": simfoni.INTAKE_CHANNELS.label(case.channel),
        }
        rows = []
        for victim in victims:
            people = perpetrators.get(victim.id, [])
            values = common | {
                "victim_number": victim.number,
                "victim_sex": simfoni.SEXES.label(victim.sex),
                "victim_age": _na(victim.age),
                "victim_age_band": simfoni.AGE_BANDS.label(victim.age_band),
                "violence": _joined(simfoni.VIOLENCE_FORMS, victim.violence or []),
                "education": simfoni.EDUCATION.label(victim.education),
                "occupation": simfoni.OCCUPATIONS.label(victim.occupation),
                "marital_status": simfoni.MARITAL_STATUSES.label(victim.marital_status),
                "disability": simfoni.DISABILITY.label(victim.disability),
                "services": _joined(simfoni.SERVICE_KINDS, victim.services or []),
                "perpetrator_count": len(people),
                "perpetrator_sex": _joined(simfoni.SEXES, [p[1] for p in people]),
                "perpetrator_age": simfoni.MULTI_SEPARATOR.join(
                    str(_na(p[2])) for p in people),
                "perpetrator_relation": _joined(simfoni.RELATIONS, [p[3] for p in people]),
            }
            rows.append([_safe(values[column.key]) for column in simfoni.VICTIM_COLUMNS])
        return rows


class SheetWriter:
    """Where the rows go: a workbook or two CSV files, on disk (in the worker process)."""

    def __init__(self, spec: SheetSpec) -> None:
        self.spec = spec
        self.maker = RowMaker(spec)
        self.case_headers = case_headers(spec.language)
        self.work = Path(spec.work)
        self.cases = 0
        self.victims = 0

    def add(self, batch: Batch) -> None:
        for case in batch.cases:
            self.write_case(self.maker.case_row(case))
            self.cases += 1
            for row in self.maker.victim_rows(case, batch.victims.get(case.id, []),
                                              batch.perpetrators):
                self.write_victim(row)
                self.victims += 1

    def write_case(self, row: list[Any]) -> None:
        raise NotImplementedError

    def write_victim(self, row: list[Any]) -> None:
        raise NotImplementedError

    def finish(self, out: Path) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release open files (after ``finish``, or after a failure)."""


class XlsxWriter(SheetWriter):
    """One workbook, two sheets, streamed to disk row by row (XlsxWriter's constant-memory
    mode: each finished row leaves memory). Text is always written as text, never as a formula
    or a link."""

    def __init__(self, spec: SheetSpec) -> None:
        import xlsxwriter

        super().__init__(spec)
        _, year = self.maker._, spec.year
        self.path = self.work / "export.xlsx"
        self.workbook = xlsxwriter.Workbook(str(self.path), {
            "constant_memory": True, "tmpdir": str(self.work), "strings_to_formulas": False,
            "strings_to_urls": False, "strings_to_numbers": False})
        self.workbook.set_properties({"author": "ppa-bot", "created": spec.created})
        self.bold = self.workbook.add_format({"bold": True})
        self.moment = self.workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.case_sheet = self.workbook.add_worksheet(_("Cases {year}").format(year=year)[:31])
        self.victim_sheet = self.workbook.add_worksheet(
            _("Victims {year}").format(year=year)[:31])
        for sheet, headers in ((self.case_sheet, self.case_headers),
                               (self.victim_sheet, simfoni.victim_headers())):
            for index, header in enumerate(headers):
                sheet.set_column(index, index, max(10, min(40, len(header) + 2)))
                sheet.write_string(0, index, header, self.bold)
            sheet.freeze_panes(1, 1)

    def _write(self, sheet: Any, row_number: int, row: list[Any]) -> None:
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(row_number, index, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(row_number, index, value, self.moment)
            else:
                sheet.write_number(row_number, index, value)

    def write_case(self, row: list[Any]) -> None:
        self._write(self.case_sheet, self.cases + 1, row)

    def write_victim(self, row: list[Any]) -> None:
        self._write(self.victim_sheet, self.victims + 1, row)

    def finish(self, out: Path) -> None:
        self.case_sheet.autofilter(0, 0, self.cases, len(self.case_headers) - 1)
        self.victim_sheet.autofilter(0, 0, self.victims, len(simfoni.VICTIM_COLUMNS) - 1)
        self.workbook.close()
        shutil.move(self.path, out)


class CsvWriter(SheetWriter):
    """Two CSV files, zipped together at the end."""

    def __init__(self, spec: SheetSpec) -> None:
        super().__init__(spec)
        self.names = (f"{spec.base}.csv", "korban" + spec.base.removeprefix("kasus") + ".csv")
        self.files: list[IO[str]] = []
        self.writers = []
        for name, headers in zip(self.names, (self.case_headers, simfoni.victim_headers()),
                                 strict=True):
            # A byte order mark lets Excel read the file as UTF-8.
            handle = (self.work / name).open("w", encoding="utf-8-sig", newline="")
            self.files.append(handle)
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(headers)
            self.writers.append(writer)

    @staticmethod
    def _cells(row: list[Any]) -> list[Any]:
        return [value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime)
                else "" if value is None else value for value in row]

    def write_case(self, row: list[Any]) -> None:
        self.writers[0].writerow(self._cells(row))

    def write_victim(self, row: list[Any]) -> None:
        self.writers[1].writerow(self._cells(row))

    def finish(self, out: Path) -> None:
        for handle in self.files:
            handle.close()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in self.names:
                archive.write(self.work / name, arcname=name)

    def close(self) -> None:
        for handle in self.files:
            handle.close()


def case_headers(language: str) -> list[str]:
    _ = translator(language)
    headers: list[str] = []
    for key, header in COLUMNS:
        headers.append(_(header))
        if key == "types":
            headers += [_(label) for _value, label in form.OPTIONS[form.TYPES]]
    return headers


# ---- the worker process: turns batches into rows and writes the file ------------------------
# Formatting and writing a large year is seconds of pure-Python work. In a thread it would share
# the interpreter lock with the event loop (and with it every stall of that thread: a garbage
# collection, the operating system pausing it on a busy machine); in a process of its own it
# cannot hold the bot up. The bot only reads the batches and hands them over.

_writer: SheetWriter | None = None


def _open(spec: SheetSpec) -> None:
    global _writer
    _writer = XlsxWriter(spec) if spec.fmt == "xlsx" else CsvWriter(spec)


def _add(batch: Batch) -> None:
    assert _writer is not None
    _writer.add(batch)


def _finish(target: str) -> tuple[int, int]:
    """Write beside the target, then move it in place: a reader never sees half a file."""
    global _writer
    assert _writer is not None
    writer, _writer = _writer, None
    partial = Path(target + ".part")
    try:
        writer.finish(partial)
        partial.replace(target)
    finally:
        writer.close()
        partial.unlink(missing_ok=True)
    return writer.cases, writer.victims


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
            with tempfile.TemporaryDirectory(prefix="ppa-export-") as work:
                spec = SheetSpec(fmt=fmt, language=language, year=year,
                                 created=now.astimezone(self.settings.tz).replace(tzinfo=None),
                                 timezone=self.settings.region.timezone,
                                 province=self.settings.region.province_name,
                                 kabupaten=self.settings.region.kabupaten_name, names=names,
                                 work=work, base=base)
                pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
                try:
                    # The first task starts the worker process: not on the event loop.
                    await asyncio.wrap_future(await asyncio.to_thread(pool.submit, _open, spec))
                    async for batch in self._batches(year, scope):
                        exported.extend(case.id for case in batch.cases)
                        await loop.run_in_executor(pool, _add, batch)
                    cases, victims = await loop.run_in_executor(pool, _finish, str(target))
                finally:
                    await asyncio.to_thread(pool.shutdown)
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
