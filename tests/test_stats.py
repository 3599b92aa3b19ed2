"""Statistics: the district's figures, checked against counts made by hand on generated cases.

The clock stands at Monday 2 March 2026, 09:00 WITA. The cases below are the whole world."""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.services.stats import Scope, StatsService, YearStats, chart_png, render
from tests.case_factory import add_cases, add_group, add_officer, new_case, wita
from tests.group_chat import GroupChat, in_a_shell
from tests.harness import Harness, Person

MINUTES = timedelta(minutes=1)
HOURS = timedelta(hours=1)


async def generated_cases(bot: Harness) -> None:
    sessions = bot.runtime.sessions
    await add_cases(
        sessions,
        # 2026, up to today: five cases that count.
        new_case(wita(2026, 1, 1, 0, 30), village="Janju"),  # 31 Dec UTC, but January in WITA
        new_case(wita(2026, 1, 10), village="Modang", acknowledged_after=30 * MINUTES),
        new_case(wita(2026, 1, 31, 23, 30), village="Pondong Baru", types=("seksual", "psikis"),
                 victim="woman", acknowledged_after=2 * HOURS),
        new_case(wita(2026, 2, 1, 0, 30), village="Lombok", types=("fisik", "seksual"),
                 acknowledged_after=1 * HOURS),
        new_case(wita(2026, 2, 20), village="Janju", types=("penelantaran",)),
        # ...and three that never count.
        new_case(wita(2026, 3, 1), village="Modang", practice=True, acknowledged_after=MINUTES),
        new_case(wita(2026, 2, 25), village="Modang", status="ditutup", close_reason="duplicate"),
        new_case(wita(2025, 2, 25), village="Modang", practice=True),
        # 2025: seven cases, three of them before 2 March 09:00.
        new_case(wita(2025, 1, 15), village="Modang"),
        new_case(wita(2025, 2, 28), village="Lombok"),
        new_case(wita(2025, 3, 2, 8, 0), village="Lolo"),
        new_case(wita(2025, 3, 2, 10, 0), village="Lolo"),
        new_case(wita(2025, 7, 5), village="Janju"),
        new_case(wita(2025, 7, 6), village="Janju", victim="woman"),
        new_case(wita(2025, 12, 31, 23, 0), village="Modang"),
        # 2024: outside every figure asked for below.
        new_case(wita(2024, 6, 1), village="Modang"),
    )
    await add_group(sessions, "Modang", -1001)
    await add_group(sessions, "Pondong Baru", -1002)
    await add_group(sessions, "Lolo", -1003, active=False)
    await add_group(sessions, "Lombok", -1004)


@pytest.fixture
async def figures(bot: Harness) -> StatsService:
    await generated_cases(bot)
    return StatsService(bot.runtime.sessions, bot.clock, bot.settings)


async def test_the_year_so_far_is_counted_by_month_in_wita(figures: StatsService) -> None:
    stats = await figures.year(2026)
    assert stats.total == 5
    assert stats.by_month == [3, 2] + [0] * 10


async def test_practice_cases_and_duplicates_never_count(figures: StatsService) -> None:
    stats = await figures.year(2026)
    assert stats.total == 5  # the practice case of 1 March and the duplicate are left out
    assert (await figures.year(2025)).total == 7  # so is last year's practice case


async def test_cases_by_kecamatan_type_and_victim(figures: StatsService) -> None:
    stats = await figures.year(2026)
    by_kecamatan = {name: count for _code, name, count in stats.by_kecamatan}
    assert by_kecamatan["Kuaro"] == 2
    assert by_kecamatan["Tanah Grogot"] == 2
    assert by_kecamatan["Long Ikis"] == 1
    assert by_kecamatan["Muara Samu"] == 0
    assert len(by_kecamatan) == 10
    assert dict(stats.by_type) == {"fisik": 3, "psikis": 1, "seksual": 2, "eksploitasi": 0,
                                   "tppo": 0, "penelantaran": 1, "lainnya": 0}
    assert dict(stats.by_victim) == {"woman": 1, "child": 4}


async def test_year_to_date_against_the_same_period_and_the_whole_of_last_year(
        figures: StatsService) -> None:
    stats = await figures.year(2026)
    assert stats.previous_same_period == 3  # 15 Jan, 28 Feb, 2 Mar 08:00 (10:00 is still ahead)
    assert stats.previous_total == 7
    assert stats.previous_by_month == [1, 1, 2, 0, 0, 0, 2, 0, 0, 0, 0, 1]


async def test_a_past_year_is_compared_whole_with_the_year_before(figures: StatsService) -> None:
    stats = await figures.year(2025)
    assert stats.complete_year
    assert stats.total == 7
    assert stats.previous_total == 1
    assert stats.previous_same_period == 1


async def test_median_time_to_acknowledgement(figures: StatsService) -> None:
    stats = await figures.year(2026)
    assert stats.acknowledged == 3  # 30 min, 2 h, 1 h: the practice case's minute is not among them
    assert stats.median_ack == timedelta(hours=1)


async def test_coverage_counts_villages_with_an_active_group(figures: StatsService) -> None:
    stats = await figures.year(2026)
    assert (stats.villages_with_group, stats.villages) == (3, 144)


async def test_a_kecamatan_sees_only_its_own_cases_and_villages(figures: StatsService) -> None:
    kuaro = await figures.year(2026, Scope("64.01.05"))
    assert kuaro.scope_name == "Kecamatan Kuaro"
    assert kuaro.total == 2
    assert kuaro.by_month == [2] + [0] * 11
    assert [(name, count) for _code, name, count in kuaro.by_kecamatan] == [("Kuaro", 2)]
    assert kuaro.previous_total == 4 and kuaro.previous_same_period == 2
    assert kuaro.median_ack == timedelta(minutes=75)  # 30 min and 2 h
    assert (kuaro.villages_with_group, kuaro.villages) == (2, 13)  # Lolo's group is inactive


async def test_a_year_with_nothing_yet_has_no_median_and_no_change(bot: Harness) -> None:
    stats = await StatsService(bot.runtime.sessions, bot.clock, bot.settings).year(2026)
    assert stats.total == 0 and stats.median_ack is None
    text = render(stats, "en", html=False)
    assert "no case acknowledged yet" in text
    assert "Same period of 2025: 0 (–)" in text


async def test_the_text_in_indonesian_has_month_names_and_dotted_thousands(
        figures: StatsService) -> None:
    text = render(await figures.year(2026), "id")
    assert "<b>📊 Statistik 2026 · Kabupaten Paser</b>" in text
    assert "1 Jan – 2 Maret 2026" in text
    assert "Jan 3 · Feb 2" in text
    assert "Periode yang sama 2025: 3 (+67%)" in text
    assert "71%" in text  # 5 of last year's 7
    assert "Fisik 3" in text and "Seksual 2" in text
    assert "1 jam 0 menit" in text
    assert "3 dari 144 desa" in text


async def test_the_text_in_english(figures: StatsService) -> None:
    text = render(await figures.year(2026), "en", html=False)
    assert "Statistics 2026 · Kabupaten Paser" in text
    assert "Same period of 2025: 3 (+67%)" in text
    assert "Physical 3" in text
    assert "<b>" not in text


def test_big_numbers_are_written_the_indonesian_way(stats_of_1234: YearStats) -> None:
    assert "<b>1.234</b>" in render(stats_of_1234, "id")
    assert "<b>1,234</b>" in render(stats_of_1234, "en")


@pytest.fixture
def stats_of_1234() -> YearStats:
    from datetime import datetime

    from tests.case_factory import WITA

    return YearStats(
        year=2025, scope=Scope(), scope_name="Kabupaten Paser",
        as_of=datetime(2026, 1, 1, tzinfo=WITA), period_end_local=datetime(2026, 1, 1, tzinfo=WITA),
        by_month=[1000, 234] + [0] * 10, previous_by_month=[0] * 12, by_kecamatan=[],
        by_type=[("fisik", 1234)], by_victim=[("woman", 234), ("child", 1000)], victims=1500,
        previous_same_period=0, previous_total=0, acknowledged=0, median_ack=None, villages=144,
        villages_with_group=0)


async def test_the_chart_is_a_png_sized_for_a_phone(figures: StatsService) -> None:
    png = chart_png(await figures.year(2026), "id")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (900, 1125)  # portrait, fills a phone screen


async def test_a_chart_is_drawn_for_an_empty_year_too(bot: Harness, clock: FakeClock) -> None:
    stats = await StatsService(bot.runtime.sessions, clock, bot.settings).year(2031)
    assert stats.total == 0
    assert chart_png(stats, "en").startswith(b"\x89PNG")


# ---- in chat: /statistik ----------------------------------------------------------------------

async def officer(bot: Harness, user_id: int, region: str, *, admin: bool = False,
                  language: str = "id") -> Person:
    await add_officer(bot.runtime.sessions, user_id, region, admin=admin)
    return Person(bot, user_id=user_id, first_name="Rina", language_code=language)


def photos_to(bot: Harness, chat_id: int) -> list[bytes]:
    return [call.files["photo"][1] for call in bot.telegram.calls_to("sendPhoto")
            if int(call.params["chat_id"]) == chat_id]


async def test_a_kecamatan_officer_reads_the_figures_of_their_kecamatan_with_a_chart(
        bot: Harness) -> None:
    await generated_cases(bot)
    kuaro_officer = await officer(bot, 4_100_001, "64.01.05")
    await kuaro_officer.sends("/statistik")
    text = "\n".join(m.text for m in kuaro_officer.inbox())
    assert "Statistik 2026 · Kecamatan Kuaro" in text
    assert "Kasus: <b>2</b>" in text
    assert "Tanah Grogot" not in text and "Long Ikis" not in text
    [png] = photos_to(bot, kuaro_officer.user_id)
    assert png.startswith(b"\x89PNG")
    assert "Statistik 2026 · Kecamatan Kuaro" in kuaro_officer.last_text()  # the chart's caption


async def test_an_admin_reads_the_whole_kabupaten_for_a_past_year_in_english(
        bot: Harness) -> None:
    await generated_cases(bot)
    admin = await officer(bot, 4_100_002, "64.01", admin=True, language="en")
    await admin.sends("/statistik 2025")
    text = "\n".join(m.text for m in admin.inbox())
    assert "Statistics 2025 · Kabupaten Paser" in text
    assert "Cases: <b>7</b> (2025)" in text
    assert "Whole of 2024: 1 (+600%)" in text
    assert len(photos_to(bot, admin.user_id)) == 1


async def test_someone_who_is_not_an_officer_is_refused(bot: Harness, reporter: Person) -> None:
    await generated_cases(bot)
    await reporter.sends("/statistik")
    assert "for registered officers" in reporter.last_text()
    assert photos_to(bot, reporter.user_id) == []


async def test_a_revoked_officer_is_refused(bot: Harness) -> None:
    await add_officer(bot.runtime.sessions, 4_100_003, "64.01.05", active=False)
    former = Person(bot, user_id=4_100_003, first_name="Dedi", language_code="id")
    await former.sends("/statistik")
    assert "petugas terdaftar" in former.last_text()


async def test_a_year_that_is_not_a_year_gets_an_example(bot: Harness) -> None:
    someone = await officer(bot, 4_100_004, "64.01")
    await someone.sends("/statistik kemarin")
    assert "/statistik 2025" in someone.last_text()
    await someone.sends("/statistik 1999")
    assert "dari 2000 sampai 2026" in someone.last_text()
    assert photos_to(bot, someone.user_id) == []


async def test_in_a_group_the_figures_are_not_shown(bot: Harness) -> None:
    group = GroupChat(bot, -100_500, "PAPTBM Modang")
    await officer(bot, 4_100_005, "64.01", admin=True)
    await group.activist(4_100_005, "Rina").sends("/statistik")
    assert "chat pribadi" in group.last_text()
    assert photos_to(bot, group.chat_id) == []


async def test_the_command_line_prints_the_same_figures(
        bot: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await generated_cases(bot)
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    chart = tmp_path / "chart.png"
    assert await in_a_shell("stats", "--year", "2025", "--chart", str(chart)) == 0
    printed = capsys.readouterr().out
    assert "Statistik 2025 · Kabupaten Paser" in printed
    assert "Kasus: 7 (2025)" in printed and "<b>" not in printed
    assert "Jan 1 · Feb 1 · Mar 2 · Jul 2 · Des 1" in printed
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert await in_a_shell("stats", "--year", "2025", "--region", "64.01.05",
                            "--language", "en") == 0
    assert "Statistics 2025 · Kecamatan Kuaro" in capsys.readouterr().out


# ---- victims, as SIMFONI-PPA counts them --------------------------------------------------------

async def test_victims_are_counted_one_by_one_beside_the_cases(bot: Harness) -> None:
    await add_cases(
        bot.runtime.sessions,
        new_case(wita(2026, 1, 5), village="Modang", victim="child", victim_sex="m",
                 victim_age_band="0-5", victim_count=3),  # a boy of 0–5 and two more children
        new_case(wita(2026, 2, 5), village="Lombok", victim="woman", victim_age_band="18-24"),
        new_case(wita(2026, 2, 6), village="Lombok", victim_count=2, practice=True),
        new_case(wita(2025, 6, 6), village="Lombok", victim_count=4),
    )
    figures = StatsService(bot.runtime.sessions, bot.clock, bot.settings)
    stats = await figures.year(2026)
    assert (stats.total, stats.victims) == (2, 4)
    assert stats.victims_by_month == [3, 1] + [0] * 10
    assert dict(stats.by_victim) == {"woman": 1, "child": 3}
    assert stats.victims_by_sex == [("f", 1), ("m", 1), (None, 2)]
    assert stats.victims_by_age_band == [("0-5", 1), ("18-24", 1), (None, 2)]
    assert stats.victims_by_kecamatan == {"64.01.05": 3, "64.01.06": 1}
    kuaro = await figures.year(2026, Scope("64.01.05"))
    assert (kuaro.total, kuaro.victims) == (1, 3)
    text = render(stats, "en", html=False)
    assert "Cases: 2 (1 Jan – 2 March 2026) · victims: 4" in text
    assert "By victim: Women 1, Children 3 · 4 victims in all" in text
    assert "Victims by sex: female 1, male 1, not known 2" in text
    assert "Victims by age group: 0–5 years 1, 18–24 years 1, not known 2" in text
    indonesian = render(stats, "id")
    assert "Korban menurut jenis kelamin</b>: perempuan 1, laki-laki 1, tidak diketahui 2" \
        in indonesian
