"""The texts tell the truth (DESIGN §6, issue 10 point 5).

The consent notice, ``/bantuan``, the note and reply confirmations and SECURITY.md say who reads
what. Each statement is derived here from the access table (``bot/domain/access.py``) and looked
for in what people are shown; changing the table without the texts (or the texts without the
table) fails. Before, the consent said that village groups never see the story and the note
confirmation that only officers see notes: both were untrue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain import access, form
from bot.domain.access import (
    ACCESS,
    HANDLER,
    MESSAGES,
    NOTES,
    OFFICER_ROLES,
    PHONE,
    REPORT,
    SUMMARY,
    TEAM_NOTES,
    VILLAGE_MEMBER,
    Row,
    readers,
)
from bot.domain.workflow import DITERIMA
from bot.i18n import translator
from bot.views.access import (
    REPORTER_ITEM_WORDS,
    REPORTER_ROLE_WORDS,
    SECURITY_BEGIN,
    SECURITY_END,
    reader_words,
    security_table,
)
from tests.case_work import kecamatan_officer, seeded_case, village_member
from tests.harness import Harness, Person

ROOT = Path(__file__).resolve().parent.parent
_ = translator("id")


def statement(items: tuple[str, ...], roles: tuple[str, ...]) -> str:
    """What the reporter must read about these parts of their report: who reads them, as the
    table says."""
    words = [_(REPORTER_ITEM_WORDS[item]) for item in items]
    subject = ", ".join(words)
    if HANDLER in roles and VILLAGE_MEMBER in roles:
        roles = tuple(role for role in roles if role != HANDLER)  # the handler is one of them
    who = ", ".join(_(REPORTER_ROLE_WORDS[role]) for role in roles)
    return f"{subject[:1].upper()}{subject[1:]}: {who}."


def statements() -> list[str]:
    """The officers once, when they read every part of a report; then one statement per set of
    parts read by the same other people (the phone number and the follow-up messages go
    together while the table gives them the same readers)."""
    items = (SUMMARY, REPORT, PHONE, MESSAGES)
    officers_all = all(set(OFFICER_ROLES) <= set(readers(item)) for item in items)
    groups: dict[tuple[str, ...], tuple[str, ...]] = {}
    for item in items:
        roles = tuple(r for r in readers(item) if not (officers_all and r in OFFICER_ROLES))
        groups[roles] = (*groups.get(roles, ()), item)
    found = [_("PPA officers read all of it. Also:")] if officers_all else []
    return found + [statement(parts, roles) for roles, parts in groups.items()]


async def consent_seen(bot: Harness, reporter: Person) -> str:
    await reporter.reaches(form.CONSENT)
    return reporter.last_with_buttons().text


async def test_the_consent_says_who_reads_each_part_of_a_report(
        bot: Harness, reporter_id: Person) -> None:
    consent = await consent_seen(bot, reporter_id)
    for expected in statements():
        assert expected in consent
    # What the table says, in plain words: the village group sees the summary only; the story
    # reaches enrolled members; the phone and the follow-ups, the handler and the officers.
    assert "grup desa" in statements()[1] and "grup desa" not in statements()[2]
    assert "Kabupaten Paser" in consent
    assert "tidak pernah" not in consent  # "village groups never see the story": untrue


async def test_bantuan_says_the_same(bot: Harness, reporter_id: Person) -> None:
    await reporter_id.sends("/bantuan")
    for expected in statements():
        assert expected in reporter_id.last_text()


async def test_changing_the_table_changes_what_the_reporter_is_told(
        bot: Harness, reporter_id: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """Were village members to read the phone number, the consent would have to say so."""
    row = ACCESS[VILLAGE_MEMBER]
    monkeypatch.setitem(access.ACCESS, VILLAGE_MEMBER, Row(
        row.does, row.reads | {PHONE}, row.open_cases_only))
    consent = await consent_seen(bot, reporter_id)
    assert "Cerita, tempat, nomor HP: PAPTBM terdaftar." in consent
    assert "Pesan susulan: PAPTBM yang menangani." in consent


async def test_a_note_says_who_reads_it(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    member = await village_member(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), acknowledged_by="Bu Rina Kuaro")

    await officer.sends(f"/catat {case.reference} Rumah sudah dikunjungi.")
    said = officer.last_text()
    assert reader_words(readers(NOTES), _) in said

    await member.sends(f"/catat {case.reference} Ibu korban sudah ditemui.")
    assert reader_words(readers(TEAM_NOTES), _) in member.last_text()

    await member.sends(f"/catat {case.reference}")  # the prompt says it too
    assert reader_words(readers(TEAM_NOTES), _) in member.last_text()


async def test_a_reply_says_who_reads_it_in_the_history(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    case = await seeded_case(bot, reporter=reporter, status=DITERIMA,
                             acknowledged_at=bot.clock.now(), acknowledged_by="Bu Rina Kuaro")
    await officer.sends(f"/balas {case.reference} Kami akan datang besok.")
    assert reader_words(readers(MESSAGES), _) in officer.last_text()


def test_security_md_holds_the_table() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    start, end = text.index(SECURITY_BEGIN), text.index(SECURITY_END) + len(SECURITY_END)
    assert text[start:end] == security_table(), (
        "SECURITY.md's access table differs from bot/domain/access.py: paste "
        "bot.views.access.security_table() between its markers")


def test_security_md_follows_a_change_of_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    before = security_table()
    row = ACCESS[VILLAGE_MEMBER]
    monkeypatch.setitem(access.ACCESS, VILLAGE_MEMBER, Row(
        row.does, row.reads | {PHONE}, row.open_cases_only))
    assert security_table() != before
