"""A Telegram double at PTB's request layer: records every Bot API call and answers it from the
chat model Telegram keeps (``tests/telegram_chats.py``: transcripts of both sides, and Telegram's
refusals: chat migrated, blocked, kicked, message not modified, message to edit not found, query
too old). Injected faults: Telegram's (429 with retry_after, 5xx, 403, 400) and the network's
("timeout": no answer, nothing done; "lost": Telegram did it, but the answer never arrived)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

from tests.telegram_chats import (
    BOT_USER,
    SENDING,
    ApiError,
    ChatMessage,
    Chats,
    Fault,
    Faults,
    refusal,
)

__all__ = ["BOT_USER", "SENDING", "Call", "ChatMessage", "FakeTelegram", "Fault"]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    # Uploaded files (sendPhoto, sendDocument): part name → (file name, content, MIME type).
    files: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # Telegram's description when it refused the call


class FakeTelegram(BaseRequest):
    def __init__(self, chats: Chats | None = None) -> None:
        self.calls: list[Call] = []
        self.chats = chats or Chats()
        self._faults = Faults()

    # --- BaseRequest -------------------------------------------------------------------------
    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download: https://api.telegram.org/file/bot<token>/<path>
            return self._download(url.split("/file/bot", 1)[1].split("/", 1)[1])
        api = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        call = Call(api, params, files=dict(request_data.multipart_data) if request_data else {})
        self.calls.append(call)
        fault = self._faults.take(api, _int(params.get("chat_id")))
        if fault is not None and fault.kind == "timeout":
            raise TimedOut("Timed out")
        refused = refusal(fault) if fault is not None else None
        try:
            if refused is not None:
                raise refused
            result = self.chats.answer(api, params)
        except ApiError as exc:
            call.error = exc.description
            return exc.code, json.dumps(exc.body()).encode()
        if fault is not None and fault.kind == "lost":
            raise TimedOut("Timed out")  # Telegram did it; the bot never hears so
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _download(self, path: str) -> tuple[int, bytes]:
        call = Call("file", {"path": path})
        self.calls.append(call)
        fault = self._faults.take("file", None)
        if fault is not None and fault.kind in ("timeout", "lost"):
            raise TimedOut("Timed out")
        content = self.chats.download(path)
        if content is None or fault is not None:
            call.error = "Not Found"
            return 404, json.dumps({"ok": False, "error_code": 404,
                                    "description": "Not Found"}).encode()
        return 200, content

    # --- what people and tests do ------------------------------------------------------------
    def inject(self, kind: str, *, method: str | None = None, chat_id: int | None = None,
               times: int = 1, retry_after: int = 3) -> Fault:
        """Fail the next ``times`` matching calls: "429", "5xx", "403", "400-chat", "400",
        "timeout" or "lost" (see the module's docstring). ``method="file"``: a file download
        (a timeout, or any other kind: 404)."""
        return self._faults.inject(kind, method=method, chat_id=chat_id, times=times,
                                   retry_after=retry_after)

    @property
    def faults(self) -> Faults:
        return self._faults

    def sees(self, update: dict[str, Any]) -> None:
        """An update on its way to the bot: the person's message is now in the chat."""
        self.chats.sees(update)

    @property
    def now(self) -> int:
        return self.chats.now

    def next_message_id(self, chat_id: int) -> int:
        return self.chats.next_message_id(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        self.chats.forget(chat_id)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What ``getChatMember`` answers for this person in this group from now on."""
        self.chats.set_member_status(chat_id, user_id, status)

    # --- reading what happened ---------------------------------------------------------------
    def messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages in the chat, as the person sees them now."""
        return self.chats.messages(chat_id)

    def last_message(self, chat_id: int) -> ChatMessage:
        messages = self.messages(chat_id)
        assert messages, f"no message in chat {chat_id}"
        return messages[-1]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def refused(self, method: str | None = None) -> list[Call]:
        """Calls Telegram refused (``error`` holds its description)."""
        return [c for c in self.calls if c.error is not None and method in (None, c.method)]


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None
