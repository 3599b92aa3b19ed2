"""config.example.toml documents every key the bot reads."""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def _documented(table: dict[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, value in table.items():
        if isinstance(value, dict):  # a section, or a setting that is a table itself
            keys |= _documented(value, f"{prefix}{name}.") | {prefix + name}
        else:
            keys.add(prefix + name)
    return keys


def test_every_setting_is_documented_in_the_example() -> None:
    documented = _documented(tomllib.loads(EXAMPLE.read_text()))
    assert _keys(Settings) - documented == set()


def test_the_example_is_a_valid_configuration() -> None:
    settings = Settings.model_validate(tomllib.loads(EXAMPLE.read_text()))
    assert settings.region.reference_prefix == "PSR"
    assert [h.number for h in settings.hotlines] == ["112", "110", "129", "08111-129-129"]
