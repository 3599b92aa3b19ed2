"""The export's two sheets, as rows and as files: what the worker process of
``bot/services/export.py`` runs. It sees no database and imports little (a worker starts fast and
small): batches of cases come in as plain tuples, rows go out to a workbook or CSV files on disk.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot import case_status as workflow
from bot import report_form as form
from bot.domain import simfoni
from bot.domain.register import IncidentDate, simfoni_place
from bot.i18n import N_, Translate, translator

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


# ---- in the worker process --------------------------------------------------------------------
# Formatting and writing a large year is seconds of pure-Python work. In a thread it would share
# the interpreter lock with the event loop (and with it every stall of that thread: a garbage
# collection, the operating system pausing it on a busy machine); in a process of its own it
# cannot hold the bot up. The bot only reads the batches and hands them over, in order, to one
# worker: these three functions run there, one after the other.

_writer: SheetWriter | None = None


def open_sheets(spec: SheetSpec) -> None:
    global _writer
    _writer = XlsxWriter(spec) if spec.fmt == "xlsx" else CsvWriter(spec)


def add_batch(batch: Batch) -> None:
    assert _writer is not None
    _writer.add(batch)


def finish_sheets(target: str) -> tuple[int, int]:
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


