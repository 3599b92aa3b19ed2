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

Large years stay cheap (DESIGN §8): cases are read a batch at a time (keyset on the report time)
with their victims and perpetrators; each batch is turned into rows and written by a worker
thread into a write-only workbook or CSV files on disk, so memory does not grow with the year and
the event loop stays free for everyone else's updates.

The export is recorded in the history: one ``CaseEvent`` of kind ``exported`` per exported case,
all sharing an ``export`` id in their detail. The design keeps every disclosure of a case in that
case's own history ("who, when, what"). They are written in bulk (one multi-row INSERT per few
thousand cases, each a short transaction of its own so that the bot's writes never wait long for
SQLite's lock) once the file is complete and before it is handed over: an export that fails while
writing the file records nothing, one interrupted while recording may have recorded part of the
cases under its id, and no file left the system.
"""

from __future__ import annotations

import asyncio
import csv
import os
import secrets
import tempfile
import zipfile
from array import array
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, insert, or_, select
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
BATCH = 1000  # cases read, turned into rows and written at a time
HISTORY_CHUNK = 5000  # history rows per INSERT transaction

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


class RowMaker:
    """Turns what the database returned into the two sheets' rows (run in the writer thread)."""

    def __init__(self, settings: Settings, names: dict[str, str], language: str) -> None:
        self.settings = settings
        self.names = names
        self._ = translator(language)
        self.tz = settings.tz
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
            "province": self.settings.region.province_name,
            "kabupaten": "Kabupaten " + self.settings.region.kabupaten_name,
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
    """Where the rows go: a workbook or two CSV files, on disk. Used from one thread at a time."""

    def __init__(self, maker: RowMaker, case_headers: list[str], work: Path) -> None:
        self.maker = maker
        self.case_headers = case_headers
        self.work = work
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
    def __init__(self, maker: RowMaker, case_headers: list[str], work: Path, *, year: int,
                 created: datetime) -> None:
        from openpyxl import Workbook

        super().__init__(maker, case_headers, work)
        _ = maker._
        self.workbook = Workbook(write_only=True)
        self.workbook.properties.creator = "ppa-bot"
        self.workbook.properties.created = created
        self.case_sheet = self.workbook.create_sheet(_("Cases {year}").format(year=year)[:31])
        self.victim_sheet = self.workbook.create_sheet(
            _("Victims {year}").format(year=year)[:31])
        self.date_columns = {i for i, (key, _h) in enumerate(self._keys()) if key in DATE_COLUMNS}
        for sheet, headers in ((self.case_sheet, case_headers),
                               (self.victim_sheet, simfoni.victim_headers())):
            self._start(sheet, headers)

    def _start(self, sheet: Any, headers: list[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        for index, header in enumerate(headers, start=1):
            width = max(10, min(40, len(header) + 2))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "B2"
        bold = Font(bold=True)
        cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=header)
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    def write_case(self, row: list[Any]) -> None:
        from openpyxl.cell import WriteOnlyCell

        for index in self.date_columns:
            if row[index] is not None:
                cell = WriteOnlyCell(self.case_sheet, value=row[index])
                cell.number_format = "yyyy-mm-dd hh:mm"
                row[index] = cell
        self.case_sheet.append(row)

    def write_victim(self, row: list[Any]) -> None:
        self.victim_sheet.append(row)

    def finish(self, out: Path) -> None:
        from openpyxl.utils import get_column_letter

        for sheet, columns, rows in (
                (self.case_sheet, len(self.case_headers), self.cases),
                (self.victim_sheet, len(simfoni.VICTIM_COLUMNS), self.victims)):
            sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"
        self.workbook.save(out)

    @staticmethod
    def _keys() -> list[tuple[str, str]]:
        """Column keys in file order, the per-type columns included."""
        keys: list[tuple[str, str]] = []
        for key, header in COLUMNS:
            keys.append((key, header))
            if key == "types":
                keys += [(f"type:{value}", label) for value, label in form.OPTIONS[form.TYPES]]
        return keys


class CsvWriter(SheetWriter):
    """Two CSV files, zipped together at the end."""

    def __init__(self, maker: RowMaker, case_headers: list[str], work: Path, *,
                 names: tuple[str, str]) -> None:
        super().__init__(maker, case_headers, work)
        self.names = names
        self.files: list[IO[str]] = []
        self.writers = []
        for name, headers in zip(names, (case_headers, simfoni.victim_headers()), strict=True):
            # A byte order mark lets Excel read the file as UTF-8.
            handle = (work / name).open("w", encoding="utf-8-sig", newline="")
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


class ExportService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 settings: Settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings

    def headers(self, language: str) -> list[str]:
        _ = translator(language)
        headers: list[str] = []
        for key, header in COLUMNS:
            headers.append(_(header))
            if key == "types":
                headers += [_(label) for _value, label in form.OPTIONS[form.TYPES]]
        return headers

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
        maker = RowMaker(self.settings, names, language)
        exported = array("q")  # the ids of the cases in the file: 8 bytes each
        with tempfile.TemporaryDirectory(prefix="ppa-export-") as work_dir:
            work = Path(work_dir)
            writer: SheetWriter
            if fmt == "xlsx":
                writer = await asyncio.to_thread(
                    XlsxWriter, maker, self.headers(language), work, year=year,
                    created=now.replace(tzinfo=None))
            else:
                writer = CsvWriter(maker, self.headers(language), work,
                                   names=(f"{base}.csv", f"korban{base[len('kasus'):]}.csv"))
            try:
                async for batch in self._batches(year, scope):
                    exported.extend(case.id for case in batch.cases)
                    await asyncio.to_thread(writer.add, batch)
                temporary = out is None
                target = self._temporary(SUFFIXES[fmt]) if out is None else out
                await asyncio.to_thread(self._finish, writer, target)
            finally:
                writer.close()
        detail = {"export": export_id, "format": fmt, "year": year, "rows": writer.cases,
                  "victims": writer.victims}
        try:
            await self._record(exported, now, actor, actor_name, detail)
        except BaseException:
            if temporary:
                target.unlink(missing_ok=True)
            raise
        return Export(target, base + SUFFIXES[fmt], MEDIA_TYPES[fmt], writer.cases,
                      writer.victims, export_id, temporary)

    @staticmethod
    def _temporary(suffix: str) -> Path:
        handle, name = tempfile.mkstemp(prefix="ppa-export-", suffix=suffix)
        os.close(handle)
        return Path(name)

    @staticmethod
    def _finish(writer: SheetWriter, target: Path) -> None:
        """Write beside the target, then move it in place: a reader never sees half a file."""
        partial = target.with_name(target.name + ".part")
        try:
            writer.finish(partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

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
                cases = (await session.execute(
                    query.order_by(Case.created_at, Case.id).limit(BATCH))).all()
                if not cases:
                    return
                batch = Batch(cases)
                ids = [case.id for case in cases]
                for victim in await session.execute(
                        select(*VICTIM_FIELDS).where(Victim.case_id.in_(ids))
                        .order_by(Victim.case_id, Victim.number)):
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
        """One ``exported`` history row per case, a multi-row INSERT per ``HISTORY_CHUNK``."""
        for first in range(0, len(case_ids), HISTORY_CHUNK):
            rows = [{"case_id": case_id, "at": now, "actor": actor, "actor_name": actor_name,
                     "kind": EXPORTED, "detail": detail, "secret": None}
                    for case_id in case_ids[first:first + HISTORY_CHUNK]]
            async with self.sessions.begin() as session:
                await session.execute(insert(CaseEvent), rows)
