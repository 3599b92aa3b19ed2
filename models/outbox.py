"""Outgoing notifications, written in the transaction that causes them and sent by the
dispatcher."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId
from models.encryption import EncryptedText

PENDING = "pending"
SENT = "sent"
FAILED = "failed"  # gave up: the chat is gone or the request is wrong


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "due_at"),
                      Index("ix_outbox_alert_status", "alert_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(24))
    # Bot API method and its parameters (chat id included), as JSON, encrypted: may hold relay text.
    method: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(EncryptedText)
    # Rate-limit bucket: a group's chat id, or "p" for private chats. Not identifying.
    bucket: Mapped[str] = mapped_column(String(24))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    responder_id: Mapped[int | None] = mapped_column(ForeignKey("responders.id"))
    # The reporter this message is addressed to, or whose words or data it carries to an officer
    # (bot/services/reporter_data.py). Withdrawing consent deletes these rows, sent or not; when
    # they block the bot, what is pending for them is dropped (bot/services/to_reporter.py).
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("reporters.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(8), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    result_message_id: Mapped[int | None]
