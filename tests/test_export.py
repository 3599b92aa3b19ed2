"""Export: the year's cases as a sheet with a row per case and a sheet with a row per victim in
the SIMFONI-PPA columns of docs/SIMFONI.md, as xlsx (one workbook) or csv (a zip of two files),
with nothing that tells the story or points at the reporter; each export is written into the
exported cases' history, and the bot goes on answering everyone while it is made."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from telegram import Update

from bot.clock import FakeClock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain.register import LEGACY_PLACE
from bot.domain.simfoni import VICTIM_COLUMNS
from bot.services.export import Export, ExportError, ExportService
from models import CaseEvent
from tests.case_factory import add_cases, add_officer, new_case, wita
from tests.group_chat import in_a_shell
from tests.harness import Harness, Person, new_update_id
from tests.telegram_double import FakeTelegram
from tests.test_simfoni import DOC, doc_table

NARRATIVE = "Tetangga memukul anaknya setiap malam."
SECRETS = (NARRATIVE, "dekat masjid", "6281234567890", "0812")


async def two_cases_and_a_practice(bot: Harness) -> None:
    await add_cases(
        bot.runtime.sessions,
        new_case(wita(2026, 1, 10, 14, 5), village="Pondong Baru", types=("fisik", "seksual"),
                 victim="child", victim_sex="f", victim_age_band="13-17", victim_count=2,
                 place="sekolah", perpetrator="guru", occurred="month", priority="high",
                 status="dirujuk", referral="police",
                 acknowledged_after=timedelta(minutes=30), reference="PSR-26-AAAAAA"),
        new_case(wita(2026, 2, 3, 8, 0), village="Lombok", types=("penelantaran",),
                 victim="woman", victim_sex="f", victim_age_band="25-44", place="rumah_tangga",
                 perpetrator="suami_istri", occurred="ongoing", reference="PSR-26-BBBBBB"),
        new_case(wita(2026, 2, 4), village="Lombok", practice=True, reference="PSR-26-PRAKTK"),
        new_case(wita(2025, 12, 31, 23, 0), village="Lombok", reference="PSR-25-LASTYR"),
    )


def exporter(bot: Harness) -> ExportService:
    return ExportService(bot.runtime.sessions, bot.clock, bot.settings)


def csv_files(result: Export) -> dict[str, list[list[str]]]:
    """The CSV export's files: ``kasus`` (per case) and ``korban`` (per victim), as rows."""
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        return {name.split("-")[0]: list(csv.reader(io.StringIO(
            archive.read(name).decode("utf-8-sig")))) for name in archive.namelist()}


def sheet_rows(content: bytes, index: int) -> list[list[object]]:
    workbook = load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.worksheets[index].iter_rows(values_only=True)]


def xlsx_text(content: bytes) -> str:
    """Every XML part of an xlsx file, as text: what anyone unzipping it could read."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "\n".join(archive.read(name).decode("utf-8", "replace")
                         for name in archive.namelist())


async def test_the_xlsx_holds_one_row_per_case_cell_by_cell(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "xlsx", actor="officer:1", actor_name="Rina")
    assert result.rows == 2
    assert result.filename.endswith(".xlsx") and "2026" in result.filename
    sheet = load_workbook(io.BytesIO(result.content)).active
    assert sheet is not None and sheet.title == "Kasus 2026"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "Referensi", "Tanggal lapor (WITA)", "Kode kecamatan", "Kecamatan", "Kode desa/kelurahan",
        "Desa/Kelurahan", "Jenis kekerasan", "Fisik", "Psikis", "Seksual", "Eksploitasi",
        "Perdagangan Orang (TPPO)", "Penelantaran", "Lainnya", "Tempat kejadian",
        "Waktu kejadian", "Hubungan pelaku dengan korban", "Kategori korban",
        "Jenis kelamin korban", "Kelompok umur korban", "Jumlah korban", "Prioritas", "Status",
        "Diterima (WITA)", "Ditutup (WITA)", "Rujukan", "Alasan ditutup", "Saluran masuk"]
    assert rows[1] == [
        "PSR-26-AAAAAA", datetime(2026, 1, 10, 14, 5), "64.01.05", "Kuaro", "64.01.05.2009",
        "Pondong Baru", "Fisik; Seksual", 1, 0, 1, 0, 0, 0, 0, "Sekolah", "Bulan ini", "Guru",
        "Anak (di bawah 18)", "Perempuan", "13–17 tahun", 2, "Tinggi", "Dirujuk",
        datetime(2026, 1, 10, 14, 35), None, "Polisi", None, "Laporan melalui bot"]
    assert rows[2] == [
        "PSR-26-BBBBBB", datetime(2026, 2, 3, 8, 0), "64.01.06", "Long Ikis", "64.01.06.2006",
        "Lombok", "Penelantaran", 0, 0, 0, 0, 0, 1, 0, "Rumah Tangga", "Masih terjadi",
        "Suami/Istri", "Perempuan (18 tahun ke atas)", "Perempuan", "25–44 tahun", 1, "Biasa",
        "Baru", None, None, None, None, "Laporan melalui bot"]
    assert len(rows) == 3  # no practice case, nothing from 2025
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm"


async def test_headers_and_categories_in_english_on_request(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "xlsx", actor="cli", language="en")
    sheet = load_workbook(io.BytesIO(result.content)).active
    assert sheet is not None
    assert sheet["A1"].value == "Reference" and sheet["G1"].value == "Type of violence"
    assert sheet["G2"].value == "Physical; Sexual"
    assert sheet["R2"].value == "Child (under 18)"


async def test_the_victim_sheet_has_the_columns_of_the_simfoni_document_in_its_order(
        bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "xlsx", actor="cli", language="en")
    workbook = load_workbook(io.BytesIO(result.content))
    assert workbook.sheetnames == ["Cases 2026", "Victims 2026"]
    header, *rows = sheet_rows(result.content, 1)
    assert header == [row[2] for row in doc_table(DOC, "victim-columns")]  # in any language
    assert header == [column.header for column in VICTIM_COLUMNS]
    # Case AAAAAA told of two girls of 13–17: one row each; BBBBBB of one woman.
    assert rows == [
        ["PSR-26-AAAAAA", 1, "NA", "2026-01-10", "Sekolah", "Kalimantan Timur",
         "Kabupaten Paser", "Kuaro", "Pondong Baru", "64.01.05.2009", "Perempuan", "NA",
         "13-17", "Fisik; Seksual", "NA", "NA", "NA", "NA", None, 1, "NA", "NA", "Guru",
         "Laporan melalui bot"],
        ["PSR-26-AAAAAA", 2, "NA", "2026-01-10", "Sekolah", "Kalimantan Timur",
         "Kabupaten Paser", "Kuaro", "Pondong Baru", "64.01.05.2009", "NA", "NA", "NA",
         "Fisik; Seksual", "NA", "NA", "NA", "NA", None, 1, "NA", "NA", "Guru",
         "Laporan melalui bot"],
        ["PSR-26-BBBBBB", 1, "NA", "2026-02-03", "Rumah Tangga", "Kalimantan Timur",
         "Kabupaten Paser", "Long Ikis", "Lombok", "64.01.06.2006", "Perempuan", "NA", "25-44",
         "Penelantaran", "NA", "NA", "NA", "NA", None, 1, "NA", "NA", "Suami/Istri",
         "Laporan melalui bot"],
    ]
    assert (result.rows, result.victims) == (2, 3)


async def test_the_csv_is_a_zip_of_the_two_sheets_with_dates_as_text(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "csv", actor="cli")
    assert result.filename.endswith(".zip") and result.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        names = archive.namelist()
        assert all(archive.read(name).startswith(b"\xef\xbb\xbf") for name in names)  # Excel
    assert [name.split("-")[0] for name in names] == ["kasus", "korban"]
    files = csv_files(result)
    rows = files["kasus"]
    assert rows[0][:2] == ["Referensi", "Tanggal lapor (WITA)"]
    assert rows[1][:7] == ["PSR-26-AAAAAA", "2026-01-10 14:05", "64.01.05", "Kuaro",
                           "64.01.05.2009", "Pondong Baru", "Fisik; Seksual"]
    assert rows[1][23] == "2026-01-10 14:35"
    assert rows[2][0] == "PSR-26-BBBBBB" and rows[2][23] == ""
    assert len(rows) == 3
    victims = files["korban"]
    assert victims[0] == [column.header for column in VICTIM_COLUMNS]
    assert [row[:2] for row in victims[1:]] == [["PSR-26-AAAAAA", "1"], ["PSR-26-AAAAAA", "2"],
                                                ["PSR-26-BBBBBB", "1"]]


async def test_a_case_with_the_old_place_is_not_given_a_simfoni_place(bot: Harness) -> None:
    await add_cases(bot.runtime.sessions, new_case(wita(2026, 1, 5), village="Modang",
                                                   place=LEGACY_PLACE))
    result = await exporter(bot).export(2026, "xlsx", actor="cli")
    assert sheet_rows(result.content, 0)[1][14] == "Lembaga pendidikan (pilihan lama)"
    assert sheet_rows(result.content, 1)[1][4] == "NA"  # for an officer to decide


async def test_a_large_year_is_written_in_batches_in_report_order(
        bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.services import export as export_module

    monkeypatch.setattr(export_module, "BATCH", 3)
    monkeypatch.setattr(export_module, "HISTORY_CHUNK", 4)
    same_moment = wita(2026, 3, 1, 9, 0)
    await add_cases(bot.runtime.sessions, *(
        new_case(same_moment if n % 2 else wita(2026, 1, 1 + n), victim_count=1 + n % 3,
                 reference=f"PSR-26-B{n:05d}") for n in range(10)))
    result = await exporter(bot).export(2026, "csv", actor="cli")
    files = csv_files(result)
    references = [row[0] for row in files["kasus"][1:]]
    assert sorted(references) == [f"PSR-26-B{n:05d}" for n in range(10)]  # each once
    assert references[:5] == [f"PSR-26-B{n:05d}" for n in (0, 2, 4, 6, 8)]  # January first
    assert len(files["korban"]) - 1 == sum(1 + n % 3 for n in range(10)) == result.victims
    async with bot.runtime.sessions() as session:
        recorded = list(await session.scalars(select(CaseEvent.case_id).where(
            CaseEvent.kind == "exported")))
    assert len(recorded) == len(set(recorded)) == 10


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_no_story_landmark_phone_or_reporter_in_the_file(
        bot: Harness, reporter: Person, fmt: str) -> None:
    await reporter.completes_report(story=NARRATIVE, phone="0812 3456 7890")
    result = await exporter(bot).export(2026, fmt, actor="cli")
    assert result.rows == 1
    text = xlsx_text(result.content) if fmt == "xlsx" else "\n".join(
        str(row) for rows in csv_files(result).values() for row in rows)
    for secret in (*SECRETS, str(reporter.user_id), reporter.first_name):
        assert secret not in text
    role_words = ("Keluarga korban", "Family of the victim")
    assert not any(word in text for word in role_words)  # not even who reported


async def test_each_exported_case_records_the_export_in_its_history(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "xlsx", actor="officer:7", actor_name="Rina")
    async with bot.runtime.sessions() as session:
        events = list(await session.scalars(select(CaseEvent).where(
            CaseEvent.kind == "exported")))
    exported = {case.reference: case.id for case in await bot.cases()}
    assert sorted(e.case_id for e in events) == sorted(
        [exported["PSR-26-AAAAAA"], exported["PSR-26-BBBBBB"]])
    assert {e.actor for e in events} == {"officer:7"}
    assert {e.actor_name for e in events} == {"Rina"}
    assert all(e.detail == {"export": result.export_id, "format": "xlsx", "year": 2026,
                            "rows": 2, "victims": 3} for e in events)
    assert all(e.at == bot.clock.now() for e in events)


async def test_an_unknown_format_is_refused(bot: Harness) -> None:
    with pytest.raises(ExportError):
        await exporter(bot).export(2026, "pdf", actor="cli")


async def test_an_empty_year_gives_the_headers_only(bot: Harness) -> None:
    result = await exporter(bot).export(2019, "xlsx", actor="cli")
    sheet = load_workbook(io.BytesIO(result.content)).active
    assert sheet is not None and sheet.max_row == 1 and result.rows == 0


async def test_the_command_line_writes_the_file_and_prints_what_it_did(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await two_cases_and_a_practice(bot)
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    out = tmp_path / "kasus.xlsx"
    assert await in_a_shell("export", "--year", "2026", "--format", "xlsx", "--out", str(out)) == 0
    assert f"exported 2 cases (3 victims) of 2026 to {out} (xlsx: sheets per case and per " \
           "victim)" in capsys.readouterr().out
    workbook = load_workbook(out)
    assert workbook.worksheets[0]["A2"].value == "PSR-26-AAAAAA"
    assert workbook.worksheets[1]["A4"].value == "PSR-26-BBBBBB"
    zip_out = tmp_path / "kasus.zip"
    assert await in_a_shell("export", "--year", "2026", "--out", str(zip_out)) == 0
    with zipfile.ZipFile(zip_out) as archive:
        assert len(archive.namelist()) == 2
    # Named .csv, a CSV export is the two files themselves, side by side.
    assert await in_a_shell("export", "--year", "2026", "--out", str(tmp_path / "kasus.csv")) == 0
    assert f"to {tmp_path / 'kasus.csv'} (per case) and {tmp_path / 'kasus-korban.csv'} (per " \
           "victim)" in capsys.readouterr().out
    assert (tmp_path / "kasus.csv").read_text(encoding="utf-8-sig").startswith("Referensi,")
    korban = (tmp_path / "kasus-korban.csv").read_text(encoding="utf-8-sig").splitlines()
    assert korban[0].startswith("Referensi,Korban ke-,") and len(korban) == 4
    assert await in_a_shell("export", "--year", "2026", "--format", "xlsx", "--out",
                            str(tmp_path / "kasus.csv")) == 2
    assert "give --out FILE.xlsx for the xlsx export" in capsys.readouterr().err
    async with bot.runtime.sessions() as session:
        actors = set(await session.scalars(select(CaseEvent.actor).where(
            CaseEvent.kind == "exported")))
    assert actors == {"cli"}


# ---- in chat: /ekspor -------------------------------------------------------------------------

def documents_to(bot: Harness, chat_id: int) -> list[tuple[str, bytes]]:
    return [(call.files["document"][0], call.files["document"][1])
            for call in bot.telegram.calls_to("sendDocument")
            if int(call.params["chat_id"]) == chat_id]


async def test_an_admin_gets_the_year_as_an_xlsx_document_in_private(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    await add_officer(bot.runtime.sessions, 4_200_001, "64.01", admin=True, name="Rina Admin")
    admin = Person(bot, user_id=4_200_001, first_name="Rina", language_code="id")
    await admin.sends("/ekspor 2026")
    [(filename, content)] = documents_to(bot, admin.user_id)
    assert filename.endswith(".xlsx")
    assert [row[0] for row in sheet_rows(content, 0)] == [
        "Referensi", "PSR-26-AAAAAA", "PSR-26-BBBBBB"]
    assert [row[:2] for row in sheet_rows(content, 1)] == [
        ["Referensi", "Korban ke-"], ["PSR-26-AAAAAA", 1], ["PSR-26-AAAAAA", 2],
        ["PSR-26-BBBBBB", 1]]
    assert "2 kasus dan 3 korban tahun 2026" in admin.last_text()
    async with bot.runtime.sessions() as session:
        names = set(await session.scalars(select(CaseEvent.actor_name).where(
            CaseEvent.kind == "exported")))
    assert names == {"Rina Admin"}


async def test_an_officer_who_is_not_admin_cannot_export(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    await add_officer(bot.runtime.sessions, 4_200_002, "64.01.05")
    officer = Person(bot, user_id=4_200_002, first_name="Dedi", language_code="en")
    await officer.sends("/ekspor")
    assert officer.last_text() == "Only district admins can do this."
    assert documents_to(bot, officer.user_id) == []


async def test_a_reporter_cannot_export(bot: Harness, reporter_id: Person) -> None:
    await reporter_id.sends("/ekspor 2026")
    assert "Hanya admin kabupaten" in reporter_id.last_text()
    assert documents_to(bot, reporter_id.user_id) == []
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(CaseEvent).where(
            CaseEvent.kind == "exported"))) == []


class HeldUploads(FakeTelegram):
    """Telegram taking its time to receive a document (a slow connection): until ``release``."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def do_request(self, url: str, method: str, *args: Any,
                         **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/sendDocument"):
            await self.release.wait()
        return await super().do_request(url, method, *args, **kwargs)


async def handled_at_once(bot: Harness, person: Person, text: str) -> None:
    """An update as the bot gets it, without waiting for work it started aside."""
    assert bot.app is not None
    payload = {"update_id": new_update_id(), "message": person._message(
        text=text, entities=[{"type": "bot_command", "offset": 0,
                              "length": len(text.split()[0])}])}
    async with asyncio.timeout(10):  # a guard: an update held up by the export fails here
        await bot.app.process_update(Update.de_json(payload, bot.app.bot))


async def test_the_export_is_made_aside_and_others_are_answered_meanwhile(
        settings: Settings, clock: FakeClock, vault: Vault) -> None:
    """The bot handles one update at a time: an export, however long, must not hold that line."""
    telegram = HeldUploads()
    bot = await Harness(settings=settings, clock=clock, vault=vault, telegram=telegram).start()
    try:
        await two_cases_and_a_practice(bot)
        await add_officer(bot.runtime.sessions, 4_200_003, "64.01", admin=True, name="Rina")
        admin = Person(bot, user_id=4_200_003, first_name="Rina", language_code="id")
        reporter = Person(bot, user_id=5_550_009, first_name="Sari", language_code="id")
        await handled_at_once(bot, admin, "/ekspor 2026")
        await handled_at_once(bot, reporter, "/bantuan")
        assert "112" in reporter.last_text()  # answered while the export is still going on
        assert documents_to(bot, admin.user_id) == []
        telegram.release.set()
        await bot.runtime.settle()
        assert len(documents_to(bot, admin.user_id)) == 1
    finally:
        telegram.release.set()
        await bot.stop()


async def test_the_workbook_is_a_plain_one_any_spreadsheet_reads(bot: Harness) -> None:
    """Bold headers, the first row and column frozen, a filter over the data; text stays text,
    whatever characters it holds."""
    await two_cases_and_a_practice(bot)
    await add_cases(bot.runtime.sessions, new_case(wita(2026, 3, 1), village="Janju",
                                                   reference='R&D <1> "=2+2"'))
    result = await exporter(bot).export(2026, "xlsx", actor="cli")
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert archive.testzip() is None
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/styles.xml",
                "xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"} <= set(archive.namelist())
    workbook = load_workbook(io.BytesIO(result.content))
    cases, victims = workbook.worksheets
    assert cases["A1"].font.b and victims["X1"].font.b and not cases["A2"].font.b
    assert cases.freeze_panes == victims.freeze_panes == "B2"
    assert cases.auto_filter.ref == "A1:AB4" and victims.auto_filter.ref == "A1:X5"
    assert cases["A4"].value == 'R&D <1> "=2+2"' and cases["A4"].data_type == "s"
    assert victims["A5"].value == 'R&D <1> "=2+2"'
    assert workbook.properties.creator == "ppa-bot"
