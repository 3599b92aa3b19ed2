"""A report step, close to the cost of its commit: one read and one version-checked write, run as
one unit on the bot's database lane (``bot/db.py``), without losing what made it safe: a
redelivered update changes nothing twice, two workers never both apply on the same state, and PTB
keeps nothing per person in memory.

Counted, not timed (the figures are in ``bench/``): what the database drivers are given during
one button press."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import asyncpg
import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine, make_url

from bot.callback_data import BadCallback, ReportPress
from bot.callback_data import parse as parse_callback
from bot.clock import FakeClock
from bot.config import Settings, load_settings
from bot.crypto import Vault
from bot.db import Write
from bot.domain import form
from bot.services.reports import READ_DRAFT, RECENT_UPDATES, STEP_TYPES, remember, seen
from models import Draft
from tests.case_factory import add_cases, add_group, new_case
from tests.conftest import TOKEN
from tests.harness import Harness, Person, new_update_id

SORRY = "Sorry, something went wrong"


def asked(person: Person) -> str:
    """The question (step) the newest report buttons in the chat answer."""
    for button in person.last_with_buttons().buttons():
        try:
            pressed = parse_callback(str(button.get("callback_data", "")))
        except BadCallback:
            continue
        if isinstance(pressed, ReportPress):
            return pressed.step
    raise AssertionError("no report buttons")


# --- what the drivers are given ------------------------------------------------------------------

@contextmanager
def statements_seen() -> Iterator[list[str]]:
    """Every statement given to a database driver by connections opened inside the block: SQLite's
    trace callback, asyncpg's query logger, and SQLAlchemy's own (asyncpg's logger does not see the
    statements SQLAlchemy prepares)."""
    seen_sql: list[str] = []
    real_sqlite, real_pg = sqlite3.connect, asyncpg.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real_sqlite(*args, **kwargs)
        connection.set_trace_callback(seen_sql.append)
        return connection

    async def logged(*args: Any, **kwargs: Any) -> Any:
        connection = await real_pg(*args, **kwargs)
        connection.add_query_logger(lambda record: seen_sql.append(record.query))
        return connection

    def by_sqlalchemy(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.dialect.name == "postgresql":
            seen_sql.append(statement)

    event.listen(Engine, "before_cursor_execute", by_sqlalchemy)
    with mock.patch("sqlite3.connect", traced), mock.patch("asyncpg.connect", logged):
        try:
            yield seen_sql
        finally:
            event.remove(Engine, "before_cursor_execute", by_sqlalchemy)


async def settled() -> None:
    """asyncpg calls its query loggers soon after a query, not during it."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_button_step_is_one_read_and_one_write(settings: Settings, clock: FakeClock,
                                                       vault: Vault) -> None:
    with statements_seen() as statements:
        harness = await Harness(settings=settings, clock=clock, vault=vault).start()
        try:
            reporter = Person(harness, 5_550_010, language_code="en")
            await reporter.reaches(form.ROLE)
            await settled()
            statements.clear()
            await reporter.presses("Family of the victim")
            await settled()
            pressed = list(statements)
            draft = await reporter.draft()
            assert draft is not None and draft.answers[form.ROLE] == "family"
            assert asked(reporter) == draft.step != form.ROLE
        finally:
            await harness.stop()
    words = [" ".join(sql.split()[:2]).upper() for sql in pressed]
    assert words == ["SELECT R.ID", "UPDATE DRAFTS"], pressed  # no BEGIN, no COMMIT, no ORM


async def test_a_typed_answer_writes_once_too(settings: Settings, clock: FakeClock,
                                              vault: Vault) -> None:
    with statements_seen() as statements:
        harness = await Harness(settings=settings, clock=clock, vault=vault).start()
        try:
            reporter = Person(harness, 5_550_011, language_code="en")
            await reporter.reaches(form.STORY)
            await settled()
            statements.clear()
            await reporter.sends("Tetangga memukul anaknya setiap malam.")
            await settled()
            sent = list(statements)
            assert "Saved." in reporter.texts_since(-2)
        finally:
            await harness.stop()
    changing = ("INSERT", "UPDATE", "DELETE")
    writes = [sql for sql in sent if sql.lstrip().upper().startswith(changing)]
    assert len(writes) == 1 and "UPDATE drafts" in writes[0], sent


# --- redelivered updates -------------------------------------------------------------------------

def test_an_update_is_seen_when_it_is_one_of_the_newest_applied_or_older() -> None:
    recent: str | None = None
    for key in range(100, 100 + RECENT_UPDATES + 3):
        assert not seen(recent, key)
        recent = remember(recent, key)
    assert recent is not None and len(recent.split()) == RECENT_UPDATES
    assert seen(recent, 100 + RECENT_UPDATES + 2)  # the newest
    assert seen(recent, 100)  # long forgotten, and older than every one remembered: a repeat
    assert not seen(recent, 100 + RECENT_UPDATES + 3)  # the next one
    assert not seen(remember(None, 5), 4)  # fewer than RECENT_UPDATES: only those are known


async def test_a_whole_batch_delivered_again_changes_nothing_twice(bot: Harness,
                                                                   reporter: Person) -> None:
    """Polling confirms a batch only with the next getUpdates: after a crash, every update of the
    batch comes again, in order, each already applied."""
    await reporter.reaches(form.STORY)
    batch = []
    for text in ("Malam itu dia dipukul.", "Tetangga mendengar teriakan."):
        await reporter.sends(text)
        assert reporter.last_update is not None
        batch.append(reporter.last_update)
    shown = len(reporter.inbox())
    for payload in batch:
        await bot.feed(payload)
    draft = await reporter.draft()
    assert draft is not None and draft.answers["story_pending"]["texts"] == [
        "Malam itu dia dipukul.", "Tetangga mendengar teriakan."]
    again = reporter.texts_since(shown)
    assert SORRY not in again and "Saved." not in again
    # The story is open still; its next question came with it (the story's "Done" is implied).
    assert asked(reporter) == form.CONTACT


async def test_an_old_update_behind_many_newer_ones_is_a_repeat(bot: Harness,
                                                                reporter: Person) -> None:
    await reporter.reaches(form.TYPES)
    await reporter.picks("fisik", "toggle")
    first = reporter.last_update
    for _ in range(RECENT_UPDATES):  # toggled on and off: each an applied update
        await reporter.picks("psikis", "toggle")
    assert first is not None
    await bot.feed(first)
    draft = await reporter.draft()
    assert draft is not None and draft.answers["types_pending"] == ["fisik"]
    assert SORRY not in reporter.last_text()


# --- two writers ---------------------------------------------------------------------------------

def write_elsewhere(url: str, sql: str) -> None:
    """``sql`` committed by another connection, from another thread: another worker."""
    parsed = make_url(url)

    def run() -> None:
        if parsed.get_backend_name() == "sqlite":
            other = sqlite3.connect(str(parsed.database))
            other.execute(sql)
            other.commit()
            other.close()
            return

        async def on_postgres() -> None:
            other = await asyncpg.connect(host=parsed.host, port=parsed.port,
                                          user=parsed.username, password=parsed.password,
                                          database=parsed.database)
            await other.execute(sql)
            await other.close()

        asyncio.run(on_postgres())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)


async def test_a_write_that_lost_the_race_is_decided_again_on_what_won(
        bot: Harness, reporter: Person, settings: Settings) -> None:
    await reporter.reaches(form.ROLE)
    tg_hash = bot.vault.hash_id(reporter.user_id)
    versions: list[int] = []

    def decide(row: dict[str, Any] | None) -> tuple[Write, int]:
        assert row is not None
        versions.append(row["version"])
        if len(versions) == 1:  # another worker writes between this read and this write
            write_elsewhere(settings.database.url, "UPDATE drafts SET version = version + 1")
        return Write((("UPDATE drafts SET version = :next WHERE id = :draft_id "
                       "AND version = :version",
                       {"next": row["version"] + 1, "draft_id": row["draft_id"],
                        "version": row["version"]}),)), row["version"] + 1

    written = await bot.runtime.lane.unit(READ_DRAFT, {"tg_hash": tg_hash}, decide, STEP_TYPES)

    first = versions[0]
    assert versions == [first, first + 1], "decided again on the version that won"
    assert written == first + 2
    async with bot.runtime.sessions() as session:
        assert await session.scalar(select(Draft.version)) == first + 2


@pytest.fixture
async def two_workers(postgres_url: str, clock: FakeClock,
                      vault: Vault) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two bots on one PostgreSQL database, as two processes would be (``tests/test_workers.py``);
    the person's chat is one chat, whichever worker answers."""
    settings = load_settings(telegram={"token": TOKEN}, database={"url": postgres_url})
    first = await Harness(settings=settings, clock=clock, vault=vault).start()
    second = await Harness(settings=settings, clock=clock, vault=vault).start()
    second.telegram.chats = first.telegram.chats  # one model of the chats: ids, transcripts
    yield first, second
    await first.stop()
    await second.stop()


async def both_wait_for_the_draft(postgres_url: str, feed: Callable[[], Any]) -> None:
    """Run ``feed`` (both workers' updates) while a third connection holds the draft's row: each
    worker reads, decides and tries its write, which waits; once both wait, the row is let go,
    the first write wins and the second finds the version changed."""
    parsed = make_url(postgres_url)
    connect = {"host": parsed.host, "port": parsed.port, "user": parsed.username,
               "password": parsed.password, "database": parsed.database}
    holder = await asyncpg.connect(**connect)
    watcher = await asyncpg.connect(**connect)
    try:
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT id FROM drafts FOR UPDATE")
        task = asyncio.ensure_future(feed())
        for _ in range(1000):
            waiting = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'UPDATE drafts%'")
            if waiting == 2 or task.done():
                break
            await asyncio.sleep(0.01)
        assert waiting == 2, "both workers should be waiting to write"
        await holding.rollback()
        await task
    finally:
        await holder.close()
        await watcher.close()


async def test_two_workers_pressing_two_answers_at_once_apply_one(
        two_workers: tuple[Harness, Harness], postgres_url: str) -> None:
    first, second = two_workers
    sari = Person(first, 5_550_020, language_code="en")
    await sari.reaches(form.ROLE)
    before = await stored_version(first)
    message, victim = sari.button_data("I am the victim")
    _, family = sari.button_data("Family of the victim")
    on_second = Person(second, 5_550_020, language_code="en")

    await both_wait_for_the_draft(postgres_url, lambda: asyncio.gather(
        sari.presses_data(victim, message), on_second.presses_data(family, message)))

    draft = await sari.draft()
    assert draft is not None and draft.step == form.VICTIM_CATEGORY
    assert draft.answers[form.ROLE] in ("victim", "family")
    told = first.telegram.calls_to("answerCallbackQuery") \
        + second.telegram.calls_to("answerCallbackQuery")
    stale = [c for c in told if "earlier question" in str(c.params.get("text", ""))]
    assert len(stale) == 1, "the press that lost is told it answered an earlier question"
    assert await stored_version(first) == before + 1, "one write"


async def stored_version(worker: Harness) -> int:
    async with worker.runtime.sessions() as session:
        version = await session.scalar(select(Draft.version))
    assert version is not None
    return version


async def test_one_update_at_two_workers_at_once_is_applied_once(
        two_workers: tuple[Harness, Harness], postgres_url: str) -> None:
    first, second = two_workers
    sari = Person(first, 5_550_021, language_code="en")
    await sari.reaches(form.STORY)
    payload = {"update_id": new_update_id(), "message": sari._message(
        text="Malam itu dia dipukul.")}

    await both_wait_for_the_draft(postgres_url, lambda: asyncio.gather(
        first.feed(payload), second.feed(payload)))

    draft = await sari.draft()
    assert draft is not None and draft.answers["story_pending"]["texts"] == [
        "Malam itu dia dipukul."]
    for worker in (first, second):
        assert not any(SORRY in str(c.params.get("text", ""))
                       for c in worker.telegram.calls_to("sendMessage"))


# --- submit --------------------------------------------------------------------------------------

async def test_the_daily_limit_reached_at_send_keeps_the_report(bot: Harness, reporter: Person,
                                                                clock: FakeClock) -> None:
    await reporter.reaches(form.REVIEW)
    async with bot.runtime.sessions() as session:
        reporter_row = await session.scalar(select(Draft.reporter_id))
    limit = bot.settings.security.max_reports_per_day
    await add_cases(bot.runtime.sessions, *(
        new_case(clock.now(), reporter_id=reporter_row) for _ in range(limit)))

    await reporter.presses("Send")

    assert f"already sent {limit} reports today" in reporter.last_text()
    assert "Your report is kept" in reporter.last_text()
    assert (await reporter.draft()) is not None
    assert len(await bot.cases()) == limit


async def test_a_submit_inserts_the_case_whole(settings: Settings, clock: FakeClock,
                                               vault: Vault) -> None:
    """The case row is written by its INSERT; routing adds its tier and deadline after alerting
    (one UPDATE), and the police deadline is not written twice."""
    with statements_seen() as statements:
        harness = await Harness(settings=settings, clock=clock, vault=vault).start()
        try:
            await add_group(harness.runtime.sessions, "Pondong Baru", chat_id=-100_555_0101)
            reporter = Person(harness, 5_550_030, language_code="en")
            await reporter.completes_report(types=("Sexual",))
            cases = await harness.cases()
        finally:
            await harness.stop()
    assert len(cases) == 1 and cases[0].police_deadline is not None
    case_updates = [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE CASES")]
    assert len(case_updates) == 1 and "police_deadline" not in case_updates[0], case_updates


# --- memory --------------------------------------------------------------------------------------

async def test_ptb_keeps_nothing_per_person(bot: Harness) -> None:
    for number in range(30):
        await Person(bot, 6_000_000 + number, language_code="en").sends("/start")
    app: Any = bot.app
    assert app._chat_ids_to_be_updated_in_persistence == set()
    assert app._user_ids_to_be_updated_in_persistence == set()
    assert not app.chat_data and not app.user_data


async def test_a_submit_that_fails_after_its_case_row_leaves_nothing_behind(
        bot: Harness, reporter: Person) -> None:
    """The case, its routing and alerts, and the draft's end are one transaction: a failure after
    the case row was written undoes the row too, and pressing Send again sends the report (it once
    said "already sent" for a case that no one was alerted about)."""
    await add_group(bot.runtime.sessions, "Modang", chat_id=-100_555_0102)  # where reaches() is
    failing = True

    async def breaks_after_routing(session: Any, case: Any) -> None:
        if failing:
            raise RuntimeError("something after the case row failed")

    bot.runtime.reports.on_case_created.subscribe(breaks_after_routing)
    await reporter.reaches(form.REVIEW)
    await reporter.presses("Send")
    assert SORRY in reporter.last_text()
    assert await bot.cases() == []
    assert await reporter.draft() is not None

    failing = False
    await reporter.presses("Send")  # the review, edited in place
    assert any("Your report has been sent" in m.text for m in reporter.inbox())
    await bot.deliver_outbox()
    assert len(bot.telegram.messages(-100_555_0102)) == 1
