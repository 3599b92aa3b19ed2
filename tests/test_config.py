"""Configuration (DESIGN §7): safe defaults, a TOML file named by PPA_BOT_CONFIG, every key
overridable as PPA_BOT_<SECTION>__<KEY>, and every mistake explained in one line that names the key
and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, Settings, load_settings, require_token


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file PPA_BOT_CONFIG names; each test writes what it needs into it."""
    path = tmp_path / "ppa.toml"
    monkeypatch.setenv("PPA_BOT_CONFIG", str(path))
    return path


def refused(**overrides: Any) -> str:
    with pytest.raises(ConfigError) as error:
        load_settings(**overrides)
    message = str(error.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_without_a_file_the_defaults_are_safe() -> None:
    settings = load_settings()
    assert settings.telegram.token == ""
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.telegram.poll_interval == 1.0
    assert settings.database.url == "sqlite+aiosqlite:///./data/ppa-bot.sqlite3"
    assert settings.region.kabupaten_code == "64.01"
    assert settings.region.reference_prefix == "PSR"
    assert settings.region.timezone == "Asia/Makassar" and str(settings.tz) == "Asia/Makassar"
    assert [(h.name, h.number) for h in settings.hotlines] == [
        ("Darurat", "112"), ("Polisi", "110"), ("SAPA 129", "129"),
        ("WhatsApp SAPA", "08111-129-129")]
    assert settings.drafts.expire_hours == 72


def test_the_file_named_by_ppa_bot_config_is_read(config_file: Path) -> None:
    config_file.write_text('''
[telegram]
token = "111:from-file"
base_url = "http://127.0.0.1:8081/bot"
poll_interval = 0.5

[database]
url = "sqlite+aiosqlite:////var/lib/ppa/ppa.sqlite3"

[region]
kabupaten_code = "64.02"
kabupaten_name = "Kutai Kartanegara"
reference_prefix = "KKR"
timezone = "Asia/Makassar"

[drafts]
expire_hours = 48
''')
    settings = load_settings()
    assert settings.telegram.token == "111:from-file"
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram.poll_interval == 0.5
    assert settings.database.url == "sqlite+aiosqlite:////var/lib/ppa/ppa.sqlite3"
    assert (settings.region.kabupaten_code, settings.region.reference_prefix) == ("64.02", "KKR")
    assert settings.drafts.expire_hours == 48
    assert settings.evidence.max_items == 10  # keys the file leaves out keep their defaults


def test_the_environment_overrides_the_file(config_file: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config_file.write_text('[telegram]\ntoken = "111:from-file"\n[drafts]\nexpire_hours = 48\n')
    monkeypatch.setenv("PPA_BOT_TELEGRAM__TOKEN", "222:from-env")
    monkeypatch.setenv("PPA_BOT_DRAFTS__EXPIRE_HOURS", "12")
    monkeypatch.setenv("PPA_BOT_REGION__REFERENCE_PREFIX", "PPA")
    monkeypatch.setenv("ppa_bot_security__max_reports_per_day", "3")  # any case

    settings = load_settings()

    assert settings.telegram.token == "222:from-env"
    assert settings.drafts.expire_hours == 12
    assert settings.region.reference_prefix == "PPA"
    assert settings.security.max_reports_per_day == 3


def test_hotlines_come_from_the_toml_file_in_its_order(config_file: Path) -> None:
    config_file.write_text('''
[[hotlines]]
name = "UPTD PPA Paser"
number = "0813-5000-1234"

[[hotlines]]
name = "Darurat"
number = "112"
''')
    settings = load_settings()
    assert [(h.name, h.number) for h in settings.hotlines] == [
        ("UPTD PPA Paser", "0813-5000-1234"), ("Darurat", "112")]


def test_hotlines_can_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPA_BOT_HOTLINES", '[{"name": "Polisi", "number": "110"}]')
    assert [h.number for h in load_settings().hotlines] == ["110"]


def test_a_local_bot_api_server_is_given_by_its_address(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.setenv("PPA_BOT_TELEGRAM__BASE_URL", "http://127.0.0.1:8081/bot")
    monkeypatch.setenv("PPA_BOT_TELEGRAM__BASE_FILE_URL", "http://127.0.0.1:8081/file/bot")
    settings = load_settings()
    assert settings.telegram.base_url == "http://127.0.0.1:8081/bot"
    monkeypatch.setenv("PPA_BOT_TELEGRAM__BASE_URL", "https://proxy.example/{token}/api")
    assert load_settings().telegram.base_url == "https://proxy.example/{token}/api"


def test_a_plain_database_url_gets_its_async_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", "postgresql://ppa:pw@db/ppa")
    assert load_settings().database.url == "postgresql+asyncpg://ppa:pw@db/ppa"
    monkeypatch.setenv("PPA_BOT_DATABASE__URL", "sqlite:///data/x.sqlite3")
    assert load_settings().database.url == "sqlite+aiosqlite:///data/x.sqlite3"


# --- mistakes: one line, the key, the fix --------------------------------------------------------

def test_a_missing_token_names_the_key_and_both_ways_to_set_it() -> None:
    with pytest.raises(ConfigError) as error:
        require_token(load_settings())
    message = str(error.value)
    assert "telegram.token" in message and "PPA_BOT_TELEGRAM__TOKEN" in message
    assert "@BotFather" in message and "\n" not in message


@pytest.mark.parametrize(("variable", "value", "key"), [
    ("PPA_BOT_REGION__TIMEZONE", "Mars/Olympus", "region.timezone"),
    ("PPA_BOT_DRAFTS__EXPIRE_HOURS", "three days", "drafts.expire_hours"),
    ("PPA_BOT_DRAFTS__EXPIRE_HOURS", "0", "drafts.expire_hours"),
    ("PPA_BOT_REGION__REFERENCE_PREFIX", "psr-1", "region.reference_prefix"),
    ("PPA_BOT_REGION__KABUPATEN_CODE", "6401", "region.kabupaten_code"),
    ("PPA_BOT_TELEGRAM__POLL_INTERVAL", "-1", "telegram.poll_interval"),
    ("PPA_BOT_DATABASE__URL", "mysql://root@localhost/ppa", "database.url"),
    ("PPA_BOT_TELEGRAM__BASE_URL", "http://127.0.0.1:8081", "telegram.base_url"),
])
def test_a_bad_value_from_the_environment_names_the_key_and_the_fix(
        monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str) -> None:
    monkeypatch.setenv(variable, value)
    message = refused()
    assert f"'{key}'" in message
    assert variable in message  # where to fix it


def test_a_bad_value_in_the_file_names_the_key_and_the_file(config_file: Path) -> None:
    config_file.write_text('[region]\ntimezone = "Asia/Makasar"\n')
    message = refused()
    assert "'region.timezone'" in message and "Asia/Makasar" in message
    assert str(config_file) in message


def test_a_misspelt_key_is_not_silently_ignored(config_file: Path) -> None:
    config_file.write_text('[drafts]\nexpire_hour = 24\n')
    message = refused()
    assert "'drafts.expire_hour' is not known" in message and "spelling" in message


def test_every_section_refuses_unknown_keys() -> None:
    for name, field in Settings.model_fields.items():
        annotation: Any = field.annotation
        model = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(model, type) and issubclass(model, BaseModel):
            assert model.model_config.get("extra") == "forbid", name


def test_a_hotline_without_a_number_is_named_by_its_position(config_file: Path) -> None:
    config_file.write_text('[[hotlines]]\nname = "A"\nnumber = "1"\n[[hotlines]]\nname = "B"\n')
    message = refused()
    assert "'hotlines[2].number'" in message and "PPA_BOT_HOTLINES" in message


def test_hotlines_that_are_not_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PPA_BOT_HOTLINES", "112, 110")
    message = refused()
    assert "'hotlines'" in message and "JSON" in message


def test_a_file_that_is_not_toml_names_the_file_and_the_line(config_file: Path) -> None:
    config_file.write_text('[telegram\ntoken = "x"\n')
    message = refused()
    assert str(config_file) in message and "line 1" in message
