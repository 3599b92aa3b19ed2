"""Export: one row per case in SIMFONI-PPA categories, as xlsx or csv, with nothing that tells the
story or points at the reporter; each export is written into the exported cases' history."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.services.export import ExportError, ExportService
from models import CaseEvent
from tests.case_factory import add_cases, add_officer, new_case, wita
from tests.group_chat import in_a_shell
from tests.harness import Harness, Person

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
        "Diterima (WITA)", "Ditutup (WITA)", "Rujukan", "Alasan ditutup"]
    assert rows[1] == [
        "PSR-26-AAAAAA", datetime(2026, 1, 10, 14, 5), "64.01.05", "Kuaro", "64.01.05.2009",
        "Pondong Baru", "Fisik; Seksual", 1, 0, 1, 0, 0, 0, 0, "Sekolah", "Bulan ini", "Guru",
        "Anak (di bawah 18)", "Perempuan", "13–17 tahun", 2, "Tinggi", "Dirujuk",
        datetime(2026, 1, 10, 14, 35), None, "Polisi", None]
    assert rows[2] == [
        "PSR-26-BBBBBB", datetime(2026, 2, 3, 8, 0), "64.01.06", "Long Ikis", "64.01.06.2006",
        "Lombok", "Penelantaran", 0, 0, 0, 0, 0, 1, 0, "Rumah Tangga", "Masih terjadi",
        "Suami/Istri", "Perempuan (18 tahun ke atas)", "Perempuan", "25–44 tahun", 1, "Biasa",
        "Baru", None, None, None, None]
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


async def test_the_csv_has_the_same_rows_with_dates_as_text(bot: Harness) -> None:
    await two_cases_and_a_practice(bot)
    result = await exporter(bot).export(2026, "csv", actor="cli")
    assert result.content.startswith(b"\xef\xbb\xbf")  # UTF-8 mark: Excel reads it right
    rows = list(csv.reader(io.StringIO(result.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Referensi", "Tanggal lapor (WITA)"]
    assert rows[1][:7] == ["PSR-26-AAAAAA", "2026-01-10 14:05", "64.01.05", "Kuaro",
                           "64.01.05.2009", "Pondong Baru", "Fisik; Seksual"]
    assert rows[1][23] == "2026-01-10 14:35"
    assert rows[2][0] == "PSR-26-BBBBBB" and rows[2][23] == ""
    assert len(rows) == 3


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_no_story_landmark_phone_or_reporter_in_the_file(
        bot: Harness, reporter: Person, fmt: str) -> None:
    await reporter.completes_report(story=NARRATIVE, phone="0812 3456 7890")
    result = await exporter(bot).export(2026, fmt, actor="cli")
    assert result.rows == 1
    text = xlsx_text(result.content) if fmt == "xlsx" else result.content.decode("utf-8-sig")
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
                            "rows": 2} for e in events)
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
    assert "exported 2 cases of 2026" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert sheet is not None and sheet["A2"].value == "PSR-26-AAAAAA"
    csv_out = tmp_path / "kasus.csv"
    assert await in_a_shell("export", "--year", "2026", "--out", str(csv_out)) == 0
    assert csv_out.read_bytes().decode("utf-8-sig").splitlines()[1].startswith("PSR-26-AAAAAA")
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
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == [
        "Referensi", "PSR-26-AAAAAA", "PSR-26-BBBBBB"]
    assert "2 kasus tahun 2026" in admin.last_text()
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
