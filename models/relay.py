"""The anonymous relay between officers and a reporter (the bot's messages about a case that their
recipient can answer by replying to them), and an officer's pending note or reply.

A reporter answers a relayed officer message (or a status message) by replying to it; an officer
answers a relayed reporter message the same way. Telegram tells us only which message was replied
to, so each such message is a row here, filled with its message id once the dispatcher sent it.
A reporter's row holds no chat id at all: it is found through the case, which belongs to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId

TO_REPORTER = "reporter"
TO_HANDLER = "handler"


class RelayMessage(Base):
    __tablename__ = "relay_messages"
    __table_args__ = (Index("ix_relay_messages_message", "message_id", "side"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(8))  # reporter | handler
    # A handler's chat (an officer's or activist's Telegram id); None on the reporter's side.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int]
    created_at: Mapped[datetime]


class PendingInput(Base):
    """"Type your note (or reply) now": a button put this person in a short input mode for one
    case. Kept in the database so that a restart between the press and the text loses nothing."""

    __tablename__ = "pending_inputs"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # note | reply
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
