"""Every text the bot can show has an Indonesian and an English translation that keeps the
original's placeholders and HTML; the bot speaks Indonesian unless someone uses English."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bot.domain import form
from bot.i18n import LANGUAGES, language_for, po_path, translator
from bot.views.report import QUESTIONS
from tests.harness import Person

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None}  # as in `make i18n-extract`
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^<>]*>")
WORD = re.compile(r"[A-Za-z]{2,}")


@cache
def code_messages() -> dict[str, str]:
    """Every message id in the code, with where it first appears (``file:line``)."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        if isinstance(message, str) and message:
            found.setdefault(message, f"{filename}:{lineno}")
    return found


@cache
def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as fh:
        return read_po(fh, locale=language)


def translated() -> Iterator[tuple[str, Message]]:
    """Each (language, entry) whose msgid the code uses."""
    for language in LANGUAGES:
        for message in catalog(language):
            if isinstance(message.id, str) and message.id in code_messages():
                yield language, message


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


def tags(text: str) -> Counter[str]:
    return Counter(closing + name.lower() for closing, name in TAG.findall(text))


def unbalanced(text: str) -> str | None:
    """What is wrong with the nesting of the HTML tags in ``text``, or None."""
    open_tags: list[str] = []
    for closing, name in TAG.findall(text):
        if not closing:
            open_tags.append(name.lower())
        elif not open_tags or open_tags.pop() != name.lower():
            return f"</{name}> does not close the tag that is open"
    return f"<{open_tags[-1]}> is never closed" if open_tags else None


def stray_brackets(text: str) -> int:
    """Angle brackets outside tags: Telegram's HTML parse mode refuses a message with them."""
    rest = TAG.sub("", text)
    return rest.count("<") + rest.count(">")


def test_the_code_has_texts_to_translate() -> None:
    assert len(code_messages()) > 100
    assert QUESTIONS[form.DANGER] in code_messages()


def test_every_text_in_the_code_has_an_indonesian_and_an_english_translation() -> None:
    problems = []
    for language in LANGUAGES:
        entries = {m.id: m for m in catalog(language) if isinstance(m.id, str)}
        for msgid, where in sorted(code_messages().items(), key=lambda item: item[1]):
            entry = entries.get(msgid)
            if entry is None:
                problems.append(f"[{language}] not in the catalogue ({where}): {msgid!r}")
            elif not entry.string or not str(entry.string).strip():
                problems.append(f"[{language}] not translated ({where}): {msgid!r}")
            elif entry.fuzzy:
                problems.append(f"[{language}] marked fuzzy ({where}): {msgid!r}")
    assert not problems, "run `make i18n-update`, then translate:\n" + "\n".join(problems)


def test_indonesian_texts_are_translated_not_copied_from_english() -> None:
    copied = [m.id for language, m in translated()
              if language == "id" and m.string == m.id
              and len(WORD.findall(TAG.sub("", PLACEHOLDER.sub("", m.id)))) >= 3]
    assert not copied, "English left in the Indonesian catalogue:\n" + "\n".join(map(repr, copied))


def test_translations_keep_every_placeholder() -> None:
    problems = [f"[{language}] {m.id!r}: {sorted(placeholders(m.id))} became "
                f"{sorted(placeholders(str(m.string)))} in {m.string!r}"
                for language, m in translated()
                if m.string and placeholders(m.id) != placeholders(str(m.string))]
    assert not problems, "\n".join(problems)


def test_translations_keep_the_html_of_the_original() -> None:
    problems = []
    for language, m in translated():
        text = str(m.string or "")
        for which, value in (("msgid", m.id), ("msgstr", text)):
            if value and (fault := unbalanced(value)):
                problems.append(f"[{language}] {which} {value!r}: {fault}")
        if text and tags(text) != tags(m.id):
            problems.append(f"[{language}] tags of {m.id!r} differ in {text!r}")
        if text and stray_brackets(text) > stray_brackets(m.id):
            problems.append(f"[{language}] a bare < or > in {text!r}")
    assert not problems, "\n".join(problems)


def test_the_danger_question_in_indonesian_asks_about_bahaya() -> None:
    assert "bahaya" in translator("id")(QUESTIONS[form.DANGER])
    assert translator("en")(QUESTIONS[form.DANGER]) == "Is anyone in danger right now?"


async def test_an_indonesian_reporter_is_first_asked_whether_anyone_is_in_bahaya(
        reporter_id: Person) -> None:
    await reporter_id.sends("/lapor")
    question = reporter_id.last_with_buttons()
    assert "bahaya" in question.text
    assert any(text.startswith("Ya") for text in question.button_texts())
    assert "Tidak" in question.button_texts()


@pytest.mark.parametrize(("telegram_code", "language"), [
    ("en-GB", "en"), ("en", "en"), ("id", "id"), (None, "id"), ("ms", "id"), ("", "id"),
])
def test_english_speakers_get_english_everyone_else_indonesian(
        telegram_code: str | None, language: str) -> None:
    assert language_for(telegram_code) == language
