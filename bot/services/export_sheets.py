"""The export's two sheets, as rows and as files: what the worker process of
``bot/services/export.py`` runs. It sees no database and imports little (a worker starts fast and
small): batches of cases come in as plain tuples, rows go out to a workbook or CSV files on disk.
"""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from zoneinfo import ZoneInfo

from bot.domain import form, simfoni, workflow
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


class WorkbookWriter(SheetWriter):
    """One workbook, two sheets, streamed to disk row by row and zipped at the end.

    The SpreadsheetML is written here rather than by a workbook library: a sheet is a flat list of
    rows of text, numbers and date-times, and writing it directly is several times faster than
    any general library (docs/PERFORMANCE.md, figure g) while memory stays one row. It is the
    smallest valid workbook Excel, LibreOffice and openpyxl read: inline text (never a formula
    or a link), one number format for date-times, a bold header, the first row and column frozen,
    and an autofilter over the data."""

    def __init__(self, spec: SheetSpec) -> None:
        super().__init__(spec)
        _ = self.maker._
        self.titles = [_("Cases {year}").format(year=spec.year)[:31],
                       _("Victims {year}").format(year=spec.year)[:31]]
        self.headers = [self.case_headers, simfoni.victim_headers()]
        self.letters = [column_letter(index) for index in range(
            max(len(self.case_headers), len(simfoni.VICTIM_COLUMNS)))]
        self.sheets = [(self.work / f"sheet{n}.xml").open("w", encoding="utf-8")
                       for n in (1, 2)]
        for sheet, headers in zip(self.sheets, self.headers, strict=True):
            widths = "".join(f'<col min="{n}" max="{n}" width="{max(10, min(40, len(h) + 2))}" '
                             f'customWidth="1"/>' for n, h in enumerate(headers, start=1))
            sheet.write(
                f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
                '<sheetViews><sheetView workbookViewId="0"><pane xSplit="1" ySplit="1" '
                'topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
                '<selection pane="bottomRight"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>')
            sheet.write(self._row(1, headers, style=BOLD))

    def _row(self, number: int, values: Sequence[Any], style: int = 0) -> str:
        cells = []
        styled = f' s="{style}"' if style else ""
        for letter, value in zip(self.letters, values, strict=False):
            if value is None or value == "":
                continue
            where = f"{letter}{number}"
            if isinstance(value, str):
                cells.append(f'<c r="{where}"{styled} t="inlineStr"><is><t xml:space="preserve">'
                             f'{xml_text(value)}</t></is></c>')
            elif isinstance(value, datetime):
                cells.append(f'<c r="{where}" s="{MOMENT}"><v>{excel_time(value)!r}</v></c>')
            else:
                cells.append(f'<c r="{where}"{styled}><v>{value!r}</v></c>')
        return f'<row r="{number}">{"".join(cells)}</row>'

    def write_case(self, row: list[Any]) -> None:
        self.sheets[0].write(self._row(self.cases + 2, row))

    def write_victim(self, row: list[Any]) -> None:
        self.sheets[1].write(self._row(self.victims + 2, row))

    def finish(self, out: Path) -> None:
        ranges = []
        for sheet, headers, rows in zip(self.sheets, self.headers, (self.cases, self.victims),
                                        strict=True):
            ranges.append(f"$A$1:${self.letters[len(headers) - 1]}${rows + 1}")
            sheet.write(f'</sheetData><autoFilter ref="{ranges[-1].replace("$", "")}"/>'
                        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
                        'header="0.3" footer="0.3"/></worksheet>')
            sheet.close()
        sheets = "".join(f'<sheet name="{xml_text(title)}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, title in enumerate(self.titles, start=1))
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{xml_text(quote_sheet(title))}!{cells}</definedName>"
            for n, (title, cells) in enumerate(zip(self.titles, ranges, strict=True)))
        created = self.spec.created.strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": ROOT_RELS,
            "docProps/core.xml": CORE.format(created=created),
            "xl/workbook.xml": f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" '
                               f'xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews>'
                               f"<sheets>{sheets}</sheets><definedNames>{names}</definedNames>"
                               "</workbook>",
            "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
            "xl/styles.xml": STYLES,
        }
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in parts.items():
                archive.writestr(name, text)
            for n, sheet in enumerate(self.sheets, start=1):
                archive.write(sheet.name, arcname=f"xl/worksheets/sheet{n}.xml")

    def close(self) -> None:
        for sheet in self.sheets:
            sheet.close()


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

    def finish_pair(self, cases: Path, victims: Path) -> None:
        """The two files themselves, not zipped (``--out FILE.csv``)."""
        for handle in self.files:
            handle.close()
        for name, target in zip(self.names, (cases, victims), strict=True):
            partial = target.with_name(target.name + ".part")
            shutil.move(self.work / name, partial)
            partial.replace(target)

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
    _writer = WorkbookWriter(spec) if spec.fmt == "xlsx" else CsvWriter(spec)


def add_batch(batch: Batch) -> None:
    assert _writer is not None
    _writer.add(batch)


def victims_file(cases_file: Path) -> Path:
    """Where the per-victim CSV goes beside ``kasus.csv``: ``kasus-korban.csv``."""
    return cases_file.with_name(cases_file.stem + "-korban.csv")


def finish_sheets(target: str) -> tuple[int, int]:
    """Write beside the target, then move it in place: a reader never sees half a file. A CSV
    export to a ``.csv`` name is two files (``victims_file`` beside it); else one file."""
    global _writer
    assert _writer is not None
    writer, _writer = _writer, None
    partial = Path(target + ".part")
    try:
        if isinstance(writer, CsvWriter) and target.endswith(".csv"):
            writer.finish_pair(Path(target), victims_file(Path(target)))
        else:
            writer.finish(partial)
            partial.replace(target)
    finally:
        writer.close()
        partial.unlink(missing_ok=True)
    return writer.cases, writer.victims


# ---- SpreadsheetML, the little of it a two-sheet workbook needs --------------------------------

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CONTENT_TYPES = (
    f'{XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}"/>'
    f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{SHEET_TYPE}"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>')
ROOT_RELS = (
    f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>')
WORKBOOK_RELS = (
    f'{XML_DECLARATION}<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>')
CORE = (
    f'{XML_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
    '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-'
    'instance"><dc:creator>ppa-bot</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">'
    "{created}</dcterms:created></cp:coreProperties>")
BOLD, MOMENT = 1, 2  # cell styles (cellXfs) below
STYLES = (
    f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}"><numFmts count="1"><numFmt numFmtId="164" '
    'formatCode="yyyy-mm-dd hh:mm"/></numFmts><fonts count="2"><font><sz val="11"/>'
    '<name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
    'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" '
    'xfId="0" applyFont="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
    'applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" '
    'builtinId="0"/></cellStyles></styleSheet>')
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime(1899, 12, 30)


def xml_text(value: str) -> str:
    """Text as XML character data: escaped, and without the characters XML cannot hold."""
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")\
        .replace('"', "&quot;")


def excel_time(moment: datetime) -> float:
    """A naive local date-time as a spreadsheet serial number (days since 1899-12-30)."""
    delta = moment - _EPOCH
    return delta.days + delta.seconds / 86400


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"
