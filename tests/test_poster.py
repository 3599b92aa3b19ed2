"""A poster for every village (issue 14): an A4 PDF in Bahasa Indonesia whose QR code opens the
bot, with the link printed, the emergency numbers from config, and no name of the people who work
in the village. ``ppa-bot poster --village`` / ``--all`` from a shell, ``/poster`` for admins.
Each poster is read back as a person would: rendered to an image, the QR code decoded."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp

from bot.config import Hotline
from bot.poster import PosterPlace, poster_pdf
from tests.case_factory import add_cases, add_group, add_officer, new_case, wita
from tests.conftest import TOKEN
from tests.fake_bot_api import FakeBotApi
from tests.group_chat import GroupChat, in_a_shell
from tests.harness import Harness, Person
from tests.telegram_double import BOT_USER

PONDONG_BARU = "64.01.05.2009"
LINK = f"https://t.me/{BOT_USER['username']}"
ADMIN_ID = 7_100_001
# People whose names must never be on a poster: an enrolled activist of the village, the
# kecamatan officer, the admin, and a reporter's story from that village.
ACTIVIST = "Siti Rahmawati"
OFFICER = "Budi Hartono"
ADMIN = "Rina Kusumawati"
DISTRICT_HOTLINE = {"name": "UPTD PPA Kabupaten Paser", "number": "0812-5555-0123"}
HOTLINES = [{"name": "Darurat", "number": "112"}, {"name": "Polisi", "number": "110"},
            {"name": "SAPA 129", "number": "129"},
            {"name": "WhatsApp SAPA", "number": "08111-129-129"}, DISTRICT_HOTLINE]


def read_poster(pdf: bytes) -> tuple[str, list[str]]:
    """The poster's text, and what its QR code says when a phone's camera reads it."""
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        page = document[0]
        width, height = page.get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        text = page.get_textpage().get_text_range()
        image = page.render(scale=150 / 72).to_pil()
    finally:
        document.close()
    return " ".join(text.split()), [code.text for code in zxingcpp.read_barcodes(image)]


def assert_names_no_one(text: str) -> None:
    for name in (ACTIVIST, OFFICER, ADMIN):
        for part in name.split():
            assert part not in text, part


def assert_is_a_poster(text: str, codes: list[str], link: str = LINK) -> None:
    assert codes == [link]
    assert link in text
    assert "Laporkan kekerasan terhadap perempuan dan anak" in text
    assert "Aman dan rahasia" in text and "Cara melapor" in text
    for number in ("112", "110", "129", "08111-129-129"):
        assert number in text


@pytest.fixture
async def village_people(bot: Harness) -> Person:
    """Pondong Baru's group with an enrolled activist, Kuaro's officer, a case from the village;
    returns the admin."""
    await add_officer(bot.runtime.sessions, ADMIN_ID, "64.01", admin=True, name=ADMIN)
    await add_officer(bot.runtime.sessions, 7_100_002, "64.01.05", name=OFFICER)
    group = GroupChat(bot, -100_200_300, "PAPTBM Pondong Baru")
    await add_group(bot.runtime.sessions, "Pondong Baru", group.chat_id)
    await group.activist(7_100_003, ACTIVIST).sends("/gabung")
    assert ACTIVIST.split()[0] in group.last_text()  # enrolled
    await add_cases(bot.runtime.sessions, new_case(wita(2026, 2, 1), village="Pondong Baru"))
    return Person(bot, user_id=ADMIN_ID, first_name="Rina", language_code="id")


# --- from a shell ------------------------------------------------------------------------------

async def test_ppa_bot_poster_makes_a_village_poster(
        bot: Harness, village_people: Person, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    monkeypatch.setenv("PPA_BOT_HOTLINES", json.dumps(HOTLINES))
    out = tmp_path / "poster.pdf"

    code = await in_a_shell("poster", "--village", PONDONG_BARU, "--out", str(out),
                            "--username", BOT_USER["username"])

    assert code == 0
    text, codes = read_poster(out.read_bytes())
    assert_is_a_poster(text, codes)
    assert "Desa Pondong Baru · Kecamatan Kuaro" in text
    assert DISTRICT_HOTLINE["number"] in text and DISTRICT_HOTLINE["name"] in text
    assert_names_no_one(text)


async def test_a_village_can_be_named_instead_of_its_code(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    monkeypatch.chdir(tmp_path)

    assert await in_a_shell("poster", "--village", "pondong baru", "--username", "ppa_bot") == 0
    assert "written to poster-64.01.05.2009-pondong-baru.pdf" in capsys.readouterr().out
    assert read_poster((tmp_path / "poster-64.01.05.2009-pondong-baru.pdf").read_bytes())[1] \
        == ["https://t.me/ppa_bot"]
    assert await in_a_shell("poster", "--village", "sungai", "--username", "ppa_bot") == 1
    error = capsys.readouterr().err
    assert "could be several villages" in error and "Sungai Tuak" in error
    assert await in_a_shell("poster", "--village", "64.01.05.9999", "--username", "ppa_bot") == 1
    assert "no village has the code 64.01.05.9999" in capsys.readouterr().err


async def test_poster_all_makes_one_pdf_per_village_in_a_zip(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Another kabupaten's new database: its own villages, one poster each."""
    villages = tmp_path / "wilayah.csv"
    villages.write_text("kecamatan_code,kecamatan,village_code,village,village_type\n"
                        "64.02.01,Muara Jawa,64.02.01.1001,Muara Jawa Ulu,kelurahan\n"
                        "64.02.01,Muara Jawa,64.02.01.2002,Dondang,desa\n"
                        "64.02.02,Sanga-Sanga,64.02.02.2001,Jawa,desa\n")
    for name, value in {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'kk.sqlite3'}",
                        "REGION__KABUPATEN_CODE": "64.02",
                        "REGION__KABUPATEN_NAME": "Kutai Kartanegara"}.items():
        monkeypatch.setenv("PPA_BOT_" + name, value)
    assert await in_a_shell("regions", "import", str(villages)) == 0
    out = tmp_path / "posters.zip"

    assert await in_a_shell("poster", "--all", "--out", str(out), "--username",
                            "ppa_kukar_bot") == 0

    assert "3 posters" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == ["muara-jawa/poster-64.02.01.1001-muara-jawa-ulu.pdf",
                         "muara-jawa/poster-64.02.01.2002-dondang.pdf",
                         "sanga-sanga/poster-64.02.02.2001-jawa.pdf"]
        text, codes = read_poster(archive.read(names[0]))
    assert_is_a_poster(text, codes, "https://t.me/ppa_kukar_bot")
    assert "Kelurahan Muara Jawa Ulu · Kecamatan Muara Jawa" in text
    assert "Kabupaten Kutai Kartanegara" in text


async def test_the_username_is_asked_from_telegram_when_not_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api = await FakeBotApi(TOKEN).start()
    try:
        for name, value in {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}",
                            "TELEGRAM__TOKEN": TOKEN,
                            "TELEGRAM__BASE_URL": api.base_url}.items():
            monkeypatch.setenv("PPA_BOT_" + name, value)
        out = tmp_path / "poster.pdf"
        assert await in_a_shell("poster", "--village", PONDONG_BARU, "--out", str(out)) == 0
        assert [c.method for c in api.calls] == ["getMe"]
    finally:
        await api.stop()
    assert read_poster(out.read_bytes())[1] == [LINK]


# --- /poster in an admin's private chat -------------------------------------------------------

def sent_posters(bot: Harness) -> list[tuple[str, bytes, str]]:
    return [(call.files["document"][0], call.files["document"][1],
             str(call.params.get("caption", "")))
            for call in bot.telegram.calls_to("sendDocument")]


async def test_an_admin_picks_kecamatan_then_village_and_gets_the_pdf(
        bot: Harness, village_people: Person) -> None:
    admin = village_people
    await admin.sends("/poster")
    assert "Pilih kecamatannya" in admin.last_text()
    await admin.presses("Kuaro")
    assert admin.last_text() == "Desa yang mana?"
    await admin.presses("▶")  # Pondong Baru is on the second page of Kuaro's villages
    await admin.presses("Pondong Baru")

    (name, pdf, caption), = sent_posters(bot)
    assert name == "poster-64.01.05.2009-pondong-baru.pdf"
    assert LINK in caption and "A4" in caption
    text, codes = read_poster(pdf)
    assert_is_a_poster(text, codes)
    assert "Desa Pondong Baru · Kecamatan Kuaro" in text
    assert_names_no_one(text)


async def test_an_admin_may_type_the_villages_name(bot: Harness, village_people: Person) -> None:
    await village_people.sends("/poster pondong baru")
    (name, pdf, _caption), = sent_posters(bot)
    assert name == "poster-64.01.05.2009-pondong-baru.pdf"
    assert read_poster(pdf)[1] == [LINK]


async def test_poster_is_for_admins_only(bot: Harness, village_people: Person,
                                         reporter_id: Person) -> None:
    officer = Person(bot, user_id=7_100_002, first_name="Budi", language_code="id")
    for person in (officer, reporter_id):
        await person.sends("/poster Pondong Baru")
        assert person.last_text() == "Hanya admin kabupaten yang bisa melakukan ini."
    # A press of an admin's button by someone else does nothing either.
    await village_people.sends("/poster")
    message, data = village_people.button_data("Kuaro")
    await officer.presses_data(data, message)
    assert sent_posters(bot) == []
    # An admin's button: refused before anything runs, without a word.
    assert not bot.telegram.calls_to("answerCallbackQuery")[-1].params.get("text")


# --- the rendering itself ----------------------------------------------------------------------

def test_every_configured_hotline_fits_on_the_poster(bot: Harness) -> None:
    many = [{"name": f"Layanan {n}", "number": f"0812-0000-{n:04d}"} for n in range(1, 10)]
    settings = bot.settings.model_copy(update={"hotlines": [Hotline(**h) for h in many]})
    pdf = poster_pdf(settings, "ppa_paser_bot", PosterPlace(
        PONDONG_BARU, "Pondong Baru", "desa", "Kuaro"))
    text, codes = read_poster(pdf)
    assert codes == [LINK]
    for hotline in many:
        assert hotline["number"] in text and hotline["name"] in text
    assert "kode wilayah 64.01.05.2009" in text


def test_an_english_poster_exists_too(bot: Harness) -> None:
    pdf = poster_pdf(bot.settings, "ppa_paser_bot", PosterPlace(
        PONDONG_BARU, "Pondong Baru", "desa", "Kuaro"), language="en")
    text, _codes = read_poster(pdf)
    assert "Report violence against women and children" in text
    assert io.BytesIO(pdf).getvalue().startswith(b"%PDF")


@pytest.mark.slow
async def test_every_paser_village_gets_its_poster(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    out = tmp_path / "posters.zip"
    assert await in_a_shell("poster", "--all", "--out", str(out), "--username", "ppa_bot") == 0
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert len(names) == len(set(names)) == 144
        assert len({name.split("/")[0] for name in names}) == 10  # a folder per kecamatan
        assert read_poster(archive.read(names[-1]))[1] == ["https://t.me/ppa_bot"]
