"""The reporter's rights under UU PDP (27/2022): see everything stored and which roles read it,
ask for a correction, withdraw consent (and with it the story, the phone, the files, the messages
and everything queued), retention that erases content; and no record of people who never
reported."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bot.callback_data import PrivacyPress
from bot.jobs import forget_closed_cases
from models import Case, CaseEvent, Evidence, OutboxMessage, RelayMessage, Reporter, SealedMessage
from tests.case_work import (
    KUARO,
    STORY,
    case_command,
    case_row,
    events,
    kecamatan_officer,
    messages_with,
    press,
    presses_case,
    replies_to,
    report_from_modang,
)
from tests.harness import Harness, Person
from tests.responder_people import register_officer
from tests.telegram_double import FakeTelegram

PHONE = "0812 9988 7766"
REPORTER_WORDS = "He came back drunk last night"
OFFICER_WORDS = "Kami datang besok jam sembilan"


def file_and_wal(db_path: Path) -> bytes:
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def withdraws(reporter: Person) -> None:
    await reporter.sends("/tarik_persetujuan")
    await press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message())


async def reporters(bot: Harness) -> list[Reporter]:
    async with bot.runtime.sessions() as session:
        return list(await session.scalars(select(Reporter)))


async def outbox_texts(bot: Harness) -> list[str]:
    """Every outbox payload, decrypted, whatever its state."""
    async with bot.runtime.sessions() as session:
        return [row.payload for row in await session.scalars(select(OutboxMessage))]


async def waiting_texts(bot: Harness) -> list[str]:
    """``outbox_texts``, and the content of every discreet message (it waits behind "Buka",
    not in the outbox)."""
    async with bot.runtime.sessions() as session:
        sealed = [row.content for row in await session.scalars(select(SealedMessage))]
    return [*await outbox_texts(bot), *sealed]


async def a_conversation(bot: Harness, reporter: Person, officer: Person) -> str:
    """A report with a phone number and a photo, a message each way, details read by the
    officer; returns the reference."""
    reference = await report_from_modang(reporter, phone=PHONE)
    await reporter.sends(f"/tambah {reference} {REPORTER_WORDS}")
    await reporter.sends_photo(caption="foto luka", file_id="PHOTO-OF-THE-BRUISE")
    await officer.sends(f"/balas {reference} {OFFICER_WORDS}")
    await officer.sends(case_command(reference))
    await presses_case(officer, "detail")
    await bot.deliver_outbox()
    assert OFFICER_WORDS in await reporter.reads_last()
    return reference


# ---- /dataku -------------------------------------------------------------------------------------

async def test_my_data_shows_the_answers_themselves_and_which_roles_read_them(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, phone=PHONE)
    other = Person(bot, 5_550_777, first_name="Lain", language_code="en")
    other_reference = await report_from_modang(other)
    await officer.sends(case_command(reference))
    await presses_case(officer, "detail")
    seen_before = len(reporter.inbox())

    await reporter.sends("/dataku")
    shown = reporter.texts_since(seen_before)
    assert reference in shown and other_reference not in shown
    assert STORY in shown  # decrypted, whole
    assert "081299887766" in shown  # the phone as stored
    assert "Modang" in shown and "Physical" in shown and "Neighbour" in shown
    assert "waiting for an officer" in shown  # the status
    assert "a kecamatan officer" in shown
    assert "Bu Rina" not in shown and str(officer.user_id) not in shown  # a role, never a name
    assert "09.00 WITA" in shown  # when


async def test_my_data_for_someone_who_never_reported_stores_nothing(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/dataku")
    assert "store nothing" in reporter.last_text()
    assert await reporters(bot) == []


# ---- /tarik_persetujuan --------------------------------------------------------------------------

async def test_withdrawal_says_what_goes_and_what_stays_before_and_after(
        bot: Harness, reporter: Person) -> None:
    await report_from_modang(reporter, phone=PHONE)
    await reporter.sends("/tarik_persetujuan")
    ask = reporter.last_text()
    for words in ("story", "phone number", "files", "messages", "waiting to be sent",
                  "type of violence", "no longer write to you"):
        assert words in ask
    await reporter.presses("Yes, withdraw")
    done = reporter.last_text()
    assert "1 report(s)" in done and "nothing more will be sent" in done
    assert "anonymous figures" in done


async def test_withdrawal_erases_the_content_and_keeps_only_the_anonymous_figures(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await a_conversation(bot, reporter, officer)
    before = await case_row(bot, reference)
    await reporter.sends("/lapor")  # an unfinished second report too
    await reporter.picks("no")

    await withdraws(reporter)

    case = await case_row(bot, reference)
    assert (case.narrative, case.landmark, case.phone, case.contact_time) == (None,) * 4
    assert case.reporter_id is None and case.consent_withdrawn and not case.contact_allowed
    assert case.submit_key == f"erased:{case.id}"  # no longer begins with the reporter's row id
    kept = ("reporter_role", "victim_category", "victim_sex", "victim_age_band", "victim_count",
            "violence_types", "kecamatan_code", "village_code", "place", "occurred",
            "perpetrator", "status", "reference")
    assert all(getattr(case, name) == getattr(before, name) for name in kept)
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(Evidence))) == []
        assert list(await session.scalars(select(Reporter))) == []  # and the draft with it
        words = [e.secret for e in await session.scalars(select(CaseEvent).where(
            CaseEvent.kind.in_(("relay_in", "relay_out"))))]
        assert words and all(w is None for w in words)
        assert list(await session.scalars(select(RelayMessage).where(
            RelayMessage.side == "reporter"))) == []
        rows = list(await session.scalars(select(OutboxMessage)))
    payloads = "\n".join(r.payload for r in rows)
    for secret in (STORY, "9988", REPORTER_WORDS, OFFICER_WORDS, "PHOTO-OF-THE-BRUISE",
                   str(reporter.user_id)):
        assert secret not in payloads
    assert all(r.reporter_id is None for r in rows)
    # The officers keep the case, without the content, and see why.
    await officer.sends(f"/riwayat {reference}")
    history = officer.last_text()
    assert "menarik persetujuan" in history and REPORTER_WORDS not in history
    await reporter.sends("/status")
    assert reference not in reporter.last_text()


async def test_withdrawing_with_only_an_unfinished_report_deletes_it_and_says_so(
        bot: Harness, reporter: Person) -> None:
    await reporter.sends("/lapor")
    await reporter.picks("no")
    await withdraws(reporter)
    assert "you had sent no report" in reporter.last_text()
    assert await reporters(bot) == [] and await reporter.draft() is None


async def test_keeping_consent_changes_nothing(bot: Harness, reporter: Person) -> None:
    reference = await report_from_modang(reporter, phone=PHONE)
    await reporter.sends("/tarik_persetujuan")
    await reporter.presses("No, keep")
    assert "Nothing was changed" in reporter.last_text()
    await reporter.sends("/status")
    assert reference in reporter.last_text()
    assert (await case_row(bot, reference)).narrative == STORY


async def test_a_message_waiting_for_the_safe_time_is_never_sent_after_withdrawal(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter, safe_time="evening")  # 09.00 WITA now
    await officer.sends(f"/balas {reference} {OFFICER_WORDS}")
    assert any(OFFICER_WORDS in p for p in await waiting_texts(bot))
    await withdraws(reporter)
    seen = len(reporter.inbox())

    bot.clock.advance(hours=10)  # the evening came
    await bot.deliver_outbox()
    assert reporter.inbox()[seen:] == []
    assert not any(OFFICER_WORDS in p for p in await waiting_texts(bot))


class HeldTelegram(FakeTelegram):
    """Telegram on a slow network: a message to one chat is held on the wire until released."""

    def __init__(self) -> None:
        super().__init__()
        self.hold_chat: int | None = None
        self.on_the_wire = asyncio.Event()
        self.release = asyncio.Event()

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         **kwargs: Any) -> tuple[int, bytes]:
        params = dict(request_data.parameters) if request_data else {}
        if url.endswith("/sendMessage") and self.hold_chat is not None \
                and int(params.get("chat_id", 0)) == self.hold_chat:
            self.hold_chat = None
            self.on_the_wire.set()
            await self.release.wait()
        return await super().do_request(url, method, request_data, **kwargs)


async def test_a_message_already_on_its_way_arrives_before_the_withdrawal_is_confirmed(
        settings: Any, clock: Any, vault: Any) -> None:
    telegram = HeldTelegram()
    bot = await Harness(settings=settings, clock=clock, vault=vault, telegram=telegram).start()
    try:
        reporter = Person(bot, 5_550_001, language_code="en")
        officer = await kecamatan_officer(bot)
        reference = await report_from_modang(reporter)
        await bot.deliver_outbox()
        await officer.sends(f"/balas {reference} {OFFICER_WORDS}")
        telegram.hold_chat = reporter.user_id
        sending = asyncio.create_task(bot.deliver_outbox())
        await asyncio.wait_for(telegram.on_the_wire.wait(), 10)  # claimed, request on the way

        await reporter.sends("/tarik_persetujuan")
        withdrawing = asyncio.create_task(
            press(reporter, PrivacyPress("withdraw").pack(), reporter.last_message()))
        await asyncio.sleep(0.2)  # the withdrawal runs as far as it can
        assert not withdrawing.done(), "confirmed while a message to the reporter was in flight"
        telegram.release.set()
        await asyncio.wait_for(asyncio.gather(sending, withdrawing), 20)

        said = [str(c.params.get("text", "")) for c in telegram.calls
                if str(c.params.get("chat_id")) == str(reporter.user_id)]
        arrived = next(i for i, t in enumerate(said) if "new message" in t)  # discreet
        confirmed = next(i for i, t in enumerate(said) if "consent is withdrawn" in t)
        assert arrived < confirmed  # in the order Telegram received them
        calls = len(telegram.calls)
        bot.clock.advance(hours=12)
        await bot.deliver_outbox()
        assert not [c for c in telegram.calls[calls:]
                    if str(c.params.get("chat_id")) == str(reporter.user_id)]
        assert not any(OFFICER_WORDS in p for p in await waiting_texts(bot))
    finally:
        await bot.stop()


async def test_a_reply_typed_while_the_reporter_withdraws_is_refused_not_queued(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(case_command(reference))
    await presses_case(officer, "reply")  # the officer starts writing
    await withdraws(reporter)
    seen = len(reporter.inbox())

    await officer.sends("Bu, apakah anak sudah aman?")
    assert "menarik persetujuannya" in officer.last_text()
    assert not any("anak sudah aman" in p for p in await waiting_texts(bot))
    assert not [e for e in await events(bot, reference, "relay_out")
                if e.secret and "anak sudah aman" in e.secret]
    await bot.deliver_outbox()
    assert reporter.inbox()[seen:] == []


async def test_after_withdrawal_the_next_messages_store_nothing(
        bot: Harness, reporter: Person) -> None:
    await report_from_modang(reporter)
    await withdraws(reporter)
    for words in ("/start", "halo", "/status", "/dataku", "/bantuan"):
        await reporter.sends(words)
    assert await reporters(bot) == []
    answers = [m for m in messages_with(reporter, "store") if "/dataku –" not in m.text]
    assert "store nothing" in answers[-1].text  # /dataku's (/bantuan lists "/dataku – … stored")


async def test_raw_database_keeps_no_trace_of_a_withdrawn_reporter(
        bot: Harness, reporter: Person, db_path: Path) -> None:
    """The SQLite file and its write-ahead log, byte for byte: neither the words nor the
    encrypted tokens that held them (a key found later could read those)."""
    officer = await kecamatan_officer(bot)
    reference = await a_conversation(bot, reporter, officer)
    async with bot.runtime.engine.connect() as conn:
        tokens = [str(t) for t in (await conn.execute(text(
            "SELECT narrative FROM cases UNION ALL SELECT phone FROM cases "
            "UNION ALL SELECT secret FROM case_events WHERE kind IN ('relay_in', 'relay_out') "
            "UNION ALL SELECT file_id FROM evidence UNION ALL SELECT caption FROM evidence "
            "UNION ALL SELECT chat_id FROM reporters UNION ALL SELECT tg_hash FROM reporters "
            "UNION ALL SELECT payload FROM outbox WHERE reporter_id IS NOT NULL"))).scalars()
            if t is not None]
    assert len(tokens) >= 8

    await withdraws(reporter)

    raw = file_and_wal(db_path)
    left = [t[:12] for t in tokens if t.encode() in raw]
    assert left == [], f"{len(left)} stored value(s) of the reporter are still in the file"
    for words in (STORY, "9988", REPORTER_WORDS, OFFICER_WORDS):
        assert words.encode() not in raw
    async with bot.runtime.sessions() as session:
        assert (await session.scalars(select(OutboxMessage).where(
            OutboxMessage.case_id == (await case_row(bot, reference)).id,
            OutboxMessage.kind.in_(("relay_to_reporter", "relay_to_handler", "detail",
                                    "reporter_ack", "status_news"))))).all() == []


# ---- retention -----------------------------------------------------------------------------------

async def test_retention_erases_the_content_of_long_closed_cases(
        bot: Harness, reporter: Person, clock: Any) -> None:
    officer = await kecamatan_officer(bot)
    reference = await a_conversation(bot, reporter, officer)
    async with bot.runtime.sessions.begin() as session:
        case = await session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        case.status, case.closed_at = "selesai", clock.now()
    clock.advance(days=364)
    assert await forget_closed_cases(bot.runtime) == 0
    assert (await case_row(bot, reference)).narrative == STORY
    clock.advance(days=2)
    assert await forget_closed_cases(bot.runtime) == 1
    assert await forget_closed_cases(bot.runtime) == 0  # once

    case = await case_row(bot, reference)
    assert (case.narrative, case.phone, case.reporter_id) == (None, None, None)
    assert not case.consent_withdrawn and case.erased_at is not None
    assert case.violence_types == ["fisik"] and case.village_code.startswith(KUARO)
    async with bot.runtime.sessions() as session:
        assert list(await session.scalars(select(Evidence))) == []
        assert list(await session.scalars(select(OutboxMessage))) == []
    assert await reporters(bot) == []  # nothing else of theirs: the record goes too
    assert "retention" in [e.kind for e in await events(bot, reference)]


async def test_sent_notifications_are_deleted_after_a_week(
        bot: Harness, reporter: Person, clock: Any) -> None:
    officer = await kecamatan_officer(bot)
    await a_conversation(bot, reporter, officer)
    # The reporter's words went to the officers; the officer's to the reporter wait, discreet,
    # behind "Buka" (not in the outbox).
    assert any(REPORTER_WORDS in p for p in await outbox_texts(bot))
    clock.advance(days=8)
    await forget_closed_cases(bot.runtime)
    assert not any(REPORTER_WORDS in p for p in await outbox_texts(bot))


# ---- no record of people who never reported ------------------------------------------------------

async def test_an_account_that_never_reported_is_not_stored(bot: Harness) -> None:
    visitor = Person(bot, 5_550_321, language_code="id")
    await visitor.sends("/start")
    await visitor.sends("/bahasa")
    await visitor.presses("English")
    await visitor.sends("/bantuan")
    assert "If someone is in danger" in visitor.last_text()  # the choice holds
    for words in ("halo", "/status", "/tambah PSR-26-AAAAAA hi", "/dataku", "/berhenti_kabar"):
        await visitor.sends(words)
    assert await reporters(bot) == []
    passer_by = Person(bot, 5_550_322, language_code="id")
    await passer_by.sends("/start")
    await passer_by.sends("halo")
    assert bot.app is not None and passer_by.user_id not in bot.app.user_data  # not even in memory

    await visitor.sends("/lapor")  # now there is something to keep
    stored = await reporters(bot)
    assert len(stored) == 1 and stored[0].language == "en"
    await visitor.picks("no")
    await visitor.picks("disagree")  # "I do not agree": nothing has been stored
    assert "Nothing has been stored" in visitor.last_text()
    assert await reporters(bot) == []


async def test_a_cancelled_or_expired_draft_leaves_no_reporter_record(
        bot: Harness, reporter: Person, clock: Any) -> None:
    from bot.jobs import draft_expired_neutral, expire_drafts

    await reporter.sends("/lapor")
    await reporter.sends("/batal")
    await reporter.presses("Yes")
    assert await reporters(bot) == []
    await reporter.sends("/lapor")
    clock.advance(hours=80)
    assert await expire_drafts(bot.runtime) == 1
    assert await reporters(bot) == []
    await bot.deliver_outbox()
    assert reporter.last_text() == draft_expired_neutral("en")  # the notice still goes


async def test_officers_are_not_stored_as_reporters(bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await officer.sends(case_command(reference))
    await officer.sends("/bahasa")
    await officer.presses("English")
    assert len(await reporters(bot)) == 1  # the reporter's only


# ---- /ubah ------------------------------------------------------------------------------------

async def test_a_correction_request_reaches_the_handler_in_private_and_is_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    admin = await register_officer(bot, 7_900_001, "64.01", "Ibu Admin", admin=True)
    reference = await report_from_modang(reporter)
    await officer.sends(case_command(reference))
    await presses_case(officer, "take")

    await reporter.sends(f"/ubah {reference} The victim is 13, not 8.")
    assert "correction" in reporter.last_text() and reference in reporter.last_text()
    await bot.deliver_outbox()
    for person in (officer, admin):
        heard = person.last_message()
        assert "Permintaan koreksi" in heard.text and "The victim is 13, not 8." in heard.text
        assert str(reporter.user_id) not in heard.text
    correction = await events(bot, reference, "correction")
    assert [e.secret for e in correction] == ["The victim is 13, not 8."]
    await officer.sends(f"/riwayat {reference}")
    assert "The victim is 13, not 8." in officer.last_text()
    # Answering it answers the reporter, like any message of theirs.
    await replies_to(officer, messages_with(officer, "Permintaan koreksi")[-1],
                     "Terima kasih, sudah kami catat.")
    await bot.deliver_outbox()
    assert "sudah kami catat" in await reporter.reads_last()


async def test_a_correction_of_someone_elses_report_is_refused_and_recorded(
        bot: Harness, reporter: Person) -> None:
    officer = await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    stranger = Person(bot, 5_550_999, language_code="en")
    await stranger.sends(f"/ubah {reference} It was nothing.")
    assert "no report with that reference" in stranger.last_text()
    await bot.deliver_outbox()
    assert not messages_with(officer, "It was nothing.")
    assert [e.detail["action"] for e in await events(bot, reference, "refused")] == ["correct"]
    await stranger.sends("/ubah")
    assert "not sent any report" in stranger.last_text()
    await reporter.sends("/ubah")
    assert f"/ubah {reference}" in reporter.last_text()


async def test_correction_texts_are_erased_with_the_rest_on_withdrawal(
        bot: Harness, reporter: Person) -> None:
    await kecamatan_officer(bot)
    reference = await report_from_modang(reporter)
    await reporter.sends(f"/ubah {reference} Tempatnya dekat pasar.")
    await withdraws(reporter)
    assert [e.secret for e in await events(bot, reference, "correction")] == [None]
    assert not any("dekat pasar" in p for p in await waiting_texts(bot))
