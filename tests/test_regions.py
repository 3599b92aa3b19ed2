"""Regions (DESIGN §2): the Paser CSVs import into a kabupaten → kecamatan → village tree with
Kemendagri codes, and a typed name finds its place despite case, typos and old spellings."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import create_engine, session_factory, upgrade
from bot.domain import form
from bot.regions import (
    RegionDirectory,
    RegionFileError,
    import_regions,
    region_count,
    shipped_file,
)
from models import Region, RegionAlias
from models.region import KABUPATEN, KECAMATAN, VILLAGE
from tests.harness import Harness, Person

WILAYAH = shipped_file("paser_wilayah.csv")
ALIASES = shipped_file("paser_aliases.csv")
HEADER = "kecamatan_code,kecamatan,village_code,village,village_type\n"


@pytest.fixture(scope="module")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def empty_db(empty_template: Path, tmp_path: Path
                   ) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated database with no regions yet."""
    path = tmp_path / "empty.sqlite3"
    shutil.copy(empty_template, path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    yield session_factory(engine)
    await engine.dispose()


async def import_paser(sessions: async_sessionmaker[AsyncSession], wilayah: Path = WILAYAH,
                       aliases: Path | None = ALIASES) -> tuple[int, int]:
    async with sessions.begin() as session:
        return await import_regions(session, wilayah, aliases, kabupaten_code="64.01",
                                    kabupaten_name="Paser")


async def counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Region.level, func.count()).group_by(Region.level))
        found = {level: int(n) for level, n in rows.all()}
        found["alias"] = int(await session.scalar(
            select(func.count()).select_from(RegionAlias)) or 0)
        return found


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- importing -----------------------------------------------------------------------------------

async def test_the_shipped_csvs_give_10_kecamatan_and_144_villages(
        empty_db: async_sessionmaker[AsyncSession]) -> None:
    villages, aliases = await import_paser(empty_db)

    assert (villages, aliases) == (144, 14)
    assert await counts(empty_db) == {KABUPATEN: 1, KECAMATAN: 10, VILLAGE: 144, "alias": 14}
    async with empty_db() as session:
        pondong = await session.get(Region, "64.01.05.2009")
        assert pondong is not None
        assert (pondong.name, pondong.level, pondong.kind, pondong.parent_code) == \
            ("Pondong Baru", VILLAGE, "desa", "64.01.05")
        kuaro = await session.get(Region, "64.01.05")
        assert kuaro is not None and (kuaro.name, kuaro.parent_code) == ("Kuaro", "64.01")
        town = await session.get(Region, "64.01.04.1001")
        assert town is not None and town.kind == "kelurahan"


async def test_importing_twice_changes_nothing(empty_db: async_sessionmaker[AsyncSession]
                                               ) -> None:
    await import_paser(empty_db)
    first = await counts(empty_db)

    assert await import_paser(empty_db) == (144, 14)

    assert await counts(empty_db) == first


async def test_a_renamed_village_is_updated_in_place(empty_db: async_sessionmaker[AsyncSession],
                                                     tmp_path: Path) -> None:
    await import_paser(empty_db)
    renamed = WILAYAH.read_text(encoding="utf-8").replace("Pondong Baru", "Pondong Baru Jaya")
    await import_paser(empty_db, write(tmp_path / "new.csv", renamed), None)

    async with empty_db() as session:
        village = await session.get(Region, "64.01.05.2009")
        assert village is not None and village.name == "Pondong Baru Jaya"
    assert (await counts(empty_db))[VILLAGE] == 144


BAD_FILES = {
    "outside the kabupaten": ("64.02.01,Lain,64.02.01.2001,Desa Lain,desa\n", ":4:", "64.02"),
    "a malformed code": ("64.01.05,Kuaro,64.01.05.20X9,Pondong,desa\n", ":4:", "64.01.05.2009"),
    "an empty name": ("64.01.05,Kuaro,64.01.05.2099,,desa\n", ":4:", "empty"),
    "an unknown village type": ("64.01.05,Kuaro,64.01.05.2099,Baru,kota\n", ":4:", "desa or"),
    "a kecamatan with two names": ("64.01.05,Kuwaro,64.01.05.2099,Baru,desa\n", ":4:", "Kuwaro"),
    "a village twice": ("64.01.05,Kuaro,64.01.05.2002,Lolo,desa\n", ":4:", "twice"),
}


@pytest.mark.parametrize("problem", list(BAD_FILES))
async def test_a_bad_csv_is_refused_with_its_line_and_changes_nothing(
        empty_db: async_sessionmaker[AsyncSession], tmp_path: Path, problem: str) -> None:
    await import_paser(empty_db)
    before = await counts(empty_db)
    bad_row, line, hint = BAD_FILES[problem]
    bad = write(tmp_path / "bad.csv", HEADER
                + "64.01.05,Kuaro,64.01.05.2002,Lolo Baru,desa\n"  # a rename that must not land
                + "64.01.05,Kuaro,64.01.05.2003,Sandeley,desa\n" + bad_row)

    with pytest.raises(RegionFileError) as refused:
        await import_paser(empty_db, bad, None)

    message = str(refused.value)
    assert f"bad.csv{line}" in message and hint in message
    assert "\n" not in message
    assert await counts(empty_db) == before
    async with empty_db() as session:
        lolo = await session.get(Region, "64.01.05.2002")
        assert lolo is not None and lolo.name == "Lolo"


async def test_a_bad_file_into_an_empty_database_leaves_it_empty(
        empty_db: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", HEADER + "64.01.05,Kuaro,64.01.05.2002,Lolo,desa\n"
                + "99.99.01,X,99.99.01.2001,Y,desa\n")
    with pytest.raises(RegionFileError, match=r"bad\.csv:3:"):
        await import_paser(empty_db, bad, None)
    async with empty_db() as session:
        assert await region_count(session) == 0


async def test_a_file_without_the_columns_names_them(empty_db: async_sessionmaker[AsyncSession],
                                                     tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "code,name\n64.01.05,Kuaro\n")
    with pytest.raises(RegionFileError, match=r"missing columns .*kecamatan_code"):
        await import_paser(empty_db, bad, None)


async def test_a_file_that_is_not_text_is_refused(empty_db: async_sessionmaker[AsyncSession],
                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER.encode() + b"\xff\xfe\x00garbage\n")
    with pytest.raises(RegionFileError, match="not UTF-8"):
        await import_paser(empty_db, bad, None)


async def test_an_alias_for_an_unknown_place_is_refused_with_its_line(
        empty_db: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    aliases = write(tmp_path / "aliases.csv",
                    "region_code,alias,why\n64.01.05.2009,Pondang Baru,old\n64.01.05.2999,X,?\n")
    with pytest.raises(RegionFileError, match=r"aliases\.csv:3: unknown region 64\.01\.05\.2999"):
        await import_paser(empty_db, WILAYAH, aliases)
    async with empty_db() as session:
        assert await region_count(session) == 0


# --- finding a place from what a reporter types --------------------------------------------------

@pytest.fixture
def regions(bot: Harness) -> RegionDirectory:
    return bot.runtime.regions


@pytest.mark.parametrize(("typed", "level", "within", "code"), [
    ("pondang baru", VILLAGE, None, "64.01.05.2009"),  # the spelling before 2022
    ("Pondong Baru", VILLAGE, "64.01.05", "64.01.05.2009"),
    ("desa pondong baru", VILLAGE, None, "64.01.05.2009"),
    ("pondong baruu", VILLAGE, None, "64.01.05.2009"),
    ("Tampakan", VILLAGE, None, "64.01.09.2008"),  # Tempakan, from the alias file
    ("tanah grogot", KECAMATAN, None, "64.01.04"),
    ("Kel. Tanah Grogot", VILLAGE, None, "64.01.04.1001"),
    ("pasir belengkong", KECAMATAN, None, "64.01.03"),  # kecamatan Paser Belengkong
    ("pasir belengkong", VILLAGE, "64.01.03", "64.01.03.2006"),  # desa Pasir Belengkong
    ("long ikiss", KECAMATAN, None, "64.01.06"),
    ("longikis", KECAMATAN, None, "64.01.06"),
    ("KUARO", KECAMATAN, None, "64.01.05"),
    ("kuaro", VILLAGE, "64.01.05", "64.01.05.1001"),
    ("Samuranggau", VILLAGE, None, "64.01.01.2009"),
])
def test_a_typed_name_finds_its_place(regions: RegionDirectory, typed: str, level: str,
                                      within: str | None, code: str) -> None:
    found = regions.search(typed, level=level, within=within)
    assert found and found[0].code == code


@pytest.mark.parametrize("typed", ["xyzxyz", "Jakarta Selatan", "ab", ""])
def test_nonsense_finds_nothing(regions: RegionDirectory, typed: str) -> None:
    assert regions.search(typed, level=VILLAGE) == []


def test_every_official_name_and_alias_finds_itself(regions: RegionDirectory) -> None:
    for spelling, code in regions.spellings:
        place = regions.places[code]
        found = regions.search(spelling, level=place.level)
        assert found and found[0].code == code, spelling


def test_a_village_spelled_right_is_found_even_in_the_wrong_kecamatan(
        regions: RegionDirectory) -> None:
    for village in (p for p in regions.places.values() if p.level == VILLAGE):
        for kecamatan in regions.kecamatan():
            found = regions.search_near(village.name, level=VILLAGE, near=kecamatan.code)
            assert found and found[0].code == village.code, (village.name, kecamatan.name)


def test_long_ikis_has_26_villages_in_name_order(regions: RegionDirectory) -> None:
    villages = regions.villages("64.01.06")
    assert len(villages) == 26
    assert [v.name for v in villages] == sorted(v.name for v in villages)


async def test_pasir_belengkong_in_the_conversation(reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)

    await reporter.sends("pasir belengkong")
    assert reporter.last_with_buttons().button_texts()[0] == "Paser Belengkong"
    await reporter.presses("Paser Belengkong")
    await reporter.sends("pasir belengkong")
    assert reporter.last_with_buttons().button_texts()[0] == "Pasir Belengkong (Paser Belengkong)"
    await reporter.presses("Pasir Belengkong")

    draft = await reporter.draft()
    assert draft is not None and draft.step == form.PLACE
    assert (draft.answers[form.KECAMATAN], draft.answers[form.VILLAGE]) == \
        ("64.01.03", "64.01.03.2006")


async def test_a_village_of_another_kecamatan_moves_the_report_there(reporter: Person) -> None:
    await reporter.reaches(form.KECAMATAN)
    await reporter.presses("Long Ikis")

    await reporter.sends("Pondong Baru")
    await reporter.presses("Pondong Baru (Kuaro)")

    draft = await reporter.draft()
    assert draft is not None
    assert (draft.answers[form.KECAMATAN], draft.answers[form.VILLAGE]) == \
        ("64.01.05", "64.01.05.2009")
