"""A case's history (DESIGN §5): every view of the details, change, note, message,
acknowledgement and escalation is an event (who, when, what), and /riwayat shows the timeline to
officers in scope, in WITA, readable on a phone and a page at a time when it is long."""

from __future__ import annotations

from bot.callback_data import CasePress
from bot.domain.workflow import DITERIMA, PENJANGKAUAN
from tests.case_work import (
    KABUPATEN_GROUP_ID,
    PASER,
    case_command,
    events,
    heard,
    kecamatan_officer,
    press,
    presses_case,
    replies_to,
    report_from_modang,
    seeded_case,
)
from tests.harness import Harness, Person
from tests.responder_people import register_group, register_officer

TELEGRAM_LIMIT = 4096


async def test_riwayat_shows_escalation_acknowledgement_views_changes_notes_and_messages(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)  # Kuaro: the first tier with anyone for Modang
    await register_group(bot, KABUPATEN_GROUP_ID, PASER, "UPTD PPA Paser")
    reference = await report_from_modang(reporter)  # 09.00 WITA, a child: high priority
    await bot.deliver_outbox()
    bot.clock.advance(minutes=61)  # nobody took it within the hour: it climbs
    await bot.runtime.escalation.sweep()
    await bot.deliver_outbox()

    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await presses_case(officer, "detail")
    await presses_case(officer, "set", PENJANGKAUAN)
    await officer.sends(f"/catat {reference} Rumah korban sudah dikunjungi.")
    await officer.sends(f"/balas {reference} Kami sudah datang, terima kasih.")
    await bot.deliver_outbox()
    await replies_to(reporter, reporter.last_message(), "Thank you, she is with me now.")

    await officer.sends(f"/riwayat {reference}")
    timeline = officer.last_text()
    expected_in_order = [
        "Senin, 2 Maret 2026",
        "<code>09.00</code> 📨 Laporan dikirim oleh pelapor",
        "Peringatan dikirim ke petugas kecamatan",
        "<code>10.01</code> ⬆️ Dinaikkan ke kabupaten (UPTD PPA)",
        "Diambil oleh Bu Rina Kuaro",
        "Bu Rina Kuaro melihat detail",
        "Bu Rina Kuaro: Diterima → Penjangkauan",
        "Catatan Bu Rina Kuaro, untuk petugas:",
        "Rumah korban sudah dikunjungi.",
        "Bu Rina Kuaro ke pelapor:",
        "Kami sudah datang, terima kasih.",
        "Pelapor:",
        "Thank you, she is with me now.",
        "Waktu dalam WITA.",
    ]
    positions = [timeline.index(line) for line in expected_in_order]
    assert positions == sorted(positions)
    assert "Sari" not in timeline and str(reporter.user_id) not in timeline


async def test_opening_the_history_is_itself_recorded(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(f"/riwayat {case.reference}")
    viewed = await events(bot, case.reference, "viewed")
    assert [(v.actor_name, v.detail["via"]) for v in viewed] == [("Bu Rina Kuaro", "history")]
    await officer.sends(f"/riwayat_{case.reference.replace('-', '_')}")
    assert "Bu Rina Kuaro membaca riwayat" in officer.last_text()


async def test_a_long_history_comes_a_page_at_a_time(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    for number in range(1, 31):
        bot.clock.advance(minutes=7)
        await officer.sends(f"/catat {case.reference} Catatan nomor {number}: " + "isi " * 60)
    await officer.sends(f"/riwayat {case.reference}")
    first = officer.last_message()
    assert len(first.text) < TELEGRAM_LIMIT and "Catatan nomor 1:" in first.text
    assert "Catatan nomor 30:" not in first.text
    pages = first.button_texts()
    assert "▶" in pages and any("/" in label for label in pages)

    seen = first.text
    while "▶" in officer.last_message().button_texts():
        await officer.presses("▶")
        page = officer.last_message()
        assert len(page.text) < TELEGRAM_LIMIT
        seen += page.text
    assert all(f"Catatan nomor {n}:" in seen for n in range(1, 31))
    viewed = await events(bot, case.reference, "viewed")
    assert len(viewed) == 1, "turning pages is one reading of the history"


async def test_a_very_long_message_is_shown_whole_across_pages(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter)
    story = "\n".join(f"Baris {n} & <penting>" for n in range(600))  # ~12,000 characters
    await reporter.sends(f"/tambah {case.reference} {story[:3900]}")
    await officer.sends(f"/riwayat {case.reference}")
    first = officer.last_message()
    assert len(first.text) < TELEGRAM_LIMIT
    assert "Baris 0 &amp; &lt;penting&gt;" in first.text


async def test_riwayat_outside_ones_area_is_refused_and_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await register_officer(bot, 7_700_555, "64.01.04", "Pak Dedi Grogot")
    case = await seeded_case(bot, reporter=reporter)
    await officer.sends(f"/riwayat {case.reference}")
    assert "di luar wilayah Anda" in officer.last_text()
    assert [e.detail["action"] for e in await events(bot, case.reference, "refused")] == [
        "history"]
    await press(officer, CasePress(case.public_id, "history", "0").pack())
    assert "di luar wilayah Anda" in heard(bot, officer)


async def test_riwayat_without_a_reference_explains_how(bot: Harness) -> None:
    officer = await kecamatan_officer(bot)
    await officer.sends("/riwayat")
    assert "/riwayat PSR-26-K7Q3XM" in officer.last_text()


async def test_the_reporter_cannot_read_the_history_of_their_own_case(
        bot: Harness, reporter: Person) -> None:
    case = await seeded_case(bot, reporter=reporter)
    await reporter.sends(f"/riwayat {case.reference}")
    assert "/status" in reporter.last_text()
    refused = await events(bot, case.reference, "refused")
    assert refused[0].actor == "reporter" and refused[0].detail["action"] == "history"
