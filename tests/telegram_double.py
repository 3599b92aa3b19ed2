"""A Telegram double at PTB's request layer: records every Bot API call, answers like Telegram
does, and injects faults (429 with retry_after, 5xx, timeouts, 403 "bot was kicked", 400)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA",
            "username": "ppa_paser_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio",
           "sendVideoNote", "sendMediaGroup", "copyMessage", "forwardMessage"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    # Uploaded files (sendPhoto, sendDocument): part name → (file name, content, MIME type).
    files: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatMessage:
    """A message as it stands in a chat now (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    method: str
    params: dict[str, Any]
    deleted: bool = False

    def buttons(self) -> list[dict[str, Any]]:
        markup = self.reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.buttons()]


@dataclass
class Fault:
    method: str | None  # None: any method
    chat_id: int | None
    times: int
    kind: str  # "429", "5xx", "timeout", "403", "403-blocked", "400-chat", "400-edit-gone", "400"
    retry_after: int = 3


class FakeTelegram(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.chats: dict[int, list[ChatMessage]] = defaultdict(list)
        self._next_id: dict[int, int] = defaultdict(lambda: 100)
        self.now = 1_770_000_000

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
        api = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append(Call(api, params,
                               files=dict(request_data.multipart_data) if request_data else {}))
        fault = self._fault_for(api, params.get("chat_id"))
        if fault is not None:
            return self._fail(fault)
        return 200, json.dumps({"ok": True, "result": self._answer(api, params)}).encode()

    # --- faults --------------------------------------------------------------------------------
    def inject(self, kind: str, *, method: str | None = None, chat_id: int | None = None,
               times: int = 1, retry_after: int = 3) -> None:
        self.faults.append(Fault(method, chat_id, times, kind, retry_after))

    def _fault_for(self, api: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method in (None, api) and \
                    fault.chat_id in (None, _int(chat_id)):
                fault.times -= 1
                return fault
        return None

    @staticmethod
    def _fail(fault: Fault) -> tuple[int, bytes]:
        if fault.kind == "timeout":
            raise TimedOut("Timed out")
        body: dict[str, Any] = {"ok": False}
        if fault.kind == "429":
            status = 429
            body |= {"error_code": 429, "description": f"Too Many Requests: retry after "
                     f"{fault.retry_after}", "parameters": {"retry_after": fault.retry_after}}
        elif fault.kind == "5xx":
            status = 502
            body |= {"error_code": 502, "description": "Bad Gateway"}
        elif fault.kind == "403":
            status = 403
            body |= {"error_code": 403,
                     "description": "Forbidden: bot was kicked from the supergroup chat"}
        elif fault.kind == "403-blocked":  # a private chat whose person blocked the bot
            status = 403
            body |= {"error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        elif fault.kind == "400-edit-gone":  # the message was deleted (the chat, by its owner)
            status = 400
            body |= {"error_code": 400, "description": "Bad Request: message to edit not found"}
        elif fault.kind == "400-chat":
            status = 400
            body |= {"error_code": 400, "description": "Bad Request: chat not found"}
        elif fault.kind == "400-query-old":
            status = 400
            body |= {"error_code": 400, "description": "Bad Request: query is too old and "
                     "response timeout expired or query ID is invalid"}
        else:
            status = 400
            body |= {"error_code": 400, "description": "Bad Request: something is wrong"}
        return status, json.dumps(body).encode()

    # --- answers ---------------------------------------------------------------------------------
    def _answer(self, api: str, params: dict[str, Any]) -> Any:
        if api == "getMe":
            return BOT_USER
        if api == "getUpdates":
            return []
        if api in SENDING:
            return self._send(api, params)
        if api in ("editMessageText", "editMessageReplyMarkup", "editMessageCaption"):
            return self._edit(api, params)
        if api in ("deleteMessage", "deleteMessages"):
            ids = params.get("message_ids") or [params.get("message_id")]
            wanted = {int(i) for i in ids}
            for message in self.chats.get(_int(params["chat_id"]), []):
                if message.message_id in wanted:
                    message.deleted = True
            return True
        if api == "getChat":
            chat_id = _int(params["chat_id"])
            return {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                    "title": "Grup", "accent_color_id": 0, "max_reaction_count": 11,
                    "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                            "unique_gifts": False, "premium_subscription": False}}
        if api == "getFile":
            return {"file_id": params["file_id"], "file_unique_id": "u", "file_size": 10,
                    "file_path": "photos/file.jpg"}
        return True

    def _message(self, chat_id: int, message_id: int, text: str,
                 params: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = "Grup"
        result: dict[str, Any] = {"message_id": message_id, "date": self.now, "chat": chat,
                                  "from": BOT_USER, "text": text}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes only these
            result["reply_markup"] = markup
        return result

    def next_message_id(self, chat_id: int) -> int:
        """Message ids in a chat form one sequence for both sides, as in Telegram."""
        self._next_id[chat_id] += 1
        return self._next_id[chat_id]

    def _send(self, api: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params["chat_id"])
        message_id = self.next_message_id(chat_id)
        text = str(params.get("text") or params.get("caption") or "")
        markup = params.get("reply_markup")
        self.chats[chat_id].append(ChatMessage(message_id, chat_id, text,
                                               markup if isinstance(markup, dict) else None,
                                               api, params))
        return self._message(chat_id, message_id, text, params)

    def _edit(self, api: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params["chat_id"])
        message_id = int(params["message_id"])
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                if "text" in params:
                    message.text = str(params["text"])
                markup = params.get("reply_markup")
                message.reply_markup = markup if isinstance(markup, dict) else None
                return self._message(chat_id, message_id, message.text, params)
        return self._message(chat_id, message_id, str(params.get("text", "")), params)

    # --- reading what happened ---------------------------------------------------------------
    def messages(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.chats.get(chat_id, []) if not m.deleted]

    def last_message(self, chat_id: int) -> ChatMessage:
        messages = self.messages(chat_id)
        assert messages, f"no message in chat {chat_id}"
        return messages[-1]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


def _int(value: Any) -> int:
    return int(value) if value is not None else 0
