"""Configuration: one validated object, read from TOML and overridable from the environment.

The file is named by ``PPA_BOT_CONFIG`` (default ``./config.toml``); any key can be overridden as
``PPA_BOT_<SECTION>__<KEY>``. Errors name the key and the fix in one line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "PPA_BOT_"
DEFAULT_CONFIG_FILE = "config.toml"


class ConfigError(Exception):
    """A configuration problem, already phrased for the person running the bot."""


class TelegramSettings(BaseModel):
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_interval: float = Field(default=1.0, ge=0)
    mode: Literal["polling", "webhook"] = "polling"
    bot_name: str = "Layanan PPA Paser"


class WebhookSettings(BaseModel):
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    path: str = Field(default="/telegram", pattern=r"^/[A-Za-z0-9_\-/]*$")
    url: str = ""
    secret_token: str = Field(default="", pattern=r"^[A-Za-z0-9_\-]{0,256}$")


class LoggingSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./data/ppa-bot.sqlite3"
    echo: bool = False


class Hotline(BaseModel):
    name: str
    number: str


def _default_hotlines() -> list[Hotline]:
    return [
        Hotline(name="Darurat", number="112"),
        Hotline(name="Polisi", number="110"),
        Hotline(name="SAPA 129", number="129"),
        Hotline(name="WhatsApp SAPA", number="08111-129-129"),
    ]


class RegionSettings(BaseModel):
    kabupaten_code: str = Field(default="64.01", pattern=r"^\d{2}\.\d{2}$")
    kabupaten_name: str = "Paser"
    reference_prefix: str = Field(default="PSR", pattern=r"^[A-Z]{2,6}$")
    timezone: str = "Asia/Makassar"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class DraftSettings(BaseModel):
    expire_hours: float = Field(default=72, gt=0)
    sweep_seconds: float = Field(default=300, gt=0)


class EvidenceSettings(BaseModel):
    max_items: int = Field(default=10, ge=0)
    max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    max_text_chars: int = Field(default=4000, gt=0)


class SecuritySettings(BaseModel):
    encryption_key: str = ""
    key_file: str = ""
    max_reports_per_day: int = Field(default=5, ge=1)
    max_messages_per_minute: int = Field(default=30, ge=1)
    retention_days_after_close: int = Field(default=365, ge=1)


class EscalationSettings(BaseModel):
    """When an unacknowledged alert climbs a tier (minutes; fractions allowed)."""

    sweep_seconds: float = Field(default=30, gt=0)
    ack_timeout_urgent_minutes: float = Field(default=15, gt=0)
    ack_timeout_high_minutes: float = Field(default=60, gt=0)
    ack_timeout_normal_minutes: float = Field(default=1440, gt=0)
    # UU TPKS: UPTD PPA passes a sexual violence report to the police within 3 x 24 hours.
    police_deadline_hours: float = Field(default=72, gt=0)
    police_reminder_hours_before: float = Field(default=24, gt=0)


class OutboxSettings(BaseModel):
    """The dispatcher's pace: Telegram allows about 20 messages a minute in one group."""

    group_messages_per_minute: int = Field(default=20, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    telegram: TelegramSettings = TelegramSettings()
    webhook: WebhookSettings = WebhookSettings()
    logging: LoggingSettings = LoggingSettings()
    database: DatabaseSettings = DatabaseSettings()
    region: RegionSettings = RegionSettings()
    hotlines: list[Hotline] = Field(default_factory=_default_hotlines)
    drafts: DraftSettings = DraftSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    security: SecuritySettings = SecuritySettings()
    escalation: EscalationSettings = EscalationSettings()
    outbox: OutboxSettings = OutboxSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = Path(os.environ.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.region.timezone)


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"])
    env = ENV_PREFIX + "__".join(str(p).upper() for p in error["loc"] if not isinstance(p, int))
    return (
        f"config key '{key}': {error['msg']}. Fix it in the config file "
        f"({os.environ.get(ENV_PREFIX + 'CONFIG', DEFAULT_CONFIG_FILE)}) or set {env}."
    )


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration; raise ConfigError with one readable line on any problem."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    except (OSError, ValueError) as exc:  # TOML syntax errors are ValueErrors
        raise ConfigError(f"config file could not be read: {exc}") from None


def require_webhook(settings: Settings) -> None:
    if not settings.webhook.url.startswith("https://"):
        raise ConfigError(
            "config key 'webhook.url' must be the public https:// address Telegram posts to "
            "when telegram.mode is \"webhook\". Set it under [webhook] or PPA_BOT_WEBHOOK__URL.")
    if not settings.webhook.secret_token:
        raise ConfigError(
            "config key 'webhook.secret_token' is missing: webhook mode requires Telegram's secret "
            "token header. Set 1-256 characters of A-Z, a-z, 0-9, _ or - under [webhook] or "
            "PPA_BOT_WEBHOOK__SECRET_TOKEN.")


def require_token(settings: Settings) -> None:
    if not settings.telegram.token.strip():
        raise ConfigError(
            "config key 'telegram.token' is missing. Put the token from @BotFather in "
            "config.toml under [telegram] or set PPA_BOT_TELEGRAM__TOKEN."
        )
