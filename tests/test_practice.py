"""Practice mode: /latihan for trainings of village activists. A practice report is marked as
practice at every step, reaches only the training chat (or comes back to the trainee), never
reaches a real responder, never counts in figures or exports, and is removed in bulk."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.config import Settings, TrainingSettings
from bot.crypto import Vault
from bot.domain import form
from bot.services.export import ExportService
from bot.services.stats import StatsService
from models import CaseEvent, Responder
from tests.case_factory import add_cases, add_group, add_officer, new_case, wita
from tests.group_chat import GroupChat, in_a_shell
from tests.harness import Harness, Person

TRAINING_CHAT = -100_777_000
MODANG_GROUP = -100_200_300  # the real village group of Modang, where the plain answers point
PRACTICE_MARK = "LATIHAN"


@pytest.fixture
async def training_bot(settings: Settings, clock: FakeClock,
                       vault: Vault) -> AsyncIterator[Harness]:
    """The bot with a training group configured (``training.chat_id``)."""
    configured = settings.model_copy(update={"training": TrainingSettings(chat_id=TRAINING_CHAT)})
    harness = Harness(settings=configured, clock=clock, vault=vault)
    await harness.start()
    yield harness
    await harness.stop()


def shown_with_buttons(bot: Harness, chat_id: int) -> list[str]:
    """Every text the bot showed with buttons in this chat, edits included, in order."""
    shown = []
    for call in bot.telegram.calls:
        if call.method in ("sendMessage", "editMessageText") \
                and int(call.params.get("chat_id", 0)) == chat_id:
            markup = call.params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
            if isinstance(markup, dict) and markup.get("inline_keyboard"):
                shown.append(str(call.params["text"]))
    return shown


async def practises(trainee: Person) -> None:
    """/latihan, then plain answers up to the review, then Kirim."""
    await trainee.sends("/latihan")
    await trainee.reaches(form.REVIEW)
    await trainee.picks("", "submit")


async def test_every_step_of_a_practice_report_is_marked_as_practice(
        bot: Harness, reporter_id: Person) -> None:
    await reporter_id.sends("/latihan")
    assert "Mode latihan" in reporter_id.inbox()[0].text
    await reporter_id.reaches(form.KECAMATAN)
    await reporter_id.sends("Pondong")  # typed: "did you mean" is a step too
    await reporter_id.picks("64.01.05.2009")
    await reporter_id.reaches(form.REVIEW)
    await reporter_id.picks("", "submit")
    questions = shown_with_buttons(bot, reporter_id.user_id)
    # Every question (some are skipped by the plain answers), the candidates, the review:
    assert len(questions) >= len(form.ORDER) - 3
    assert any("Maksud Anda" in text for text in questions)
    assert any("Periksa laporan Anda" in text for text in questions)
    unmarked = [text for text in questions if PRACTICE_MARK not in text]
    assert unmarked == []
    final = reporter_id.last_with_buttons().text  # the "sent" message, with the wipe offer
    assert "LATIHAN — bukan laporan sungguhan" in final
    assert "Ini latihan" in final
    assert "petugas perlindungan untuk wilayah Anda" not in final
    [case] = await reporter_id.harness.cases()
    assert case.practice


async def test_a_practice_report_reaches_only_the_training_group(
        training_bot: Harness) -> None:
    trainee = Person(training_bot, user_id=5_550_101, first_name="Ani", language_code="id")
    await add_group(training_bot.runtime.sessions, "Modang", MODANG_GROUP)
    await add_officer(training_bot.runtime.sessions, 4_300_001, "64.01.05")
    await add_officer(training_bot.runtime.sessions, 4_300_002, "64.01", admin=True)
    await practises(trainee)
    await training_bot.deliver_outbox()
    [alert] = training_bot.telegram.messages(TRAINING_CHAT)
    [case] = await training_bot.cases()
    assert PRACTICE_MARK in alert.text and case.reference in alert.text
    assert "Modang" in alert.text
    assert "memukul" not in alert.text  # redacted like a real group alert: no story
    assert training_bot.telegram.messages(MODANG_GROUP) == []
    assert training_bot.telegram.messages(4_300_001) == []
    assert training_bot.telegram.messages(4_300_002) == []
    assert case.tier is None and case.ack_deadline is None  # nothing to escalate
    async with training_bot.runtime.sessions() as session:
        kinds = list(await session.scalars(select(CaseEvent.kind).where(
            CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    assert kinds == ["submitted", "practice_routed"]


async def test_the_practice_alert_is_the_real_alert_marked_and_its_buttons_change_nothing(
        training_bot: Harness) -> None:
    """Drawn by the real alert's view: what a village group would read, word for word and button
    for button, under the practice mark. Pressed in the training group, nothing happens."""
    trainee = Person(training_bot, user_id=5_550_101, first_name="Ani", language_code="id")
    await practises(trainee)
    await training_bot.deliver_outbox()
    [alert] = training_bot.telegram.messages(TRAINING_CHAT)
    [case] = await training_bot.cases()
    real = training_bot.runtime.alerts.views.alert(case, None)  # type: ignore[attr-defined]
    mark, explanation, blank, *rest = alert.text.split("\n")
    assert "LATIHAN" in mark and "grup desa" in explanation and blank == ""
    assert "\n".join(rest) == real["text"]
    assert alert.button_texts() == ["Terima ✅", "📋 Detail", "🆘 Butuh bantuan"]
    training = GroupChat(training_bot, TRAINING_CHAT, "Pelatihan PAPTBM")
    for label in ("Terima", "Detail", "Butuh bantuan"):
        await training.activist(5_550_102, "Budi").presses(label)
    await training_bot.deliver_outbox()
    [case] = await training_bot.cases()
    assert case.acknowledged_at is None and case.tier is None
    assert training_bot.telegram.messages(TRAINING_CHAT) == [alert]
    assert training_bot.telegram.messages(5_550_102) == []  # no details to anyone


async def test_without_a_training_group_the_alert_comes_back_to_the_trainee(
        bot: Harness, reporter: Person) -> None:
    await add_group(bot.runtime.sessions, "Modang", MODANG_GROUP)
    before = len(reporter.inbox())
    await practises(reporter)
    await bot.deliver_outbox()
    alert = reporter.last_text()
    assert "PRACTICE — not a real report" in alert
    assert "This is how a new case alert looks in a village group." in alert
    assert len(reporter.inbox()) > before
    assert bot.telegram.messages(MODANG_GROUP) == []


async def test_practice_never_counts_in_figures_or_exports(
        bot: Harness, reporter: Person) -> None:
    await practises(reporter)
    stats = await StatsService(bot.runtime.sessions, bot.clock, bot.settings).year(2026)
    assert stats.total == 0
    export = await ExportService(bot.runtime.sessions, bot.clock, bot.settings).export(
        2026, "csv", actor="cli")
    assert export.rows == 0


async def test_an_unfinished_real_report_comes_before_practice(reporter_id: Person) -> None:
    await reporter_id.sends("/lapor")
    await reporter_id.reaches(form.ROLE)
    await reporter_id.sends("/latihan")
    assert "laporan sungguhan yang belum selesai" in reporter_id.inbox()[-2].text
    draft = await reporter_id.draft()
    assert draft is not None and not draft.practice and draft.step == form.ROLE


async def test_practice_reports_are_removed_in_bulk_from_the_command_line(
        bot: Harness, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    await add_cases(bot.runtime.sessions,
                    new_case(wita(2026, 2, 1), practice=True),
                    new_case(wita(2026, 2, 2), practice=True),
                    new_case(wita(2026, 2, 3), reference="PSR-26-REALLY"))
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", bot.settings.database.url)
    assert await in_a_shell("practice", "purge") == 0
    assert "removed 2 practice case(s)" in capsys.readouterr().out
    assert [c.reference for c in await bot.cases()] == ["PSR-26-REALLY"]


async def test_an_admin_removes_practice_reports_in_chat_after_confirming(
        bot: Harness, reporter: Person) -> None:
    await practises(reporter)
    await add_cases(bot.runtime.sessions, new_case(wita(2026, 2, 3), reference="PSR-26-REALLY"))
    await add_officer(bot.runtime.sessions, 4_300_010, "64.01", admin=True)
    admin = Person(bot, user_id=4_300_010, first_name="Rina", language_code="id")
    await admin.sends("/hapus_latihan")
    assert "Hapus semua 1 laporan latihan" in admin.last_text()
    await admin.presses("Tidak")
    assert "Tidak ada yang dihapus" in admin.last_text()
    assert len(await bot.cases()) == 2
    await admin.sends("/hapus_latihan")
    await admin.presses("Ya, hapus")
    assert "1 laporan latihan dihapus" in admin.last_text()
    assert [c.reference for c in await bot.cases()] == ["PSR-26-REALLY"]
    await admin.sends("/hapus_latihan")
    assert "Tidak ada laporan latihan" in admin.last_text()


async def test_only_an_admin_may_remove_practice_reports(bot: Harness, reporter: Person) -> None:
    await practises(reporter)
    await add_officer(bot.runtime.sessions, 4_300_011, "64.01.05")
    officer = Person(bot, user_id=4_300_011, first_name="Dedi", language_code="en")
    await officer.sends("/hapus_latihan")
    assert officer.last_text() == "Only district admins can do this."
    await reporter.sends("/hapus_latihan")
    assert reporter.last_text() == "Only district admins can do this."
    assert len(await bot.cases()) == 1


async def test_a_confirmation_pressed_after_losing_the_admin_right_deletes_nothing(
        bot: Harness, reporter: Person) -> None:
    await practises(reporter)
    admin_row = await add_officer(bot.runtime.sessions, 4_300_012, "64.01", admin=True)
    admin = Person(bot, user_id=4_300_012, first_name="Rina", language_code="en")
    await admin.sends("/hapus_latihan")
    async with bot.runtime.sessions.begin() as session:
        row = await session.get(Responder, admin_row.id)
        assert row is not None
        row.active = False  # revoked between the question and the press
    await admin.presses("Yes, delete")
    assert admin.callback_answers()[-1] == ""  # no longer an admin: refused without a word
    assert len(await bot.cases()) == 1


def test_config_names_the_training_chat(tmp_path: Path) -> None:
    from bot.config import load_settings

    assert load_settings().training.chat_id == 0  # default: back to the trainee
    assert load_settings(training={"chat_id": -100123}).training.chat_id == -100123
