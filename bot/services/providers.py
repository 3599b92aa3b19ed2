"""The provider directory (DESIGN §5): who an officer can refer a survivor to, by kind of service.

Seeded from ``bot/data/paser_layanan.csv`` at the first start (when the table is empty); admins
add, rename, deactivate and reactivate providers from chat (``/layanan``); another district loads
its own list with ``ppa-bot providers import CSV``: the whole file is checked first, every bad
line reported with its number, and then nothing is written; a good file is written in one short
transaction (safe while the bot runs). Contact numbers are not stored: they come from
``providers.contacts`` in the configuration.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.crypto import Vault
from bot.domain import services as rules
from bot.services.responders import active_officer
from models import Provider

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "paser_layanan.csv"
COLUMNS = ("kind", "name", "kecamatan")
MAX_NAME = 120
MAX_KECAMATAN = 80


class DirectoryOutcome(StrEnum):
    OK = "ok"
    NOT_ADMIN = "not_admin"
    BAD = "bad"  # what was written is not a provider (``problem``)
    MISSING = "missing"
    EXISTS = "exists"


@dataclass
class Row:
    line: int
    kind: str
    name: str
    kecamatan: str | None


@dataclass
class Checked:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line 4: ..."


def check_row(kind: str, name: str, kecamatan: str) -> str | None:
    """Why these values are not a provider, or None."""
    kind, name, kecamatan = kind.strip(), name.strip(), kecamatan.strip()
    if kind not in rules.KINDS:
        return f"kind {kind!r} is not one of {', '.join(rules.KINDS)}"
    if not name:
        return "the name is empty"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    if len(kecamatan) > MAX_KECAMATAN:
        return f"the kecamatan is longer than {MAX_KECAMATAN} characters"
    return None


def read_csv(data: bytes) -> Checked:
    """Every line of a providers file checked: columns kind, name, kecamatan (UTF-8, comma or
    semicolon). A duplicate (same kind and name) is an error too."""
    checked = Checked()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        checked.errors.append("line 1: the file is not UTF-8 text (save it as CSV UTF-8)")
        return checked
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != COLUMNS:
        checked.errors.append(f"line 1: the columns must be {', '.join(COLUMNS)} "
                              f"(found {', '.join(header) or 'nothing'})")
        return checked
    seen: dict[tuple[str, str], int] = {}
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(COLUMNS):
            checked.errors.append(f"line {number}: {len(values)} values, expected "
                                  f"{len(COLUMNS)}")
            continue
        kind, name, kecamatan = values
        problem = check_row(kind, name, kecamatan)
        if problem is not None:
            checked.errors.append(f"line {number}: {problem}")
            continue
        key = (kind.strip(), name.strip().casefold())
        if key in seen:
            checked.errors.append(f"line {number}: the same provider as line {seen[key]}")
            continue
        seen[key] = number
        checked.rows.append(Row(number, kind.strip(), name.strip(), kecamatan.strip() or None))
    if not checked.rows and not checked.errors:
        checked.errors.append("line 2: the file has no provider")
    return checked


@dataclass
class Imported:
    errors: list[str]
    added: int = 0
    updated: int = 0


async def write_rows(session: AsyncSession, rows: list[Row], source: str,
                     now: datetime) -> Imported:
    """Add the new providers, update (and reactivate) those already there."""
    result = Imported([])
    existing = {(p.kind, p.name.casefold()): p for p in await session.scalars(select(Provider))}
    for row in rows:
        found = existing.get((row.kind, row.name.casefold()))
        if found is None:
            session.add(Provider(kind=row.kind, name=row.name, kecamatan=row.kecamatan,
                                 active=True, source=source, updated_at=now))
            result.added += 1
        else:
            found.kecamatan, found.active, found.updated_at = row.kecamatan, True, now
            result.updated += 1
    return result


async def import_file(sessions: async_sessionmaker[AsyncSession], data: bytes, source: str,
                      now: datetime, *, dry_run: bool = False) -> Imported:
    checked = read_csv(data)
    if checked.errors:
        return Imported(checked.errors)
    if dry_run:
        return Imported([], added=len(checked.rows))
    async with sessions.begin() as session:
        return await write_rows(session, checked.rows, source, now)


async def seed(sessions: async_sessionmaker[AsyncSession], now: datetime,
               path: Path = SHIPPED) -> int:
    """At the first start: the shipped directory, when the table is empty."""
    async with sessions() as session:
        if int(await session.scalar(select(func.count()).select_from(Provider)) or 0):
            return 0
    checked = read_csv(await asyncio.to_thread(path.read_bytes))
    if checked.errors:  # the shipped file is checked by the tests
        raise ValueError("; ".join(checked.errors))
    async with sessions.begin() as session:
        if await session.scalar(select(Provider.id).limit(1)) is not None:
            return 0  # another worker seeded it meanwhile
        return (await write_rows(session, checked.rows, "shipped", now)).added


@dataclass
class Change:
    outcome: DirectoryOutcome
    provider: Provider | None = None
    problem: str | None = None


class ProviderDirectory:
    """``/layanan`` for admins: every call checks again that the person is an active admin."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 vault: Vault) -> None:
        self.sessions = sessions
        self.clock = clock
        self.vault = vault

    async def _admin(self, session: AsyncSession, user_id: int) -> bool:
        officer = await active_officer(session, user_id)
        return officer is not None and officer.is_admin

    async def of_kind(self, user_id: int, kind: str) -> list[Provider] | None:
        async with self.sessions() as session:
            if not await self._admin(session, user_id):
                return None
            return list(await session.scalars(select(Provider).where(Provider.kind == kind)
                                              .order_by(Provider.name)))

    async def is_admin(self, user_id: int) -> bool:
        async with self.sessions() as session:
            return await self._admin(session, user_id)

    def _source(self, user_id: int) -> str:
        return "admin:" + self.vault.hash_id(user_id)[:16]

    async def add(self, user_id: int, kind: str, name: str, kecamatan: str) -> Change:
        problem = check_row(kind, name, kecamatan)
        async with self.sessions.begin() as session:
            if not await self._admin(session, user_id):
                return Change(DirectoryOutcome.NOT_ADMIN)
            if problem is not None:
                return Change(DirectoryOutcome.BAD, problem=problem)
            existing = await session.scalar(select(Provider).where(
                Provider.kind == kind.strip(), func.lower(Provider.name) == name.strip().lower()))
            if existing is not None:
                return Change(DirectoryOutcome.EXISTS, existing)
            provider = Provider(kind=kind.strip(), name=name.strip(),
                                kecamatan=kecamatan.strip() or None, active=True,
                                source=self._source(user_id), updated_at=self.clock.now())
            session.add(provider)
            await session.flush()
            return Change(DirectoryOutcome.OK, provider)

    async def rename(self, user_id: int, provider_id: int, name: str, kecamatan: str) -> Change:
        async with self.sessions.begin() as session:
            if not await self._admin(session, user_id):
                return Change(DirectoryOutcome.NOT_ADMIN)
            provider = await session.get(Provider, provider_id)
            if provider is None:
                return Change(DirectoryOutcome.MISSING)
            problem = check_row(provider.kind, name, kecamatan)
            if problem is not None:
                return Change(DirectoryOutcome.BAD, problem=problem)
            provider.name, provider.kecamatan = name.strip(), kecamatan.strip() or None
            provider.source, provider.updated_at = self._source(user_id), self.clock.now()
            return Change(DirectoryOutcome.OK, provider)

    async def set_active(self, user_id: int, provider_id: int, active: bool) -> Change:
        async with self.sessions.begin() as session:
            if not await self._admin(session, user_id):
                return Change(DirectoryOutcome.NOT_ADMIN)
            provider = await session.get(Provider, provider_id)
            if provider is None:
                return Change(DirectoryOutcome.MISSING)
            provider.active, provider.updated_at = active, self.clock.now()
            return Change(DirectoryOutcome.OK, provider)
