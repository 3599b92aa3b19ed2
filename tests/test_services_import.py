"""``ppa-bot providers import CSV``: another district loads its provider directory. The whole file
is checked first; every bad line is reported with its number and nothing is written; a good file
is written at once, safe while the bot runs, and officers are offered it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.providers import SHIPPED, read_csv
from models import Provider
from tests.group_chat import in_a_shell
from tests.harness import Harness

GOOD = """kind,name,kecamatan
kesehatan,Puskesmas Long Ikis,Long Ikis
penampungan_sementara,Rumah Aman Kabupaten,
bantuan_hukum,UPTD PPA Kabupaten Paser,
"""
BAD = """kind,name,kecamatan
kesehatan,Puskesmas Long Ikis,Long Ikis
obat,Apotek Sehat,Kuaro
kesehatan,,Kuaro
kesehatan,Puskesmas Long Ikis,Long Ikis
pemulangan,Dinas Sosial
"""


async def directory(bot: Harness) -> list[tuple[str, str, str | None, bool]]:
    async with bot.runtime.sessions() as session:
        return [(p.kind, p.name, p.kecamatan, p.active) for p in await session.scalars(
            select(Provider).order_by(Provider.id))]


def test_the_shipped_directory_is_a_valid_file() -> None:
    checked = read_csv(SHIPPED.read_bytes())
    assert checked.errors == [] and len(checked.rows) == 13
    assert all(row.name and row.kind for row in checked.rows)


async def test_a_bad_file_is_reported_line_by_line_and_nothing_is_written(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    before = await directory(bot)
    path = tmp_path / "layanan.csv"
    path.write_text(BAD, encoding="utf-8")

    assert await in_a_shell("providers", "import", str(path)) == 1
    printed = capsys.readouterr().err
    assert "line 3: kind 'obat' is not one of" in printed
    assert "line 4: the name is empty" in printed
    assert "line 5: the same provider as line 2" in printed
    assert "line 6: 2 values, expected 3" in printed
    assert "line 2:" not in printed
    assert "nothing was imported: 4 problem(s)" in printed
    assert await directory(bot) == before  # not even the good line 2

    path.write_text("jenis,nama\nkesehatan,Puskesmas\n", encoding="utf-8")
    assert await in_a_shell("providers", "import", str(path)) == 1
    assert "line 1: the columns must be kind, name, kecamatan" in capsys.readouterr().err
    assert await directory(bot) == before


async def test_a_good_file_is_imported_while_the_bot_runs(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    path = tmp_path / "layanan.csv"
    path.write_text(GOOD.replace(",", ";"), encoding="utf-8")  # Excel's semicolons

    assert await in_a_shell("providers", "import", str(path), "--dry-run") == 0
    assert "3 provider(s) would be imported; nothing was written" in capsys.readouterr().out
    assert len(await directory(bot)) == 13

    assert await in_a_shell("providers", "import", str(path)) == 0
    assert "2 provider(s) added, 1 updated" in capsys.readouterr().out
    rows = await directory(bot)
    assert ("kesehatan", "Puskesmas Long Ikis", "Long Ikis", True) in rows
    assert ("penampungan_sementara", "Rumah Aman Kabupaten", None, True) in rows
    assert len(rows) == 15
    # Importing the same file again changes nothing.
    assert await in_a_shell("providers", "import", str(path)) == 0
    assert len(await directory(bot)) == 15
