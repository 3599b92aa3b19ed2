"""Loading a past case register (``ppa-bot cases import``): one row per victim, the per-victim
columns of ``docs/SIMFONI.md``, so that the year-over-year figures are right from the first day.

The whole file is read and checked before anything is written, and then written in one short
transaction: a file with any bad row (a wrong or missing column, a duplicate row, an unknown
village, an impossible date, a value that is not one of its list's) writes nothing, and every
problem is reported with its line. Rows with the same ``Referensi`` are one case; its own fields
(dates, place, region, channel) must agree on all of them.

An imported case is a record of a case handled elsewhere: it is marked with the import's id and
its intake channel, recorded as completed (``selesai``, an officer can reopen it), never routed or
alerted, and it counts in statistics and exports like any other. Its date of report
(``Tanggal Pelaporan``) is the day it counts on. Perpetrators: the ones listed the same way (same
place in the list, sex and age) on two victims' rows of a case are one person; otherwise each row
lists its own.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import form, register, simfoni, workflow
from bot.domain.register import (
    IncidentDate,
    NotADate,
    People,
    PerpetratorRecord,
    VictimRecord,
)
from bot.regions import RegionDirectory, normalise
from bot.services.people import add_people_of_cases
from models import Case, CaseEvent
from models.region import KECAMATAN, VILLAGE

IMPORTED = "imported"  # the history event of an imported case
MAX_REFERENCE = 40
MAX_PEOPLE = 99
CASE_KEYS = ("incident_date", "report_date", "place", "province", "kabupaten", "kecamatan",
             "village", "village_code", "channel")
HEADERS = {column.header.casefold(): column for column in simfoni.VICTIM_COLUMNS}


@dataclass(frozen=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(ValueError):
    """The file was not imported; ``problems`` says why, line by line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(f"{len(problems)} problem(s): "
                         + "; ".join(str(p) for p in self.problems[:3]))


@dataclass
class Row:
    """One victim's row, read and checked."""

    line: int
    reference: str
    victim_number: int
    case_fields: dict[str, Any]
    victim: VictimRecord
    perpetrators: list[tuple[str | None, int | None]]  # (sex, age) in the row's order
    relations: list[str | None]


@dataclass
class ImportedCase:
    reference: str
    lines: list[int]
    report_date: date
    incident: IncidentDate | None
    place: str | None
    kecamatan_code: str
    village_code: str
    channel: str | None
    people: People
    violence: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    batch: str
    cases: list[ImportedCase]
    written: bool

    @property
    def victims(self) -> int:
        return sum(len(case.people.victims) for case in self.cases)

    @property
    def perpetrators(self) -> int:
        return sum(len(case.people.perpetrators) for case in self.cases)

    def by_year(self) -> dict[int, tuple[int, int]]:
        """(cases, victims) by the year they count in."""
        cases: Counter[int] = Counter()
        victims: Counter[int] = Counter()
        for case in self.cases:
            cases[case.report_date.year] += 1
            victims[case.report_date.year] += len(case.people.victims)
        return {year: (cases[year], victims[year]) for year in sorted(cases)}


# ---- reading ----------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte order mark); else Windows-1252, what Excel on Windows saves
    as "CSV" (the register's words and Paser's place names are plain letters in both)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _delimiter(first_line: str) -> str:
    """A comma, or the semicolon a spreadsheet set to Indonesian saves with."""
    return ";" if first_line.count(";") > first_line.count(",") else ","


class RegisterReader:
    """Reads and checks a register's text; knows the regions and the district."""

    def __init__(self, regions: RegionDirectory, settings: Settings, today: date) -> None:
        self.regions = regions
        self.settings = settings
        self.today = today
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def read(self, text: str) -> list[ImportedCase]:
        """Every case of the file; ``problems`` holds what is wrong (then nothing may be
        written)."""
        first = text.split("\n", 1)[0]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
        try:
            header = next(reader)
        except StopIteration:
            self.problem(1, "the file is empty")
            return []
        except csv.Error as exc:
            self.problem(1, f"not a readable CSV ({exc})")
            return []
        columns = self._columns(header)
        if columns is None:
            return []
        rows: list[Row] = []
        seen_rows: dict[tuple[str, ...], int] = {}
        seen_victims: dict[tuple[str, int], int] = {}
        end = reader.line_num
        try:
            for cells in reader:
                line, end = end + 1, reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                while len(cells) > len(columns) and not cells[-1].strip():
                    cells.pop()  # empty cells a spreadsheet left after the last column
                if len(cells) != len(columns):
                    self.problem(line, f"{len(cells)} cells, but the header has {len(columns)} "
                                       "columns")
                    continue
                values = {key: cell.strip() for key, cell in zip(columns, cells, strict=True)}
                key = tuple(values[c.key].casefold() for c in simfoni.VICTIM_COLUMNS)
                if key in seen_rows:
                    self.problem(line, f"the same row as line {seen_rows[key]}")
                    continue
                seen_rows[key] = line
                row = self._row(line, values)
                if row is None:
                    continue
                victim_key = (row.reference.casefold(), row.victim_number)
                if victim_key in seen_victims:
                    self.problem(line, f"victim {row.victim_number} of case {row.reference} is "
                                       f"already on line {seen_victims[victim_key]}")
                    continue
                seen_victims[victim_key] = line
                rows.append(row)
        except csv.Error as exc:
            self.problem(end + 1, f"not a readable CSV row ({exc})")
        if not rows and not self.problems:
            self.problem(1, "no rows after the header")
        return self._cases(rows)

    def _columns(self, header: list[str]) -> list[str] | None:
        keys: list[str] = []
        problems = len(self.problems)
        while header and not header[-1].strip():
            header = header[:-1]  # empty cells a spreadsheet left after the last column
        for cell in header:
            name = cell.strip().lstrip("\ufeff")
            column = HEADERS.get(name.casefold())
            if column is None:
                self.problem(1, f"unknown column {name!r}: the columns are those of the "
                                "per-victim register in docs/SIMFONI.md (never a name, address "
                                "or phone number)")
            elif column.key in keys:
                self.problem(1, f"column {column.header!r} appears twice")
            else:
                keys.append(column.key)
        for column in simfoni.VICTIM_COLUMNS:
            if column.key not in keys:
                self.problem(1, f"column {column.header!r} is missing")
        return keys if len(self.problems) == problems else None

    # ---- one row ----------------------------------------------------------------------------

    def _row(self, line: int, values: dict[str, str]) -> Row | None:
        before = len(self.problems)

        def bad(column: str, message: str) -> None:
            header = next(c.header for c in simfoni.VICTIM_COLUMNS if c.key == column)
            self.problem(line, f"{header}: {message}")

        def parse(column: simfoni.Column, how: str = "one") -> Any:
            assert column.values is not None
            text = values[column.key]
            try:
                if how == "many":
                    return column.values.parse_many(text)
                if how == "each":
                    return column.values.parse_each(text)
                return column.values.parse(text)
            except simfoni.UnknownValue as exc:
                labels = ", ".join(item.simfoni for item in column.values.items)
                bad(column.key, f"{exc.value.strip()!r} is not one of its values ({labels}, or "
                                f"NA when not known)")
                return [] if how != "one" else None

        col = {c.key: c for c in simfoni.VICTIM_COLUMNS}
        reference = values["reference"]
        if not reference:
            bad("reference", "empty: every row names its case")
        elif len(reference) > MAX_REFERENCE or not reference.isprintable():
            bad("reference", f"at most {MAX_REFERENCE} printable characters")
        number = self._whole(values["victim_number"], 1, MAX_PEOPLE)
        if number is None:
            bad("victim_number", f"{values['victim_number']!r} is not a number from 1 to "
                                 f"{MAX_PEOPLE}")
        report_date = self._report_date(values["report_date"], bad)
        incident = self._incident(values["incident_date"], report_date, bad)
        village = self._village(values, bad)
        kabupaten = values["kabupaten"]
        if not _blank(kabupaten) and normalise(self.settings.region.kabupaten_name) \
                not in normalise(kabupaten):
            bad("kabupaten", f"{kabupaten!r} is not Kabupaten "
                             f"{self.settings.region.kabupaten_name}")
        sex = parse(col["victim_sex"])
        age = self._age(values["victim_age"], "victim_age", bad)
        band = parse(col["victim_age_band"])
        if age is not None and band is not None and simfoni.age_band(age) != band:
            bad("victim_age_band", f"age {age} is in {simfoni.age_band(age)}, not {band}")
        if age is not None:
            band = simfoni.age_band(age)
        victim = VictimRecord(
            number=number or 0, sex=sex, age=age, age_band=band,
            is_child=register.is_child_of(age, band), violence=parse(col["violence"], "many"),
            education=parse(col["education"]), occupation=parse(col["occupation"]),
            marital_status=parse(col["marital_status"]), disability=parse(col["disability"]),
            services=parse(col["services"], "many"))
        perpetrators, relations = self._perpetrators(values, parse, col, bad)
        case_fields = {"incident": incident, "report_date": report_date,
                       "place": parse(col["place"]), "village": village,
                       "channel": parse(col["channel"])}
        if len(self.problems) > before:
            return None
        assert number is not None and report_date is not None and village is not None
        return Row(line, reference, number,
                   case_fields | {"raw": {k: values[k].casefold() for k in CASE_KEYS}},
                   victim, perpetrators, relations)

    @staticmethod
    def _whole(text: str, low: int, high: int) -> int | None:
        text = text.strip()
        if not text.isdigit() or not low <= int(text) <= high:
            return None
        return int(text)

    def _age(self, text: str, column: str, bad: Any) -> int | None:
        if _blank(text):
            return None
        age = self._whole(text, 0, simfoni.MAX_AGE)
        if age is None:
            bad(column, f"{text!r} is not an age in whole years (0 to {simfoni.MAX_AGE}) or NA")
        return age

    def _report_date(self, text: str, bad: Any) -> date | None:
        if _blank(text):
            bad("report_date", "empty: the day the case was reported is what it counts on")
            return None
        try:
            day = register.parse_day(text)
        except NotADate:
            bad("report_date", f"{text!r} is not a date (YYYY-MM-DD, e.g. 2024-03-15)")
            return None
        if day > self.today:
            bad("report_date", f"{day.isoformat()} is in the future")
            return None
        return day

    def _incident(self, text: str, reported: date | None, bad: Any) -> IncidentDate | None:
        if _blank(text):
            return None
        try:
            incident = register.parse_incident(text)
        except NotADate:
            bad("incident_date", f"{text!r} is not a date (YYYY-MM-DD, or YYYY-MM or YYYY when "
                                 "only the month or year is known, or NA)")
            return None
        if reported is not None and incident.on > reported:
            bad("incident_date", f"{incident.text()} is after the report date "
                                 f"{reported.isoformat()}")
        return incident

    def _village(self, values: dict[str, str], bad: Any) -> str | None:
        """The village's code: from ``Kode Desa/Kelurahan`` when given (the names, if given,
        must be that village's), else from the kecamatan and village names (official names and
        known old spellings, exactly)."""
        code, kecamatan, village = (values["village_code"], values["kecamatan"],
                                    values["village"])
        place = self.regions.get(code) if not _blank(code) else None
        if not _blank(code):
            if place is None or place.level != VILLAGE:
                bad("village_code", f"unknown village code {code!r}")
                return None
            parent = self.regions.get(place.parent_code)
            if not _blank(village) and not self._spelled(village, place.code):
                bad("village", f"{village!r} is not the village of code {code} "
                               f"({place.name})")
                return None
            if not _blank(kecamatan) and parent is not None \
                    and not self._spelled(kecamatan, parent.code):
                bad("kecamatan", f"village {code} ({place.name}) is in kecamatan {parent.name}, "
                                 f"not {kecamatan!r}")
                return None
            return place.code
        if _blank(village) or _blank(kecamatan):
            bad("village", "the village is not given: name the kecamatan and village, or give "
                           "the village code")
            return None
        kecamatan_codes = self._exact(kecamatan, KECAMATAN, None)
        if not kecamatan_codes:
            bad("kecamatan", f"unknown kecamatan {kecamatan!r}" + self._maybe(
                kecamatan, KECAMATAN, None))
            return None
        village_codes = self._exact(village, VILLAGE, kecamatan_codes[0])
        if len(village_codes) != 1:
            bad("village", f"unknown village {village!r} in kecamatan "
                           f"{self.regions.places[kecamatan_codes[0]].name}"
                + self._maybe(village, VILLAGE, kecamatan_codes[0]))
            return None
        return village_codes[0]

    def _exact(self, text: str, level: str, within: str | None) -> list[str]:
        wanted = normalise(text)
        return list(dict.fromkeys(
            code for spelling, code in self.regions.spellings
            if spelling == wanted and self.regions.places[code].level == level
            and (within is None or self.regions.places[code].parent_code == within)))

    def _spelled(self, text: str, code: str) -> bool:
        wanted = normalise(text)
        return any(spelling == wanted for spelling, c in self.regions.spellings if c == code)

    def _maybe(self, text: str, level: str, within: str | None) -> str:
        found = self.regions.search(text, level=level, within=within, limit=1)
        return f" (did you mean {found[0].name}?)" if found else ""

    def _perpetrators(self, values: dict[str, str], parse: Any, col: dict[str, simfoni.Column],
                      bad: Any) -> tuple[list[tuple[str | None, int | None]], list[str | None]]:
        sexes: list[str | None] = parse(col["perpetrator_sex"], "each")
        relations: list[str | None] = parse(col["perpetrator_relation"], "each")
        ages_text = values["perpetrator_age"]
        ages = [self._age(part.strip(), "perpetrator_age", bad)
                for part in ages_text.split(";")] if ages_text.strip() else []
        count_text = values["perpetrator_count"]
        if _blank(count_text):
            count = max(len(sexes), len(ages), len(relations))
        else:
            parsed = self._whole(count_text, 0, MAX_PEOPLE)
            if parsed is None:
                bad("perpetrator_count", f"{count_text!r} is not a number from 0 to "
                                         f"{MAX_PEOPLE}")
                return [], []
            count = parsed
        for key, listed in (("perpetrator_sex", sexes), ("perpetrator_age", ages),
                            ("perpetrator_relation", relations)):
            if listed and len(listed) != count:
                bad(key, f"{len(listed)} entries for {count} perpetrator(s): write one per "
                         "perpetrator, joined with '; ' (NA when not known)")
        sexes = sexes or [None] * count
        ages = ages or [None] * count
        relations = relations or [None] * count
        return list(zip(sexes, ages, strict=False))[:count], relations[:count]

    # ---- rows to cases ------------------------------------------------------------------------

    def _cases(self, rows: list[Row]) -> list[ImportedCase]:
        by_reference: dict[str, list[Row]] = {}
        for row in rows:
            by_reference.setdefault(row.reference.casefold(), []).append(row)
        cases = []
        for group in by_reference.values():
            first = group[0]
            consistent = True
            for row in group[1:]:
                for key in CASE_KEYS:
                    if row.case_fields["raw"][key] != first.case_fields["raw"][key]:
                        header = next(c.header for c in simfoni.VICTIM_COLUMNS if c.key == key)
                        self.problem(row.line, f"{header} differs from line {first.line} of the "
                                               f"same case {first.reference}")
                        consistent = False
            if not consistent:
                continue
            group.sort(key=lambda r: r.victim_number)
            fields = first.case_fields
            place = self.regions.places[fields["village"]]
            people = _people(group)
            cases.append(ImportedCase(
                reference=first.reference, lines=sorted(r.line for r in group),
                report_date=fields["report_date"], incident=fields["incident"],
                place=fields["place"], kecamatan_code=place.parent_code or "",
                village_code=place.code, channel=fields["channel"], people=people,
                violence=register.union_in_order(simfoni.VIOLENCE_FORMS,
                                                 (v.violence for v in people.victims))))
        return cases


def _blank(text: str) -> bool:
    return text.strip().casefold() in {"", "-", "na", "n/a", "tidak diketahui"}


def _people(rows: list[Row]) -> People:
    """Victims in their numbers; perpetrators listed the same way on several rows are one."""
    perpetrators: list[PerpetratorRecord] = []
    known: dict[tuple[tuple[str | None, int | None], ...], list[int]] = {}
    links: list[tuple[int, int, str | None]] = []
    for row in rows:
        listing = tuple(row.perpetrators)
        if listing not in known:
            numbers = []
            for sex, age in listing:
                perpetrators.append(PerpetratorRecord(len(perpetrators) + 1, sex, age))
                numbers.append(len(perpetrators))
            known[listing] = numbers
        links += [(row.victim_number, number, relation)
                  for number, relation in zip(known[listing], row.relations, strict=True)]
    return People([row.victim for row in rows], perpetrators, links)


# ---- writing ----------------------------------------------------------------------------------

def _summary(case: ImportedCase) -> dict[str, Any]:
    """The case's own columns that describe "the" victim, from its first victim."""
    first = case.people.victims[0]
    category = form.CHILD if first.is_child else form.WOMAN \
        if first.is_child is False and first.sex == "f" else None
    relation = next((r for v, _p, r in case.people.links if v == first.number), None)
    return {"victim_category": category, "victim_sex": first.sex,
            "victim_age_band": first.age_band, "victim_age": first.age,
            "victim_count": len(case.people.victims), "perpetrator": relation}


def _priority(case: ImportedCase) -> str:
    answers = {form.TYPES: case.violence,
               form.VICTIM_CATEGORY: form.CHILD if any(v.is_child for v in case.people.victims)
               else form.WOMAN}
    return form.priority(answers, urgent=False)


async def import_register(sessions: async_sessionmaker[AsyncSession], raw: bytes,
                          clock: Clock, settings: Settings, *, dry_run: bool = False,
                          actor: str = "cli", actor_name: str | None = None) -> ImportResult:
    """Check the whole register, then write it in one transaction (or, ``dry_run``, only check
    it). Raises ``ImportRefused`` with every problem found; nothing is written then."""
    now = clock.now()
    async with sessions() as session:
        regions = await RegionDirectory.load(session)
    reader = RegisterReader(regions, settings, now.astimezone(settings.tz).date())
    cases = reader.read(decode(raw))
    problems = list(reader.problems)
    async with sessions() as session:
        problems += await _already_there(session, cases)
    if problems:
        raise ImportRefused(problems)
    batch = secrets.token_hex(4)
    if dry_run:
        return ImportResult(batch, cases, written=False)
    rows = [_case_row(case, batch, number, now, settings) for number, case in enumerate(cases)]
    async with sessions.begin() as session:
        ids = list(await session.scalars(
            insert(Case).returning(Case.id, sort_by_parameter_order=True), rows))
        await add_people_of_cases(session, [(case_id, case.people)
                                            for case_id, case in zip(ids, cases, strict=True)])
        await session.execute(insert(CaseEvent), [
            {"case_id": case_id, "at": now, "actor": actor, "actor_name": actor_name,
             "kind": IMPORTED, "secret": None,
             "detail": {"import": batch, "lines": case.lines, "channel": case.channel}}
            for case_id, case in zip(ids, cases, strict=True)])
    return ImportResult(batch, cases, written=True)


async def _already_there(session: AsyncSession, cases: list[ImportedCase]) -> list[Problem]:
    problems = []
    references = {case.reference: case for case in cases}
    names = list(references)
    for first in range(0, len(names), 500):
        for reference in await session.scalars(select(Case.reference).where(
                Case.reference.in_(names[first:first + 500]))):
            problems.append(Problem(references[reference].lines[0],
                                    f"case {reference} is already in the database (imported "
                                    "before, or a case of ppa-bot): nothing is imported twice"))
    return problems


def _case_row(case: ImportedCase, batch: str, number: int, now: datetime,
              settings: Settings) -> dict[str, Any]:
    reported = datetime.combine(case.report_date, time(0, 0), tzinfo=settings.tz)
    return {
        "reference": case.reference, "submit_key": f"import:{batch}:{number}",
        "reporter_id": None, "status": workflow.SELESAI, "priority": _priority(case),
        "urgent": False, "practice": False, "language": "id", "reporter_role": None,
        **_summary(case), "violence_types": case.violence,
        "kecamatan_code": case.kecamatan_code, "village_code": case.village_code,
        "place": case.place, "landmark": None, "occurred": None, "narrative": None,
        "incident_date": case.incident.on if case.incident else None,
        "incident_precision": case.incident.precision if case.incident else None,
        "channel": case.channel, "import_batch": batch, "contact_allowed": False,
        "phone": None, "contact_time": None, "created_at": reported, "updated_at": now,
        "tier": None, "ack_deadline": None, "acknowledged_at": None, "acknowledged_by": None,
        "police_deadline": None, "police_reminded": False, "unrouted": False,
        "consent_withdrawn": False, "closed_at": now, "referral": None, "close_reason": None,
        "handler_user_id": None, "handler_name": None,
    }
