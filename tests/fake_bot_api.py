"""A fake Telegram Bot API server for process-level tests: ``ppa-bot run`` talks HTTP to it.

It runs in the test's own event loop (tornado on 127.0.0.1, a free port), so everything it records
outlives the bot process the test kills. It answers like Telegram does:

- ``getUpdates`` is long polling with Telegram's offset rule: it serves the queued updates with
  ``update_id >= offset`` and forgets (confirms) those below it. An update fetched by a process that
  is killed before it asks again with a higher offset is served again to the next process.
- sending, editing, deleting and answering button presses go to the chat model Telegram keeps
  (``tests/telegram_chats.py``, shared with the in-process double): transcripts of both sides and
  Telegram's refusals (``message is not modified``, ``message to edit not found``, a callback query
  answered twice or too late is ``query is too old``, chat migrated, blocked, kicked).
- faults are injected per method and chat: Telegram's (429 with ``retry_after``, 502, 403, 400)
  and the network's: a slow answer, a dropped connection (the request is read and the socket
  closed without an answer).
- ``on_call`` hooks see every accepted call before its answer is written: a test kills the bot there
  to land exactly between "Telegram accepted it" and "the bot heard so".
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from tornado.httpserver import HTTPServer
from tornado.iostream import StreamClosedError
from tornado.web import Application, RequestHandler

from tests.telegram_chats import (
    BOT_USER,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    SENDING,
    ApiError,
    ChatMessage,
    Chats,
    Fault,
    Faults,
    refusal,
)

log = logging.getLogger(__name__)

# Parameters Telegram takes as plain strings; everything else arrives JSON-encoded from PTB.
STRING_PARAMS = {"text", "caption", "parse_mode", "callback_query_id", "action", "url",
                 "secret_token", "file_id", "description", "short_description", "name", "title",
                 "language_code", "emoji", "business_connection_id", "message_effect_id"}
__all__ = ["NOT_MODIFIED", "QUERY_TOO_OLD", "Call", "FakeBotApi", "Fault"]


@dataclass
class Call:
    """One request the bot made, in arrival order."""

    seq: int
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    status: int | str = "open"  # HTTP status once answered, or "dropped"
    fault: str | None = None
    result: Any = None
    error: str | None = None  # Telegram's description when it refused the call

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


@dataclass
class QueuedUpdate:
    update_id: int
    payload: dict[str, Any]
    kind: str
    served: int = 0  # how many times getUpdates handed it out


class FakeBotApi:
    def __init__(self, token: str, *, callback_answer_window: float = 15.0) -> None:
        self.token = token
        self.calls: list[Call] = []
        self._faults = Faults()
        self.on_call: list[Callable[[Call], None]] = []
        self.chats = Chats(clock=time.time, callback_answer_window=callback_answer_window)
        self.updates: list[QueuedUpdate] = []
        self.confirmed_offset = 0  # every update below this was confirmed by a getUpdates offset
        self.now = int(time.time())
        self._seq = itertools.count(1)
        self._update_ids = itertools.count(10_000)
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._server: HTTPServer | None = None
        self.port = 0

    # --- life cycle ------------------------------------------------------------------------------
    async def start(self) -> FakeBotApi:
        app = Application([
            (r"/bot([^/]+)/([A-Za-z]+)", ApiHandler, {"api": self}),
            (r"/file/bot([^/]+)/(.+)", FileHandler, {"api": self}),
        ], log_function=lambda handler: None)  # every call is in ``calls``; no access log
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.port = int(sock.getsockname()[1])
        self._server = HTTPServer(app, max_body_size=60 * 1024 * 1024)
        self._server.add_sockets([sock])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._poll_generation += 1  # every waiting long poll returns now
            self._notify()
            await self._server.close_all_connections()
            self._server = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- what people do: updates -----------------------------------------------------------------
    def next_message_id(self, chat_id: int) -> int:
        """Message ids in a chat form one sequence for both sides, as in Telegram."""
        return self.chats.next_message_id(chat_id)

    def enqueue(self, kind: str, content: dict[str, Any]) -> int:
        """Queue an update of ``kind`` ("message", "callback_query", ...); returns its id."""
        update_id = next(self._update_ids)
        payload = {"update_id": update_id, kind: content}
        self.updates.append(QueuedUpdate(update_id, payload, kind))
        self.chats.sees(payload)  # the person's message is in the chat; a press opens a query
        self._notify()
        return update_id

    def private_message(self, user: dict[str, Any], **content: Any) -> int:
        chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
        text = content.get("text")
        if isinstance(text, str) and text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        message = {"message_id": self.next_message_id(user["id"]), "date": self.now,
                   "chat": chat, "from": user, **content}
        return self.enqueue("message", message)

    def callback_query(self, user: dict[str, Any], message: ChatMessage, data: str) -> int:
        query = {"id": str(next(self._update_ids)) + "0", "from": user, "chat_instance": "ci-1",
                 "data": data,
                 "message": {"message_id": message.message_id, "date": self.now,
                             "chat": {"id": message.chat_id, "type": "private"},
                             "from": BOT_USER, "text": message.text}}
        return self.enqueue("callback_query", query)

    def is_confirmed(self, update_id: int) -> bool:
        return self.confirmed_offset > update_id

    def pending_updates(self) -> list[int]:
        return [u.update_id for u in self.updates]

    # --- faults ----------------------------------------------------------------------------------
    def inject(self, kind: str, *, method: str | None = None, chat_id: int | None = None,
               times: int = 1, retry_after: int = 1, delay: float = 2.0) -> Fault:
        """Fail the next ``times`` matching calls: Telegram's refusals ("429", "5xx", "403",
        "400-chat", "400") or the network's ("slow": answered after ``delay`` seconds; "drop":
        the connection closes without an answer)."""
        return self._faults.inject(kind, method=method, chat_id=chat_id, times=times,
                                   retry_after=retry_after, delay=delay)

    @property
    def faults(self) -> Faults:
        return self._faults

    # --- waiting (the test side) -----------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, at_most: float) -> None:
        """Return when anything happens here, or after ``at_most`` seconds."""
        try:
            await asyncio.wait_for(self._changed.wait(), at_most)
        except TimeoutError:
            pass

    async def wait_until(self, condition: Callable[[], Any], *, within: float, what: str,
                         check: Callable[[], None] | None = None) -> Any:
        """Wait for ``condition()`` to be truthy; ``check`` may raise to stop early (a dead
        process). Conditions over other state (a database) are re-checked every 0.1 s."""
        deadline = time.monotonic() + within
        while True:
            value = condition()
            if value:
                return value
            if check is not None:
                check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"waited {within:.0f}s for {what}")
            await self.changed(min(remaining, 0.1))

    # --- reading what happened -------------------------------------------------------------------
    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method
                and (chat_id is None or c.chat_id == chat_id)]

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages in the chat, as the person sees them now."""
        return self.chats.messages(chat_id)

    def delivered(self, chat_id: int) -> list[Call]:
        """Sending calls Telegram accepted for this chat (whether or not the bot heard back)."""
        return [c for c in self.calls if c.method in SENDING and c.chat_id == chat_id and c.ok]

    # --- the API ---------------------------------------------------------------------------------
    async def handle(self, method: str, params: dict[str, Any],
                     handler: ApiHandler) -> tuple[int, dict[str, Any]] | None:
        """Answer one call; None means: drop the connection without an answer."""
        call = Call(next(self._seq), method, params)
        self.calls.append(call)
        self._notify()
        fault = self._faults.take(method, call.chat_id) if method != "getMe" else None
        if fault is not None:
            call.fault = fault.kind
            if fault.kind == "drop":
                call.status = "dropped"
                self._notify()
                return None
            if fault.kind == "slow":
                await asyncio.sleep(fault.delay)  # the simulated network, not the test, waits
            else:
                refused = refusal(fault)
                assert refused is not None, f"unknown fault {fault.kind!r}"
                return self._failed(call, refused)
        if method == "getUpdates":
            return await self._get_updates(call, handler)
        try:
            result = self._answer(method, params)
        except ApiError as exc:
            return self._failed(call, exc)
        call.status, call.result = 200, result
        for hook in list(self.on_call):
            hook(call)
        self._notify()
        return 200, {"ok": True, "result": result}

    def _failed(self, call: Call, error: ApiError) -> tuple[int, dict[str, Any]]:
        call.status = error.code
        call.error = error.description
        self._notify()
        return error.code, error.body()

    async def _get_updates(self, call: Call,
                           handler: ApiHandler) -> tuple[int, dict[str, Any]] | None:
        params = call.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates") or None
        if offset > 0:
            self.updates = [u for u in self.updates if u.update_id >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            self.updates = self.updates[offset:]
        # A newer getUpdates ends an older one, as Telegram does (409 to the older request).
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        deadline = time.monotonic() + timeout
        while True:
            if generation != self._poll_generation or handler.gone:
                return self._failed(call, ApiError(409, "Conflict: terminated by other "
                                                   "getUpdates request; make sure that only one "
                                                   "bot instance is running"))
            ready = [u for u in self.updates if u.update_id >= offset
                     and (allowed is None or u.kind in allowed)][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                for update in ready:
                    update.served += 1
                call.status, call.result = 200, [u.update_id for u in ready]
                self._notify()
                return 200, {"ok": True, "result": [u.payload for u in ready]}
            await self.changed(remaining)

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False,
                    "pending_update_count": len(self.updates)}
        return self.chats.answer(method, params)


def decode_params(arguments: dict[str, list[bytes]]) -> dict[str, Any]:
    """PTB posts form fields: strings as they are, everything else JSON-encoded."""
    params: dict[str, Any] = {}
    for key, values in arguments.items():
        raw = values[-1].decode("utf-8")
        if key in STRING_PARAMS:
            params[key] = raw
            continue
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


class ApiHandler(RequestHandler):
    def initialize(self, api: FakeBotApi) -> None:
        self.api = api
        self.gone = False

    def on_connection_close(self) -> None:
        self.gone = True
        self.api._notify()

    async def post(self, token: str, method: str) -> None:
        await self._serve(unquote(token), method)

    async def get(self, token: str, method: str) -> None:
        await self._serve(unquote(token), method)

    async def _serve(self, token: str, method: str) -> None:
        if token != self.api.token:
            self._write(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        params = decode_params(self.request.body_arguments | self.request.query_arguments)
        for name, files in self.request.files.items():
            params[name] = f"<upload {files[0].filename or name}, {len(files[0].body)} bytes>"
        answer = await self.api.handle(method, params, self)
        if answer is None:  # a dropped connection: no status line, no body
            self.detach().close()
            return
        self._write(*answer)

    def _write(self, status: int, body: dict[str, Any]) -> None:
        if self.gone:
            self._finished = True
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        try:
            self.finish(json.dumps(body, ensure_ascii=False))
        except StreamClosedError:  # the bot was killed while we answered
            pass

    def log_exception(self, *args: Any) -> None:  # a killed client is not our error
        log.debug("fake Bot API request ended early", exc_info=True)


class FileHandler(RequestHandler):
    def initialize(self, api: FakeBotApi) -> None:
        self.api = api

    async def get(self, token: str, path: str) -> None:
        """A file a getFile named (``Chats.download``): its bytes, or 404 as Telegram does."""
        call = Call(next(self.api._seq), "file", {"path": path})
        self.api.calls.append(call)
        content = self.api.chats.download(unquote(path)) if token == self.api.token else None
        fault = self.api.faults.take("file", None)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            fault = None
        if content is None or fault is not None:
            call.status = 404
            self.set_status(404)
            self.finish(json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        call.status = 200
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(content)
