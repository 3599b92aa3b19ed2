"""Configuration: one validated object, read from TOML and overridable from the environment.

The file is named by ``PPA_BOT_CONFIG`` (default ``./config.toml``, used when it exists; an empty
``PPA_BOT_CONFIG`` means no file). A file that ``PPA_BOT_CONFIG`` names must exist. Any key can be
overridden as ``PPA_BOT_<SECTION>__<KEY>``. Errors name the key and the fix in one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "PPA_BOT_"
DEFAULT_CONFIG_FILE = "config.toml"


class ConfigError(Exception):
    """A configuration problem, already phrased for the person running the bot."""


class Section(BaseModel):
    """A table of the config file. A misspelt key is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")


class TelegramSettings(Section):
    token: str = ""
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_interval: float = Field(default=1.0, ge=0)
    mode: Literal["polling", "webhook"] = "polling"
    bot_name: str = "Layanan PPA Paser"
    # The bot's @username, for its t.me link (posters); empty: asked from Telegram (getMe).
    username: str = ""
    # A greeting that does not say what the bot is for: a glance at a shared phone reveals little.
    neutral_greeting: bool = False

    @field_validator("base_url", "base_file_url")
    @classmethod
    def _api_address(cls, value: str) -> str:
        """The token is appended to these: without the trailing /bot it would land in the port."""
        if not value.startswith(("http://", "https://")) \
                or not (value.endswith("/bot") or "{token}" in value):
            raise ValueError("give the server's address ending in /bot, for example "
                             "http://127.0.0.1:8081/bot (or .../file/bot for base_file_url)")
        return value

    @field_validator("username")
    @classmethod
    def _telegram_username(cls, value: str) -> str:
        value = value.strip().removeprefix("@")
        if value and not USERNAME.fullmatch(value):
            raise ValueError("give the bot's username as in its t.me link, 5-32 letters, digits "
                             "or _, for example ppa_paser_bot")
        return value


class WebhookSettings(Section):
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    path: str = Field(default="/telegram", pattern=r"^/[A-Za-z0-9_\-/]*$")
    url: str = ""
    secret_token: str = Field(default="", pattern=r"^[A-Za-z0-9_\-]{0,256}$")


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class DatabaseSettings(Section):
    url: str = "sqlite+aiosqlite:///./data/ppa-bot.sqlite3"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """The bot needs an async driver; the plain forms people write get theirs."""
        scheme, sep, rest = value.partition("://")
        drivers = {"sqlite": "sqlite+aiosqlite", "sqlite+aiosqlite": "sqlite+aiosqlite",
                   "postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg",
                   "postgresql+asyncpg": "postgresql+asyncpg"}
        if not sep or scheme.lower() not in drivers:
            raise ValueError("use sqlite+aiosqlite:///path/to/file.sqlite3 or "
                             "postgresql+asyncpg://user:password@host/database")
        url = f"{drivers[scheme.lower()]}://{rest}"
        try:  # the value is never repeated: it may hold a password
            parsed = make_url(url)
            parsed.port  # noqa: B018 - a port that is not a number fails here
        except (ArgumentError, ValueError):
            raise ValueError("it is not a valid address; write it as postgresql+asyncpg://"
                             "user:password@host:5432/database (a password with @, : or / "
                             "written as %40, %3A, %2F) or sqlite+aiosqlite:///path/to/file."
                             "sqlite3") from None
        if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
            raise ValueError("SQLite needs a file, for example "
                             "sqlite+aiosqlite:///./data/ppa-bot.sqlite3 (a database in memory "
                             "is lost at every connection)")
        return url


class Hotline(Section):
    name: str
    number: str
    # The district's own line: shown before the national numbers wherever they are listed.
    district: bool = False


def _default_hotlines() -> list[Hotline]:
    return [
        Hotline(name="Darurat", number="112"),
        Hotline(name="Polisi", number="110"),
        Hotline(name="SAPA 129", number="129"),
        Hotline(name="WhatsApp SAPA", number="08111-129-129"),
    ]


class RegionSettings(Section):
    kabupaten_code: str = Field(default="64.01", pattern=r"^\d{2}\.\d{2}$")
    kabupaten_name: str = "Paser"
    # The province, as the SIMFONI-PPA register writes it ("Provinsi" of the per-victim sheet).
    province_name: str = "Kalimantan Timur"
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


class DraftSettings(Section):
    expire_hours: float = Field(default=72, gt=0)
    # An officer's unfinished /kasus_baru record (it holds a victim's story), untouched this long.
    officer_expire_days: float = Field(default=7, gt=0)
    sweep_seconds: float = Field(default=300, gt=0)


class EvidenceSettings(Section):
    max_items: int = Field(default=10, ge=0)
    # The largest file taken with a report (Telegram's own limit for a file is 2 GB). Files the
    # bot cannot download (over download_max_bytes) are kept as Telegram's file id and flagged.
    max_bytes: int = Field(default=2000 * 1024 * 1024, gt=0)
    max_text_chars: int = Field(default=4000, gt=0)
    # Where the files are kept, encrypted: "" is the folder "evidence" beside the SQLite database
    # (or ./data/evidence). Back it up with the database; it is useless without the keys.
    folder: str = ""
    # The Bot API lets a bot download files up to 20 MB (a local Bot API server: more).
    download_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    download_timeout_seconds: float = Field(default=120, gt=0)


class SecuritySettings(Section):
    encryption_key: str = ""
    lookup_key: str = ""
    key_file: str = ""
    max_reports_per_day: int = Field(default=5, ge=1)
    max_messages_per_minute: int = Field(default=30, ge=1)
    # /daftar and /gabung in groups, per hour: per person, and per group chat.
    group_commands_per_hour_per_user: int = Field(default=6, ge=1)
    group_commands_per_hour_per_group: int = Field(default=60, ge=1)
    # How long Telegram's "this member is still in the group" is trusted before asking again.
    membership_check_seconds: float = Field(default=60, ge=0)


class PrivacySettings(Section):
    """What is kept, and for how long (UU PDP); how messages arrive on the reporter's phone."""

    # Days after a case is closed before its content (story, landmark, phone, files, messages)
    # is deleted and the link to the reporter removed; the anonymous figures stay.
    retention_days_after_close: int = Field(default=365, ge=1)
    # Days a sent (or abandoned) notification is kept before its row is deleted.
    sent_messages_keep_days: int = Field(default=7, ge=1)
    # The reporter's phone (DESIGN §6): what arrives there after the reference, and how.
    # true: every message to a reporter after the reference is silent, protected from forwarding
    # and saving, and neutral; its content shows only when they tap "Buka", for reveal_minutes.
    # Each reporter can turn it off (or on) for themselves in /bantuan.
    discreet: bool = True
    reveal_minutes: float = Field(default=10, gt=0)


class EscalationSettings(Section):
    """When an unacknowledged alert climbs a tier (minutes; fractions allowed)."""

    sweep_seconds: float = Field(default=30, gt=0)
    ack_timeout_urgent_minutes: float = Field(default=15, gt=0)
    ack_timeout_high_minutes: float = Field(default=60, gt=0)
    ack_timeout_normal_minutes: float = Field(default=1440, gt=0)
    # UU TPKS: UPTD PPA passes a report of sexual violence or trafficking to the police within
    # 3 x 24 hours (its reminders and alarm: ``DeadlineSettings``).
    police_deadline_hours: float = Field(default=72, gt=0)


def _stage_hours() -> dict[str, float]:
    return {"diterima": 24, "penjangkauan": 72, "pengelolaan": 336, "pendampingan": 336,
            "dirujuk": 168}


def _service_days() -> dict[str, float]:
    return {"default": 7, "kesehatan": 3, "penampungan_sementara": 3, "penegakan_hukum": 3}


class DeadlineSettings(Section):
    """Follow-ups that remind whoever handles a case, and the police deadline's alarms."""

    # Hours before the UU TPKS police deadline at which the holder is reminded; when it passes,
    # the holder, the kabupaten officers and the admins are alerted at once.
    police_reminder_hours: list[float] = Field(default_factory=lambda: [24.0, 6.0])
    # Hours a case may stay at a stage before its holder is reminded (a stage not named: never).
    stage_hours: dict[str, float] = Field(default_factory=_stage_hours)
    # Days after a service is added before its follow-up is due, by kind ("default": any other).
    service_follow_up_days: dict[str, float] = Field(default_factory=_service_days)

    @field_validator("police_reminder_hours")
    @classmethod
    def _positive_hours(cls, value: list[float]) -> list[float]:
        if any(h <= 0 for h in value):
            raise ValueError("every number of hours must be more than 0")
        return value

    @field_validator("stage_hours", "service_follow_up_days")
    @classmethod
    def _positive_values(cls, value: dict[str, float]) -> dict[str, float]:
        if any(v <= 0 for v in value.values()):
            raise ValueError("every value must be more than 0")
        return value


class ProviderSettings(Section):
    """The provider directory: contact numbers by provider name (none is shipped or guessed)."""

    contacts: dict[str, str] = Field(default_factory=dict)


class OutboxSettings(Section):
    """The outbox sender's pace: Telegram allows about 20 messages a minute in one group."""

    group_messages_per_minute: int = Field(default=20, ge=1)


class TrainingSettings(Section):
    """Practice reports (/latihan) go only to this group chat; 0 (none): back to the trainee."""

    chat_id: int = 0


class OnboardingSettings(Section):
    # Hours an officer's invitation link (/undang) stays valid; it works once.
    invite_expire_hours: float = Field(default=72, gt=0)


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
    privacy: PrivacySettings = PrivacySettings()
    escalation: EscalationSettings = EscalationSettings()
    deadlines: DeadlineSettings = DeadlineSettings()
    providers: ProviderSettings = ProviderSettings()
    outbox: OutboxSettings = OutboxSettings()
    training: TrainingSettings = TrainingSettings()
    onboarding: OnboardingSettings = OnboardingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path is not None and path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.region.timezone)


def config_path() -> Path | None:
    """The config file: the one ``PPA_BOT_CONFIG`` names, else ./config.toml; None for
    ``PPA_BOT_CONFIG=""`` (environment and defaults only)."""
    named = os.environ.get(ENV_PREFIX + "CONFIG")
    if named is None:
        return Path(DEFAULT_CONFIG_FILE)
    return Path(named) if named.strip() else None


def _config_file() -> str:
    path = config_path()
    return str(path) if path is not None else "config.toml"


def _check_named_file() -> None:
    """A file named by PPA_BOT_CONFIG that is not there is a mistake, never silently skipped."""
    path = config_path()
    if path is None or ENV_PREFIX + "CONFIG" not in os.environ or path.is_file():
        return
    what = "is a folder, not a file" if path.is_dir() else "does not exist"
    raise ConfigError(
        f"config file {path} named by {ENV_PREFIX}CONFIG {what}: fix the path, create the file "
        f"(copy config.example.toml), or unset {ENV_PREFIX}CONFIG to use ./config.toml and the "
        f"environment.")


def _describe(error: Any) -> str:
    """One line: which key, what is wrong with it, and where to fix it."""
    loc = [str(p) if not isinstance(p, int) else f"[{p + 1}]" for p in error["loc"]]
    key = ".".join(loc).replace(".[", "[")
    # Lists (the hotlines) are set from the environment as one JSON value.
    env_parts = []
    for part in error["loc"]:
        if isinstance(part, int):
            break
        env_parts.append(str(part).upper())
    env = ENV_PREFIX + "__".join(env_parts)
    if error["type"] == "extra_forbidden":
        return (f"config key '{key}' is not known: check its spelling against "
                f"config.example.toml, or remove it from {_config_file()} (or unset {env}).")
    message = str(error["msg"]).removeprefix("Value error, ")
    return (f"config key '{key}': {message}. Fix it in the config file ({_config_file()}) "
            f"or set {env}.")


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration; raise ConfigError with one readable line on any problem."""
    _check_named_file()
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    except SettingsError as exc:  # an environment value that should be JSON and is not
        field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else "?"
        example = (f" (for example {ENV_PREFIX}HOTLINES='[{{\"name\": \"Polisi\", "
                   f"\"number\": \"110\"}}]')") if field == "hotlines" else ""
        raise ConfigError(
            f"config key '{field}': the value of {ENV_PREFIX}{field.upper()} is not valid JSON. "
            f"Give it as JSON{example} or set it in {_config_file()}.") from None
    except (OSError, ValueError) as exc:  # TOML syntax errors are ValueErrors
        message = " ".join(str(exc).split())
        raise ConfigError(f"config file {_config_file()} could not be read: {message}") from None


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
