"""The case workflow (DESIGN §5): the UPTD PPA stages, the moves allowed between them, and the whole
life of one case handled from an officer's phone, with the reporter following it through the bot.
"""

from __future__ import annotations

import itertools

import pytest

from bot.callback_data import CasePress
from bot.domain import workflow
from bot.domain.workflow import (
    CLOSE_REASONS,
    DIRUJUK,
    DITERIMA,
    DITUTUP,
    PENDAMPINGAN,
    PENGELOLAAN,
    PENJANGKAUAN,
    REFERRAL_TARGETS,
    SELESAI,
    STATUSES,
    TRANSITIONS,
    check,
)
from bot.i18n import translator
from tests.case_work import (
    KUARO,
    STORY,
    card_button,
    case_command,
    case_row,
    events,
    heard,
    kecamatan_officer,
    messages_with,
    popups,
    press,
    presses_case,
    replies_to,
    report_from_modang,
    seeded_case,
    village_member,
)
from tests.harness import Harness, Person
from tests.responder_people import register_officer

# ---- the table ----------------------------------------------------------------------------------

EXPECTED_MOVES = {
    ("baru", "diterima"),
    ("diterima", "penjangkauan"), ("diterima", "pengelolaan"), ("diterima", "pendampingan"),
    ("diterima", "dirujuk"), ("diterima", "ditutup"),
    ("penjangkauan", "pengelolaan"), ("penjangkauan", "pendampingan"),
    ("penjangkauan", "dirujuk"), ("penjangkauan", "ditutup"),
    ("pengelolaan", "pendampingan"), ("pengelolaan", "dirujuk"), ("pengelolaan", "selesai"),
    ("pengelolaan", "ditutup"),
    ("pendampingan", "pengelolaan"), ("pendampingan", "dirujuk"), ("pendampingan", "selesai"),
    ("pendampingan", "ditutup"),
    ("dirujuk", "pendampingan"), ("dirujuk", "dirujuk"), ("dirujuk", "selesai"),
    ("dirujuk", "ditutup"),
    ("selesai", "diterima"), ("ditutup", "diterima"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_move_is_allowed_exactly_when_the_table_says_so(current: str, target: str) -> None:
    refusal = check(current, target, referral="health", close_reason="duplicate")
    assert (refusal is None) == ((current, target) in EXPECTED_MOVES)
    assert (target in TRANSITIONS[current]) == ((current, target) in EXPECTED_MOVES)


@pytest.mark.parametrize(("current", "target", "reason"), [
    ("penjangkauan", "penjangkauan", workflow.SAME),
    ("baru", "penjangkauan", workflow.NOT_TAKEN),
    ("selesai", "pengelolaan", workflow.IS_CLOSED),
    ("ditutup", "selesai", workflow.IS_CLOSED),
    ("diterima", "selesai", workflow.NOT_ALLOWED),
    ("penjangkauan", "diterima", workflow.NOT_ALLOWED),
    ("diterima", "terserah", workflow.UNKNOWN),
])
def test_an_illegal_move_is_refused_with_its_reason(current: str, target: str,
                                                    reason: str) -> None:
    refusal = check(current, target, referral="health", close_reason="duplicate")
    assert refusal is not None and refusal.reason == reason
    explained = refusal.explain(translator("en"))
    assert explained and "{" not in explained


def test_a_referral_needs_a_target_and_closing_needs_a_reason() -> None:
    assert check(DITERIMA, DIRUJUK).reason == workflow.NEEDS_REFERRAL  # type: ignore[union-attr]
    assert check(DITERIMA, DIRUJUK, referral="astrologer") is not None
    assert all(check(DITERIMA, DIRUJUK, referral=t) is None for t in REFERRAL_TARGETS)
    assert check(DITERIMA, DITUTUP).reason == workflow.NEEDS_REASON  # type: ignore[union-attr]
    assert all(check(DITERIMA, DITUTUP, close_reason=r) is None for r in CLOSE_REASONS)


def test_a_sexual_violence_case_is_completed_only_after_a_police_referral() -> None:
    refusal = check(PENGELOLAAN, SELESAI, sexual_violence=True)
    assert refusal is not None and refusal.reason == workflow.TPKS_POLICE_FIRST
    assert "UU TPKS" in refusal.explain(translator("en"))
    assert check(PENGELOLAAN, SELESAI, sexual_violence=True, police_referred=True) is None
    assert check(PENGELOLAAN, SELESAI, sexual_violence=False) is None


def test_the_reporter_reads_plain_words_for_every_status_never_service_jargon() -> None:
    jargon = ("penjangkauan", "pengelolaan", "outreach", "case management", "accompaniment")
    for language in ("id", "en"):
        _ = translator(language)
        for status in STATUSES:
            words = workflow.public_words(status, _)
            assert words and words == words.lower(), "a phrase, not a stage label"
            assert not any(term in words.lower() for term in jargon), (status, words)


# ---- the whole life of a case -------------------------------------------------------------------

async def test_an_officer_handles_a_case_from_report_to_completion_talking_with_the_reporter(
        bot: Harness, reporter: Person) -> None:
    """An officer registered for the case's area lists it, opens it, moves
    it through to selesai with notes and a referral, exchanges messages with the reporter both
    ways without either seeing the other's account, and /riwayat shows all of it."""
    officer = await kecamatan_officer(bot)  # Bu Rina, registered for Kecamatan Kuaro
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()

    # She lists the cases of her area and taps the reference.
    await officer.sends("/kasus")
    assert case_command(reference) in officer.last_text()
    await officer.sends(case_command(reference))
    card = officer.last_text()
    assert reference in card and "Baru" in card and "Modang" in card and STORY not in card

    # She takes it: the reporter hears that a person is looking at the report.
    await presses_case(officer, "take")
    await bot.deliver_outbox()
    assert "officer is now looking at your report" in await reporter.reads_last()

    # One tap for the next step: outreach. The reporter reads plain words, not the stage name.
    await presses_case(officer, "set", PENJANGKAUAN)
    await bot.deliver_outbox()
    news = await reporter.opens()
    assert reference in news.text and "an officer is reaching out" in news.text
    assert "penjangkauan" not in news.text.lower()

    # A private note, and a message to the reporter from the card's button.
    await officer.sends(f"/catat {reference} Sudah telepon kepala desa, korban aman.")
    assert "Catatan disimpan" in officer.last_text()
    await presses_case(officer, "reply")
    await officer.sends("Apakah Anda dan Dewi aman malam ini?")
    await bot.deliver_outbox()
    relayed = await reporter.opens()
    assert "Apakah Anda dan Dewi aman malam ini?" in relayed.text
    assert "Officer" in relayed.text and "Rina" not in relayed.text

    # The reporter answers by replying to that message; the officer reads it in private.
    await replies_to(reporter, relayed, "Yes, we are safe at my aunt's house tonight.")
    assert "passed to the officers" in reporter.last_text()
    await bot.deliver_outbox()
    heard = officer.last_message()
    assert "we are safe at my aunt's house" in heard.text
    assert "Sari" not in heard.text and str(reporter.user_id) not in repr(heard.params)

    # She answers by replying to the relayed message.
    await replies_to(officer, heard, "Baik. Besok pagi kami datang bersama petugas UPTD.")
    await bot.deliver_outbox()
    assert "Besok pagi kami datang" in await reporter.reads_last()

    # Case management, a referral to the police, and completion.
    await officer.sends(case_command(reference))
    await presses_case(officer, "set", PENGELOLAAN)
    await presses_case(officer, "menu", "")
    await presses_case(officer, "menu", "refer")
    await presses_case(officer, "refer", "police")
    await officer.sends(f"/catat {reference} Diantar ke Polres Paser, laporan polisi dibuat.")
    await officer.sends(case_command(reference))
    await presses_case(officer, "set", SELESAI)
    await bot.deliver_outbox()
    case = await case_row(bot, reference)
    assert case.status == SELESAI and case.referral == "police" and case.closed_at is not None
    assert "completed" in await reporter.reads_last()

    # Neither side ever saw the other's account.
    for message in reporter.inbox():
        assert "Rina" not in message.text and str(officer.user_id) not in repr(message.params)
    for message in officer.inbox():
        assert "Sari" not in message.text
        assert str(reporter.user_id) not in repr(message.params)

    # The history tells all of it, in WITA.
    await officer.sends(f"/riwayat {reference}")
    history = "\n".join(m.text for m in officer.inbox()[-1:])
    for expected in ("Diambil oleh Bu Rina Kuaro", "Penjangkauan", "Pengelolaan kasus",
                     "Dirujuk", "Polisi", "Selesai", "Sudah telepon kepala desa",
                     "Diantar ke Polres Paser", "Apakah Anda dan Dewi aman",
                     "we are safe at my aunt's house", "Besok pagi kami datang", "WITA"):
        assert expected in history, expected


# ---- the workflow through the bot ---------------------------------------------------------------

async def test_completing_or_closing_sets_closed_at_and_reopening_clears_it(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "menu", "")
    await presses_case(officer, "menu", "close")
    await presses_case(officer, "close", "not_a_case")
    closed = await case_row(bot, case.reference)
    assert closed.status == DITUTUP and closed.close_reason == "not_a_case"
    assert closed.closed_at == bot.clock.now()

    bot.clock.advance(hours=2)
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", DITERIMA)  # "Buka kembali"
    reopened = await case_row(bot, case.reference)
    assert reopened.status == DITERIMA
    assert reopened.closed_at is None and reopened.close_reason is None
    await bot.deliver_outbox()
    assert "an officer is handling it" in await reporter.reads_last()


async def test_taking_a_new_case_is_its_acknowledgement_and_nothing_is_said_twice(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await bot.deliver_outbox()
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")
    await bot.deliver_outbox()
    case = await case_row(bot, reference)
    assert case.status == DITERIMA and case.acknowledged_by == "Bu Rina Kuaro"
    assert case.handler_user_id == officer.user_id and case.ack_deadline is None
    await reporter.opens_all()
    assert len(messages_with(reporter, "now looking at your report")) == 1
    assert not messages_with(reporter, "News about your report")
    alert = [m for m in officer.inbox() if reference in m.text and "Diterima oleh" in m.text]
    assert alert, "the alert in her chat shows who took the case"


async def test_a_move_the_table_does_not_allow_is_refused_with_the_reason(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    # Straight from "diterima" to "selesai" (a forged but well-formed button).
    await press(officer, CasePress(case.id, "set", SELESAI, DITERIMA).pack())
    assert "tidak bisa diubah ke Selesai" in heard(bot, officer)
    assert (await case_row(bot, case.reference)).status == DITERIMA


async def test_a_sexual_violence_case_cannot_be_completed_before_it_went_to_the_police(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=PENDAMPINGAN, types=("seksual",),
                             acknowledged_at=bot.clock.now())
    await officer.sends(case_command(case.reference))
    await presses_case(officer, "set", SELESAI)
    assert "UU TPKS" in heard(bot, officer)
    assert (await case_row(bot, case.reference)).status == PENDAMPINGAN

    await presses_case(officer, "menu", "")
    await presses_case(officer, "menu", "refer")
    await presses_case(officer, "refer", "police")
    await presses_case(officer, "set", SELESAI)
    assert (await case_row(bot, case.reference)).status == SELESAI


async def test_a_button_left_over_from_before_the_status_moved_on_is_refused_as_stale(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    colleague = await register_officer(bot, 7_700_002, KUARO, "Pak Andi Kuaro")
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await officer.sends(case_command(case.reference))
    old_card, old_button = card_button(officer, "set", PENJANGKAUAN)
    await colleague.sends(case_command(case.reference))
    await presses_case(colleague, "menu", "")
    await presses_case(colleague, "menu", "close")
    await presses_case(colleague, "close", "duplicate")

    await press(officer, old_button, old_card)
    assert any("sudah tidak berlaku" in p for p in popups(bot))
    assert (await case_row(bot, case.reference)).status == DITUTUP
    refreshed = officer.inbox()[-1]
    assert "Ditutup" in refreshed.text  # the card was redrawn as it is now


async def test_a_village_member_moves_a_case_along_but_cannot_close_it(
        bot: Harness, reporter: Person) -> None:
    member = await village_member(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now())
    await member.sends(case_command(case.reference))
    await presses_case(member, "set", PENJANGKAUAN)
    assert (await case_row(bot, case.reference)).status == PENJANGKAUAN
    await presses_case(member, "menu")
    with pytest.raises(AssertionError):
        await presses_case(member, "menu", "close")  # not offered
    await press(member, CasePress(case.id, "close", "not_a_case", PENJANGKAUAN).pack())
    assert any("hanya petugas kecamatan" in p.lower() for p in popups(bot))
    assert (await case_row(bot, case.reference)).status == PENJANGKAUAN
    refused = await events(bot, case.reference, "refused")
    assert refused and refused[-1].detail["action"] == "close"

