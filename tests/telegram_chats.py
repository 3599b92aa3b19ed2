"""Telegram's side of every chat, shared by both fakes: the in-process double at PTB's request
layer (``tests/telegram_double.py``) and the HTTP fake Bot API of the process tests
(``tests/fake_bot_api.py``).

It keeps a transcript per chat, both sides of it: the bot's messages (edits applied, deletions
marked) and the person's own messages, taken from the updates Telegram delivers to the bot. It
answers the Bot API as Telegram does, refusals included, with Telegram's status codes and words
(the descriptions PTB turns into ``BadRequest``, ``Forbidden``, ``ChatMigrated``, ``RetryAfter``
in ``telegram/request/_baserequest.py``):

- a group upgraded to a supergroup (``migrate``): 400 "group chat was upgraded to a supergroup
  chat" with ``migrate_to_chat_id`` in ``parameters``;
- a person who blocked the bot (``block``): 403 "bot was blocked by the user"; a group that
  removed it (``kick``): 403 "bot was kicked from the group chat" (or "supergroup chat");
- an edit that changes nothing: 400 "message is not modified: ..."; an edit or deletion of a
  message that is not there: 400 "message to edit not found" / "message to delete not found";
  a deletion after 48 hours: 400 "message can't be deleted" (``deleteMessages`` skips those);
- a callback query answered twice, too late, or never delivered: 400 "query is too old and
  response timeout expired or query ID is invalid";
- injected faults (``Faults``): 429 "Too Many Requests: retry after N" with ``retry_after``, 502,
  403, 400 "chat not found", any other 400. Transport faults (a timeout, a dropped connection, a
  slow answer) belong to each fake.

Time is the ``clock`` given (seconds since the epoch): the test's fake clock in process, the real
one for the HTTP fake.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Layanan PPA",
            "username": "ppa_paser_bot", "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False}
SENDING = {"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio",
           "sendVideoNote", "sendMediaGroup", "copyMessage", "forwardMessage"}
EDITS = {"editMessageText", "editMessageReplyMarkup", "editMessageCaption"}

# Telegram's own words (the Bot API's ``description``).
CHAT_MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the {kind} chat"
CHAT_NOT_FOUND = "Bad Request: chat not found"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CANT_DELETE = "Bad Request: message can't be deleted"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
COPY_NOT_FOUND = "Bad Request: message to {verb} not found"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
FILE_TOO_BIG = "Bad Request: file is too big"
INVALID_FILE_ID = "Bad Request: invalid file_id"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves files up to 20 MB to a bot
MEDIA_FOLDERS = {"photo": ("photos", ".jpg"), "voice": ("voice", ".oga"),
                 "video": ("videos", ".mp4"), "document": ("documents", ""),
                 "audio": ("music", ".mp3"), "video_note": ("video_notes", ".mp4")}
TOO_MANY_REQUESTS = "Too Many Requests: retry after {seconds}"

DELETABLE_FOR = 48 * 3600.0  # a message can only be deleted if it was sent less than 48 h ago
CALLBACK_ANSWER_WINDOW = 15.0  # after this, answering a button press is "too old"
MEDIA = {"sendPhoto": "photo", "sendDocument": "document", "sendVoice": "voice",
         "sendVideo": "video", "sendAudio": "audio", "sendVideoNote": "video_note"}


class ApiError(Exception):
    """A refusal, as Telegram words it: ``{"ok": false, "error_code", "description", ...}``."""

    def __init__(self, code: int, description: str,
                 parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code,
                                "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, TOO_MANY_REQUESTS.format(seconds=retry_after),
                    {"retry_after": retry_after})


def kicked(chat_id: int) -> ApiError:
    return ApiError(403, KICKED.format(kind="supergroup" if is_supergroup(chat_id) else "group"))


def is_supergroup(chat_id: int) -> bool:
    return chat_id <= -1_000_000_000_000


def chat_type(chat_id: int) -> str:
    if chat_id > 0:
        return "private"
    return "supergroup" if is_supergroup(chat_id) else "group"


# --- injected faults ---------------------------------------------------------------------------

@dataclass
class Fault:
    kind: str
    method: str | None  # None: any method
    chat_id: int | None  # None: any chat
    times: int
    retry_after: int = 3
    delay: float = 2.0
    hits: int = 0


class Faults:
    """Faults a test injects for the next ``times`` matching calls, first injected first used.

    Telegram's refusals (``refusal``): "429" (with ``retry_after``), "5xx" (502 Bad Gateway),
    "403" (bot kicked from the supergroup), "400-chat" (chat not found), "400" (any other bad
    request). Each fake adds its own transport faults."""

    def __init__(self) -> None:
        self.injected: list[Fault] = []

    def inject(self, kind: str, *, method: str | None = None, chat_id: int | None = None,
               times: int = 1, retry_after: int = 3, delay: float = 2.0) -> Fault:
        fault = Fault(kind, method, chat_id, times, retry_after, delay)
        self.injected.append(fault)
        return fault

    def take(self, method: str, chat_id: int | None) -> Fault | None:
        for fault in self.injected:
            if fault.times > 0 and fault.method in (None, method) \
                    and fault.chat_id in (None, chat_id):
                fault.times -= 1
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.injected.clear()


def refusal(fault: Fault) -> ApiError | None:
    """Telegram's answer to an injected refusal; None for a transport fault."""
    if fault.kind == "429":
        return too_many_requests(fault.retry_after)
    if fault.kind == "5xx":
        return ApiError(502, "Bad Gateway")
    if fault.kind == "403":
        return ApiError(403, KICKED.format(kind="supergroup"))
    if fault.kind == "400-chat":
        return ApiError(400, CHAT_NOT_FOUND)
    if fault.kind == "400-query-old":
        return ApiError(400, QUERY_TOO_OLD)
    if fault.kind == "400":
        return ApiError(400, "Bad Request: something is wrong")
    return None


# --- the chats -----------------------------------------------------------------------------------

@dataclass
class ChatMessage:
    """A message as it stands in a chat now (edits applied)."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    method: str  # how the bot sent it; "update" for the person's own message
    params: dict[str, Any]
    deleted: bool = False
    from_bot: bool = True
    sent_at: float = 0.0
    edits: int = 0

    def buttons(self) -> list[dict[str, Any]]:
        markup = self.reply_markup or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        return [b["text"] for b in self.buttons()]


@dataclass
class _Query:
    made_at: float
    answered: bool = False


@dataclass
class StoredFile:
    """A file a person sent (or a test put there): what ``getFile`` and a download serve."""

    file_id: str
    kind: str
    size: int
    content: bytes | None = None  # None: made up from the file id, ``size`` bytes long
    name: str | None = None
    path: str | None = None  # given by the first getFile

    def bytes(self) -> bytes:
        if self.content is not None:
            return self.content
        seed = hashlib.sha256(self.file_id.encode()).digest()
        return (seed * (self.size // len(seed) + 1))[:self.size]


@dataclass
class Chats:
    clock: Callable[[], float] = time.time
    callback_answer_window: float = CALLBACK_ANSWER_WINDOW
    transcripts: dict[int, list[ChatMessage]] = field(default_factory=lambda: defaultdict(list))
    migrated: dict[int, int] = field(default_factory=dict)  # old group id → supergroup id
    blocked: set[int] = field(default_factory=set)  # people who blocked the bot
    kicked: set[int] = field(default_factory=set)  # groups that removed the bot
    # getChatMember: (chat, user) → "member" | "left" | "kicked" | "administrator". Anyone a
    # test does not mention is taken to be in the group (the people of a scenario are in their
    # group chat); a test that needs someone gone says so.
    members: dict[tuple[int, int], str] = field(default_factory=dict)
    _next_id: dict[int, int] = field(default_factory=lambda: defaultdict(lambda: 100))
    _queries: dict[str, _Query] = field(default_factory=dict)
    _forget_at: int = 10_000
    # Files people sent, by file id; a getFile's path → file id (what a download asks for).
    files: dict[str, StoredFile] = field(default_factory=dict)
    file_paths: dict[str, str] = field(default_factory=dict)

    @property
    def now(self) -> int:
        return int(self.clock())

    # --- what people do ----------------------------------------------------------------------
    def next_message_id(self, chat_id: int) -> int:
        """Message ids in a chat form one sequence for both sides, as in Telegram."""
        self._next_id[chat_id] += 1
        return self._next_id[chat_id]

    def sees(self, update: dict[str, Any]) -> None:
        """An update Telegram delivers to the bot: a person's message joins the transcript (an
        edit changes it), a button press opens a callback query. Delivered again, it changes
        nothing: it is the same message, the same query."""
        if "message" in update:
            self._person_wrote(update["message"])
        elif "edited_message" in update:
            edited = update["edited_message"]
            for message in self.transcripts.get(int(edited["chat"]["id"]), []):
                if message.message_id == edited["message_id"] and not message.from_bot:
                    message.text = _text_of(edited)
                    message.edits += 1
        elif "callback_query" in update:
            query_id = str(update["callback_query"]["id"])
            if query_id not in self._queries:
                self._forget_old_queries()
                self._queries[query_id] = _Query(self.clock())

    def _person_wrote(self, message: dict[str, Any]) -> None:
        chat_id = int(message["chat"]["id"])
        message_id = int(message["message_id"])
        transcript = self.transcripts[chat_id]
        if any(m.message_id == message_id for m in transcript):
            return
        self._next_id[chat_id] = max(self._next_id[chat_id], message_id)
        self._files_in(message)
        transcript.append(ChatMessage(message_id, chat_id, _text_of(message), None, "update",
                                      message, from_bot=False,
                                      sent_at=float(message.get("date") or self.clock())))

    def _files_in(self, message: dict[str, Any]) -> None:
        """The files of a person's message are on Telegram's servers now (a test may have put
        their content there already with ``put_file``)."""
        for kind in MEDIA_FOLDERS:
            items = message.get(kind)
            for item in (items if isinstance(items, list) else [items] if items else []):
                file_id = str(item["file_id"])
                if file_id not in self.files:
                    self.files[file_id] = StoredFile(file_id, kind,
                                                     int(item.get("file_size") or 1000),
                                                     name=item.get("file_name"))

    def put_file(self, file_id: str, content: bytes, *, kind: str = "document",
                 name: str | None = None) -> None:
        """What a file a person sends holds (else bytes made up from its id and size)."""
        self.files[file_id] = StoredFile(file_id, kind, len(content), content, name)

    def download(self, path: str) -> bytes | None:
        """``https://api.telegram.org/file/bot<token>/<path>``: the file, or None (404)."""
        file_id = self.file_paths.get(path)
        return self.files[file_id].bytes() if file_id in self.files else None

    def _get_file(self, file_id: str) -> dict[str, Any]:
        stored = self.files.get(file_id)
        if stored is None:
            raise ApiError(400, INVALID_FILE_ID)
        if stored.size > DOWNLOAD_LIMIT:
            raise ApiError(400, FILE_TOO_BIG)
        if stored.path is None:
            folder, suffix = MEDIA_FOLDERS.get(stored.kind, ("documents", ""))
            if stored.name and "." in stored.name:
                suffix = "." + stored.name.rsplit(".", 1)[1].lower()
            stored.path = f"{folder}/file_{len(self.file_paths)}{suffix}"
            self.file_paths[stored.path] = file_id
        return {"file_id": file_id, "file_unique_id": "u" + file_id[-8:],
                "file_size": stored.size, "file_path": stored.path}

    def _forget_old_queries(self) -> None:
        """Long runs (the benchmarks) must not keep every query: past the window, a forgotten
        query gets the same answer as a remembered one."""
        if len(self._queries) < self._forget_at:
            return
        cutoff = self.clock() - self.callback_answer_window
        self._queries = {k: q for k, q in self._queries.items() if q.made_at >= cutoff}
        self._forget_at = max(10_000, 2 * len(self._queries))

    def block(self, user_id: int) -> None:
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def kick(self, chat_id: int) -> None:
        """The bot is removed from the group: everything it sends there is refused."""
        self.kicked.add(chat_id)

    def migrate(self, group_id: int, supergroup_id: int) -> None:
        """The group is upgraded to a supergroup with a new id; the old id answers "migrated"."""
        assert not is_supergroup(group_id) and is_supergroup(supergroup_id)
        self.migrated[group_id] = supergroup_id

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Someone joins, leaves or is removed from a group, as ``getChatMember`` will say."""
        self.members[(chat_id, user_id)] = status

    def someone_deletes(self, chat_id: int, message_id: int) -> None:
        """A person deletes a message in the chat (their own, or the bot's as a group admin)."""
        message = self._find(chat_id, message_id)
        assert message is not None, f"no message {message_id} in chat {chat_id}"
        message.deleted = True

    def forget(self, chat_id: int) -> None:
        self.transcripts.pop(chat_id, None)
        self._next_id.pop(chat_id, None)

    # --- the Bot API -------------------------------------------------------------------------
    def answer(self, method: str, params: dict[str, Any]) -> Any:
        """The result of one call, or ``ApiError`` as Telegram would refuse it."""
        if method == "getMe":
            return BOT_USER
        if method == "answerCallbackQuery":
            return self._answer_query(str(params.get("callback_query_id")))
        chat_id = _chat(params)
        if chat_id is not None:
            self._check_reachable(chat_id)
        if method in SENDING:
            return self._send(method, params)
        if method in EDITS:
            return self._edit(method, params)
        if method == "deleteMessage":
            self._delete(_chat_of(params), int(params["message_id"]), strict=True)
            return True
        if method == "deleteMessages":
            for message_id in params.get("message_ids") or []:
                self._delete(_chat_of(params), int(message_id), strict=False)
            return True
        if method == "getChat":
            chat_id = _chat_of(params)
            return {"id": chat_id, "type": chat_type(chat_id), "title": "Grup",
                    "accent_color_id": 0, "max_reaction_count": 11,
                    "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                            "unique_gifts": False, "premium_subscription": False}}
        if method == "getChatMember":
            return self._member(_chat_of(params), int(params["user_id"]))
        if method == "getFile":
            return self._get_file(str(params["file_id"]))
        if method == "getUpdates":
            return []
        if method == "getMyCommands":
            return []
        # sendChatAction, setMyCommands, deleteWebhook, setWebhook, setChatMenuButton, ...
        return True

    def _check_reachable(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise ApiError(400, CHAT_MIGRATED, {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        if chat_id in self.kicked:
            raise kicked(chat_id)

    def _member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        status = self.members.get((chat_id, user_id), "member")
        member: dict[str, Any] = {"status": status, "user": {
            "id": user_id, "is_bot": False, "first_name": "Anggota"}}
        if status == "kicked":
            member["until_date"] = 0
        if status == "administrator":
            member |= {name: False for name in (
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories",
                "can_edit_stories", "can_delete_stories")}
        return member

    def _answer_query(self, query_id: str) -> bool:
        query = self._queries.get(query_id)
        if query is None or query.answered \
                or self.clock() - query.made_at > self.callback_answer_window:
            raise ApiError(400, QUERY_TOO_OLD)
        query.answered = True
        return True

    def _result(self, chat_id: int, message_id: int, text: str, params: dict[str, Any],
                method: str) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type(chat_id)}
        if chat_id < 0:
            chat["title"] = "Grup"
        result: dict[str, Any] = {"message_id": message_id, "date": self.now, "chat": chat,
                                  "from": BOT_USER}
        if method in MEDIA:
            file = {"file_id": f"F{chat_id}x{message_id}", "file_unique_id": f"u{message_id}"}
            if method == "sendPhoto":
                result["photo"] = [{**file, "width": 800, "height": 600}]
            elif method in ("sendVoice", "sendVideo", "sendAudio", "sendVideoNote"):
                result[MEDIA[method]] = {**file, "duration": 1}
            else:
                result[MEDIA[method]] = file
            if method == "sendVideo":
                result["video"] |= {"width": 640, "height": 480}
            if method == "sendVideoNote":
                result["video_note"] |= {"length": 240}
            if text:
                result["caption"] = text
        else:
            result["text"] = text
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # Telegram echoes only these
            result["reply_markup"] = markup
        return result

    def _send(self, method: str, params: dict[str, Any]) -> Any:
        chat_id = _chat_of(params)
        self._check_references(method, chat_id, params)
        if method == "sendMediaGroup":
            results = []
            for item in params.get("media") or []:
                message_id = self.next_message_id(chat_id)
                caption = str(item.get("caption") or "")
                self.transcripts[chat_id].append(ChatMessage(message_id, chat_id, caption, None,
                                                             method, item, sent_at=self.clock()))
                kind = {"photo": "sendPhoto", "video": "sendVideo", "audio": "sendAudio"}.get(
                    item.get("type"), "sendDocument")
                results.append(self._result(chat_id, message_id, caption, {}, kind))
            return results
        message_id = self.next_message_id(chat_id)
        text = str(params.get("text") or params.get("caption") or "")
        markup = params.get("reply_markup")
        self.transcripts[chat_id].append(ChatMessage(
            message_id, chat_id, text, markup if isinstance(markup, dict) else None, method,
            params, sent_at=self.clock()))
        if method == "copyMessage":
            return {"message_id": message_id}
        return self._result(chat_id, message_id, text, params, method)

    def _check_references(self, method: str, chat_id: int, params: dict[str, Any]) -> None:
        """A reply needs the message it replies to (unless told to go without it); a copy or a
        forward needs its original."""
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        if isinstance(reply, dict):
            replied = reply.get("message_id")
            without = bool(reply.get("allow_sending_without_reply"))
            in_chat = int(reply.get("chat_id") or chat_id)
        else:
            replied = params.get("reply_to_message_id")
            without = bool(params.get("allow_sending_without_reply"))
            in_chat = chat_id
        if replied is not None and not without and self._find(in_chat, int(replied)) is None:
            raise ApiError(400, REPLY_NOT_FOUND)
        if method in ("copyMessage", "forwardMessage"):
            source = self._find(int(params["from_chat_id"]), int(params["message_id"]))
            if source is None:
                raise ApiError(400, COPY_NOT_FOUND.format(
                    verb="copy" if method == "copyMessage" else "forward"))

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_of(params)
        message = self._find(chat_id, int(params["message_id"]))
        if message is None:
            raise ApiError(400, EDIT_NOT_FOUND)
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else None
        if method == "editMessageText":
            text = str(params["text"])
        elif method == "editMessageCaption":
            text = str(params.get("caption") or "")
        else:
            text = message.text
        if text == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.text, message.reply_markup = text, markup
        message.edits += 1
        return self._result(chat_id, message.message_id, text, params,
                            "sendMessage" if message.method not in MEDIA else message.method)

    def _delete(self, chat_id: int, message_id: int, *, strict: bool) -> None:
        message = self._find(chat_id, message_id)
        if message is None:
            if strict:
                raise ApiError(400, DELETE_NOT_FOUND)
            return
        too_old = self.clock() - message.sent_at >= DELETABLE_FOR
        # In a group the bot (not an admin there) may delete only its own messages.
        not_its_own = chat_id < 0 and not message.from_bot
        if too_old or not_its_own:
            if strict:
                raise ApiError(400, CANT_DELETE)
            return
        message.deleted = True

    def _find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self.transcripts.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    # --- reading what happened ---------------------------------------------------------------
    def messages(self, chat_id: int) -> list[ChatMessage]:
        """The bot's messages in the chat, as they stand now (deleted ones gone)."""
        return [m for m in self.transcripts.get(chat_id, []) if m.from_bot and not m.deleted]

    def transcript(self, chat_id: int) -> list[ChatMessage]:
        """Everyone's messages in the chat, the person's own included, deleted ones gone."""
        return [m for m in self.transcripts.get(chat_id, []) if not m.deleted]

    def own_messages(self, chat_id: int) -> list[ChatMessage]:
        """What the person (or the people of a group) wrote, still in the chat."""
        return [m for m in self.transcript(chat_id) if not m.from_bot]

    def deleted(self, chat_id: int) -> list[ChatMessage]:
        return [m for m in self.transcripts.get(chat_id, []) if m.deleted]


def _text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def _chat(params: dict[str, Any]) -> int | None:
    value = params.get("chat_id")
    return int(value) if value is not None else None


def _chat_of(params: dict[str, Any]) -> int:
    return int(params["chat_id"])
