"""Export: one row per case with SIMFONI-PPA categories, as xlsx or csv.

What a row holds: the reference, dates (WITA), kecamatan and village with their Kemendagri codes,
type of violence (joined, and one 1/0 column per type for pivot tables), place, when it happened,
the perpetrator's relation, the victim's category, sex, age band and number, priority, status,
acknowledgement, closing and referral. What it never holds: the narrative, the landmark, evidence,
the phone number, the contact time, or anything about the reporter (not even their role).

The export itself is recorded in the history: one ``CaseEvent`` of kind ``exported`` per exported
case, in the same transaction that reads the rows. The design keeps every disclosure of a case in
that case's own history ("who, when, what"), so the case's timeline answers "which files has this
case left the system in" without a second place to look; the cost is one small row per case per
export (a district exports a few hundred cases a few times a year). All rows of one export share an
``export`` id in their detail, so the export as a whole can be found too.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain import form, workflow
from bot.i18n import N_, Translate, translator
from bot.services.stats import Scope, counted, year_bounds
from models import Case, CaseEvent, Region

FORMATS = ("xlsx", "csv")
EXPORTED = "exported"
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}

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
]
DATE_COLUMNS = {"reported", "acknowledged", "closed"}
# What is read from the database for an export; nothing secret is among it.
EXPORTED_COLUMNS = (Case.id, Case.reference, Case.created_at, Case.kecamatan_code,
                    Case.village_code, Case.violence_types, Case.place, Case.occurred,
                    Case.perpetrator, Case.victim_category, Case.victim_sex, Case.victim_age_band,
                    Case.victim_count, Case.priority, Case.status, Case.acknowledged_at,
                    Case.closed_at, Case.referral, Case.close_reason)


class ExportError(ValueError):
    """An export that cannot be made, phrased for the person asking."""


@dataclass
class Export:
    content: bytes
    filename: str
    media_type: str
    rows: int
    export_id: str


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

    def row(self, case: Any, names: dict[str, str], language: str) -> list[Any]:
        """One case (a row of ``EXPORTED_COLUMNS``) as spreadsheet values."""
        _ = translator(language)
        tz = self.settings.tz

        def local(moment: datetime | None) -> datetime | None:
            return moment.astimezone(tz).replace(tzinfo=None, microsecond=0) if moment else None

        types = list(case.violence_types or [])
        ages = form.AGE_BANDS.get(case.victim_category, [])
        values: dict[str, Any] = {
            "reference": case.reference,
            "reported": local(case.created_at),
            "kecamatan_code": case.kecamatan_code,
            "kecamatan": names.get(case.kecamatan_code, ""),
            "village_code": case.village_code,
            "village": names.get(case.village_code, ""),
            "types": "; ".join(_label(form.OPTIONS[form.TYPES], t, _) for t in types),
            "place": _label(form.OPTIONS[form.PLACE], case.place, _),
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
            "acknowledged": local(case.acknowledged_at),
            "closed": local(case.closed_at),
            "referral": _(workflow.REFERRAL_TARGETS[case.referral])
            if case.referral in workflow.REFERRAL_TARGETS else case.referral or "",
            "close_reason": _(workflow.CLOSE_REASONS[case.close_reason])
            if case.close_reason in workflow.CLOSE_REASONS else case.close_reason or "",
        }
        row: list[Any] = []
        for key, _header in COLUMNS:
            row.append(_safe(values[key]))
            if key == "types":
                row += [1 if value in types else 0 for value, _label_ in form.OPTIONS[form.TYPES]]
        return row

    async def export(self, year: int, fmt: str, *, actor: str, actor_name: str | None = None,
                     scope: Scope | None = None, language: str = "id") -> Export:
        """Build the file and record, in the same transaction, that each case was exported."""
        if fmt not in FORMATS:
            raise ExportError(f"unknown format {fmt!r}: use xlsx or csv")
        scope = scope or Scope()
        start, end = year_bounds(year, self.settings.tz)
        now = self.clock.now()
        export_id = secrets.token_hex(4)
        async with self.sessions.begin() as session:
            # Only the columns a row shows: secret columns are never even read, let alone decrypted.
            cases = list((await session.execute(counted(
                select(*EXPORTED_COLUMNS).where(Case.created_at >= start, Case.created_at < end),
                scope).order_by(Case.created_at, Case.id))).all())
            names = {code: name for code, name in await session.execute(
                select(Region.code, Region.name))}
            rows = [self.row(case, names, language) for case in cases]
            headers = self.headers(language)
            content = self._xlsx(headers, rows, year, language) if fmt == "xlsx" \
                else self._csv(headers, rows)
            detail = {"export": export_id, "format": fmt, "year": year, "rows": len(rows)}
            session.add_all(CaseEvent(case_id=case.id, at=now, actor=actor, actor_name=actor_name,
                                      kind=EXPORTED, detail=detail) for case in cases)
        stamp = now.astimezone(self.settings.tz).strftime("%Y%m%d-%H%M")
        filename = f"kasus-{self.settings.region.kabupaten_name.lower().replace(' ', '-')}-" \
                   f"{year}-{stamp}.{fmt}"
        return Export(content, filename, MEDIA_TYPES[fmt], len(rows), export_id)

    @staticmethod
    def _csv(headers: list[str], rows: list[list[Any]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        for row in rows:
            writer.writerow(value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime)
                            else "" if value is None else value for value in row)
        # A byte order mark lets Excel read the file as UTF-8.
        return buffer.getvalue().encode("utf-8-sig")

    def _xlsx(self, headers: list[str], rows: list[list[Any]], year: int,
              language: str) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter

        _ = translator(language)
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = _("Cases {year}").format(year=year)[:31]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        date_columns = [i + 1 for i, (key, _h) in enumerate(self._keys()) if key in DATE_COLUMNS]
        for column in date_columns:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
                cell.number_format = "yyyy-mm-dd hh:mm"
        for index, header in enumerate(headers, start=1):
            width = max(10, min(40, len(header) + 2))
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "B2"
        sheet.auto_filter.ref = sheet.dimensions
        workbook.properties.creator = "ppa-bot"
        workbook.properties.created = self.clock.now().replace(tzinfo=None)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()

    @staticmethod
    def _keys() -> list[tuple[str, str]]:
        """Column keys in file order, the per-type columns included."""
        keys: list[tuple[str, str]] = []
        for key, header in COLUMNS:
            keys.append((key, header))
            if key == "types":
                keys += [(f"type:{value}", label) for value, label in form.OPTIONS[form.TYPES]]
        return keys
