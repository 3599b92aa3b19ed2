"""What the bot keeps to look after the reporter's phone (DESIGN §6, "discreet by default"):
the content of a message sent with a neutral cover (shown when they tap "Buka"), and the PIN
that keeps a phone in the wrong hands from speaking for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId
from models.encryption import EncryptedText


class SealedMessage(Base):
    """A message to a reporter that arrived as a neutral cover: its content, encrypted, until
    they tap "Buka" on the cover. The cover's button names this row, never the content."""

    __tablename__ = "sealed_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id", ondelete="CASCADE"),
                                             index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                                index=True)
    kind: Mapped[str] = mapped_column(String(24))  # the outbox kind of the message it stands for
    # Bot API parameters of the message itself (text, parse_mode, reply_markup), as JSON.
    content: Mapped[str] = mapped_column(EncryptedText)
    language: Mapped[str] = mapped_column(String(5))
    # The queued edit that hides the content again (while it is shown), so a second "Buka"
    # replaces it rather than adding another.
    hide_row_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class ReporterPin(Base):
    """A reporter's PIN: only a slow keyed hash (scrypt, a salt of its own and the server's
    lookup secret), the wrong tries, the pause after three, and what waits for the PIN."""

    __tablename__ = "reporter_pins"

    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("reporters.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    pin_hash: Mapped[str | None] = mapped_column(String(64))  # None until one is chosen
    salt: Mapped[str] = mapped_column(String(32))
    failures: Mapped[int] = mapped_column(default=0)
    paused_until: Mapped[datetime | None]
    unlocked_until: Mapped[datetime | None]
    # Which PIN the next digits typed are: "new", "again" (to confirm it) or "check".
    waiting: Mapped[str | None] = mapped_column(String(8))
    waiting_until: Mapped[datetime | None]
    # What was asked before the PIN (JSON), or the first entry of a new PIN (its hash).
    pending: Mapped[str | None] = mapped_column(EncryptedText)
    updated_at: Mapped[datetime]
