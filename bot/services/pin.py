"""A PIN on the reporter's phone (DESIGN §6): a phone in the wrong hands cannot speak for them.

At the end of a report (or in /bantuan) a reporter may choose a PIN of 4–6 digits. Only a slow
keyed hash is stored (scrypt, a salt of its own and a server secret from the lookup key). With a
PIN, ``/status``, ``/dataku``, ``/tambah``, "Buka" and replies to officers first ask for it
(``gate``); what was asked waits, encrypted, and is done once the PIN is right. Three wrong tries
pause these for 15 minutes, and while paused they answer as if there were no report at all.
``/lapor`` never asks: a forgotten PIN is never a dead end.

The handler deletes the message holding the PIN at once; nothing here logs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.crypto import Vault
from bot.services.reporters import find_reporter, heard_from
from models import Case, Reporter, ReporterPin

PIN = re.compile(r"^\s*(\d{4,6})\s*$")
TRIES = 3
PAUSE = timedelta(minutes=15)
UNLOCKED_FOR = timedelta(minutes=10)  # one right PIN covers what follows for this long
WAIT_FOR_PIN = timedelta(minutes=10)  # how long typed digits are taken as the PIN asked for
# scrypt: about 16 MB and a few dozen milliseconds per try on a small server.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32}

NEW, AGAIN, CHECK = "new", "again", "check"


class Gate(StrEnum):
    OPEN = "open"  # no PIN, or it was given a moment ago
    ASK = "ask"  # the PIN is asked for; what was wanted waits for it
    PAUSED = "paused"  # three wrong tries: answer as if there were nothing


class Entered(StrEnum):
    NOT_WAITING = "not_waiting"  # digits that are not a PIN anybody asked for
    STRAY = "stray"  # the PIN itself, typed when it was not asked for (or while paused)
    RIGHT = "right"
    WRONG = "wrong"
    PAUSED = "paused"  # the third wrong try
    AGAIN = "again"  # a new PIN: type it once more
    SET = "set"
    MISMATCH = "mismatch"  # the second entry of a new PIN differed
    TOO_EASY = "too_easy"


class Setting(StrEnum):
    NO_REPORT = "no_report"
    ASK_NEW = "ask_new"
    ASK = "ask"  # the current PIN first
    PAUSED = "paused"
    REMOVED = "removed"


@dataclass
class PinResult:
    outcome: Entered
    pending: dict[str, Any] = field(default_factory=dict)
    tries_left: int = 0


def too_easy(pin: str) -> bool:
    """One digit repeated, or a straight run (1234, 987654)."""
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    return len(set(pin)) == 1 or steps in ({1}, {-1})


class PinService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 vault: Vault) -> None:
        self.sessions = sessions
        self.clock = clock
        self.vault = vault
        self._pepper = vault.secret_for("pin")

    def _hash_now(self, pin: str, salt: str) -> str:
        return hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt) + self._pepper,
                              **SCRYPT).hex()

    async def _hash(self, pin: str, salt: str) -> str:
        return await asyncio.to_thread(self._hash_now, pin, salt)

    async def _pin(self, session: AsyncSession,
                   telegram_id: int) -> tuple[Reporter | None, ReporterPin | None]:
        reporter = await find_reporter(session, self.vault, telegram_id)
        if reporter is None:
            return None, None
        return reporter, await session.get(ReporterPin, reporter.id, with_for_update=True)

    @staticmethod
    def _ask(pin: ReporterPin, pending: dict[str, Any], now: datetime) -> None:
        pin.waiting = CHECK
        pin.waiting_until = now + WAIT_FOR_PIN
        pin.pending = json.dumps(pending, ensure_ascii=False)
        pin.updated_at = now

    async def gate(self, telegram_id: int, pending: dict[str, Any]) -> Gate:
        """Whether ``pending`` (what the person asked for) may be done now; when the PIN is
        asked for, it waits for it."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter, pin = await self._pin(session, telegram_id)
            if reporter is not None:
                heard_from(reporter)
            if pin is None or pin.pin_hash is None:
                return Gate.OPEN
            if pin.paused_until is not None and pin.paused_until > now:
                return Gate.PAUSED
            if pin.unlocked_until is not None and pin.unlocked_until > now:
                return Gate.OPEN
            self._ask(pin, pending, now)
            return Gate.ASK

    async def has_pin(self, telegram_id: int) -> bool:
        async with self.sessions() as session:
            _reporter, pin = await self._pin(session, telegram_id)
            return pin is not None and pin.pin_hash is not None

    async def begin_setting(self, telegram_id: int) -> Setting:
        """Choose a PIN (or change it: the current one first)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            reporter, pin = await self._pin(session, telegram_id)
            if reporter is None or not await session.scalar(
                    select(exists().where(Case.reporter_id == reporter.id))):
                return Setting.NO_REPORT
            if pin is not None and pin.pin_hash is not None:
                if pin.paused_until is not None and pin.paused_until > now:
                    return Setting.PAUSED
                if pin.unlocked_until is None or pin.unlocked_until <= now:
                    self._ask(pin, {"do": "pin"}, now)
                    return Setting.ASK
            if pin is None:
                pin = ReporterPin(reporter_id=reporter.id, salt=secrets.token_hex(16),
                                  failures=0, updated_at=now)
                session.add(pin)
            pin.waiting = NEW
            pin.waiting_until = now + WAIT_FOR_PIN
            pin.pending = None
            pin.updated_at = now
            return Setting.ASK_NEW

    async def remove(self, telegram_id: int) -> Setting:
        """Remove the PIN (after it was given)."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            _reporter, pin = await self._pin(session, telegram_id)
            if pin is None or pin.pin_hash is None:
                if pin is not None:
                    await session.delete(pin)
                return Setting.REMOVED
            if pin.paused_until is not None and pin.paused_until > now:
                return Setting.PAUSED
            if pin.unlocked_until is None or pin.unlocked_until <= now:
                self._ask(pin, {"do": "pin_off"}, now)
                return Setting.ASK
            await session.delete(pin)
            return Setting.REMOVED

    async def entered(self, telegram_id: int, text: str) -> PinResult:
        """Digits typed while a PIN is asked for (the handler has already deleted them)."""
        match = PIN.match(text)
        if match is None:
            return PinResult(Entered.NOT_WAITING)
        typed = match.group(1)
        now = self.clock.now()
        async with self.sessions.begin() as session:
            _reporter, pin = await self._pin(session, telegram_id)
            if pin is None:
                return PinResult(Entered.NOT_WAITING)
            if pin.waiting is None or pin.waiting_until is None or pin.waiting_until <= now:
                # Not asked for: still, the PIN itself must not stay in the chat.
                if pin.pin_hash is not None and hmac.compare_digest(
                        await self._hash(typed, pin.salt), pin.pin_hash):
                    return PinResult(Entered.STRAY)
                return PinResult(Entered.NOT_WAITING)
            pin.updated_at = now
            if pin.waiting == CHECK:
                return await self._check(pin, typed, now)
            if pin.waiting == NEW:
                if too_easy(typed):
                    pin.waiting_until = now + WAIT_FOR_PIN
                    return PinResult(Entered.TOO_EASY)
                salt = secrets.token_hex(16)
                pin.pending = json.dumps({"salt": salt, "hash": await self._hash(typed, salt)})
                pin.waiting = AGAIN
                pin.waiting_until = now + WAIT_FOR_PIN
                return PinResult(Entered.AGAIN)
            first = json.loads(pin.pending or "{}")
            if not first or not hmac.compare_digest(
                    await self._hash(typed, first["salt"]), first["hash"]):
                pin.waiting = NEW
                pin.waiting_until = now + WAIT_FOR_PIN
                pin.pending = None
                return PinResult(Entered.MISMATCH)
            pin.pin_hash, pin.salt = first["hash"], first["salt"]
            pin.failures = 0
            pin.paused_until = None
            pin.unlocked_until = now + UNLOCKED_FOR
            pin.waiting = pin.waiting_until = pin.pending = None
            return PinResult(Entered.SET)

    async def _check(self, pin: ReporterPin, typed: str, now: datetime) -> PinResult:
        pending: dict[str, Any] = json.loads(pin.pending or "{}")
        assert pin.pin_hash is not None
        if hmac.compare_digest(await self._hash(typed, pin.salt), pin.pin_hash):
            pin.failures = 0
            pin.unlocked_until = now + UNLOCKED_FOR
            pin.waiting = pin.waiting_until = pin.pending = None
            return PinResult(Entered.RIGHT, pending)
        pin.failures += 1
        if pin.failures < TRIES:
            pin.waiting_until = now + WAIT_FOR_PIN
            return PinResult(Entered.WRONG, pending, TRIES - pin.failures)
        pin.failures = 0
        pin.paused_until = now + PAUSE
        pin.waiting = pin.waiting_until = pin.pending = None
        return PinResult(Entered.PAUSED, pending)
