"""Reports: the draft a reporter fills in step by step, and its submission as a case.

Every call is one transaction. An answer is committed before the handler sends the next question,
so a crash at any moment loses nothing; a redelivered update (same key) changes nothing twice.

A step of the report (``apply``) is the hot path: one read (the reporter and the draft, with the
update ids already applied to it), the form's rules in Python, and one write (the draft, only if
its version is still the one read), run as one unit on the bot's database lane (``bot/db.py``):
on SQLite in one call to the lane's thread, on PostgreSQL in two round trips. A submit runs its
ORM transaction (the case, its routing and alerts) on the lane in one call too.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.db import Lane, Row, Types, Write, open_lane
from bot.domain import form, register, simfoni
from bot.domain.form import DraftView
from bot.domain.references import new_reference
from bot.domain.tiers import police_deadline
from bot.events import CaseCreated, Event
from bot.i18n import LANGUAGES, language_for
from bot.regions import RegionDirectory
from bot.services.people import add_people
from bot.services.reporters import (
    find_reporter,
    forget_if_unused,
    remember_conversation_start,
    touch_reporter,
)
from bot.services.to_reporter import ReporterPhone, reach_of_draft
from bot.services.updates import mark_processed
from models import Case, CaseEvent, Draft, Evidence, Reporter, Responder
from models.base import UTCDateTime
from models.encryption import EncryptedText
from models.region import KECAMATAN, VILLAGE
from models.responder import OFFICER

# ---- the step's read and write, as one unit on the lane ------------------------------------------

RECENT_UPDATES = 8  # update ids remembered per draft (see ``seen``)

# The reporter and their draft, with nothing decrypted that a step does not show (the answers,
# yes: the next question is drawn from them; the reporter's chat id, no).
READ_DRAFT = """\
SELECT r.id AS reporter_id, r.language AS language,
       d.id AS draft_id, d.nonce AS nonce, d.step AS step, d.answers AS answers,
       d.urgent AS urgent, d.editing AS editing, d.practice AS practice,
       d.version AS version, d.recent_updates AS recent_updates
FROM reporters AS r LEFT OUTER JOIN drafts AS d ON d.reporter_id = r.id
WHERE r.tg_hash = :tg_hash
"""
WRITE_DRAFT = """\
UPDATE drafts SET step = :step, answers = :answers, urgent = :urgent, editing = :editing,
       version = :next_version, updated_at = :now, recent_updates = :recent_updates
WHERE id = :draft_id AND version = :version
"""
DISCARD_DRAFT = "DELETE FROM drafts WHERE id = :draft_id AND version = :version"
# ``forget_if_unused``: a reporter record is kept only while a draft or a case is theirs.
FORGET_REPORTER = """\
DELETE FROM reporters WHERE id = :reporter_id
AND NOT EXISTS (SELECT 1 FROM cases WHERE cases.reporter_id = :reporter_id)
AND NOT EXISTS (SELECT 1 FROM drafts WHERE drafts.reporter_id = :reporter_id)
"""
STEP_TYPES: Types = {"now": UTCDateTime(), "answers": EncryptedText(), "urgent": Boolean(),
                     "editing": Boolean(), "practice": Boolean()}


def seen(recent: str | None, key: int | None) -> bool:
    """Whether update ``key`` was applied to the draft already: it is one of the newest ids
    applied, or older than all of them once ``RECENT_UPDATES`` are kept (Telegram numbers updates
    in order and redelivers only what was not confirmed, so such an old one is a repeat)."""
    if key is None or not recent:
        return False
    applied = [int(number) for number in recent.split()]
    return key in applied or (len(applied) >= RECENT_UPDATES and key < applied[0])


def remember(recent: str | None, key: int | None) -> str | None:
    """``recent`` with ``key`` added, the newest ``RECENT_UPDATES`` kept, oldest first."""
    if key is None:
        return recent
    applied = {int(number) for number in (recent or "").split()} | {key}
    return " ".join(str(number) for number in sorted(applied)[-RECENT_UPDATES:])


@dataclass
class DraftState:
    """The draft's fields a step changes, as read."""

    id: int
    nonce: str
    step: str
    urgent: bool
    editing: bool
    practice: bool

    @classmethod
    def of(cls, row: Row) -> DraftState:
        return cls(row["draft_id"], row["nonce"], row["step"], bool(row["urgent"]),
                   bool(row["editing"]), bool(row["practice"]))

    def view(self, answers: dict[str, Any]) -> DraftView:
        return DraftView(self.id, self.nonce, self.step, answers, self.urgent, self.editing,
                         self.practice)


@dataclass
class Outcome:
    """What happened to an input; the handler renders from it."""

    draft: DraftView | None
    language: str = "id"
    error: form.Invalid | None = None  # why the input was not taken
    stale: bool = False
    duplicate: bool = False
    saved_item: bool = False  # a story part or piece of evidence was added
    candidates: list[str] = field(default_factory=list)  # region codes to choose from
    stopped: bool = False  # the reporter chose to stop (danger) or declined consent
    location_kept: bool = False  # a shared location was kept for the outreach visit
    discarded: bool = False
    step_before: str | None = None  # the question the input answered (typed or pressed)


@dataclass
class Submitted:
    reference: str
    priority: str
    language: str
    again: bool = False  # the case already existed: a second press or a redelivered update
    practice: bool = False


@dataclass
class Input:
    """One thing a reporter did: a button (``value``), typed ``text``, or a piece of ``media``."""

    nonce: str | None = None
    step: str | None = None
    action: str = "choose"  # choose | text | media | contact | location | back | skip | done |
    # toggle | edit | clear
    value: str | None = None
    text: str | None = None
    media: dict[str, Any] | None = None
    location: tuple[float, float] | None = None  # (latitude, longitude) of a shared location


class LimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _location_text(location: dict[str, float] | None) -> str | None:
    return f"{location['lat']},{location['lon']}" if location else None


def _view(draft: Draft) -> DraftView:
    return DraftView(draft.id, draft.nonce, draft.step, json.loads(draft.answers), draft.urgent,
                     draft.editing, draft.practice)


class ReportService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, vault: Vault,
                 settings: Settings, regions: RegionDirectory, lane: Lane | None = None, *,
                 phone: ReporterPhone | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.vault = vault
        self.settings = settings
        self.regions = regions
        # Every message to a reporter goes through it (the expiry notice of a draft); a service
        # made only to read drafts needs none.
        self.phone = phone
        self.lane = lane or open_lane(sessions.kw["bind"], sessions)
        self.on_case_created: Event[CaseCreated] = Event("case created")  # routing subscribes

    # ---- reporters -------------------------------------------------------------------------

    async def language(self, telegram_id: int, language_code: str | None) -> str:
        """The language a reporter or an officer chose; for anyone else the one given (never
        stored: an account that has not reported is not kept)."""
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is not None:
                return reporter.language
            chosen = await session.scalar(select(Responder.language).where(
                Responder.chat_id == telegram_id, Responder.kind == OFFICER,
                Responder.language.is_not(None)))
            return chosen if chosen in LANGUAGES else language_for(language_code)

    async def set_language(self, telegram_id: int, language: str) -> bool:
        """Store the choice with the reporter record or the officer; False when this account has
        neither (the caller keeps the choice in memory only, until a report starts)."""
        if language not in LANGUAGES:
            raise ValueError(language)
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is not None:
                reporter.language = language
                reporter.language_chosen = True
            officers = await session.execute(
                update(Responder).where(Responder.chat_id == telegram_id,
                                        Responder.kind == OFFICER).values(language=language)
                .execution_options(synchronize_session=False))
            return reporter is not None or bool(getattr(officers, "rowcount", 0))

    # ---- the draft ---------------------------------------------------------------------------

    async def current(self, telegram_id: int, language_code: str | None = None) -> Outcome:
        """The draft as stored; for someone not seen before, the language Telegram gives."""
        row = await self.lane.read(READ_DRAFT, {"tg_hash": self.vault.hash_id(telegram_id)},
                                   STEP_TYPES)
        if row is None:
            return Outcome(None, language_for(language_code))
        if row["draft_id"] is None:
            return Outcome(None, row["language"])
        return Outcome(DraftState.of(row).view(json.loads(row["answers"])), row["language"])

    async def start(self, telegram_id: int, language_code: str | None, key: int | None,
                    *, practice: bool = False,
                    message_id: int | None = None) -> tuple[Outcome, bool]:
        """The reporter's draft, new or resumed (second value True when resumed).

        ``message_id`` (the /lapor message) marks where the conversation begins, for wiping it.
        """
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await touch_reporter(session, self.vault, telegram_id, language_code, now)
            remember_conversation_start(reporter, message_id, now)
            draft = await self._draft(session, reporter)
            if draft is not None:
                draft.updated_at = now  # the draft answered next (``IntakeService.answers_now``)
                return Outcome(_view(draft), reporter.language), True
            if not practice:
                await self._check_daily_limit(session, reporter, now)
            draft = Draft(reporter_id=reporter.id, nonce=secrets.token_hex(4), step=form.DANGER,
                          answers="{}", practice=practice, created_at=now, updated_at=now)
            session.add(draft)
            mark_processed(session, key, now)
            await session.flush()
            return Outcome(_view(draft), reporter.language), False

    async def apply(self, telegram_id: int, key: int | None, given: Input,
                    language_code: str | None = None) -> Outcome:
        """One answer (a button, typed text, a file): read, decided, written as one unit."""
        now = self.clock.now()
        outcome = await self.lane.unit(
            READ_DRAFT, {"tg_hash": self.vault.hash_id(telegram_id)},
            lambda row: self._step(row, key, given, now), STEP_TYPES)
        if outcome is None:  # no report under way: nothing to store about this account
            return Outcome(None, language_for(language_code))
        return outcome

    def _step(self, row: Row | None, key: int | None, given: Input,
              now: datetime) -> tuple[Write | None, Outcome | None]:
        """What one input does to the draft as read: the outcome, and what to write. Pure: the
        lane calls it again on a fresh read when another writer changed the draft first."""
        if row is None:
            return None, None
        language = row["language"]
        if row["draft_id"] is None:
            return None, Outcome(None, language)
        draft = DraftState.of(row)
        stored = json.loads(row["answers"])
        if seen(row["recent_updates"], key):
            return None, Outcome(draft.view(stored), language, duplicate=True)
        if given.nonce is not None and (given.nonce != draft.nonce or (
                given.step != draft.step
                and not form.implied_done(draft.step, given.step, stored))):
            return None, Outcome(draft.view(stored), language, stale=True)
        answers = json.loads(row["answers"])
        changed = DraftState.of(row)
        outcome = Outcome(None, language, step_before=draft.step)
        try:
            self._transition(changed, answers, given, outcome, language)
        except form.InvalidAnswer as exc:
            outcome.error = exc.reason
            outcome.draft = draft.view(stored)
            return None, outcome
        version = {"draft_id": draft.id, "version": row["version"]}
        if outcome.discarded:  # and the reporter record with it, if nothing else is theirs
            return Write(((DISCARD_DRAFT, version),
                          (FORGET_REPORTER, {"reporter_id": row["reporter_id"]}))), outcome
        written = {**version, "step": changed.step, "urgent": changed.urgent,
                   "editing": changed.editing, "next_version": row["version"] + 1, "now": now,
                   "answers": json.dumps(answers, ensure_ascii=False),
                   "recent_updates": remember(row["recent_updates"], key)}
        outcome.draft = changed.view(answers)
        return Write(((WRITE_DRAFT, written),)), outcome

    async def cancel(self, telegram_id: int, nonce: str | None = None) -> bool:
        """Discard the draft (after the reporter confirmed); False when there was none."""
        async with self.sessions.begin() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            draft = await self._draft(session, reporter) if reporter else None
            if reporter is None or draft is None or (nonce is not None and nonce != draft.nonce):
                return False
            await session.delete(draft)
            await forget_if_unused(session, reporter)
            return True

    # ---- the state machine -------------------------------------------------------------------

    def _transition(self, draft: DraftState, answers: dict[str, Any], given: Input,
                    outcome: Outcome, language: str) -> None:
        step = draft.step
        action = given.action
        if action == "back":
            previous = form.previous_step(step, answers)
            if previous is not None:
                draft.step = previous
            return
        if action == "edit":
            self._edit(draft, answers, given.value or "")
            return
        if step == form.REVIEW:
            raise form.InvalidAnswer(form.Invalid.USE_BUTTONS)
        if given.step is not None and form.implied_done(step, given.step, answers):
            # A press on the question after the story: the story is done, then that is answered.
            if action != "choose":
                raise form.InvalidAnswer(form.Invalid.NOT_AN_OPTION)
            form.validate_choice(given.step, given.value or "", answers)
            self._story_input(draft, answers, Input(action="done"), outcome, language)
            step = draft.step
        if action == "location":
            self._location_input(draft, answers, given, outcome)
            return
        if action == "skip":
            if step not in form.OPTIONAL:
                raise form.InvalidAnswer(form.Invalid.NOT_AN_OPTION)
            self._answer(draft, answers, step, form.SKIPPED)
            return
        special = {
            form.TYPES: self._types_input,
            form.STORY: self._story_input,
            form.KECAMATAN: self._region_input,
            form.VILLAGE: self._region_input,
        }.get(step)
        if special is not None:
            special(draft, answers, given, outcome, language)
            return
        value = self._value_for(step, answers, given, language)
        if step == form.DANGER:
            draft.urgent = value == form.YES
        if step == form.DANGER_GO and value == "stop":
            outcome.stopped = True
        if step == form.CONSENT and value == "disagree":
            outcome.discarded = True
            return
        self._answer(draft, answers, step, value)

    def _value_for(self, step: str, answers: dict[str, Any], given: Input, language: str) -> Any:
        if given.action == "choose" and given.value is not None:
            return form.validate_choice(step, given.value, answers)
        if given.action == "contact" and step == form.PHONE and given.text:
            return form.parse_phone(given.text)
        if given.action != "text" or given.text is None:
            # Where the answer is typed, "use the buttons" would point at Skip and Back only.
            raise form.InvalidAnswer(form.Invalid.UNSUPPORTED if step in (form.LANDMARK, form.PHONE)
                                     else form.Invalid.USE_BUTTONS)
        text = given.text.strip()
        if len(text) > self.settings.evidence.max_text_chars:
            raise form.InvalidAnswer(form.Invalid.TOO_LONG)
        if step == form.VICTIM_AGE:
            return form.parse_age(text, answers.get(form.VICTIM_CATEGORY) or form.CHILD)
        if step == form.VICTIM_COUNT:
            return form.parse_count(text)
        if step == form.PHONE:
            return form.parse_phone(text)
        if step == form.LANDMARK:
            if len(text) > form.MAX_LANDMARK_CHARS:
                raise form.InvalidAnswer(form.Invalid.TOO_LONG_LANDMARK)
            if not text:
                raise form.InvalidAnswer(form.Invalid.EMPTY)
            return text
        # A typed answer that names a choice ("ya", "gak", "om saya", "kmrn"), in either language.
        return form.validate_choice(step, form.understand(step, text), answers)

    def _answer(self, draft: DraftState, answers: dict[str, Any], step: str, value: Any) -> None:
        form.answer(answers, step, value)
        draft.step = form.next_step(step, answers)
        if draft.step == form.REVIEW:
            draft.editing = False

    def _edit(self, draft: DraftState, answers: dict[str, Any], section: str) -> None:
        sections = {**form.SECTIONS, **form.INTAKE_ONLY_SECTIONS} if form.is_intake(answers) \
            else form.SECTIONS
        if draft.step != form.REVIEW or section not in sections:
            raise form.InvalidAnswer(form.Invalid.NOT_AN_OPTION)
        if section == form.TYPES:  # the earlier choice stays ticked, to change rather than redo
            answers["types_pending"] = list(answers.get(form.TYPES) or [])
        for step in sections[section]:
            if step != form.STORY:  # evidence is never thrown away by an edit
                answers.pop(step, None)
        if section == form.STORY:
            answers.pop(form.STORY + "_done", None)
        if section == form.EXTRA:  # "Tambah keterangan": the landmark, then the phone number
            answers[form.EXTRA] = True
        draft.editing = True
        draft.step = sections[section][0]

    def _types_input(self, draft: DraftState, answers: dict[str, Any], given: Input,
                     outcome: Outcome, language: str) -> None:
        chosen: list[str] = answers.setdefault("types_pending", [])
        if given.action == "toggle" and given.value in form.option_values(form.TYPES, answers):
            if given.value in chosen:
                chosen.remove(given.value)
            else:
                chosen.append(given.value)
            return
        if given.action == "text" and given.text:
            # Typed words tick what they name ("dipukul dan dihina": physical, psychological).
            found = form.matches(form.TYPES, given.text)
            if not found:
                raise form.InvalidAnswer(form.Invalid.USE_BUTTONS)
            chosen += [value for value in form.option_values(form.TYPES, answers)
                       if value in found and value not in chosen]
            return
        if given.action == "done":
            if not chosen:
                raise form.InvalidAnswer(form.Invalid.CHOOSE_AT_LEAST_ONE)
            ordered = [v for v in form.option_values(form.TYPES, answers) if v in chosen]
            answers.pop("types_pending")
            self._answer(draft, answers, form.TYPES, ordered)
            return
        raise form.InvalidAnswer(form.Invalid.USE_BUTTONS)

    def _story_input(self, draft: DraftState, answers: dict[str, Any], given: Input,
                     outcome: Outcome, language: str) -> None:
        story = answers.setdefault("story_pending", answers.get(form.STORY) or form.empty_story())
        limits = self.settings.evidence
        if given.action == "text" and given.text is not None:
            text = given.text.strip()
            if not text:
                raise form.InvalidAnswer(form.Invalid.EMPTY)
            if len(text) > limits.max_text_chars:
                raise form.InvalidAnswer(form.Invalid.TOO_LONG)
            if sum(len(t) for t in story["texts"]) + len(text) > limits.max_text_chars * 5:
                raise form.InvalidAnswer(form.Invalid.STORY_FULL)
            story["texts"].append(text)
            outcome.saved_item = True
            return
        if given.action == "media" and given.media is not None:
            if len(story["media"]) >= limits.max_items:
                raise form.InvalidAnswer(form.Invalid.TOO_MANY_FILES)
            if (given.media.get("size") or 0) > limits.max_bytes:
                raise form.InvalidAnswer(form.Invalid.FILE_TOO_BIG)
            caption = given.media.get("caption") or ""
            if len(caption) > limits.max_text_chars:
                raise form.InvalidAnswer(form.Invalid.TOO_LONG)
            story["media"].append(given.media)
            outcome.saved_item = True
            return
        if given.action == "done":
            answers.pop("story_pending")
            self._answer(draft, answers, form.STORY, story)
            return
        if given.action == "clear":
            answers["story_pending"] = form.empty_story()
            return
        raise form.InvalidAnswer(form.Invalid.UNSUPPORTED)

    def _region_input(self, draft: DraftState, answers: dict[str, Any], given: Input,
                      outcome: Outcome, language: str) -> None:
        step = draft.step
        if given.action == "choose" and given.value:
            place = self.regions.get(given.value)
            if place is None:
                raise form.InvalidAnswer(form.Invalid.NOT_AN_OPTION)
            if step == form.KECAMATAN and place.level == KECAMATAN:
                self._answer(draft, answers, form.KECAMATAN, place.code)
            elif place.level == VILLAGE and (step == form.KECAMATAN
                                              or answers.get(form.KECAMATAN) == place.parent_code
                                              or step == form.VILLAGE):
                answers[form.KECAMATAN] = place.parent_code
                self._answer(draft, answers, form.VILLAGE, place.code)
            else:
                raise form.InvalidAnswer(form.Invalid.NOT_AN_OPTION)
            return
        if given.action != "text" or not given.text:
            raise form.InvalidAnswer(form.Invalid.USE_BUTTONS)
        if len(given.text) > 100:
            raise form.InvalidAnswer(form.Invalid.PLACE_NOT_FOUND)
        if step == form.KECAMATAN:
            found = self.regions.search(given.text, level=KECAMATAN) or self.regions.search(
                given.text, level=VILLAGE)
        else:
            found = self.regions.search_near(given.text, level=VILLAGE,
                                             near=answers.get(form.KECAMATAN))
        if not found:
            raise form.InvalidAnswer(form.Invalid.PLACE_NOT_FOUND)
        outcome.candidates = [p.code for p in found]

    def _location_input(self, draft: DraftState, answers: dict[str, Any], given: Input,
                        outcome: Outcome) -> None:
        """A shared location where the place is asked: kept (encrypted) for the outreach visit.
        At the landmark question it is the answer; at the kecamatan or village question the
        village is still chosen, and the nearest villages are offered when the region data has
        coordinates (``RegionDirectory.nearest_villages``)."""
        step = draft.step
        if step not in form.TAKES_LOCATION or given.location is None:
            raise form.InvalidAnswer(form.Invalid.UNSUPPORTED)
        answers[form.LOCATION] = form.location_of(*given.location)
        outcome.location_kept = True
        if step == form.LANDMARK:
            self._answer(draft, answers, form.LANDMARK, answers.get(form.LANDMARK))
            return
        within = answers.get(form.KECAMATAN) if step == form.VILLAGE else None
        outcome.candidates = [p.code for p in self.regions.nearest_villages(
            *given.location, within=within)]

    # ---- submission --------------------------------------------------------------------------

    async def submit(self, telegram_id: int, nonce: str) -> Submitted | Outcome:
        """Turn the draft into a case, once (its submit key, the reporter and the draft's nonce,
        is unique: a second press or a redelivered update finds the case). Returns an Outcome
        when the draft is not ready. One transaction on the lane: the case, its routing and
        alerts (``on_case_created``), the draft gone."""
        now = self.clock.now()
        return await self.lane.transaction(
            lambda session: self._submit(session, telegram_id, nonce, now))

    async def send_now(self, telegram_id: int, key: int | None,
                       nonce: str) -> Submitted | Outcome:
        """Danger, then "stop for now", then "Send now": the draft becomes an urgent case with
        what was answered so far (``form.answered_so_far``), routed at once like any case (an
        urgent one reaches the kabupaten at once). Once: a second press finds the same case."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter = await touch_reporter(session, self.vault, telegram_id, None, now)
            earlier = await session.scalar(
                select(Case).where(Case.submit_key == f"{reporter.id}:{nonce}"))
            if earlier is not None:
                return Submitted(earlier.reference, earlier.priority, reporter.language,
                                 again=True, practice=earlier.practice)
            draft = await session.scalar(select(Draft).where(Draft.reporter_id == reporter.id)
                                         .with_for_update())
            if draft is None or draft.nonce != nonce or not draft.urgent:
                return Outcome(_view(draft) if draft else None, reporter.language, stale=True)
            answers = form.answered_so_far(json.loads(draft.answers),
                                           self.settings.region.kabupaten_code)
            case = await self._create_case(session, reporter.id, reporter.language, draft,
                                           answers, now)
            session.add(CaseEvent(case_id=case.id, at=now, actor="reporter",
                                  kind="sent_at_once", detail={}))
            await session.delete(draft)
            mark_processed(session, key, now)
            for subscriber in self.on_case_created:
                await subscriber(session, case)
            return Submitted(case.reference, case.priority, reporter.language,
                             practice=case.practice)

    async def _submit(self, session: AsyncSession, telegram_id: int, nonce: str,
                      now: datetime) -> Submitted | Outcome:
        sent_today = (select(func.count()).select_from(Case)
                      .where(Case.reporter_id == Reporter.id, Case.practice.is_(False),
                             Case.created_at > now - timedelta(days=1))
                      .scalar_subquery())
        found = (await session.execute(
            select(Reporter.id, Reporter.language, Draft, sent_today)
            .outerjoin(Draft, Draft.reporter_id == Reporter.id)
            .where(Reporter.tg_hash == self.vault.hash_id(telegram_id)))).one_or_none()
        if found is None:
            return Outcome(None, language_for(None), stale=True)
        reporter_id, language, draft, count = found
        if draft is None or draft.nonce != nonce or draft.step != form.REVIEW:
            earlier = (await session.execute(
                select(Case.reference, Case.priority, Case.practice)
                .where(Case.submit_key == f"{reporter_id}:{nonce}"))).one_or_none()
            if earlier is not None:
                return Submitted(earlier.reference, earlier.priority, language, again=True,
                                 practice=earlier.practice)
            return Outcome(_view(draft) if draft else None, language, stale=True)
        answers = json.loads(draft.answers)
        if form.next_step(None, answers) != form.REVIEW:
            return Outcome(_view(draft), language, error=form.Invalid.INCOMPLETE)
        limit = self.settings.security.max_reports_per_day
        if not draft.practice and (count or 0) >= limit:
            raise LimitReached(limit)
        case = await self._create_case(session, reporter_id, language, draft, answers, now)
        await session.delete(draft)
        for subscriber in self.on_case_created:
            await subscriber(session, case)
        return Submitted(case.reference, case.priority, language, practice=case.practice)

    async def _create_case(self, session: AsyncSession, reporter_id: int | None, language: str,
                           draft: Draft, answers: dict[str, Any], now: datetime, *,
                           submit_key: str | None = None) -> Case:
        """The case a draft becomes. An officer's record (``form.is_intake``) has no reporter in
        the bot: its channel is the answer to "how did it come in", and nobody is contacted
        through the bot (a phone number given is the victim's contact, kept encrypted)."""
        intake = form.is_intake(answers)
        story = answers.get(form.STORY) or form.empty_story()
        victim_age = answers[form.VICTIM_AGE]
        local_now = now.astimezone(ZoneInfo(self.settings.region.timezone))
        local_year = local_now.year
        incident = register.incident_from_report(answers[form.WHEN], local_now.date())
        case = Case(
            reference="", submit_key=submit_key or f"{reporter_id}:{draft.nonce}",
            reporter_id=reporter_id,
            priority=form.priority(answers, draft.urgent), urgent=draft.urgent,
            practice=draft.practice, language=language,
            reporter_role=answers.get(form.ROLE), victim_category=answers[form.VICTIM_CATEGORY],
            victim_sex=answers[form.VICTIM_SEX], victim_age_band=victim_age["band"],
            victim_age=victim_age["age"], victim_count=answers[form.VICTIM_COUNT],
            violence_types=answers[form.TYPES], kecamatan_code=answers[form.KECAMATAN],
            village_code=answers[form.VILLAGE], place=answers[form.PLACE],
            landmark=answers.get(form.LANDMARK), occurred=answers[form.WHEN],
            location=_location_text(answers.get(form.LOCATION)),
            perpetrator=answers[form.PERPETRATOR],
            incident_date=incident.on if incident else None,
            incident_precision=incident.precision if incident else None,
            channel=answers[form.CHANNEL] if intake else simfoni.BOT_CHANNEL,
            narrative="\n\n".join(story["texts"]) or None,
            contact_allowed=answers.get(form.CONTACT) == form.YES and not intake,
            phone=answers.get(form.PHONE), contact_time=answers.get(form.SAFE_TIME),
            created_at=now, updated_at=now,
            # Routing sets this same deadline; set here, it is inserted with the row rather than
            # written again by an UPDATE right after the INSERT.
            police_deadline=None if draft.practice else police_deadline(
                self.settings, now, answers[form.TYPES]),
        )
        for _attempt in range(10):
            case.reference = new_reference(self.settings.region.reference_prefix, local_year)
            try:
                async with session.begin_nested():
                    session.add(case)
                    await session.flush()
                break
            except IntegrityError:
                if await session.scalar(select(Case.id).where(
                        Case.submit_key == case.submit_key)) is not None:
                    raise
                session.expunge(case)
        else:  # pragma: no cover - 32^6 references a year make this vanishingly rare
            raise RuntimeError("could not find a free reference")
        for item in story["media"]:
            session.add(Evidence(case_id=case.id, kind=item["kind"], file_id=item["file_id"],
                                 file_unique_id=item.get("file_unique_id", ""),
                                 size=item.get("size"), caption=item.get("caption"),
                                 created_at=now))
        await add_people(session, case.id, register.people_from_report(answers))
        if not intake:
            session.add(CaseEvent(case_id=case.id, at=now, actor="reporter", kind="submitted",
                                  detail={"priority": case.priority}))
        return case

    async def _check_daily_limit(self, session: AsyncSession, reporter: Reporter,
                                 now: datetime) -> None:
        limit = self.settings.security.max_reports_per_day
        count = await session.scalar(
            select(func.count()).select_from(Case).where(
                Case.reporter_id == reporter.id, Case.practice.is_(False),
                Case.created_at > now - timedelta(days=1)))
        if (count or 0) >= limit:
            raise LimitReached(limit)

    async def _draft(self, session: AsyncSession, reporter: Reporter) -> Draft | None:
        return await session.scalar(select(Draft).where(Draft.reporter_id == reporter.id))

    # ---- the reporter's own cases ---------------------------------------------------------------

    async def my_cases(self, telegram_id: int, limit: int = 10) -> list[Case]:
        async with self.sessions() as session:
            reporter = await find_reporter(session, self.vault, telegram_id)
            if reporter is None:
                return []
            return list(await session.scalars(
                select(Case).where(Case.reporter_id == reporter.id)
                .order_by(Case.created_at.desc()).limit(limit)))

    # ---- expiry ----------------------------------------------------------------------------------

    async def expire_drafts(self, notice: Any, neutral_notice: Any) -> int:
        """Remove drafts untouched for ``drafts.expire_hours`` and queue a gentle notice for each.

        ``notice(language) -> str`` renders the text, ``neutral_notice(language)`` the one sent
        to a reporter with discreet messages; the notice goes through the outbox in the same
        transaction as the deletion, so it is sent once and never lost.
        """
        assert self.phone is not None, "ReportService(phone=...) is given at start-up"
        now = self.clock.now()
        cutoff = now - timedelta(hours=self.settings.drafts.expire_hours)
        async with self.sessions.begin() as session:
            rows = (await session.execute(
                select(Draft, Reporter).join(Reporter, Reporter.id == Draft.reporter_id)
                .where(Draft.updated_at < cutoff).with_for_update())).all()
            for expired, reporter in rows:
                # Like every message to a reporter (bot/services/to_reporter.py): not to one who
                # refused contact, in their safe time. It goes to a reporter record that may be
                # deleted just below, so it is not linked to it, and when discreet it is a neutral
                # notice of its own (nothing waits behind a "Buka").
                await self.phone.queue(
                    session, reporter, kind="draft_expired", now=now, linked=False,
                    content={"text": notice(reporter.language), "parse_mode": "HTML"},
                    neutral={"text": neutral_notice(reporter.language)},
                    reach=await reach_of_draft(session, reporter, json.loads(expired.answers)))
            if rows:
                await session.execute(delete(Draft).where(Draft.id.in_([d.id for d, _ in rows])))
                for _draft, reporter in rows:
                    await forget_if_unused(session, reporter)
            return len(rows)
