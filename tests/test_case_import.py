"""``ppa-bot cases import``: a past register (one row per victim, the SIMFONI-PPA columns of
docs/SIMFONI.md) becomes cases, victims and perpetrators that count like any other, while the bot
runs, without alerting anyone; a file with any bad row is refused whole, line by line."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain.simfoni import victim_headers
from bot.services.export import ExportService
from bot.services.register_import import ImportRefused, import_register
from bot.services.stats import StatsService
from models import Alert, Case, CaseEvent, OutboxMessage, Perpetrator, Victim
from tests.case_factory import add_group
from tests.group_chat import in_a_shell
from tests.harness import Harness, Person
from tests.test_case_register import people_of

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "register-sample.csv"
HEADER, *ROWS = SAMPLE.read_text(encoding="utf-8").splitlines()


def register(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def edited(row: str, **cells: str) -> str:
    """A sample row with some cells changed, by header (other characters written ``_``)."""
    headers = [re.sub(r"[^A-Za-z0-9]", "_", header) for header in victim_headers()]
    values = next(csv.reader([row]))
    for header, value in cells.items():
        values[headers.index(header)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


async def imports(bot: Harness, raw: bytes, *, dry_run: bool = False) -> object:
    return await import_register(bot.runtime.sessions, raw, bot.clock, bot.settings,
                                 dry_run=dry_run)


async def counts(bot: Harness) -> tuple[int, int, int, int]:
    """Cases, victims, perpetrators, history events: everything an import writes."""
    async with bot.runtime.sessions() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(model)) or 0)
                      for model in (Case, Victim, Perpetrator, CaseEvent)])  # type: ignore[return-value]


async def refused(bot: Harness, raw: bytes) -> list[str]:
    before = await counts(bot)
    with pytest.raises(ImportRefused) as caught:
        await imports(bot, raw)
    assert await counts(bot) == before, "a refused file writes nothing"
    return [str(problem) for problem in caught.value.problems]


# ---- a good register ---------------------------------------------------------------------

async def test_the_sample_register_is_imported_from_the_command_line_while_the_bot_runs(
        bot: Harness, reporter: Person, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await add_group(bot.runtime.sessions, "Lolo", -100_700)  # a village of the register
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    assert await in_a_shell("cases", "import", str(SAMPLE)) == 0
    printed = capsys.readouterr().out
    assert "imported 8 cases (9 victims, 10 perpetrators)" in printed
    assert "2023: 4 cases, 5 victims; 2024: 4 cases, 4 victims" in printed
    assert "nobody was alerted" in printed
    # Nobody was told anything, now or by the next sweep; the bot goes on as before.
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()
    assert bot.telegram.calls_to("sendMessage") == []
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert await session.scalar(select(func.count()).select_from(Alert)) == 0
    reference = await reporter.completes_report(village="Lolo")
    assert reference.startswith("PSR-")


async def test_rows_of_one_reference_are_one_case_with_its_victims_and_perpetrators(
        bot: Harness) -> None:
    result = await imports(bot, SAMPLE.read_bytes())
    case, victims, links = await people_of(bot, "CONTOH-2023-002")
    assert (case.status, case.channel, case.import_batch) == ("selesai", "rujukan_sapa129",
                                                              result.batch)  # type: ignore[attr-defined]
    assert (case.kecamatan_code, case.village_code, case.place) == (
        "64.01.05", "64.01.05.2002", "rumah_tangga")
    assert case.created_at.astimezone(bot.settings.tz).date().isoformat() == "2023-05-08"
    assert (case.incident_date.isoformat(), case.incident_precision) == ("2023-05-03", "day")
    assert case.violence_types == ["psikis", "seksual"] and case.priority == "high"
    assert case.victim_count == 2 and case.victim_category == "child"
    assert case.tier is None and case.ack_deadline is None and case.police_deadline is None
    assert [(v.number, v.sex, v.age, v.age_band, v.is_child, v.violence) for v in victims] == [
        (1, "f", 9, "6-12", True, ["seksual"]), (2, "f", 12, "6-12", True, ["psikis", "seksual"])]
    assert victims[0].services == ["pengaduan", "kesehatan", "penegakan_hukum",
                                   "pendampingan_psikologis"]
    assert (victims[0].education, victims[0].occupation, victims[0].marital_status,
            victims[0].disability) == ("sd", "pelajar", "belum_menikah", "tidak")
    # The same uncle of both girls: one perpetrator, listed the same way on both rows.
    assert links == [(1, 1, "m", 45, "keluarga"), (2, 1, "m", 45, "keluarga")]
    _case, _victims, links = await people_of(bot, "CONTOH-2023-003")
    assert links == [(1, 1, "m", 17, "lainnya"), (1, 2, "m", None, "lainnya")]
    unknown_date, _v, _l = await people_of(bot, "CONTOH-2024-004")
    assert unknown_date.incident_date is None
    async with bot.runtime.sessions() as session:
        history = list(await session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id)))
    assert [(e.kind, e.actor, e.detail["lines"]) for e in history] == [("imported", "cli", [3, 4])]


async def test_imported_cases_count_in_the_statistics_victims_and_cases(bot: Harness) -> None:
    await imports(bot, SAMPLE.read_bytes())
    stats = await StatsService(bot.runtime.sessions, bot.clock, bot.settings).year(2023)
    assert (stats.total, stats.victims) == (4, 5)
    assert stats.by_month[4] == 1 and stats.victims_by_month[4] == 2  # May: one case, two girls
    assert dict(stats.by_victim) == {"woman": 1, "child": 4}
    assert dict(stats.victims_by_sex) == {"f": 4, "m": 1}


async def test_an_imported_register_exports_back_row_for_row(bot: Harness) -> None:
    await imports(bot, SAMPLE.read_bytes())
    exporter = ExportService(bot.runtime.sessions, bot.clock, bot.settings)
    exported: list[str] = []
    for year in (2023, 2024):
        result = await exporter.export(year, "csv", actor="cli")
        with zipfile.ZipFile(result.path) as archive:
            [victims] = [n for n in archive.namelist() if n.startswith("korban-")]
            header, *rows = archive.read(victims).decode("utf-8-sig").splitlines()
        result.discard()
        assert header == HEADER
        exported += rows
    assert exported == ROWS


async def test_a_dry_run_checks_and_writes_nothing(bot: Harness) -> None:
    before = await counts(bot)
    result = await imports(bot, SAMPLE.read_bytes(), dry_run=True)
    assert len(result.cases) == 8  # type: ignore[attr-defined]
    assert await counts(bot) == before


async def test_what_spreadsheets_do_to_a_csv_is_read_as_meant(bot: Harness) -> None:
    """Semicolons and day/month/year (a spreadsheet set to Indonesian), Windows-1252, blank cells
    for "not known", empty cells after the last column, a village by its old spelling."""
    row = edited(ROWS[4], Tanggal_Kejadian="30/10/2023", Tanggal_Pelaporan="6/11/2023",
                 Kode_Desa_Kelurahan="", Desa_Kelurahan="Samuranggau", Usia_Korban="",
                 Pendidikan_Korban="", Jenis_Kelamin_Pelaku="laki-laki")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for line in (HEADER, row):
        writer.writerow([*next(csv.reader([line])), "", ""])
    result = await imports(bot, out.getvalue().replace("Tidak", "Tidak ").encode("cp1252"))
    [case] = result.cases  # type: ignore[attr-defined]
    assert case.village_code == "64.01.01.2009" and case.report_date.isoformat() == "2023-11-06"
    assert case.incident.text() == "2023-10-30"
    victim = case.people.victims[0]
    assert (victim.age, victim.age_band, victim.education) == (None, "13-17", None)
    assert victim.is_child and case.people.perpetrators[0].sex == "m"


async def test_importing_the_same_register_twice_is_refused(bot: Harness) -> None:
    await imports(bot, SAMPLE.read_bytes())
    problems = await refused(bot, SAMPLE.read_bytes())
    assert problems[0] == ("line 2: case CONTOH-2023-001 is already in the database (imported "
                           "before, or a case of ppa-bot): nothing is imported twice")
    assert len(problems) == 8


# ---- bad registers: every problem with its line, nothing written ---------------------------

async def test_every_bad_row_is_named_with_its_line_and_nothing_is_written(
        bot: Harness) -> None:
    raw = register(
        ROWS[0],  # line 2: good
        ROWS[0],  # 3: a duplicate row
        ROWS[1],  # 4: good
        edited(ROWS[3], Tanggal_Kejadian="2023-02-30"),  # 5: no such day
        edited(ROWS[3], Desa_Kelurahan="Paitt", Kode_Desa_Kelurahan=""),  # 6: unknown village
        edited(ROWS[4], Bentuk_Kekerasan="Fisik; Pukul"),  # 7: not a form of violence
        edited(ROWS[5], Tanggal_Pelaporan="2024-01-05"),  # 8: reported before it happened
        edited(ROWS[6], Jumlah_Pelaku="3"),  # 9: three perpetrators, two listed
        edited(ROWS[2], Tempat_Kejadian="Sekolah"),  # 10: case 002 differs from line 4
        edited(ROWS[7], Tanggal_Pelaporan="2031-01-01"),  # 11: in the future
        edited(ROWS[8], Usia_Korban="61", Kelompok_Usia_Korban="45-59"),  # 12: wrong age group
        edited(ROWS[7], Referensi="CONTOH-X", Tempat_Kejadian="Lembaga Pendidikan"),  # 13
        "CONTOH-Y,1,2024-01-01",  # 14: too few cells
    )
    assert await refused(bot, raw) == [
        "line 3: the same row as line 2",
        "line 5: Tanggal Kejadian: '2023-02-30' is not a date (YYYY-MM-DD, or YYYY-MM or YYYY "
        "when only the month or year is known, or NA)",
        "line 6: Desa/Kelurahan: unknown village 'Paitt' in kecamatan Long Ikis (did you mean "
        "Pait?)",
        "line 7: Bentuk Kekerasan: 'Pukul' is not one of its values (Fisik, Psikis, Seksual, "
        "Eksploitasi, Trafficking, Penelantaran, Lainnya, or NA when not known)",
        "line 8: Tanggal Kejadian: 2024-01-10 is after the report date 2024-01-05",
        "line 9: Jenis Kelamin Pelaku: 2 entries for 3 perpetrator(s): write one per "
        "perpetrator, joined with '; ' (NA when not known)",
        "line 9: Usia Pelaku: 2 entries for 3 perpetrator(s): write one per perpetrator, joined "
        "with '; ' (NA when not known)",
        "line 9: Hubungan Pelaku dengan Korban: 2 entries for 3 perpetrator(s): write one per "
        "perpetrator, joined with '; ' (NA when not known)",
        "line 10: Tempat Kejadian differs from line 4 of the same case CONTOH-2023-002",
        "line 11: Tanggal Pelaporan: 2031-01-01 is in the future",
        "line 12: Kelompok Usia Korban: age 61 is in 60+, not 45-59",
        "line 13: Tempat Kejadian: 'Lembaga Pendidikan' is not one of its values (Rumah Tangga, "
        "Tempat Kerja, Sekolah, Fasilitas Umum, Lembaga Pendidikan Kilat, Lainnya, or NA when "
        "not known)",
        "line 14: 3 cells, but the header has 24 columns",
    ]


async def test_a_wrong_or_missing_column_stops_at_the_header(bot: Harness) -> None:
    header = HEADER.replace("Pendidikan Korban", "Nama Korban").replace(",Saluran Masuk", "")
    rows = [",".join(ROWS[0].split(",")[:-1])]
    assert await refused(bot, register(*rows, header=header)) == [
        "line 1: unknown column 'Nama Korban': the columns are those of the per-victim register "
        "in docs/SIMFONI.md (never a name, address or phone number)",
        "line 1: column 'Pendidikan Korban' is missing",
        "line 1: column 'Saluran Masuk' is missing",
    ]


async def test_a_village_code_and_names_that_disagree_are_refused(bot: Harness) -> None:
    assert await refused(bot, register(edited(ROWS[0], Kode_Desa_Kelurahan="64.01.05.2002"),
                                       edited(ROWS[1], Kode_Desa_Kelurahan="64.99.99.9999"))) == [
        "line 2: Desa/Kelurahan: 'Sungai Tuak' is not the village of code 64.01.05.2002 (Lolo)",
        "line 3: Kode Desa/Kelurahan: unknown village code '64.99.99.9999'",
    ]


async def test_the_command_line_lists_the_problems_and_says_nothing_was_imported(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    bad = tmp_path / "register.csv"
    bad.write_bytes(register(ROWS[0], edited(ROWS[1], Saluran_Masuk="WhatsApp")))
    before = await counts(bot)
    assert await in_a_shell("cases", "import", str(bad)) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors == [
        f"{bad}: line 3: Saluran Masuk: 'WhatsApp' is not one of its values (Laporan melalui "
        "bot, Datang langsung, Telepon, Rujukan SAPA 129, Rujukan lembaga lain, Penjangkauan, "
        "Surat, or NA when not known)",
        f"nothing was imported: 1 problem(s) in {bad}; correct them and run the command again"]
    assert await counts(bot) == before
    assert await in_a_shell("cases", "import", str(tmp_path / "absent.csv")) == 1
    assert "cannot read" in capsys.readouterr().err
