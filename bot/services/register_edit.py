"""**Lengkapi data**: officers fill a case's SIMFONI-PPA record from the case card, one field per
step, each answer committed at once (DESIGN §5, issue 13).

Per victim: sex, age group, the forms of violence they suffered (several: each press ticks or
unticks one), disability, education, occupation, marital status; per perpetrator: sex, age group
and the relation to each victim; for the case: the incident date (a year, a month or a day) and
the SIMFONI-PPA place. "Not known" is an answer for every field (stored as None, or no form of
violence; ``NA`` in the export). Victims and perpetrators can be added.

Every press is authorised again here through ``who_is`` (``access.RECORD``: officers of the
case's area and admins); anyone else changes nothing, and the refusal is in the case's history.
Two officers writing the same field: the last write wins and both are in the history
(``record_edited`` events, with the value before and after).

The case's forms of violence follow the victims': the report's forms and every victim's
(``violence_types`` events keep the report's). Sexual violence or trafficking (TPPO) appearing
so starts the UU TPKS police deadline (``police_deadline_set``), as a report of it would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Vault
from bot.domain import access, register, simfoni
from bot.domain import services as rules
from bot.domain.access import Standing
from bot.domain.tiers import police_deadline
from bot.services.case_access import Actor, actor_for
from bot.services.police import police_referred
from bot.services.updates import already_processed, mark_processed
from models import Case, CaseEvent, Perpetrator, Victim, VictimPerpetrator

UNKNOWN = "na"  # the "Not known" button
CASE = "c"
MAX_PEOPLE = 20  # victims or perpetrators one case takes from these buttons

# Each field: where it is stored and the SIMFONI-PPA list its values come from.
VICTIM_FIELDS: dict[str, simfoni.CategorySet] = {
    "sex": simfoni.SEXES, "age": simfoni.AGE_BANDS, "vio": simfoni.VIOLENCE_FORMS,
    "dis": simfoni.DISABILITY, "edu": simfoni.EDUCATION, "occ": simfoni.OCCUPATIONS,
    "mar": simfoni.MARITAL_STATUSES,
}
VICTIM_COLUMNS = {"sex": "sex", "age": "age_band", "vio": "violence", "dis": "disability",
                  "edu": "education", "occ": "occupation", "mar": "marital_status"}
SEVERAL = {"vio"}  # fields holding a set of values: a press ticks or unticks one
PERPETRATOR_FIELDS: dict[str, simfoni.CategorySet] = {"sex": simfoni.SEXES,
                                                      "age": simfoni.AGE_BANDS}
PERPETRATOR_COLUMNS = {"sex": "sex", "age": "age_band"}
RELATION = "rel"  # "rel<victim number>": the perpetrator's relation to that victim
CASE_FIELDS = ("date", "place")


class EditOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # who_is says no: nothing changed, nothing said
    UNKNOWN = "unknown"  # no such case, person or field
    DUPLICATE = "duplicate"  # the same update again
    FULL = "full"  # MAX_PEOPLE reached


@dataclass
class Record:
    """A case's SIMFONI-PPA record as the card shows it."""

    case: Case
    victims: list[Victim]
    perpetrators: list[Perpetrator]
    relations: dict[tuple[int, int], str | None] = field(default_factory=dict)  # (v, p) numbers
    actor: Actor | None = None

    @property
    def filled(self) -> int:
        return completeness(self)[0]

    @property
    def total(self) -> int:
        return completeness(self)[1]


@dataclass
class Edited:
    outcome: EditOutcome
    record: Record | None = None
    target: str = ""
    field: str = ""
    refused: Actor | None = None  # who was refused (REFUSED), for the words of the refusal
    reference: str = ""


def completeness(record: Record) -> tuple[int, int]:
    """(known fields, fields): each victim's seven, each perpetrator's sex, age group and
    relation to each victim, the incident date and the place."""
    known = total = 0
    for victim in record.victims:
        for column in VICTIM_COLUMNS.values():
            total += 1
            known += getattr(victim, column) not in (None, [])
    for perpetrator in record.perpetrators:
        total += 2
        known += perpetrator.sex is not None
        known += perpetrator_band(perpetrator) is not None
        for victim in record.victims:
            total += 1
            known += record.relations.get((victim.number, perpetrator.number)) is not None
    total += 2
    known += record.case.incident_date is not None
    known += register.simfoni_place(record.case.place) is not None
    return known, total


def perpetrator_band(perpetrator: Perpetrator) -> str | None:
    """The age group: as stored, else that of an exact age (a register imported before)."""
    if perpetrator.age_band is not None:
        return perpetrator.age_band
    return simfoni.age_band(perpetrator.age) if perpetrator.age is not None else None


def fields_of(record: Record, target: str) -> list[str]:
    """The fields of a target, in the order they are asked."""
    if target == CASE:
        return list(CASE_FIELDS)
    if target.startswith("v"):
        return list(VICTIM_FIELDS)
    return [*PERPETRATOR_FIELDS, *(f"{RELATION}{v.number}" for v in record.victims)]


def chosen(value: str | None) -> list[str]:
    """The codes of a field holding several (``SEVERAL``), as ``value_of`` gives them."""
    return value.split(";") if value else []


def value_of(record: Record, target: str, name: str) -> str | None:
    if target == CASE:
        if name == "place":
            return register.simfoni_place(record.case.place)
        if record.case.incident_date is None:
            return None
        return register.IncidentDate(record.case.incident_date,
                                     record.case.incident_precision or register.DAY).text()
    number = int(target[1:])
    if target.startswith("v"):
        victim = next((v for v in record.victims if v.number == number), None)
        if victim is None:
            return None
        if name in SEVERAL:  # codes joined with ";" in their list's order, None for none
            return ";".join(victim.violence or []) or None
        return getattr(victim, VICTIM_COLUMNS[name])
    if name.startswith(RELATION):
        return record.relations.get((int(name[len(RELATION):]), number))
    perpetrator = next((p for p in record.perpetrators if p.number == number), None)
    if perpetrator is None:
        return None
    return perpetrator_band(perpetrator) if name == "age" else perpetrator.sex


def parse_date(value: str, today: date) -> register.IncidentDate:
    """``2025``, ``2025-03`` or ``2025-03-15``, not after today."""
    found = register.parse_incident(value)
    if found.on > today:
        raise ValueError("a date in the future")
    return found


async def record_of(session: AsyncSession, case: Case) -> Record:
    """A case's SIMFONI-PPA record (read only; the caller decided who may see it)."""
    return (await records_of(session, [case]))[case.id]


async def records_of(session: AsyncSession, cases: list[Case]) -> dict[int, Record]:
    """The records of several cases (a page of ``/kasus``) in three queries, whatever their
    number."""
    ids = [case.id for case in cases]
    victims: dict[int, list[Victim]] = {case_id: [] for case_id in ids}
    perpetrators: dict[int, list[Perpetrator]] = {case_id: [] for case_id in ids}
    if ids:
        for victim in await session.scalars(select(Victim).where(Victim.case_id.in_(ids))
                                            .order_by(Victim.case_id, Victim.number)):
            victims[victim.case_id].append(victim)
        for perpetrator in await session.scalars(
                select(Perpetrator).where(Perpetrator.case_id.in_(ids))
                .order_by(Perpetrator.case_id, Perpetrator.number)):
            perpetrators[perpetrator.case_id].append(perpetrator)
    victim_at = {v.id: (v.case_id, v.number) for found in victims.values() for v in found}
    perpetrator_at = {p.id: (p.case_id, p.number) for found in perpetrators.values()
                      for p in found}
    relations: dict[int, dict[tuple[int, int], str | None]] = {case_id: {} for case_id in ids}
    if victim_at and perpetrator_at:
        for link in await session.scalars(select(VictimPerpetrator).where(
                VictimPerpetrator.victim_id.in_(victim_at))):
            case_id, victim_number = victim_at[link.victim_id]
            found = perpetrator_at.get(link.perpetrator_id)
            if found is not None and found[0] == case_id:
                relations[case_id][victim_number, found[1]] = link.relation
    return {case.id: Record(case, victims[case.id], perpetrators[case.id], relations[case.id])
            for case in cases}


class RegisterEditService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock, vault: Vault,
                 metrics: Counter[str], settings: Settings) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.vault = vault
        self.metrics = metrics

    async def _authorise(self, session: AsyncSession, case: Case, user_id: int, name: str,
                         now: datetime) -> Actor | Edited:
        actor = await actor_for(session, self.vault, user_id, name, case,
                                standing=Standing.NOT_ENROLLED)
        if actor.may(access.RECORD):
            return actor
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                              actor_name=actor.name or None, kind="refused",
                              detail={"action": access.RECORD, "role": actor.role}))
        self.metrics["case_refused"] += 1
        return Edited(EditOutcome.REFUSED, refused=actor, reference=case.reference)

    async def _opened(self, session: AsyncSession, case_id: int, user_id: int, name: str,
                      now: datetime, *, lock: bool = True) -> tuple[Case, Actor] | Edited:
        """The case, for a person ``who_is`` lets fill its record; else what to answer."""
        case = await session.get(Case, case_id, with_for_update=lock)
        if case is None:
            return Edited(EditOutcome.UNKNOWN)
        actor = await self._authorise(session, case, user_id, name, now)
        if isinstance(actor, Edited):
            return actor
        return case, actor

    async def _record(self, session: AsyncSession, case: Case) -> Record:
        return await record_of(session, case)

    async def open(self, user_id: int, name: str, case_id: int) -> Edited:
        """The record for this person, if ``who_is`` lets them fill it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            opened = await self._opened(session, case_id, user_id, name, now, lock=False)
            if isinstance(opened, Edited):
                return opened
            case, actor = opened
            record = await self._record(session, case)
            record.actor = actor
            return Edited(EditOutcome.OK, record)

    async def add(self, user_id: int, name: str, case_id: int, kind: str,
                  key: int | None) -> Edited:
        """A new victim (``v``) or perpetrator (``p``), everything about them not known yet; a
        new perpetrator is linked to every victim and a new victim to every perpetrator."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            opened = await self._opened(session, case_id, user_id, name, now)
            if isinstance(opened, Edited):
                return opened
            case, actor = opened
            model = Victim if kind == "v" else Perpetrator
            if await already_processed(session, key):
                record = await self._record(session, case)
                number = len(record.victims if kind == "v" else record.perpetrators)
                return Edited(EditOutcome.DUPLICATE, record, f"{kind}{number}")
            count = int(await session.scalar(select(func.count()).select_from(model).where(
                model.case_id == case.id)) or 0)
            if count >= MAX_PEOPLE:
                return Edited(EditOutcome.FULL, await self._record(session, case))
            number = count + 1
            if kind == "v":
                victim = Victim(case_id=case.id, number=number, violence=list(
                    case.violence_types or []), services=[])
                session.add(victim)
                await session.flush()
                for perpetrator in await session.scalars(select(Perpetrator).where(
                        Perpetrator.case_id == case.id)):
                    session.add(VictimPerpetrator(victim_id=victim.id,
                                                  perpetrator_id=perpetrator.id, relation=None))
                case.victim_count = max(case.victim_count, number)
            else:
                perpetrator = Perpetrator(case_id=case.id, number=number)
                session.add(perpetrator)
                await session.flush()
                for victim in await session.scalars(select(Victim).where(
                        Victim.case_id == case.id)):
                    session.add(VictimPerpetrator(victim_id=victim.id,
                                                  perpetrator_id=perpetrator.id, relation=None))
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="record_added",
                                  detail={"target": f"{kind}{number}"}))
            mark_processed(session, key, now)
            case.updated_at = now
            await session.flush()
            record = await self._record(session, case)
            record.actor = actor
            return Edited(EditOutcome.OK, record, f"{kind}{number}")

    async def set_field(self, user_id: int, name: str, case_id: int, target: str, name_of: str,
                        value: str, key: int | None) -> Edited:
        """One answer, committed at once; the history keeps the value before and after."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            opened = await self._opened(session, case_id, user_id, name, now)
            if isinstance(opened, Edited):
                return opened
            case, actor = opened
            record = await self._record(session, case)
            record.actor = actor
            if await already_processed(session, key):
                return Edited(EditOutcome.DUPLICATE, record, target, name_of)
            before = value_of(record, target, name_of)
            try:
                after = await self._write(session, record, target, name_of, value, now)
            except (KeyError, ValueError, StopIteration):
                return Edited(EditOutcome.UNKNOWN, record, target, name_of)
            session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key,
                                  actor_name=actor.name, kind="record_edited",
                                  detail={"target": target, "field": name_of, "from": before,
                                          "to": after}))
            if name_of in SEVERAL:
                await session.flush()
                await self._follow_forms(session, record, actor, now)
            mark_processed(session, key, now)
            case.updated_at = now
            await session.flush()
            record = await self._record(session, case)
            record.actor = actor
            return Edited(EditOutcome.OK, record, target, name_of)

    async def _follow_forms(self, session: AsyncSession, record: Record, actor: Actor,
                            now: datetime) -> None:
        """The case's forms of violence become the report's and the victims' together; sexual
        violence or TPPO newly among them starts the police deadline."""
        case = record.case
        before = list(case.violence_types or [])
        first = await session.scalar(select(CaseEvent.detail).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "violence_types")
            .order_by(CaseEvent.id).limit(1))
        reported = set((first or {}).get("report", before))
        chosen_now = reported.union(*(v.violence or [] for v in record.victims))
        after = [c for c in simfoni.VIOLENCE_FORMS.codes() if c in chosen_now]
        if after == before:
            return
        case.violence_types = after
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, actor_name=actor.name,
                              kind="violence_types",
                              detail={"from": before, "to": after, "report": sorted(reported)}))
        # The 3 x 24 h run from NOW, the moment sexual violence or TPPO became known, not from
        # the report. Once set it is never moved or removed here: a legal deadline is not
        # undone by unticking a form later (nor by ticking another one).
        if rules.needs_police(before) or not rules.needs_police(after) \
                or case.police_deadline is not None or case.practice \
                or case.closed_at is not None or await police_referred(session, case):
            return
        deadline = police_deadline(self.settings, now, after)
        if deadline is None:  # pragma: no cover - needs_police(after) said it has one
            return
        case.police_deadline, case.police_reminded = deadline, False
        session.add(CaseEvent(case_id=case.id, at=now, actor=actor.key, actor_name=actor.name,
                              kind="police_deadline_set",
                              detail={"deadline": deadline.isoformat(),
                                      "types": after}))

    async def _write(self, session: AsyncSession, record: Record, target: str, name: str,
               value: str, now: datetime) -> str | None:
        """Store one field's value (codes checked against their SIMFONI-PPA list); the value
        stored, None for not known."""
        case = record.case
        known = None if value == UNKNOWN else value
        if target == CASE:
            if name == "place":
                if known is not None:
                    simfoni.PLACES.get(known)
                case.place = known
                return known
            if name != "date":
                raise KeyError(name)
            if known is None:
                case.incident_date = case.incident_precision = None
                return None
            found = parse_date(known, now.date())
            case.incident_date, case.incident_precision = found.on, found.precision
            return found.text()
        number = int(target[1:])
        if target.startswith("v"):
            victim = next(v for v in record.victims if v.number == number)
            values = VICTIM_FIELDS[name]
            if known is not None:
                values.get(known)
            if name in SEVERAL:  # tick or untick one form; "not known" unticks them all
                now_chosen = set(victim.violence or [])
                if known is not None:
                    now_chosen ^= {known}
                victim.violence = [c for c in values.codes() if known and c in now_chosen]
                return ";".join(victim.violence) or None
            setattr(victim, VICTIM_COLUMNS[name], known)
            if name == "age":
                victim.age = None
                victim.is_child = None if known is None else register.is_child_of(None, known)
            return known
        perpetrator = next(p for p in record.perpetrators if p.number == number)
        if name in PERPETRATOR_FIELDS:
            if known is not None:
                PERPETRATOR_FIELDS[name].get(known)
            setattr(perpetrator, PERPETRATOR_COLUMNS[name], known)
            if name == "age" and perpetrator.age is not None \
                    and simfoni.age_band(perpetrator.age) != known:
                perpetrator.age = None  # an exact age stored before no longer stands
            return known
        if not name.startswith(RELATION):
            raise KeyError(name)
        victim_number = int(name[len(RELATION):])
        victim = next(v for v in record.victims if v.number == victim_number)
        if known is not None:
            simfoni.RELATIONS.get(known)
        link = await session.get(VictimPerpetrator, (victim.id, perpetrator.id))
        if link is None:
            session.add(VictimPerpetrator(victim_id=victim.id, perpetrator_id=perpetrator.id,
                                          relation=known))
        else:
            link.relation = known
        return known
