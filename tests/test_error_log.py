"""Operators can find a fault (issue 14): when an update fails, the person is told a code, and the
log line under that code holds the exception's type and every frame (file, line, function), so
"the server log has the details" is true; never the exception's message, a local variable, or
anything the person wrote."""

from __future__ import annotations

import json
import logging
import re

import pytest

from bot.domain import form
from bot.logging_setup import JsonFormatter, SafeFormatter, sanitised_stack, setup_logging
from tests.harness import Harness, Person

STORY = "Pamannya memukul Rina di dapur setiap malam minggu."
STORY_WORDS = ("Pamannya", "Rina", "dapur")
DOUBLE_DESCRIPTION = "something is wrong"  # what the Telegram double's 400 says


def code_told(text: str) -> str:
    found = re.search(r"\b([0-9a-f]{8})\)", text)
    assert found, f"no code in: {text}"
    return found.group(1)


async def test_a_failed_update_is_logged_with_its_code_and_stack_and_nothing_written(
        bot: Harness, reporter_id: Person, caplog: pytest.LogCaptureFixture) -> None:
    await reporter_id.reaches(form.STORY)
    # Telegram refuses the bot's next message to this person once (a 400 nobody expects).
    bot.telegram.inject("400", method="sendMessage", chat_id=reporter_id.user_id, times=1)
    setup_logging(logging.DEBUG)  # the most talkative setting an operator can choose
    logging.getLogger().addHandler(caplog.handler)  # beside the handler setup_logging installs
    caplog.set_level(logging.DEBUG)

    await reporter_id.sends(STORY)

    told = reporter_id.last_text()
    assert "Maaf" in told and "tersimpan" in told  # sorry; the answers are saved
    code = code_told(told)
    (record,) = [r for r in caplog.records if code in r.getMessage() and r.name == "ppa_bot.errors"]
    line = record.getMessage()
    assert record.levelno == logging.ERROR
    assert "telegram.error.BadRequest at " in line
    # Every frame from PTB's dispatch down to where Telegram's refusal was raised.
    frames = re.findall(r"(\S+\.py):(\d+) in (\w+)", line)
    files = [file for file, _line, _function in frames]
    assert "handlers/report.py" in files and "handlers/common.py" in files
    assert any(f.startswith("telegram/ext/") for f in files)
    assert ("telegram/_bot.py" in files or "telegram/request/_baserequest.py" in files)
    assert len(frames) >= 5 and all(int(number) > 0 for _f, number, _fn in frames)
    # Nothing of the update, the exception's message or the locals, in any record or format.
    for shown in (line, SafeFormatter("%(message)s").format(record),
                  json.loads(JsonFormatter().format(record))["msg"]):
        assert "\n" not in shown and DOUBLE_DESCRIPTION not in shown.lower()
        assert not any(word in shown for word in STORY_WORDS)
    everything = "\n".join(r.getMessage() + str(r.args) for r in caplog.records)
    assert not any(word in everything for word in STORY_WORDS)
    # The answer was kept, as the person was told.
    draft = await reporter_id.draft()
    assert draft is not None and STORY in str(draft.answers)


def raise_with_a_secret(secret: str) -> None:
    try:
        int(secret)
    except ValueError as exc:
        raise RuntimeError(f"could not read {secret}") from exc


def test_any_logged_exception_is_a_one_line_stack_without_its_message() -> None:
    """Libraries log exceptions too (``log.exception``): both formats keep them safe."""
    logger = logging.getLogger("some.library")
    try:
        raise_with_a_secret("Rina 0812-9988")
    except RuntimeError:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "request failed",
                                   (), exc_info=__import__("sys").exc_info())
    text = SafeFormatter("%(levelname)s %(message)s").format(record)
    entry = json.loads(JsonFormatter().format(record))
    for shown in (text, entry["exception"]):
        assert "Rina" not in shown and "0812" not in shown and "\n" not in shown
        assert "RuntimeError at tests/test_error_log.py:" in shown
        assert "in raise_with_a_secret; caused by ValueError at" in shown
    assert text.startswith("ERROR request failed [RuntimeError at ")
    assert entry["msg"] == "request failed"


def test_the_stack_names_each_frame_from_the_outermost_call() -> None:
    def inner() -> None:
        raise KeyError("Rina")

    def outer() -> None:
        inner()

    try:
        outer()
    except KeyError as exc:
        stack = sanitised_stack(exc)
    assert re.fullmatch(
        r"KeyError at tests/test_error_log\.py:\d+ in test_the_stack_names_each_frame_from_the_"
        r"outermost_call > tests/test_error_log\.py:\d+ in outer > "
        r"tests/test_error_log\.py:\d+ in inner", stack), stack
