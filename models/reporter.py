"""A person who reports. Found by a keyed hash of their Telegram id; the id itself is encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId
from models.encryption import EncryptedText


class Reporter(Base):
    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tg_hash: Mapped[str] = mapped_column(String(64), unique=True)
    chat_id: Mapped[str] = mapped_column(EncryptedText)  # private chat id == Telegram user id
    language: Mapped[str] = mapped_column(String(5), default="id")
    language_chosen: Mapped[bool] = mapped_column(default=False)
    status_updates: Mapped[bool] = mapped_column(default=True)
    # Discreet messages after the reference (``privacy.discreet``): None follows the config,
    # True or False is the reporter's own choice (/bantuan).
    discreet: Mapped[bool | None]
    # Telegram refused a message to them (they blocked the bot): nothing more is sent until they
    # write to the bot again.
    blocked_at: Mapped[datetime | None]
    # Where the current conversation began in the private chat: message ids there are sequential
    # for both sides, so "delete the conversation" is the range from here to the latest message.
    wipe_from_message_id: Mapped[int | None]
    wipe_from_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
