"""What every benchmark shares: throwaway databases on SQLite and PostgreSQL, the real bot driven
through the Telegram double with the time spent inside the bot measured, and small statistics."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest, RequestData

from bot.bootstrap import prepare_database
from bot.clock import Clock
from bot.config import Settings, load_settings
from bot.crypto import Vault, generate_key
from tests import pg
from tests.harness import Harness, Person
from tests.telegram_chats import Chats
from tests.telegram_double import ChatMessage, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"


# ---- databases -----------------------------------------------------------------------------------

prepare = prepare_database  # migrate, import the shipped regions: as `ppa-bot run` does


@dataclass
class Databases:
    """Fresh migrated databases with regions, on demand: a SQLite file or a PostgreSQL database."""

    workdir: Path
    postgres: str | None  # URL of a server whose user may create databases
    _sqlite_template: Path | None = None
    _pg_template: str | None = None
    _pg_made: list[str] = field(default_factory=list)

    @property
    def backends(self) -> list[str]:
        return ["sqlite", "postgresql"] if self.postgres else ["sqlite"]

    def fresh(self, backend: str, *, empty: bool = False) -> str:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(dir=self.workdir)) / "bench.sqlite3"
            if empty:
                return f"sqlite+aiosqlite:///{path}"
            if self._sqlite_template is None:
                self._sqlite_template = self.workdir / "template.sqlite3"
                prepare(f"sqlite+aiosqlite:///{self._sqlite_template}")
            shutil.copy(self._sqlite_template, path)
            return f"sqlite+aiosqlite:///{path}"
        assert self.postgres, "no PostgreSQL server"
        if not empty and self._pg_template is None:
            name = pg.new_name("bench_tmpl")
            asyncio.run(pg.create_database(name, base=self.postgres))
            self._pg_made.append(name)
            prepare(pg.url_for(name, self.postgres))
            self._pg_template = name
        name = pg.new_name("bench")
        url = asyncio.run(pg.create_database(name, None if empty else self._pg_template,
                                             base=self.postgres))
        self._pg_made.append(name)
        return str(url)

    def drop(self, url: str) -> None:
        if url.startswith("postgresql") and self.postgres:
            name = url.rsplit("/", 1)[-1]
            asyncio.run(pg.drop_database(name, base=self.postgres))
            if name in self._pg_made:
                self._pg_made.remove(name)

    def close(self) -> None:
        for name in reversed(self._pg_made):
            asyncio.run(pg.drop_database(name, base=self.postgres or ""))
        self._pg_made.clear()


@contextmanager
def temporary_postgres(workdir: Path) -> Iterator[str | None]:
    """A durable (fsync on) throwaway server started by .ci/postgres.sh; None when impossible.
    It gets a folder of its own: as root the server runs as `postgres`, which needs to reach it."""
    directory = Path(tempfile.mkdtemp(prefix="ppa-bench-pg-", dir=workdir.parent))
    script = ROOT / ".ci" / "postgres.sh"
    started = subprocess.run(["bash", str(script), "start", str(directory), "--durable"],
                             capture_output=True, text=True, check=False)
    if started.returncode != 0:
        print(f"   (no PostgreSQL: {started.stderr.strip().splitlines()[-1:]})")
        yield None
        return
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


def bench_settings(url: str, **overrides: Any) -> Settings:
    return load_settings(**{"telegram": {"token": TOKEN}, "database": {"url": url}, **overrides})


# ---- the bot, timed ------------------------------------------------------------------------------

class RealClient(HTTPXRequest):
    """PTB's real HTTP client (``HTTPXRequest``), talking to the fake Bot API server of
    ``bench/fake_api.py``, which keeps, from the answers, each chat's messages as they stand (what
    the people of the bench see, to press their buttons). Telegram's answers are read only when a
    person looks: the client pays for the requests, not for the bench's bookkeeping."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=8)
        # The harness sets Telegram's clock on the double's chat model; here Telegram is the
        # fake server's, and this one stays unused.
        self.chats = Chats()
        self.now = int(time.time())
        self._chats: dict[int, dict[int, ChatMessage]] = {}
        self._unread: dict[int, list[bytes]] = {}
        self._next_id: dict[int, int] = {}

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, method, request_data, *args, **kwargs)
        if code == 200 and request_data is not None \
                and url.rsplit("/", 1)[-1] in ("sendMessage", "editMessageText"):
            chat_id = request_data.parameters.get("chat_id")
            if chat_id is not None:
                self._unread.setdefault(int(str(chat_id)), []).append(payload)
        return code, payload

    def sees(self, update: dict[str, Any]) -> None:
        """The fake server keeps Telegram's side of the chats; nothing to note here."""

    def messages(self, chat_id: int) -> list[ChatMessage]:
        chat = self._chats.setdefault(chat_id, {})
        for payload in self._unread.pop(chat_id, []):
            result = json.loads(payload)["result"]
            if isinstance(result, dict):
                chat[result["message_id"]] = ChatMessage(
                    result["message_id"], chat_id, result.get("text", ""),
                    result.get("reply_markup"), "sendMessage", {})
        return list(chat.values())

    def last_message(self, chat_id: int) -> ChatMessage:
        return self.messages(chat_id)[-1]

    def next_message_id(self, chat_id: int) -> int:
        """The person's own messages: numbers of their own, far from the server's."""
        self._next_id[chat_id] = self._next_id.get(chat_id, 5_000_000) + 1
        return self._next_id[chat_id]

    def forget_chat(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)
        self._unread.pop(chat_id, None)
        self._next_id.pop(chat_id, None)


class LeanTelegram(FakeTelegram):
    """The Telegram double, keeping only recent calls: long runs must not measure its memory."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = deque(maxlen=2000)  # type: ignore[assignment]


@dataclass
class TimedHarness(Harness):
    """The real bot; ``feed`` measures the time spent inside the bot for each update. With
    ``sequential`` (PTB's default, what the bot runs), updates are processed one at a time however
    many reporters talk at once."""

    sequential: bool = True
    samples: list[float] = field(default_factory=list)
    # Set once ``len(samples)`` reaches ``budget`` (the throughput run stops there).
    budget: int | None = None
    budget_spent: asyncio.Event = field(default_factory=asyncio.Event)
    # Called before each update (outside the timed part): (a) interleaves its baselines here.
    before_each: Callable[[], Awaitable[None]] | None = None
    _lock: asyncio.Lock | None = None

    async def feed(self, payload: dict[str, Any]) -> Update:
        assert self.app is not None
        if self._lock is None:
            self._lock = asyncio.Lock()
        if self.before_each is not None:
            await self.before_each()
        self.telegram.sees(payload)  # as Telegram does before delivering it: not timed
        if self.sequential:
            async with self._lock:
                return await self._timed(payload)
        return await self._timed(payload)

    async def _timed(self, payload: dict[str, Any]) -> Update:
        assert self.app is not None
        started = time.perf_counter()
        update = Update.de_json(payload, self.app.bot)
        await self.app.process_update(update)
        self.samples.append(time.perf_counter() - started)
        if self.budget is not None and len(self.samples) >= self.budget:
            self.budget_spent.set()
        return update


async def start_bot(url: str, *, sequential: bool = True, telegram: Any = None,
                    api: str | None = None, **overrides: Any) -> TimedHarness:
    """The real bot on ``url`` with the real clock, fed through the Telegram double; with
    ``api`` (a fake Bot API's base URL, ``bench/fake_api.py``), through PTB's real HTTP client."""
    if api is not None:
        telegram = RealClient()
        overrides["telegram"] = {"token": TOKEN, "base_url": api}
    if "telegram_settings" in overrides:
        overrides["telegram"] = overrides.pop("telegram_settings")
    harness = TimedHarness(settings=bench_settings(url, **overrides),
                           clock=Clock(),  # type: ignore[arg-type]
                           vault=Vault([generate_key()]), telegram=telegram or LeanTelegram(),
                           sequential=sequential)
    await harness.start()
    return harness


async def walk_report(person: Person, *, start: bool = True, send: bool = True) -> None:
    """A whole report in English, the common path (18 updates: the phone and landmark, behind
    "Add details", are left out)."""
    if start:
        await person.sends("/lapor")
    await person.presses("No")
    for label in ("I agree", "Family of the victim", "Girl (under 18)", "6–12", "1", "Physical",
                  "Done"):
        await person.presses(label)
    await person.sends("Pondong Baru")
    for label in ("Pondong Baru", "Household", "This week", "Neighbour"):
        await person.presses(label)
    await person.sends("Tetangga memukul anaknya setiap malam.")
    await person.presses("Yes, through this bot")  # also finishes the story
    await person.presses("Any time")
    if send:
        await person.presses("Send")


# ---- statistics ----------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"

