"""The guides in Bahasa Indonesia (docs/PANDUAN-OPERATOR.md, docs/PANDUAN-PAPTBM.md) cannot drift
from the bot: every command they name exists (a Telegram command registered in handlers/, a
``ppa-bot`` command with its options in the CLI parser, a make target, a configuration key), every
picture they show exists, and the pictures can still be drawn from the bot's real messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pydantic import BaseModel
from telegram.ext import CommandHandler

from bot.cli import parser as cli_parser
from bot.config import Settings
from handlers import DEEP_CASE, DEEP_HISTORY, handlers
from tests import screenshots
from tests.harness import Harness

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDES = [DOCS / "PANDUAN-OPERATOR.md", DOCS / "PANDUAN-PAPTBM.md"]
OTHER_BOTS = {"/newbot"}  # sent to @BotFather, not to ours


def _code(text: str) -> list[str]:
    """Inline code spans and the lines of fenced blocks: where a guide names commands."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    without = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    return [line for block in fenced for line in block.splitlines()] + \
        re.findall(r"`([^`\n]+)`", without)


def _guide_code() -> list[tuple[str, str]]:
    return [(guide.name, span) for guide in GUIDES for span in _code(guide.read_text())]


def _telegram_commands() -> set[str]:
    names: set[str] = set()
    for handler in handlers():
        if isinstance(handler, CommandHandler):
            names |= set(handler.commands)
    return names


def _cli_problem(words: list[str]) -> str | None:
    """None when ``ppa-bot WORDS`` names a real command with real options, else what is wrong."""
    current: Any = cli_parser()
    path = ["ppa-bot"]
    rest = list(words)
    while True:
        subcommands = [a for a in current._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not subcommands:
            break
        if not rest or rest[0] not in subcommands[0].choices:
            return f"{' '.join(path)} has no command {rest[0] if rest else '(none)'!r}"
        path.append(rest[0])
        current = subcommands[0].choices[rest.pop(0)]
    options = {s for a in current._actions for s in a.option_strings}
    for word in rest:
        if word.startswith("--") and word.split("=")[0] not in options:
            return f"{' '.join(path)} has no option {word}"
    return None


def _cli_commands(span: str) -> list[list[str]]:
    found = []
    # "ppa-bot" is also the system user: not after "-u" (sudo -u ppa-bot, journalctl -u ppa-bot).
    for match in re.finditer(r"(?:^|/|(?<!-u)\s)ppa-bot((?:\s+[^\s`;&|#]+)+)", span):
        words = match.group(1).split()
        if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
            found.append(words)
    return found


def _settings_keys(model: type[BaseModel] = Settings, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _settings_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def _makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


def test_both_guides_exist_in_bahasa_indonesia() -> None:
    for guide in GUIDES:
        text = guide.read_text()
        assert len(text) > 2000, f"{guide.name} is too short to be a guide"
        words = set(re.findall(r"[a-z]+", text.lower()))
        assert {"yang", "dan", "anda", "untuk"} <= words, f"{guide.name} is not in Indonesian"


def test_every_telegram_command_in_the_guides_is_one_the_bot_answers() -> None:
    known = _telegram_commands()
    named = set()
    for guide, span in _guide_code():
        first = span.split()[0] if span.split() else ""
        if not re.fullmatch(r"/[A-Za-z_][\w]*(@\w+)?", first):
            continue  # a path (/etc/...), an address, or not a command at all
        if first in OTHER_BOTS:
            continue
        named.add(first)
        command = first[1:].split("@")[0]
        assert command in known or re.match(DEEP_CASE, first) or re.match(DEEP_HISTORY, first), \
            f"{guide} names {first}, which the bot does not answer"
    assert {"/daftar", "/gabung", "/kasus", "/undang"} <= named  # the extraction itself works


def test_every_ppa_bot_command_in_the_guides_exists_with_its_options() -> None:
    named = []
    for guide, span in _guide_code():
        for words in _cli_commands(span):
            named.append(words[0])
            problem = _cli_problem(words)
            assert problem is None, f"{guide}: `{span}`: {problem}"
    assert {"admin", "keys", "health"} <= set(named)  # the extraction itself works


def test_the_cli_check_catches_a_command_that_does_not_exist() -> None:
    assert _cli_problem(["admin", "add", "123", "--name", "X"]) is None
    assert _cli_problem(["admin", "remove", "123"]) is not None
    assert _cli_problem(["keys", "rotate", "--force"]) is not None


def test_every_make_target_and_setting_in_the_guides_exists() -> None:
    targets = _makefile_targets()
    keys = _settings_keys()
    sections = {key.split(".")[0] for key in keys}
    for guide, span in _guide_code():
        for target in re.findall(r"(?:^|\s)make\s+([a-z][\w-]*)", span):
            assert target in targets, f"{guide} names `make {target}`, not in the Makefile"
        for key in re.findall(r"\b([a-z_]+\.[a-z_]+)\b", span):
            if key.split(".")[0] in sections:
                assert key in keys, f"{guide} names the setting {key}, which does not exist"
        for section, key in re.findall(r"PPA_BOT_([A-Z_]+?)__([A-Z_]+)", span):
            assert f"{section.lower()}.{key.lower()}" in keys, f"{guide}: PPA_BOT_{section}__{key}"


def test_every_picture_in_the_guides_exists_and_every_picture_is_in_a_guide() -> None:
    shown = set()
    for guide in GUIDES:
        for path in re.findall(r"(img/[\w.-]+\.png)", guide.read_text()):
            assert (DOCS / path).is_file(), f"{guide.name} shows {path}, which is missing"
            shown.add(path)
    committed = {f"img/{path.name}" for path in (DOCS / "img").glob("*.png")}
    assert committed - shown == set(), "pictures no guide shows (left from an older scenario?)"


@pytest.mark.parametrize("scenario", ["a_case_is_handled"])
async def test_the_pictures_are_still_drawn_from_the_bot_s_real_messages(
        bot: Harness, tmp_path: Path, scenario: str) -> None:
    shots = await screenshots.take(bot, screenshots.SCENARIOS[scenario])
    names = {shot.name for shot in shots}
    committed = {path.stem for path in (DOCS / "img").glob("*.png")}
    assert names <= committed, f"run `make screenshots`: {sorted(names - committed)} are new"

    alert = next(shot for shot in shots if shot.name == "grup-peringatan").screen
    [message] = alert.bubbles
    assert "Terima" in " ".join(label for row in message.buttons for label in row)
    assert "Modang" in message.text and screenshots.STORY not in message.text

    drawn = [shot for shot in shots if shot.name in ("grup-peringatan", "detail-pribadi")]
    written = screenshots.render(drawn, tmp_path)  # a group and a private chat, with a photo
    assert len(written) == 2
    for path in written:
        with Image.open(path) as image:
            assert image.width == 840 and image.height > 300
            assert len(image.getcolors(256) or []) > 8  # drawn, not blank
